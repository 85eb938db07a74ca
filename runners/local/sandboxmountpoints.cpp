#include "sandboxmountpoints_p.h"

#include "uniquefd_p.h"

#include <QFile>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

std::optional<QString> unsafe(int root, const QString &path)
{
    const QStringList components = path.split(u'/', Qt::SkipEmptyParts);
    if (!path.startsWith(u'/') || components.contains(u"."_s) || components.contains(u".."_s))
        return u"`%1` is no absolute path without `.` and `..`"_s.arg(path);
    UniqueFd directory(::fcntl(root, F_DUPFD_CLOEXEC, 0));
    QString walked;
    for (qsizetype i = 0; i < components.size(); ++i) {
        walked += u'/' + components.at(i);
        UniqueFd next(::openat(directory.get(), QFile::encodeName(components.at(i)).constData(),
                               O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (!next.isValid()) {
            if (errno == ENOENT)
                return std::nullopt;   // made fresh, below a real directory
            return u"`%1` cannot be opened: %2"_s.arg(walked, QString::fromLocal8Bit(strerror(errno)));
        }
        struct stat info;
        if (::fstat(next.get(), &info) != 0)
            return u"`%1` cannot be read: %2"_s.arg(walked, QString::fromLocal8Bit(strerror(errno)));
        if (S_ISLNK(info.st_mode))
            return u"`%1` is a symbolic link, and the sandbox's mount point `%2` may not go through one"_s.arg(walked, path);
        const bool last = i == components.size() - 1;
        if (!S_ISDIR(info.st_mode) && !(last && S_ISREG(info.st_mode)))
            return u"`%1` is neither a directory nor a file, and the sandbox's mount point `%2` goes through it"_s
                .arg(walked, path);
        directory = std::move(next);
    }
    return std::nullopt;
}

} // namespace

std::optional<QString> unsafeMountPoint(const QString &root, const QStringList &paths)
{
    const UniqueFd rootFd(::open(QFile::encodeName(root).constData(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!rootFd.isValid())
        return u"the root %1 cannot be opened: %2"_s.arg(root, QString::fromLocal8Bit(strerror(errno)));
    for (const QString &path : paths) {
        if (std::optional<QString> why = unsafe(rootFd.get(), path))
            return why;
    }
    return std::nullopt;
}

} // namespace Sandflow::Internal
