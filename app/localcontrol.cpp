#include "localcontrol.h"

#include "sandboxserver.h"

#include <QRandomGenerator>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

QString newApiKey()
{
    QString key;
    for (int i = 0; i < 4; ++i)
        key += u"%1"_s.arg(QRandomGenerator::system()->generate(), 8, 16, QChar(u'0'));
    return key;
}

RunControl::~RunControl() = default;

std::unique_ptr<RunControl> RunControl::start(Runner *runner, const QString &stateDirectory, const QString &runId,
                                              QString *error)
{
    // A key even on loopback: other users of the machine, and sandboxes that share its
    // network, reach the port too; only this user can read the recorded key.
    SandboxServer::Options options;
    options.address = QHostAddress::LocalHost;
    options.port = 0;
    options.apiKey = newApiKey();
    std::unique_ptr<RunControl> control(new RunControl);
    control->m_server = std::make_unique<SandboxServer>(runner, options);
    if (!control->m_server->start(error))
        return nullptr;
    ControlEndpoint endpoint;
    endpoint.url = u"http://127.0.0.1:%1"_s.arg(control->m_server->port());
    endpoint.apiKey = options.apiKey;
    endpoint.owner = u"run "_s + runId;
    control->m_registration = ControlEndpointRegistration::publish(stateDirectory, endpoint, error);
    if (!control->m_registration)
        return nullptr;
    return control;
}

} // namespace Sandflow::Cli
