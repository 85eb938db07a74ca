#include "openbeneath_p.h"

#include <QFile>
#include <QStringList>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cerrno>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

// Close-on-exec, so that only a program started to use it (inheritAcrossExec) gets it.
// Through syscall(): glibc 2.36 has no wrapper for openat2.
int openComponent(int parent, const QByteArray &name, bool mustBeDirectory)
{
    open_how how = {};
    how.flags = O_PATH | O_CLOEXEC | (mustBeDirectory ? O_DIRECTORY : 0);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    return int(::syscall(SYS_openat2, parent, name.constData(), &how, sizeof how));
}

namespace {

// One component below `parent`, made as a directory when it is missing. Someone else may
// make it (or a link) between the two calls: then it is opened, or refused, as it is.
UniqueFd openOrMakeComponent(int parent, const QByteArray &name, bool mustBeDirectory)
{
    int fd = openComponent(parent, name, mustBeDirectory);
    if (fd < 0 && errno == ENOENT && (::mkdirat(parent, name.constData(), 0777) == 0 || errno == EEXIST))
        fd = openComponent(parent, name, mustBeDirectory);
    return UniqueFd(fd);
}

} // namespace

OpenedPath openBeneath(int directory, const QString &path)
{
    QStringList components = path.split(u'/', Qt::SkipEmptyParts);
    components.removeAll(u"."_s);
    if (components.isEmpty())
        components.append(u"."_s);
    UniqueFd current;
    int parent = directory;
    for (qsizetype i = 0; i < components.size(); ++i) {
        const bool last = i == components.size() - 1;
        UniqueFd next = openOrMakeComponent(parent, QFile::encodeName(components.at(i)), !last);
        if (!next.isValid()) {
            const int error = errno;
            return {UniqueFd(), error, components.first(i + 1).join(u'/')};
        }
        current = std::move(next);
        parent = current.get();
    }
    return {std::move(current), 0, QString()};
}

UniqueFd openHostRoot()
{
    return UniqueFd(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
}

} // namespace Sandflow::Internal
