#include "layertree_p.h"

#include "openbeneath_p.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

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

namespace {

struct DirectoryIdentity
{
    dev_t device = 0;
    ino_t inode = 0;

    static std::optional<DirectoryIdentity> of(int fd)
    {
        struct stat info;
        if (::fstat(fd, &info) != 0)
            return std::nullopt;
        return DirectoryIdentity{info.st_dev, info.st_ino};
    }
    bool operator==(const DirectoryIdentity &other) const { return device == other.device && inode == other.inode; }
};

// Opens the subdirectory `name` of `parent` to empty it: without following a link, and with
// search and write permission for its owner first (a tree may hold read-only directories).
UniqueFd openToEmpty(int parent, const QByteArray &name)
{
    ::fchmodat(parent, name.constData(), 0700, AT_SYMLINK_NOFOLLOW);
    return UniqueFd(::openat(parent, name.constData(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

} // namespace

// Depth first and iterative, holding one descriptor at a time: a tree is as deep as whoever
// wrote it liked (a sandbox's layer may nest a million directories), and neither the stack
// nor the descriptor table may bound what can be removed. Going back up is through `..`,
// checked against the directory it came from, so that a tree renamed meanwhile stops the
// removal rather than leading it elsewhere.
int removeTree(int directory, const QByteArray &name)
{
    if (::unlinkat(directory, name.constData(), 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR)
        return errno;
    const std::optional<DirectoryIdentity> top = DirectoryIdentity::of(directory);
    if (!top)
        return errno;
    std::vector<DirectoryIdentity> parents{*top};   // of `current`, outermost first
    QByteArrayList names{name};                      // `current`'s name in each parent
    UniqueFd current = openToEmpty(directory, name);
    if (!current.isValid())
        return errno == ENOENT ? 0 : errno;
    while (!names.isEmpty()) {
        const std::optional<QByteArrayList> children = listDirectory(current.get());
        if (!children)
            return errno;
        bool descended = false;
        for (const QByteArray &child : *children) {
            if (::unlinkat(current.get(), child.constData(), 0) == 0 || errno == ENOENT)
                continue;
            if (errno != EISDIR)
                return errno;
            UniqueFd below = openToEmpty(current.get(), child);
            if (!below.isValid()) {
                if (errno == ENOENT)
                    continue;
                return errno;
            }
            const std::optional<DirectoryIdentity> here = DirectoryIdentity::of(current.get());
            if (!here)
                return errno;
            parents.push_back(*here);
            names.append(child);
            current = std::move(below);
            descended = true;
            break;
        }
        if (descended)
            continue;
        // Empty: up to the parent it was entered from, and remove it there.
        UniqueFd parent(::openat(current.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!parent.isValid())
            return errno;
        if (DirectoryIdentity::of(parent.get()) != parents.back())
            return ESTALE;
        if (::unlinkat(parent.get(), names.last().constData(), AT_REMOVEDIR) != 0 && errno != ENOENT)
            return errno;
        parents.pop_back();
        names.removeLast();
        current = std::move(parent);
    }
    return 0;
}

} // namespace Sandflow::Internal
