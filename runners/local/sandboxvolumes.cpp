#include "sandboxvolumes_p.h"

#include "names_p.h"
#include "openbeneath_p.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

using HostPrefix = VolumeSources::HostPrefix;

// The system tree (and the merged-/usr links into it), and where the agent lives: a volume
// there would hide or break what every sandbox relies on.
const QStringList ReservedMountPaths = {u"/usr"_s, u"/etc"_s, u"/proc"_s, u"/dev"_s, u"/.sandflow"_s, u"/bin"_s,
                                        u"/sbin"_s, u"/lib"_s, u"/lib32"_s, u"/lib64"_s, u"/libx32"_s};

JobError refusal(const SandboxVolume &volume, const QString &code, const QString &message, QJsonObject context = {})
{
    context.insert(u"volume"_s, volume.name);
    return {JobError::Kind::Invalid, code, u"volume `%1`: %2"_s.arg(volume.name, message), context};
}

JobError notOpened(const SandboxVolume &volume, const QString &path, int error)
{
    const QString reason = error == ELOOP ? u"a symbolic link is in the way, and volume sources follow none"_s
                                          : QString::fromLocal8Bit(strerror(error));
    return {JobError::Kind::Infra, u"VOLUME_CREATE_FAILED"_s,
            u"volume `%1`: cannot open or create `%2`: %3"_s.arg(volume.name, path, reason),
            {{u"volume"_s, volume.name}, {u"path"_s, path}}};
}

// By whole components: /data holds /data and /data/x, not /database.
bool isWithin(const QString &path, const QString &root)
{
    return path == root || path.startsWith(root.endsWith(u'/') ? root : root + u'/');
}

bool isWithinAny(const QString &path, const QStringList &roots)
{
    return std::any_of(roots.cbegin(), roots.cend(), [&path](const QString &root) { return isWithin(path, root); });
}

// `path` (clean, absolute) with the symbolic links of its existing part resolved: where it
// is, or would be once created.
QString realPath(const QString &path)
{
    QString existing = path;
    while (!QFileInfo::exists(existing))
        existing = QFileInfo(existing).path();
    return QDir::cleanPath(QFileInfo(existing).canonicalFilePath() + path.mid(existing.size()));
}

QString withSubPath(const QString &base, const QString &subPath)
{
    return subPath.isEmpty() ? base : base + u'/' + subPath;
}

// Where a volume's source is: `inside` (from the request) below `directory` (the operator's,
// its links resolved once), which messages call `directoryName`.
struct SourcePath
{
    QString directory;
    QString directoryName;
    QString inside;
};

// Opens the source by descriptor, first the operator's directory from `/`, then what the
// request names below it. A link below the directory is the request's doing and refused
// with `throughLink(the link)`; anything else that fails is VOLUME_CREATE_FAILED.
std::optional<JobError> openSource(const SandboxVolume &volume, const SourcePath &path,
                                   const std::function<JobError(const QString &)> &throughLink, UniqueFd *source)
{
    const UniqueFd hostRoot = openHostRoot();
    const OpenedPath directory = openBeneath(hostRoot.get(), path.directory);
    if (!directory.fd.isValid())
        return notOpened(volume, u'/' + directory.failedAt, directory.error);
    OpenedPath opened = openBeneath(directory.fd.get(), path.inside);
    if (!opened.fd.isValid()) {
        const QString failedAt = QDir::cleanPath(path.directoryName + u'/' + opened.failedAt);
        return opened.error == ELOOP ? throughLink(failedAt) : notOpened(volume, failedAt, opened.error);
    }
    *source = std::move(opened.fd);
    return std::nullopt;
}

// The allowed directory that `path` is written under; the longest when several are, as the
// operator's most precise word on where it lies.
const HostPrefix *allowedPrefixOf(const QString &path, const QList<HostPrefix> &allowed)
{
    const HostPrefix *found = nullptr;
    for (const HostPrefix &prefix : allowed) {
        if (isWithin(path, prefix.written) && (!found || prefix.written.size() > found->written.size()))
            found = &prefix;
    }
    return found;
}

JobError notAllowed(const SandboxVolume &volume, const QString &path, const VolumeSources &sources)
{
    QStringList written;
    for (const HostPrefix &prefix : sources.allowedHostPaths)
        written.append(prefix.written);
    QString message = written.isEmpty()
        ? u"host path `%1` is not allowed: the runner allows no host paths"_s.arg(path)
        : u"host path `%1` is not within the allowed host paths (%2)"_s.arg(path, written.join(u", "_s));
    if (sources.hostPathAdvice)
        message += u"; "_s + sources.hostPathAdvice(path);
    return refusal(volume, u"VOLUME_HOST_PATH_NOT_ALLOWED"_s, message,
                   {{u"path"_s, path}, {u"allowedHostPaths"_s, QJsonArray::fromStringList(written)}});
}

