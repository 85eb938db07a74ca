#include "hostdirectory_p.h"

#include "openbeneath_p.h"

#include <QDir>

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

QString systemError(const QString &path, int error)
{
    return u"cannot open `%1`: %2"_s.arg(path, QString::fromLocal8Bit(std::strerror(error)));
}

/// Why `path` could not be opened, from the errno of a walk that follows no link: ELOOP is a
/// link in the way.
QString openError(const QString &path, int error)
{
    if (error == ELOOP)
        return u"`%1` is a symbolic link, which a download does not follow"_s.arg(path);
    return systemError(path, error);
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
    UniqueFd fd(::open(QFile::encodeName(path).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.isValid()) {
        const int failure = errno;
        *error = systemError(path, failure);
        return std::nullopt;
    }
    return HostDirectory(std::move(fd), path);
}

QString HostDirectory::hostPath(const QStringList &names) const
{
    return QDir(m_path).filePath(names.join(u'/'));
}

UniqueFd HostDirectory::openDirectory(const QStringList &names, QString *error) const
{
    if (!std::all_of(names.cbegin(), names.cend(), isPlainName)) {
        *error = u"`%1` is not a path below `%2`"_s.arg(names.join(u'/'), m_path);
        return UniqueFd();
    }
    OpenedPath opened = openBeneath(m_fd.get(), names.join(u'/'));
    if (!opened.fd.isValid()) {
        *error = openError(hostPath(opened.failedAt.split(u'/')), opened.error);
        return UniqueFd();
    }
    // openBeneath takes the last name as it finds it, file or directory.
    struct stat status = {};
    if (::fstat(opened.fd.get(), &status) != 0 || !S_ISDIR(status.st_mode)) {
        *error = openError(hostPath(names), ENOTDIR);
        return UniqueFd();
    }
    return std::move(opened.fd);
}

bool HostDirectory::makeDirectory(const QStringList &names, QString *error) const
{
    if (names.isEmpty()) {
        *error = u"no directory below `%1` was named"_s.arg(m_path);
        return false;
    }
    return openDirectory(names, error).isValid();
}

std::unique_ptr<QFile> HostDirectory::createFile(const QStringList &names, int mode, QString *error) const
{
    if (names.isEmpty() || !isPlainName(names.last())) {
        *error = u"`%1` is not a path below `%2`"_s.arg(names.join(u'/'), m_path);
        return nullptr;
    }
    const UniqueFd parent = openDirectory(names.first(names.size() - 1), error);
    if (!parent.isValid())
        return nullptr;
    const QString path = hostPath(names);
    // Never through a link at the name; and a FIFO there fails at once (no reader) instead of
    // holding the event loop until someone opens its other end.
    UniqueFd fd(::openat(parent.get(), QFile::encodeName(names.last()).constData(),
                         O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode & 0777));
    if (!fd.isValid()) {
        const int failure = errno;
        *error = openError(path, failure);
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
