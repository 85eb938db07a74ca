// What a sandbox request asks of this machine, checked before anything starts: its root
// filesystem and volumes become a bubblewrap layout, or an error saying why the local runner
// cannot give them. (Its network policy becomes a network of its own as it starts.)
#pragma once

#include "asyncjob.h"
#include "localrunner.h"
#include "sandboxlayout_p.h"
#include "sandboxvolumes_p.h"

#include <optional>

namespace Sandflow::Internal {

/// The memory a sandbox may use: its request's limit, else the runner's default.
qint64 memoryLimit(const SandboxRequest &request, const LocalRunner::Options &options);

/// Fills in `layout`'s agent, root filesystem, tmpfs size and mounts (not its id, network or
/// environment). Returns the first refusal (Kind::Invalid: ROOTFS_NOT_FOUND, VOLUME_*) or,
/// when a volume cannot be created, a Kind::Infra error.
std::optional<JobError> layoutForRequest(const SandboxRequest &request, const LocalRunner::Options &options,
                                         const VolumeSources &volumeSources, SandboxLayout *layout);

} // namespace Sandflow::Internal
