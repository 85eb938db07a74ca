// A sandbox request's volumes as bind mounts on this machine: where each source lives,
// whether the runner lets the sandbox have it, and creating it when it is missing.
#pragma once

#include "asyncjob.h"
#include "runner.h"
#include "sandboxlayout_p.h"

#include <QStringList>

#include <optional>

namespace Sandflow::Internal {

/// What the runner lets volumes use.
struct VolumeSources
{
    QStringList allowedHostPaths;   ///< prefixes host volumes must stay under; empty: none
    QString stateDirectory;         ///< pvc volumes live in its `volumes/`; empty: none can
};

/// Appends one bind mount per volume to `mounts`, in order, creating missing sources (host
/// directories, pvc volumes and their sub-paths). Every source must stay within what it is
/// allowed as written and again with symbolic links resolved, so that a link cannot lead
/// out. Returns the error of the first volume that is refused (Kind::Invalid, codes
/// VOLUME_*); `mounts` is then incomplete.
std::optional<JobError> resolveVolumes(const QList<SandboxVolume> &volumes, const VolumeSources &sources,
                                       QList<BindMount> *mounts);

} // namespace Sandflow::Internal
