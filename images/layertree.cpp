#include "layertree_p.h"

#include "openbeneath_p.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

std::optional<QByteArrayList> splitEntryName(const QByteArray &name)
{
    QByteArrayList components;
    for (const QByteArray &component : name.split('/')) {
        if (component == "..")
            return std::nullopt;
        if (!component.isEmpty() && component != ".")
            components.append(component);
    }
    return components;
}

DirectoryWalk openDirectoryBeneath(int root, const QByteArrayList &components, QList<QByteArrayList> *made)
{
    UniqueFd current(::fcntl(root, F_DUPFD_CLOEXEC, 0));
    if (!current.isValid())
        return {UniqueFd(), errno, {}};
    for (qsizetype i = 0; i < components.size(); ++i) {
        const QByteArray &name = components.at(i);
        int fd = openComponent(current.get(), name, true);
        if (fd < 0 && errno == ENOENT && made) {
            if (::mkdirat(current.get(), name.constData(), 0700) == 0)
                made->append(components.first(i + 1));
            fd = openComponent(current.get(), name, true);
        }
        if (fd < 0)
            return {UniqueFd(), errno, components.first(i + 1).join('/')};
        current = UniqueFd(fd);
    }
    return {std::move(current), 0, {}};
}

QString printable(const QByteArray &name)
{
    QString text;
    for (const QChar character : QString::fromUtf8(name)) {
        if (character.unicode() < 0x20 || character.unicode() == 0x7f)
            text += u"\\x%1"_s.arg(uint(character.unicode()), 2, 16, QChar(u'0'));
        else
            text += character;
    }
    return text;
}

std::optional<QByteArrayList> listDirectory(int directory)
{
    const int fd = ::openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return std::nullopt;
    DIR *dir = ::fdopendir(fd);
    if (!dir) {
        ::close(fd);
        return std::nullopt;
    }
    QByteArrayList names;
    while (const dirent *entry = ::readdir(dir)) {
        const QByteArray name(entry->d_name);
        if (name != "." && name != "..")
            names.append(name);
    }
    ::closedir(dir);
    return names;
}

// Recursion is bounded: entry names are at most PATH_MAX long, so no layer nests deeper than
// PATH_MAX / 2 directories.
int removeTree(int directory, const QByteArray &name)
{
    if (::unlinkat(directory, name.constData(), 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR)
        return errno;
    const UniqueFd subdirectory(::openat(directory, name.constData(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!subdirectory.isValid())
        return errno;
    // A directory without write or search permission, which a layer may leave, is opened up
    // first: its own mode goes with it.
    ::fchmodat(directory, name.constData(), 0700, AT_SYMLINK_NOFOLLOW);
    const std::optional<QByteArrayList> children = listDirectory(subdirectory.get());
    if (!children)
        return errno;
    for (const QByteArray &child : *children) {
        if (const int error = removeTree(subdirectory.get(), child))
            return error;
    }
    return ::unlinkat(directory, name.constData(), AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : errno;
}

} // namespace Sandflow::Internal
