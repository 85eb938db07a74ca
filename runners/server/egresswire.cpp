#include "egresswire_p.h"

#include "networkpolicy.h"
#include "networkpolicyjson.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// The body as a JSON array with at least one item; std::nullopt with `problem` otherwise.
std::optional<QJsonArray> nonEmptyArray(const QByteArray &body, const QString &items, QString *problem)
{
    if (body.trimmed().isEmpty()) {
        *problem = u"the body must be a JSON array of %1, and is empty"_s.arg(items);
        return std::nullopt;
    }
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        *problem = u"the body is not JSON: %1 at offset %2"_s.arg(parseError.errorString()).arg(parseError.offset);
        return std::nullopt;
    }
    if (!document.isArray()) {
        *problem = u"the body must be a JSON array of %1"_s.arg(items);
        return std::nullopt;
    }
    if (document.array().isEmpty()) {
        *problem = u"the body must hold at least one of %1"_s.arg(items);
        return std::nullopt;
    }
    return document.array();
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
