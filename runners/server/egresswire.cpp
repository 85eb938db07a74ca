#include "egresswire_p.h"

#include "execdjsonreader_p.h"
#include "networkpolicy.h"
#include "networkpolicyjson.h"

#include <QJsonArray>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// The body as a JSON array with at least one item; std::nullopt with `problem` otherwise.
std::optional<QJsonArray> nonEmptyArray(const QByteArray &body, const QString &items, QString *problem)
{
    // The sidecar is a Go server, as execd is, and reads a body as execd does.
    const std::optional<QJsonValue> json = parseExecdJson(body, problem);
    if (!json)
        return std::nullopt;
    if (!json->isArray()) {
        *problem = u"the body must be a JSON array of %1"_s.arg(items);
        return std::nullopt;
    }
    if (json->toArray().isEmpty()) {
        *problem = u"the body must hold at least one of %1"_s.arg(items);
        return std::nullopt;
    }
    return json->toArray();
}

} // namespace

std::optional<QList<SandboxNetworkPolicy::Rule>> egressRulesFromBody(const QByteArray &body, QString *problem)
{
    const std::optional<QJsonArray> array = nonEmptyArray(body, u"rules {\"action\", \"target\"}"_s, problem);
    if (!array)
        return std::nullopt;
    QList<SandboxNetworkPolicy::Rule> rules;
    for (const QJsonValue &item : *array) {
        std::optional<SandboxNetworkPolicy::Rule> rule = egressRuleFromJson(item, problem);
        if (!rule)
            return std::nullopt;
        if (const std::optional<QString> reason = invalidTargetReason(rule->target)) {
            *problem = *reason;
            return std::nullopt;
        }
        rules.append(*rule);
    }
    return rules;
}

std::optional<QStringList> egressTargetsFromBody(const QByteArray &body, QString *problem)
{
    const std::optional<QJsonArray> array = nonEmptyArray(body, u"target strings"_s, problem);
    if (!array)
        return std::nullopt;
    QStringList targets;
    for (const QJsonValue &item : *array) {
        if (!item.isString() || item.toString().trimmed().isEmpty()) {
            *problem = u"every target must be a non-empty string"_s;
            return std::nullopt;
        }
        targets.append(item.toString());
    }
    return targets;
}

QJsonObject policyStatusJson(const SandboxNetworkPolicy &policy)
{
    // `dns` is the sidecar's default backend, the one value every client of it knows.
    return {{u"status"_s, u"ok"_s}, {u"mode"_s, egressModeName(policy)}, {u"enforcementMode"_s, u"dns"_s}};
}

QJsonObject currentPolicyJson(const SandboxNetworkPolicy &policy)
{
    QJsonObject status = policyStatusJson(policy);
    status.insert(u"policy"_s, networkPolicyJson(policy));
    return status;
}

} // namespace Sandflow::Internal
