#include "sandboxrootlayer_p.h"

#include "layertree_p.h"
#include "sandboxidmap_p.h"
#include "uniquefd_p.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

// overlayfs splits its options at commas and its lower directories at colons; a backslash
// keeps either (and itself) in a path.
QByteArray escapedForOverlay(const QString &path)
{
    QByteArray escaped;
    for (const char c : QFile::encodeName(path)) {
        if (c == ',' || c == ':' || c == '\\')
            escaped.append('\\');
        escaped.append(c);
    }
    return escaped;
}

QByteArray overlayOptions(const QString &lower, const QString &upper, const QString &work)
{
    return "lowerdir=" + escapedForOverlay(lower) + ",upperdir=" + escapedForOverlay(upper)
           + ",workdir=" + escapedForOverlay(work);
}

bool makePrivateDirectory(const QString &path, mode_t mode, QString *error)
{
    if (::mkdir(QFile::encodeName(path).constData(), mode) != 0 || ::chmod(QFile::encodeName(path).constData(), mode) != 0) {
        *error = u"cannot make %1: %2"_s.arg(path, QString::fromLocal8Bit(strerror(errno)));
        return false;
    }
    return true;
}

bool giveTo(const QString &path, uid_t owner, QString *error)
{
    if (owner == ::geteuid())
        return true;
    if (::lchown(QFile::encodeName(path).constData(), owner, owner) != 0) {
        *error = u"cannot give %1 to the sandbox's root: %2"_s.arg(path, QString::fromLocal8Bit(strerror(errno)));
        return false;
    }
    return true;
}

} // namespace

std::optional<SandboxRootLayer> SandboxRootLayer::create(const QString &layersDirectory, const QString &sandboxId,
                                                         const QString &lower, bool overlay, uid_t owner,
                                                         QString *error)
{
    // Root's alone, as each layer is: what sandboxes write there (setuid programs among it)
    // belongs to no one on the host.
    if (!QDir().mkpath(layersDirectory)
        || !QFile::setPermissions(layersDirectory, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner)) {
        *error = u"cannot make the directory of the sandboxes' layers %1"_s.arg(layersDirectory);
        return std::nullopt;
    }
    SandboxRootLayer layer;
    layer.directory = layersDirectory + u'/' + sandboxId;
    layer.root = layer.directory + u"/root"_s;
    // Only the runner (and, through it, bubblewrap as the sandboxes' root) goes in here.
    if (!makePrivateDirectory(layer.directory, 0700, error) || !makePrivateDirectory(layer.root, 0755, error))
        return std::nullopt;
    if (!overlay) {
        if (!giveTo(layer.root, owner, error))
            return std::nullopt;
        return layer;
    }
    const QString upper = layer.directory + u"/upper"_s;
    const QString work = layer.directory + u"/work"_s;
    // The merged root takes its owner and mode from the upper directory: the image's root's.
    struct stat lowerRoot;
    if (::stat(QFile::encodeName(lower).constData(), &lowerRoot) != 0) {
        *error = u"cannot read the root %1: %2"_s.arg(lower, QString::fromLocal8Bit(strerror(errno)));
        return std::nullopt;
    }
    if (!makePrivateDirectory(upper, lowerRoot.st_mode & 07777, error) || !giveTo(upper, owner, error)
        || !makePrivateDirectory(work, 0700, error))
        return std::nullopt;
    layer.overlay = OverlayMount{QFile::encodeName(layer.root), overlayOptions(lower, upper, work)};
    return layer;
}

int overlayMountsRefused(const QString &layersDirectory, int userNamespace)
{
    if (!QDir().mkpath(layersDirectory))
        return errno ? errno : EACCES;
    QTemporaryDir probe(layersDirectory + u"/.probe-XXXXXX"_s);
    if (!probe.isValid())
        return EACCES;
    for (const char *name : {"/lower", "/upper", "/work", "/merged"})
        ::mkdir(QFile::encodeName(probe.path() + QLatin1StringView(name)).constData(), 0700);
    const OverlayMount overlay{QFile::encodeName(probe.path() + u"/merged"_s),
                               overlayOptions(probe.path() + u"/lower"_s, probe.path() + u"/upper"_s,
                                              probe.path() + u"/work"_s)};
    // As a sandbox's: over an id-mapped lower layer where the ids are a range, which some
    // kernels that map mounts still refuse to overlay.
    std::vector<IdmappedAttachment> attachments;
    const UniqueFd lower(::open(QFile::encodeName(probe.path() + u"/lower"_s).constData(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    UniqueFd clone;
    if (userNamespace >= 0) {
        int error = 0;
        clone = idmappedClone(lower.get(), userNamespace, &error);
        if (!clone.isValid())
            return error;
        attachments.push_back({QFile::encodeName(probe.path() + u"/lower"_s), lower.get(), clone.get()});
    }
    // The mounts live and die with the child's own namespace: the host never sees them.
    const pid_t child = ::fork();
    if (child < 0)
        return errno;
    if (child == 0) {
        const bool mounted = enterOwnMountNamespace() && attachIdmappedClones(attachments) && mountOverlay(overlay);
        ::_exit(mounted ? 0 : (errno & 0xff));
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
}

bool mountOverlay(const OverlayMount &overlay)
{
    return ::mount("overlay", overlay.target.constData(), "overlay", 0, overlay.options.constData()) == 0;
}

int removeRootLayer(const QString &directory)
{
    const QByteArray path = QFile::encodeName(directory);
    const qsizetype slash = path.lastIndexOf('/');
    const UniqueFd parent(::open(slash <= 0 ? "/" : path.left(slash).constData(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!parent.isValid())
        return errno == ENOENT ? 0 : errno;
    return removeTree(parent.get(), path.mid(slash + 1));
}

} // namespace Sandflow::Internal
