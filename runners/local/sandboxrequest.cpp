#include "sandboxrequest_p.h"

#include <QFileInfo>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

std::optional<JobError> checkRootfs(const QString &rootfs, QString *resolved)
{
    const QFileInfo info(rootfs);
    if (!info.isDir())
        return JobError{JobError::Kind::Invalid, u"ROOTFS_NOT_FOUND"_s,
                        u"the root filesystem `%1` is not a directory"_s.arg(rootfs), {{u"rootfs"_s, rootfs}}};
    // bwrap binds what the sandbox sees from this path; the runner's working directory has
    // no meaning there.
    *resolved = info.canonicalFilePath();
    return std::nullopt;
}

} // namespace

qint64 memoryLimit(const SandboxRequest &request, const LocalRunner::Options &options)
{
    return request.memoryBytes.value_or(options.defaultMemoryBytes);
}

std::optional<JobError> layoutForRequest(const SandboxRequest &request, const LocalRunner::Options &options,
                                         const VolumeSources &volumeSources, SandboxLayout *layout)
{
    layout->agentPath = options.agentPath;
    layout->tmpfsSizeBytes = options.tmpfsSizeBytes > 0 ? options.tmpfsSizeBytes : memoryLimit(request, options);
    if (!request.rootfs.isEmpty()) {
        if (std::optional<JobError> error = checkRootfs(request.rootfs, &layout->rootfs))
            return error;
    }
    return resolveVolumes(request.volumes, volumeSources, &layout->mounts);
}

} // namespace Sandflow::Internal
