#include "networkpolicyjson.h"

#include <QJsonDocument>

namespace Sandflow {

using namespace Qt::StringLiterals;

namespace {

std::optional<SandboxNetworkPolicy::Action> actionFromName(const QJsonValue &name)
{
    if (name.toString() == u"allow"_s)
        return SandboxNetworkPolicy::Action::Allow;
    if (name.toString() == u"deny"_s)
        return SandboxNetworkPolicy::Action::Deny;
    return std::nullopt;
}

/// `value` as JSON text for a message; "nothing" when it is missing.
QString quoted(const QJsonValue &value)
{
    if (value.isUndefined())
        return u"nothing"_s;
    // A document holds only an object or an array: write the value as one, without brackets.
    return QString::fromUtf8(QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact)).mid(1).chopped(1);
}

} // namespace

QString egressActionName(SandboxNetworkPolicy::Action action)
{
    return action == SandboxNetworkPolicy::Action::Allow ? u"allow"_s : u"deny"_s;
}

QJsonObject egressRuleJson(const SandboxNetworkPolicy::Rule &rule)
{
    return {{u"action"_s, egressActionName(rule.action)}, {u"target"_s, rule.target}};
}

QJsonArray egressRulesJson(const QList<SandboxNetworkPolicy::Rule> &rules)
{
    QJsonArray array;
    for (const SandboxNetworkPolicy::Rule &rule : rules)
        array.append(egressRuleJson(rule));
    return array;
}

QJsonObject networkPolicyJson(const SandboxNetworkPolicy &policy)
{
    return {{u"defaultAction"_s, egressActionName(policy.defaultAction)}, {u"egress"_s, egressRulesJson(policy.egress)}};
}

std::optional<SandboxNetworkPolicy::Rule> egressRuleFromJson(const QJsonValue &json, QString *problem)
{
    if (!json.isObject()) {
        *problem = u"a rule must be an object {\"action\", \"target\"}, not %1"_s.arg(quoted(json));
        return std::nullopt;
    }
    const QJsonObject object = json.toObject();
    const std::optional<SandboxNetworkPolicy::Action> action = actionFromName(object.value(u"action"_s));
    if (!action) {
        *problem = u"a rule's action must be \"allow\" or \"deny\", not %1"_s.arg(quoted(object.value(u"action"_s)));
        return std::nullopt;
    }
    const QJsonValue target = object.value(u"target"_s);
    if (!target.isString() || target.toString().trimmed().isEmpty()) {
        *problem = u"a rule needs a target, a non-empty string"_s;
        return std::nullopt;
    }
    return SandboxNetworkPolicy::Rule{*action, target.toString()};
}

std::optional<SandboxNetworkPolicy> networkPolicyFromJson(const QJsonObject &json, QString *problem)
{
    SandboxNetworkPolicy policy;
    policy.defaultAction = SandboxNetworkPolicy::Action::Deny;
    if (json.contains(u"defaultAction"_s)) {
        const std::optional<SandboxNetworkPolicy::Action> action = actionFromName(json.value(u"defaultAction"_s));
        if (!action) {
            *problem = u"defaultAction must be \"allow\" or \"deny\", not %1"_s.arg(quoted(json.value(u"defaultAction"_s)));
            return std::nullopt;
        }
        policy.defaultAction = *action;
    }
    const QJsonValue egress = json.value(u"egress"_s);
    if (!egress.isUndefined() && !egress.isNull() && !egress.isArray()) {
        *problem = u"egress must be a list of rules"_s;
        return std::nullopt;
    }
    for (const QJsonValue &item : egress.toArray()) {
        std::optional<SandboxNetworkPolicy::Rule> rule = egressRuleFromJson(item, problem);
        if (!rule)
            return std::nullopt;
        policy.egress.append(*rule);
    }
    return policy;
}

} // namespace Sandflow
