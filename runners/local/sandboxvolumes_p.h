// A sandbox request's volumes as bind mounts on this machine: where each source lives,
// whether the runner lets the sandbox have it, and creating it when it is missing.
#pragma once

#include "asyncjob.h"
#include "runner.h"
#include "sandboxlayout_p.h"

#include <QList>
#include <QStringList>

#include <functional>
#include <optional>
#include <vector>

namespace Sandflow::Internal {

/// What the runner lets volumes use.
struct VolumeSources
{
    /// A directory host volumes may lie under.
    struct HostPrefix
    {
        QString written;    ///< clean, as the operator gave it: how requests name host paths
        QString resolved;   ///< with the symbolic links it had when the runner was made resolved
    };
    QList<HostPrefix> allowedHostPaths;   ///< empty: none
    QString stateDirectory;   ///< resolved likewise; pvc volumes live in its `volumes/`; empty: none can
    /// How to allow a refused host path (the argument), added to the refusal; none: nothing.
    std::function<QString(const QString &path)> hostPathAdvice;
};

/// What the runner's options allow. The operator's paths may lead through symbolic links,
/// which are resolved here, once per runner, and never again: a link that appears in them
/// later (where a sandbox holding a volume above one of them could put it) is refused like
/// any other.
VolumeSources resolveVolumeSources(const QStringList &allowedHostPaths, const QString &stateDirectory,
                                   std::function<QString(const QString &path)> hostPathAdvice = {});

/// Appends one bind mount per volume to `mounts`, in order, with its source open: the host
/// path below the allowed directory it is written under, or the pvc's directory
/// `volumes/CLAIM`, then its subPath, walked by descriptor (openbeneath_p.h) so that what is
/// checked is what gets mounted. No symbolic link is followed on the way, and missing
/// directories are made. Returns the error of the first volume that is refused (Kind::Invalid,
/// codes VOLUME_*) or cannot be opened (Kind::Infra, VOLUME_CREATE_FAILED); `mounts` is then
/// incomplete.
std::optional<JobError> resolveVolumes(const QList<SandboxVolume> &volumes, const VolumeSources &sources,
                                       std::vector<BindMount> *mounts);

} // namespace Sandflow::Internal
