#include "sandboxvolumes_p.h"

#include "names_p.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>

#include <algorithm>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

// The system tree (and the merged-/usr links into it), and where the agent lives: a volume
// there would hide or break what every sandbox relies on.
const QStringList ReservedMountPaths = {u"/usr"_s, u"/etc"_s, u"/proc"_s, u"/dev"_s, u"/.sandflow"_s, u"/bin"_s,
                                        u"/sbin"_s, u"/lib"_s, u"/lib32"_s, u"/lib64"_s, u"/libx32"_s};

JobError refusal(const SandboxVolume &volume, const QString &code, const QString &message, QJsonObject context = {})
{
    context.insert(u"volume"_s, volume.name);
    return {JobError::Kind::Invalid, code, u"volume `%1`: %2"_s.arg(volume.name, message), context};
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

enum class Placement { Inside, Outside, NotCreated };

// Finds `path` within `roots` and creates it as a directory when it is missing; `*resolved`
// is then its canonical form. It must be within as written and again with symbolic links
// resolved: before anything is created, so that no directory is made where a link leads,
// and after.
Placement place(const QString &path, const QStringList &roots, QString *resolved)
{
    QStringList cleanRoots;
    QStringList realRoots;
    for (const QString &root : roots) {
        if (!QDir::isAbsolutePath(root))
            continue;
        cleanRoots.append(QDir::cleanPath(root));
        realRoots.append(realPath(cleanRoots.last()));
    }
    const QString clean = QDir::cleanPath(path);
    if (!QDir::isAbsolutePath(clean) || !isWithinAny(clean, cleanRoots) || !isWithinAny(realPath(clean), realRoots))
        return Placement::Outside;
    if (!QFileInfo::exists(clean) && !QDir().mkpath(clean))
        return Placement::NotCreated;
    *resolved = QFileInfo(clean).canonicalFilePath();
    return isWithinAny(*resolved, realRoots) ? Placement::Inside : Placement::Outside;
}

// The source of `volume` at `path`, within `roots`; `outside` is the error when it is not.
std::optional<JobError> placeSource(const SandboxVolume &volume, const QString &path, const QStringList &roots,
                                    const JobError &outside, QString *source)
{
    switch (place(path, roots, source)) {
    case Placement::Inside:
        return std::nullopt;
    case Placement::NotCreated:
        break;
    case Placement::Outside:
        return outside;
    }
    return JobError{JobError::Kind::Infra, u"VOLUME_CREATE_FAILED"_s,
                    u"volume `%1`: cannot create `%2`"_s.arg(volume.name, path),
                    {{u"volume"_s, volume.name}, {u"path"_s, path}}};
}

QString withSubPath(const QString &base, const QString &subPath)
{
    return subPath.isEmpty() ? base : base + u'/' + subPath;
}

std::optional<JobError> resolveHost(const SandboxVolume &volume, const QStringList &allowed, QString *source)
{
    const QString path = withSubPath(volume.hostPath, volume.subPath);
    return placeSource(volume, path, allowed,
                       refusal(volume, u"VOLUME_HOST_PATH_NOT_ALLOWED"_s,
                               allowed.isEmpty()
                                   ? u"host path `%1` is not allowed: the runner allows no host paths"_s.arg(path)
                                   : u"host path `%1` is not within the allowed host paths (%2), as written or with "
                                     u"symbolic links resolved"_s.arg(path, allowed.join(u", "_s)),
                               {{u"path"_s, path}, {u"allowedHostPaths"_s, QJsonArray::fromStringList(allowed)}}),
                       source);
}

// A pvc volume is a directory of the state directory that outlives its sandboxes, as a
// Docker named volume or a PersistentVolumeClaim does.
std::optional<JobError> resolvePvc(const SandboxVolume &volume, const QString &stateDirectory, QString *source)
{
    if (stateDirectory.isEmpty())
        return refusal(volume, u"VOLUME_NO_STATE_DIRECTORY"_s,
                       u"pvc volumes live in the runner's state directory, and none is configured"_s);
    if (!isDnsName(volume.claimName, 253))
        return refusal(volume, u"VOLUME_INVALID_CLAIM_NAME"_s,
                       u"claim name `%1` is not a DNS name (lowercase letters, digits and `-`)"_s.arg(volume.claimName),
                       {{u"claimName"_s, volume.claimName}});
    const QString root = QFileInfo(stateDirectory).absoluteFilePath() + u"/volumes/"_s + volume.claimName;
    return placeSource(volume, withSubPath(root, volume.subPath), {root},
                       refusal(volume, u"VOLUME_INVALID_SUBPATH"_s,
                               u"subPath `%1` leads out of the volume through a symbolic link"_s.arg(volume.subPath),
                               {{u"subPath"_s, volume.subPath}}),
                       source);
}

} // namespace

std::optional<JobError> resolveVolumes(const QList<SandboxVolume> &volumes, const VolumeSources &sources,
                                       QList<BindMount> *mounts)
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
        QString source;
        std::optional<JobError> error;
        switch (volume.kind) {
        case SandboxVolume::Kind::Host:
            error = resolveHost(volume, sources.allowedHostPaths, &source);
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
        mounts->append({source, target, volume.readOnly});
    }
    return std::nullopt;
}

} // namespace Sandflow::Internal
