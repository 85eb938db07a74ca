#include "hostdirectory_p.h"

#include <QDir>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// One descriptor, closed with its owner.
class Descriptor
{
public:
    explicit Descriptor(int fd = -1) : m_fd(fd) {}
    Descriptor(Descriptor &&other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    Descriptor &operator=(Descriptor &&other) noexcept
    {
        std::swap(m_fd, other.m_fd);
        return *this;
    }
    ~Descriptor()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }

    bool isValid() const { return m_fd >= 0; }
    int get() const { return m_fd; }
    int release() { return std::exchange(m_fd, -1); }

private:
    int m_fd;
};

QString systemError(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

QString openError(const QString &path, int error)
{
    return u"cannot open `%1`: %2"_s.arg(path, systemError(error));
}

/// Why `name` in `parent` (`path` on the host) could not be opened, from openat()'s `error`:
/// with O_NOFOLLOW a link fails with ELOOP, or with ENOTDIR where a directory was asked for.
QString openError(int parent, const QString &name, const QString &path, int error)
{
    struct stat status = {};
    if ((error == ELOOP || error == ENOTDIR)
        && ::fstatat(parent, QFile::encodeName(name).constData(), &status, AT_SYMLINK_NOFOLLOW) == 0
        && S_ISLNK(status.st_mode))
        return u"`%1` is a symbolic link, which a download does not follow"_s.arg(path);
    return openError(path, error);
}

/// The directory `name` in `parent`: itself, not a link to one.
Descriptor openDirectory(int parent, const QString &name)
{
    return Descriptor(
        ::openat(parent, QFile::encodeName(name).constData(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

/// The directory that holds the last of `names`, walked down from `root` one name at a
/// time. Invalid, with the reason in `error`, when the names do not lead below `root` or a
/// level cannot be opened as a directory.
Descriptor openParent(int root, const QString &rootPath, const QStringList &names, QString *error)
{
    if (names.isEmpty() || !std::all_of(names.cbegin(), names.cend(), isPlainName)) {
        *error = u"`%1` is not a path below `%2`"_s.arg(names.join(u'/'), rootPath);
        return Descriptor();
    }
    Descriptor current(::fcntl(root, F_DUPFD_CLOEXEC, 0));
    if (!current.isValid()) {
        const int failure = errno;
        *error = openError(rootPath, failure);
        return current;
    }
    QString walked = rootPath;
    for (qsizetype i = 0; i + 1 < names.size(); ++i) {
        walked = QDir(walked).filePath(names.at(i));
        Descriptor next = openDirectory(current.get(), names.at(i));
        if (!next.isValid()) {
            const int failure = errno;
            *error = openError(current.get(), names.at(i), walked, failure);
            return next;
        }
        current = std::move(next);
    }
    return current;
}

} // namespace

bool isPlainName(QStringView name)
{
    return !name.isEmpty() && name != u"."_s && name != u".."_s && !name.contains(u'/') && !name.contains(QChar());
}

std::optional<HostDirectory> HostDirectory::open(const QString &path, QString *error)
{
    if (!QDir().mkpath(path)) {
        *error = u"cannot make the directory `%1`"_s.arg(path);
        return std::nullopt;
    }
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        const int failure = errno;
        *error = openError(path, failure);
        return std::nullopt;
    }
    return HostDirectory(fd, path);
}

HostDirectory::HostDirectory(HostDirectory &&other) noexcept
    : m_fd(std::exchange(other.m_fd, -1))
    , m_path(std::move(other.m_path))
{
}

HostDirectory &HostDirectory::operator=(HostDirectory &&other) noexcept
{
    std::swap(m_fd, other.m_fd);
    std::swap(m_path, other.m_path);
    return *this;
}

HostDirectory::~HostDirectory()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

QString HostDirectory::hostPath(const QStringList &names) const
{
    return QDir(m_path).filePath(names.join(u'/'));
}

bool HostDirectory::makeDirectory(const QStringList &names, QString *error) const
{
    const Descriptor parent = openParent(m_fd, m_path, names, error);
    if (!parent.isValid())
        return false;
    if (::mkdirat(parent.get(), QFile::encodeName(names.last()).constData(), 0777) != 0 && errno != EEXIST) {
        const int failure = errno;
        *error = u"cannot make the directory `%1`: %2"_s.arg(hostPath(names), systemError(failure));
        return false;
    }
    // Made just now or there before: what the name holds now must be a directory itself.
    const Descriptor made = openDirectory(parent.get(), names.last());
    if (!made.isValid()) {
        const int failure = errno;
        *error = openError(parent.get(), names.last(), hostPath(names), failure);
        return false;
    }
    return true;
}

std::unique_ptr<QFile> HostDirectory::createFile(const QStringList &names, QString *error) const
{
    const Descriptor parent = openParent(m_fd, m_path, names, error);
    if (!parent.isValid())
        return nullptr;
    const QString path = hostPath(names);
    // Never through a link at the name; and a FIFO there fails at once (no reader) instead of
    // holding the event loop until someone opens its other end.
    Descriptor fd(::openat(parent.get(), QFile::encodeName(names.last()).constData(),
                           O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666));
    if (!fd.isValid()) {
        const int failure = errno;
        *error = openError(parent.get(), names.last(), path, failure);
        return nullptr;
    }
    struct stat status = {};
    if (::fstat(fd.get(), &status) != 0 || !S_ISREG(status.st_mode)) {
        *error = u"`%1` is not a regular file"_s.arg(path);
        return nullptr;
    }
    auto file = std::make_unique<QFile>(path);
    if (!file->open(fd.get(), QIODevice::WriteOnly, QFileDevice::AutoCloseHandle)) {
        *error = u"cannot write `%1`: %2"_s.arg(path, file->errorString());
        return nullptr;
    }
    fd.release();
    return file;
}

} // namespace Sandflow::Internal
