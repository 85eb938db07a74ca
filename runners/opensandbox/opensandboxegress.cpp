// OpenSandboxClient: the egress API of a sandbox (/policy on port 18080).
#include "opensandboxclient.h"

#include "egresspolicyjob_p.h"
#include "networkpolicyjson.h"
#include "restjob_p.h"
#include "wirejson_p.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace Sandflow {

using namespace Qt::StringLiterals;
using namespace Internal;

namespace {

RequestSpec egressCall(const Transport &transport, const OpenSandboxEndpoint &egress, const QByteArray &method)
{
    RequestSpec spec = transport.execd(egress, method, u"/policy"_s);
    spec.peer = u"the sandbox's egress API at %1"_s.arg(egress.url(transport.config().effectiveProtocol()).toString());
    return spec;
}

/// The policy of GET /policy's `{"status", "mode", "enforcementMode", "policy"}`, which the
/// SDKs too insist on.
std::optional<SandboxNetworkPolicy> policyFromStatusJson(const QJsonObject &status, QString *problem)
{
    if (!status.value(u"policy"_s).isObject()) {
        *problem = u"the answer has no `policy` object"_s;
        return std::nullopt;
    }
    return networkPolicyFromJson(status.value(u"policy"_s).toObject(), problem);
}

ResultJob<SandboxNetworkPolicy> *policyRead(Transport &transport, const OpenSandboxEndpoint &egress)
{
    return new RestJob<SandboxNetworkPolicy>(transport, egressCall(transport, egress, "GET"),
                                             jsonReader(&policyFromStatusJson));
}

} // namespace

ResultJob<SandboxNetworkPolicy> *OpenSandboxClient::egressPolicy(const OpenSandboxEndpoint &egress)
{
    return new EgressPolicyJob(nullptr, policyRead(*m_transport, egress));
}

ResultJob<SandboxNetworkPolicy> *OpenSandboxClient::patchEgressRules(const OpenSandboxEndpoint &egress,
                                                                     const QList<SandboxNetworkPolicy::Rule> &rules)
{
    auto *patch = new RestJob<Nothing>(*m_transport, withJsonBody(egressCall(*m_transport, egress, "PATCH"),
                                                                  QJsonDocument(egressRulesJson(rules))));
    return new EgressPolicyJob(patch, policyRead(*m_transport, egress));
}

ResultJob<SandboxNetworkPolicy> *OpenSandboxClient::deleteEgressRules(const OpenSandboxEndpoint &egress,
                                                                      const QStringList &targets)
{
    auto *removal = new RestJob<Nothing>(*m_transport, withJsonBody(egressCall(*m_transport, egress, "DELETE"),
                                                                    QJsonDocument(QJsonArray::fromStringList(targets))));
    return new EgressPolicyJob(removal, policyRead(*m_transport, egress));
}

} // namespace Sandflow
