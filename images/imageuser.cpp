#include "imageuser_p.h"

#include "uniquefd_p.h"

#include <QByteArray>
#include <QFile>
#include <QList>

#include <cerrno>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

// passwd and group files of real images are a few kilobytes.
constexpr qint64 MaxDatabaseSize = 1 << 20;

// `path` (absolute inside the image) opened as the sandbox would resolve it: links and `..`
// stay below the root.
UniqueFd openInImage(const QString &root, const char *path, int flags)
{
    const UniqueFd rootFd(::open(QFile::encodeName(root).constData(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    open_how how{};
    how.flags = quint64(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return UniqueFd(int(::syscall(SYS_openat2, rootFd.get(), path, &how, sizeof how)));
}

// Empty when there is none, or it is not a regular file.
QByteArray readInImage(const QString &root, const char *path)
{
    const UniqueFd fd = openInImage(root, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
    struct stat info;
    if (!fd.isValid() || ::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode) || info.st_size > MaxDatabaseSize)
        return {};
    QFile file;
    if (!file.open(fd.get(), QIODevice::ReadOnly))
        return {};
    return file.read(MaxDatabaseSize);
}

// The entry of `name` in a passwd or group file: its fields.
std::optional<QList<QByteArray>> findEntry(const QByteArray &database, const QByteArray &name)
{
    for (const QByteArray &line : database.split('\n')) {
        const QList<QByteArray> fields = line.split(':');
        if (fields.size() >= 4 && fields.first() == name)
            return fields;
    }
    return std::nullopt;
}

std::optional<unsigned> number(const QString &text)
{
    bool ok = false;
    const uint value = text.toUInt(&ok);
    return ok ? std::optional<unsigned>(value) : std::nullopt;
}

} // namespace

std::optional<ImageUser> resolveImageUser(const QString &user, const QString &root, QString *error)
{
    const QString userPart = user.section(u':', 0, 0);
    const QString groupPart = user.contains(u':') ? user.section(u':', 1) : QString();
    if (userPart.isEmpty() || (user.contains(u':') && groupPart.isEmpty())) {
        *error = u"the image's user `%1` is not NAME, ID, NAME:GROUP or ID:GID"_s.arg(user);
        return std::nullopt;
    }
    ImageUser ids;
    if (const std::optional<unsigned> uid = number(userPart)) {
        ids.uid = *uid;
        // A bare id takes its passwd entry's group when the image has one.
        const QByteArray passwd = readInImage(root, "/etc/passwd");
        for (const QByteArray &line : passwd.split('\n')) {
            const QList<QByteArray> fields = line.split(':');
            if (fields.size() >= 4 && number(QString::fromUtf8(fields.at(2))) == *uid)
                ids.gid = number(QString::fromUtf8(fields.at(3))).value_or(0);
        }
    } else {
        const std::optional<QList<QByteArray>> entry = findEntry(readInImage(root, "/etc/passwd"), userPart.toUtf8());
        const std::optional<unsigned> userId = entry ? number(QString::fromUtf8(entry->at(2))) : std::nullopt;
        const std::optional<unsigned> groupId = entry ? number(QString::fromUtf8(entry->at(3))) : std::nullopt;
        if (!userId || !groupId) {
            *error = u"the image's user `%1` is not in its /etc/passwd"_s.arg(userPart);
            return std::nullopt;
        }
        ids = {*userId, *groupId};
    }
    if (groupPart.isEmpty())
        return ids;
    if (const std::optional<unsigned> gid = number(groupPart)) {
        ids.gid = *gid;
        return ids;
    }
    const std::optional<QList<QByteArray>> group = findEntry(readInImage(root, "/etc/group"), groupPart.toUtf8());
    const std::optional<unsigned> gid = group ? number(QString::fromUtf8(group->at(2))) : std::nullopt;
    if (!gid) {
        *error = u"the image's group `%1` is not in its /etc/group"_s.arg(groupPart);
        return std::nullopt;
    }
    ids.gid = *gid;
    return ids;
}

QString imageBashPath(const QString &root)
{
    for (const char *bash : {"/bin/bash", "/usr/bin/bash"}) {
        const UniqueFd fd = openInImage(root, bash, O_PATH);
        struct stat info;
        if (fd.isValid() && ::fstat(fd.get(), &info) == 0 && S_ISREG(info.st_mode) && (info.st_mode & 0111))
            return QString::fromLatin1(bash);
    }
    return {};
}

} // namespace Sandflow::Internal
