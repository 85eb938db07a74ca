// A network policy and its rules as OpenSandbox's JSON spells them (`networkPolicy` at
// create, and the egress API's bodies): shared by the server, which reads rules and writes
// policies, and the client, which writes rules and reads policies.
#pragma once

#include "runner.h"

#include <QJsonArray>
#include <QJsonObject>

#include <optional>

namespace Sandflow {

/// "allow" or "deny".
QString egressActionName(SandboxNetworkPolicy::Action action);

/// `{"action": ..., "target": ...}`.
QJsonObject egressRuleJson(const SandboxNetworkPolicy::Rule &rule);
QJsonArray egressRulesJson(const QList<SandboxNetworkPolicy::Rule> &rules);
/// `{"defaultAction": ..., "egress": [rule, ...]}`.
QJsonObject networkPolicyJson(const SandboxNetworkPolicy &policy);

/// A rule from `{"action": "allow"|"deny", "target": "..."}`; std::nullopt with `problem`
/// saying what is wrong. The target is taken as given: invalidTargetReason() judges it.
std::optional<SandboxNetworkPolicy::Rule> egressRuleFromJson(const QJsonValue &json, QString *problem);
/// A policy from `{"defaultAction"?, "egress"?}`. Without `defaultAction` the egress
/// sidecar denies, and so does the policy read here.
std::optional<SandboxNetworkPolicy> networkPolicyFromJson(const QJsonObject &json, QString *problem);

} // namespace Sandflow