std::optional<JobError> resolveHost(const SandboxVolume &volume, const VolumeSources &sources, UniqueFd *source)
{
    const QString path = QDir::cleanPath(withSubPath(volume.hostPath, volume.subPath));
    const HostPrefix *prefix = QDir::isAbsolutePath(path) ? allowedPrefixOf(path, sources.allowedHostPaths) : nullptr;
    if (!prefix)
        return notAllowed(volume, path, sources);
    const auto throughLink = [&volume, &path](const QString &link) {
        return refusal(volume, u"VOLUME_HOST_PATH_NOT_ALLOWED"_s,
                       u"host path `%1` goes through the symbolic link `%2`, and host volumes follow none"_s
                           .arg(path, link),
                       {{u"path"_s, path}, {u"link"_s, link}});
    };
    return openSource(volume, {prefix->resolved, prefix->written, path.mid(prefix->written.size())}, throughLink,
                      source);
}

// A pvc volume is a directory of the state directory that outlives its sandboxes, as a
// Docker named volume or a PersistentVolumeClaim does.
std::optional<JobError> resolvePvc(const SandboxVolume &volume, const QString &stateDirectory, UniqueFd *source)
{
    if (stateDirectory.isEmpty())
        return refusal(volume, u"VOLUME_NO_STATE_DIRECTORY"_s,
                       u"pvc volumes live in the runner's state directory, and none is configured"_s);
    if (!isDnsName(volume.claimName, 253))
        return refusal(volume, u"VOLUME_INVALID_CLAIM_NAME"_s,
                       u"claim name `%1` is not a DNS name (lowercase letters, digits and `-`)"_s.arg(volume.claimName),
                       {{u"claimName"_s, volume.claimName}});
    const QString directory = stateDirectory + u"/volumes/"_s + volume.claimName;
    const auto throughLink = [&volume](const QString &link) {
        return refusal(volume, u"VOLUME_INVALID_SUBPATH"_s,
                       u"subPath `%1` goes through the symbolic link `%2`, and volumes follow none"_s
                           .arg(volume.subPath, link),
                       {{u"subPath"_s, volume.subPath}, {u"link"_s, link}});
    };
    return openSource(volume, {directory, directory, volume.subPath}, throughLink, source);
}

} // namespace

VolumeSources resolveVolumeSources(const QStringList &allowedHostPaths, const QString &stateDirectory,
                                   std::function<QString(const QString &path)> hostPathAdvice)
{
    VolumeSources sources;
    sources.hostPathAdvice = std::move(hostPathAdvice);
    for (const QString &path : allowedHostPaths) {
        if (QDir::isAbsolutePath(path))
            sources.allowedHostPaths.append({QDir::cleanPath(path), realPath(QDir::cleanPath(path))});
    }
    if (!stateDirectory.isEmpty())
        sources.stateDirectory = realPath(QFileInfo(stateDirectory).absoluteFilePath());
    return sources;
}

std::optional<JobError> resolveVolumes(const QList<SandboxVolume> &volumes, const VolumeSources &sources,
                                       std::vector<BindMount> *mounts)
{
    for (const SandboxVolume &volume : volumes) {
        const QString target = QDir::cleanPath(volume.mountPath);
        if (!volume.mountPath.startsWith(u'/') || target == u"/"_s || isWithinAny(target, ReservedMountPaths))
            return refusal(volume, u"VOLUME_INVALID_MOUNT_PATH"_s,
                           u"mount path `%1` must be absolute, not `/`, and outside %2"_s
                               .arg(volume.mountPath, ReservedMountPaths.join(u", "_s)),
                           {{u"mountPath"_s, volume.mountPath}});
        if (volume.subPath.startsWith(u'/') || volume.subPath.split(u'/').contains(u".."_s))
            return refusal(volume, u"VOLUME_INVALID_SUBPATH"_s,
                           u"subPath `%1` must be relative, without `..`"_s.arg(volume.subPath),
                           {{u"subPath"_s, volume.subPath}});
        UniqueFd source;
        std::optional<JobError> error;
        switch (volume.kind) {
        case SandboxVolume::Kind::Host:
            error = resolveHost(volume, sources, &source);
            break;
        case SandboxVolume::Kind::Pvc:
            error = resolvePvc(volume, sources.stateDirectory, &source);
            break;
        case SandboxVolume::Kind::Ossfs:
            error = refusal(volume, u"VOLUME_NOT_SUPPORTED"_s,
                            u"the local runner cannot mount OSS buckets; ossfs volumes need the opensandbox runner "
                            u"with a server on the Docker runtime"_s);
            break;
        }
        if (error)
            return error;
        mounts->push_back({std::move(source), target, volume.readOnly, {}});
    }
    return std::nullopt;
}

} // namespace Sandflow::Internal
