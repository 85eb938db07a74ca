// The egress API's wire format, as upstream's egress sidecar speaks it on port 18080: the
// rules of a PATCH and the targets of a DELETE in, the policy's status out. Its errors are
// plain text, not the lifecycle API's JSON; no HTTP and no runner here.
#pragma once

#include "runner.h"

#include <QByteArray>
#include <QJsonObject>
#include <QStringList>

#include <optional>

namespace Sandflow::Internal {

/// The rules of a PATCH /policy body, `[{"action", "target"}, ...]` with at least one, each
/// target one invalidTargetReason() accepts; std::nullopt with `problem` saying why not.
std::optional<QList<SandboxNetworkPolicy::Rule>> egressRulesFromBody(const QByteArray &body, QString *problem);
/// The targets of a DELETE /policy body, `["target", ...]` with at least one.
std::optional<QStringList> egressTargetsFromBody(const QByteArray &body, QString *problem);

/// What PATCH and DELETE answer: `{"status": "ok", "mode", "enforcementMode": "dns"}`.
QJsonObject policyStatusJson(const SandboxNetworkPolicy &policy);
/// What GET answers: policyStatusJson() with the policy itself as `policy`.
QJsonObject currentPolicyJson(const SandboxNetworkPolicy &policy);

} // namespace Sandflow::Internal
