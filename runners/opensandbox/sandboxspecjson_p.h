// The part of a create request that describes a sandbox's volumes, as the lifecycle API's
// `volumes[]` (its `networkPolicy` object is networkpolicyjson.h's).
#pragma once

#include "runner.h"

#include <QJsonArray>
#include <QJsonObject>

namespace Sandflow::Internal {

/// `[{name, mountPath, readOnly, subPath?, host|pvc|ossfs}]`; each backend's settings with
/// the types the API gives them (booleans, lists, strings).
QJsonArray volumesJson(const QList<SandboxVolume> &volumes);

} // namespace Sandflow::Internal
