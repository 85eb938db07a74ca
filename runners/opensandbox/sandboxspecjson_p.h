// The parts of a create request that describe a sandbox's surroundings: volumes and the
// egress network policy, as the lifecycle API's `volumes[]` and `networkPolicy` objects.
#pragma once

#include "runner.h"

#include <QJsonArray>
#include <QJsonObject>

namespace Sandflow::Internal {

/// `[{name, mountPath, readOnly, subPath?, host|pvc|ossfs}]`; each backend's settings with
/// the types the API gives them (booleans, lists, strings).
QJsonArray volumesJson(const QList<SandboxVolume> &volumes);
/// `{defaultAction, egress: [{action, target}]}`.
QJsonObject networkPolicyJson(const SandboxNetworkPolicy &policy);

} // namespace Sandflow::Internal
