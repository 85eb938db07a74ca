#include "opensandboxclient.h"

#include "ptyterminaljob_p.h"

#include "commandstreamjob_p.h"
#include "createsandboxjob_p.h"
#include "execdbodies_p.h"
#include "restjob_p.h"
#include "sandboxlistjob_p.h"
#include "wirejson_p.h"

namespace Sandflow {

using namespace Qt::StringLiterals;
using namespace Internal;

OpenSandboxClient::OpenSandboxClient(const OpenSandboxConfig &config, QObject *parent)
    : QObject(parent)
    , m_transport(std::make_unique<Transport>(config))
{
}

OpenSandboxClient::~OpenSandboxClient() = default;

const OpenSandboxConfig &OpenSandboxClient::config() const
{
    return m_transport->config();
}

OpenSandboxCreateJob *OpenSandboxClient::createSandbox(const OpenSandboxCreateRequest &request)
{
    return new CreateSandboxJob(*m_transport, request);
}

SandboxJob *OpenSandboxClient::getSandbox(const QString &id)
{
    return new RestJob<SandboxInfo>(*m_transport, m_transport->lifecycle("GET", u"/sandboxes/"_s + pathSegment(id)),
                                    jsonReader(&sandboxFromJson));
}

ResultJob<SandboxPage> *OpenSandboxClient::listSandboxes(const SandboxFilter &filter)
{
    return new RestJob<SandboxPage>(*m_transport,
                                    m_transport->lifecycle("GET", u"/sandboxes"_s, listSandboxesQuery(filter)),
                                    jsonReader(&sandboxPageFromJson));
}

ResultJob<QList<SandboxInfo>> *OpenSandboxClient::listAllSandboxes(const SandboxFilter &filter)
{
    return new SandboxListJob(*m_transport, filter);
}

AsyncJob *OpenSandboxClient::deleteSandbox(const QString &id)
{
    return new RestJob<Nothing>(*m_transport, m_transport->lifecycle("DELETE", u"/sandboxes/"_s + pathSegment(id)));
}

AsyncJob *OpenSandboxClient::pauseSandbox(const QString &id)
{
    return new RestJob<Nothing>(*m_transport, m_transport->lifecycle("POST", u"/sandboxes/%1/pause"_s.arg(pathSegment(id))));
}

AsyncJob *OpenSandboxClient::resumeSandbox(const QString &id)
{
    return new RestJob<Nothing>(*m_transport, m_transport->lifecycle("POST", u"/sandboxes/%1/resume"_s.arg(pathSegment(id))));
}

ResultJob<QDateTime> *OpenSandboxClient::renewExpiration(const QString &id, const QDateTime &expiresAt)
{
    return new RestJob<QDateTime>(
        *m_transport,
        withJsonBody(m_transport->lifecycle("POST", u"/sandboxes/%1/renew-expiration"_s.arg(pathSegment(id))),
                     QJsonDocument(renewExpirationJson(expiresAt))),
        jsonReader(&expiresAtFromJson));
}

SandboxJob *OpenSandboxClient::patchMetadata(const QString &id, const QMap<QString, std::optional<QString>> &patch)
{
    return new RestJob<SandboxInfo>(
        *m_transport,
        withJsonBody(m_transport->lifecycle("PATCH", u"/sandboxes/%1/metadata"_s.arg(pathSegment(id))),
                     QJsonDocument(metadataPatchJson(patch))),
        jsonReader(&sandboxFromJson));
}

ResultJob<OpenSandboxEndpoint> *OpenSandboxClient::endpoint(const QString &id, int port)
{
    // Always sent, as the JS SDK does, so that servers see the same query either way.
    const QString useServerProxy = config().useServerProxy ? u"true"_s : u"false"_s;
    return new RestJob<OpenSandboxEndpoint>(
        *m_transport,
        m_transport->lifecycle("GET", u"/sandboxes/%1/endpoints/%2"_s.arg(pathSegment(id)).arg(port),
                               {{u"use_server_proxy"_s, useServerProxy}}),
        jsonReader(&endpointFromJson));
}

AsyncJob *OpenSandboxClient::ping(const OpenSandboxEndpoint &execd)
{
    return new RestJob<Nothing>(*m_transport, m_transport->execd(execd, "GET", u"/ping"_s));
}

CommandJob *OpenSandboxClient::runCommand(const OpenSandboxEndpoint &execd, const CommandRequest &request)
{
    EventStreamRoute route;
    route.request = eventStreamRequest(*m_transport, execd, u"/command"_s, commandJson(request));
    route.interruptPath = u"/command"_s;
    route.timeoutMs = request.timeoutMs;
    return new CommandStreamJob<CommandJob>(*m_transport, execd, std::move(route));
}

TerminalJob *OpenSandboxClient::openTerminal(const OpenSandboxEndpoint &execd, const TerminalRequest &request)
{
    return new PtyTerminalJob(*m_transport, execd, request);
}

AsyncJob *OpenSandboxClient::interruptCommand(const OpenSandboxEndpoint &execd, const QString &commandId)
{
    return new RestJob<Nothing>(*m_transport, m_transport->execd(execd, "DELETE", u"/command"_s, {{u"id"_s, commandId}}));
}

ResultJob<CommandStatus> *OpenSandboxClient::commandStatus(const OpenSandboxEndpoint &execd, const QString &commandId)
{
    return new RestJob<CommandStatus>(
        *m_transport, m_transport->execd(execd, "GET", u"/command/status/"_s + pathSegment(commandId)),
        jsonReader(&commandStatusFromJson));
}

ResultJob<CommandLogs> *OpenSandboxClient::commandLogs(const OpenSandboxEndpoint &execd, const QString &commandId,
                                                       qint64 cursor)
{
    return new RestJob<CommandLogs>(*m_transport,
                                    m_transport->execd(execd, "GET", u"/command/%1/logs"_s.arg(pathSegment(commandId)),
                                                       {{u"cursor"_s, QString::number(cursor)}}),
                                    [cursor](const HttpResult &answer, CommandLogs &logs) {
                                        return readCommandLogs(answer, cursor, logs);
                                    });
}

} // namespace Sandflow
