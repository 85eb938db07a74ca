#include "layerapplier_p.h"

#include <archive.h>
#include <archive_entry.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;
using Reason = LayerUnpackError::Reason;

namespace {

// OCI's whiteout names (image-spec, layer.md).
const QByteArray whiteoutPrefix = ".wh.";
const QByteArray opaqueMarker = ".wh..wh..opq";
// Other `.wh..wh.` names are AUFS's own bookkeeping, which Docker skips too.
const QByteArray metadataPrefix = ".wh..wh.";

// Longer names cannot be used inside the sandbox, and they bound how deep a layer nests.
constexpr qsizetype maxNameLength = 4096;

QString quoted(const QByteArray &path)
{
    return u'"' + printable(path) + u'"';
}

EntryFailure refused(const QString &text)
{
    return {Reason::Refused, text, {}};
}

EntryFailure failed(const QString &what, const QByteArray &path, int error)
{
    return {Reason::Failed, u"could not %1 %2: %3"_s.arg(what, quoted(path), QString::fromLocal8Bit(std::strerror(error))), {}};
}

QByteArray joined(const QByteArray &directory, const QByteArray &name)
{
    return directory.isEmpty() ? name : directory + '/' + name;
}

// `subject` is whose path was walked: the entry's own, or its link target's.
EntryFailure walkFailure(const DirectoryWalk &walk, const QString &subject = u"its path"_s)
{
    switch (walk.error) {
    case ELOOP:
        return refused(u"%1 goes through the symbolic link %2"_s.arg(subject, quoted(walk.failedAt)));
    case ENOTDIR:
        return refused(u"%1 goes through %2, which is not a directory"_s.arg(subject, quoted(walk.failedAt)));
    case EXDEV:
        return refused(u"%1 leaves the root at %2"_s.arg(subject, quoted(walk.failedAt)));
    default:
        return failed(u"open"_s, walk.failedAt, walk.error);
    }
}

// A name as the archive holds it, in the locale's charset where it converts, else in UTF-8.
const char *entryName(const char *inLocale, const char *utf8)
{
    return inLocale ? inLocale : utf8;
}

const char *hardLinkTarget(archive_entry *entry)
{
    return entryName(archive_entry_hardlink(entry), archive_entry_hardlink_utf8(entry));
}

timespec entryMtime(archive_entry *entry)
{
    return {archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)};
}

} // namespace

const char *entryPathname(archive_entry *entry)
{
    return entryName(archive_entry_pathname(entry), archive_entry_pathname_utf8(entry));
}

LayerApplier::LayerApplier(int root)
    : m_root(root)
    , m_chown(::geteuid() == 0)
{
}

std::optional<EntryFailure> LayerApplier::apply(archive *archive, archive_entry *entry, qint64 &bytes)
{
    const char *rawName = entryPathname(entry);
    if (!rawName || !*rawName)
        return refused(u"it has no name"_s);
    const QByteArray name(rawName);
    if (name.size() > maxNameLength)
        return refused(u"its name is longer than %1 bytes"_s.arg(maxNameLength));
    const std::optional<QByteArrayList> components = splitEntryName(name);
    if (!components)
        return refused(u"it climbs out of the root with \"..\""_s);
    for (qsizetype i = 0; i + 1 < components->size(); ++i) {
        if (components->at(i).startsWith(whiteoutPrefix))
            return refused(u"its path goes through the whiteout %1"_s.arg(quoted(components->at(i))));
    }

    const mode_t type = archive_entry_filetype(entry);
    if (components->isEmpty()) {
        // The root itself: a layer may set its mode, owner and time, never replace it.
        if (type != AE_IFDIR || hardLinkTarget(entry))
            return refused(u"it would replace the root with something else than a directory"_s);
        return makeDirectory(entry, {});
    }

    const QByteArray &base = components->last();
    if (base == opaqueMarker)
        return applyOpaque(components->first(components->size() - 1));
    if (base.startsWith(metadataPrefix))
        return std::nullopt;
    if (base.startsWith(whiteoutPrefix)) {
        QByteArrayList hidden = *components;
        hidden.last() = base.mid(whiteoutPrefix.size());
        if (hidden.last().isEmpty() || hidden.last() == "." || hidden.last() == "..")
            return refused(u"a whiteout must name a file"_s);
        return applyWhiteout(hidden);
    }

    if (!hardLinkTarget(entry)) {
        switch (type) {
        case AE_IFCHR: return refused(u"it is a character device, and layers may hold no device nodes"_s);
        case AE_IFBLK: return refused(u"it is a block device, and layers may hold no device nodes"_s);
        case AE_IFSOCK: return refused(u"it is a socket"_s);
        case AE_IFREG: case AE_IFDIR: case AE_IFLNK: case AE_IFIFO: break;
        default: return refused(u"it has an unknown file type"_s);
        }
    }

    markWritten(*components);
    if (type == AE_IFDIR && !hardLinkTarget(entry))
        return makeDirectory(entry, *components);
    UniqueFd parent;
    if (auto failure = openParent(*components, parent))
        return failure;
    const QByteArray path = components->join('/');
    if (hardLinkTarget(entry))
        return makeHardLink(entry, parent.get(), base, path);
    switch (type) {
    case AE_IFLNK: return makeSymlink(entry, parent.get(), base, path);
    case AE_IFIFO: return makeFifo(entry, parent.get(), base, path);
    default: return writeFile(archive, entry, parent.get(), base, path, bytes);
    }
}

void LayerApplier::markWritten(const QByteArrayList &components)
{
    QByteArray path;
    for (const QByteArray &component : components) {
        path = joined(path, component);
        m_written.insert(path);
    }
}

std::optional<EntryFailure> LayerApplier::openParent(const QByteArrayList &components, UniqueFd &parent)
{
    QList<QByteArrayList> made;
    DirectoryWalk walk = openDirectoryBeneath(m_root, components.first(components.size() - 1), &made);
    // Parents the archive does not list get Docker's mode for them, after their files.
    for (const QByteArrayList &directory : made)
        m_directories.insert(directory.join('/'), DirectoryMetadata());
    if (!walk.fd.isValid())
        return walkFailure(walk);
    parent = std::move(walk.fd);
    return std::nullopt;
}

// An entry replaces whatever lower layers or earlier entries left at its place, but a
// directory entry merges into a directory that is there.
std::optional<EntryFailure> LayerApplier::clearPlace(int parent, const QByteArray &name, const QByteArray &path,
                                                     bool keepDirectory, bool *isDirectory)
{
    struct stat status;
    if (::fstatat(parent, name.constData(), &status, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? std::nullopt : std::optional(failed(u"look at"_s, path, errno));
    if (S_ISDIR(status.st_mode) && keepDirectory) {
        *isDirectory = true;
        return std::nullopt;
    }
    if (const int error = removeTree(parent, name))
        return failed(u"replace"_s, path, error);
    return std::nullopt;
}

std::optional<EntryFailure> LayerApplier::setMetadata(int fd, archive_entry *entry, const QByteArray &path)
{
    // chown first: it clears the setuid and setgid bits that chmod then sets.
    if (m_chown && ::fchown(fd, archive_entry_uid(entry), archive_entry_gid(entry)) != 0)
        return failed(u"change the owner of"_s, path, errno);
    if (::fchmod(fd, archive_entry_perm(entry) & 07777) != 0)
        return failed(u"change the mode of"_s, path, errno);
    const timespec mtime = entryMtime(entry);
    const timespec times[2] = {mtime, mtime};
    if (::futimens(fd, times) != 0)
        return failed(u"set the time of"_s, path, errno);
    return std::nullopt;
}

std::optional<EntryFailure> LayerApplier::writeFile(archive *archive, archive_entry *entry, int parent,
                                                    const QByteArray &name, const QByteArray &path, qint64 &bytes)
{
    if (auto failure = clearPlace(parent, name, path, false))
        return failure;
    // O_EXCL: the place was just cleared, so what is opened is the new file, never a link.
    const UniqueFd file(::openat(parent, name.constData(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!file.isValid())
        return failed(u"create"_s, path, errno);
    // Sparse entries come in blocks at offsets; all of them lie within the header's size.
    const la_int64_t size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
    la_int64_t end = 0;
    for (;;) {
        const void *block = nullptr;
        size_t length = 0;
        la_int64_t offset = 0;
        const int status = archive_read_data_block(archive, &block, &length, &offset);
        if (status == ARCHIVE_EOF)
            break;
        if (status < ARCHIVE_WARN)
            return EntryFailure{Reason::Unreadable, u"its data cannot be read: %1"_s.arg(QString::fromUtf8(archive_error_string(archive))), {}};
        if (offset < 0 || la_int64_t(length) > size || offset > size - la_int64_t(length))
            return refused(u"its data runs past the size its header gives"_s);
        for (size_t done = 0; done < length;) {
            const ssize_t written = ::pwrite(file.get(), static_cast<const char *>(block) + done, length - done, offset + la_int64_t(done));
            if (written < 0)
                return failed(u"write"_s, path, errno);
            done += size_t(written);
        }
        end = std::max(end, offset + la_int64_t(length));
        bytes += qint64(length);
    }
    if (end < size && ::ftruncate(file.get(), size) != 0)
        return failed(u"write"_s, path, errno);
    return setMetadata(file.get(), entry, path);
}

std::optional<EntryFailure> LayerApplier::makeDirectory(archive_entry *entry, const QByteArrayList &components)
{
    const QByteArray path = components.join('/');
    if (!components.isEmpty()) {
        UniqueFd parentFd;
        if (auto failure = openParent(components, parentFd))
            return failure;
        const QByteArray &name = components.last();
        bool exists = false;
        if (auto failure = clearPlace(parentFd.get(), name, path, true, &exists))
            return failure;
        if (!exists && ::mkdirat(parentFd.get(), name.constData(), 0700) != 0)
            return failed(u"make the directory"_s, path, errno);
    }
    DirectoryMetadata metadata;
    metadata.mode = archive_entry_perm(entry) & 07777;
    if (m_chown) {
        metadata.uid = archive_entry_uid(entry);
        metadata.gid = archive_entry_gid(entry);
    }
    metadata.mtime = entryMtime(entry);
    m_directories.insert(path, metadata);
    return std::nullopt;
}

std::optional<EntryFailure> LayerApplier::makeSymlink(archive_entry *entry, int parent, const QByteArray &name,
                                                      const QByteArray &path)
{
    const char *target = entryName(archive_entry_symlink(entry), archive_entry_symlink_utf8(entry));
    if (!target || !*target)
        return refused(u"it is a symbolic link to nothing"_s);
    if (auto failure = clearPlace(parent, name, path, false))
        return failure;
    // Made as written and never followed: a link to `/etc` means the sandbox's /etc.
    if (::symlinkat(target, parent, name.constData()) != 0)
        return failed(u"make the symbolic link"_s, path, errno);
    if (m_chown && ::fchownat(parent, name.constData(), archive_entry_uid(entry), archive_entry_gid(entry), AT_SYMLINK_NOFOLLOW) != 0)
        return failed(u"change the owner of"_s, path, errno);
    const timespec mtime = entryMtime(entry);
    const timespec times[2] = {mtime, mtime};
    if (::utimensat(parent, name.constData(), times, AT_SYMLINK_NOFOLLOW) != 0)
        return failed(u"set the time of"_s, path, errno);
    return std::nullopt;
}

std::optional<EntryFailure> LayerApplier::makeFifo(archive_entry *entry, int parent, const QByteArray &name,
                                                   const QByteArray &path)
{
    if (auto failure = clearPlace(parent, name, path, false))
        return failure;
    if (::mkfifoat(parent, name.constData(), 0600) != 0)
        return failed(u"make the FIFO"_s, path, errno);
    // Opening a FIFO's read end without O_NONBLOCK would wait for a writer.
    const UniqueFd fifo(::openat(parent, name.constData(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC));
    if (!fifo.isValid())
        return failed(u"open"_s, path, errno);
    return setMetadata(fifo.get(), entry, path);
}

std::optional<EntryFailure> LayerApplier::makeHardLink(archive_entry *entry, int parent, const QByteArray &name,
                                                       const QByteArray &path)
{
    const QByteArray targetName(hardLinkTarget(entry));
    const std::optional<QByteArrayList> target = splitEntryName(targetName);
    if (!target)
        return refused(u"its link target %1 climbs out of the root with \"..\""_s.arg(quoted(targetName)));
    if (target->isEmpty())
        return refused(u"it links to the root"_s);
    const DirectoryWalk targetParent = openDirectoryBeneath(m_root, target->first(target->size() - 1));
    if (!targetParent.fd.isValid()) {
        if (targetParent.error == ENOENT)
            return refused(u"its link target %1 is not in the root"_s.arg(quoted(targetName)));
        return walkFailure(targetParent, u"its link target's path"_s);
    }
    struct stat targetStatus;
    if (::fstatat(targetParent.fd.get(), target->last().constData(), &targetStatus, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
            return refused(u"its link target %1 is not in the root"_s.arg(quoted(targetName)));
        return failed(u"look at"_s, target->join('/'), errno);
    }
    if (S_ISDIR(targetStatus.st_mode))
        return refused(u"its link target %1 is a directory"_s.arg(quoted(targetName)));
    struct stat placeStatus;
    if (::fstatat(parent, name.constData(), &placeStatus, AT_SYMLINK_NOFOLLOW) == 0
        && placeStatus.st_dev == targetStatus.st_dev && placeStatus.st_ino == targetStatus.st_ino)
        return std::nullopt;
    if (auto failure = clearPlace(parent, name, path, false))
        return failure;
    // Without AT_SYMLINK_FOLLOW: a target that is a symbolic link is linked itself, not followed.
    if (::linkat(targetParent.fd.get(), target->last().constData(), parent, name.constData(), 0) != 0)
        return failed(u"make the hard link"_s, path, errno);
    return std::nullopt;
}

std::optional<EntryFailure> LayerApplier::applyWhiteout(const QByteArrayList &components)
{
    const DirectoryWalk parent = openDirectoryBeneath(m_root, components.first(components.size() - 1));
    if (!parent.fd.isValid())
        return parent.error == ENOENT || parent.error == ENOTDIR ? std::nullopt : std::optional(walkFailure(parent));
    return removeLower(parent.fd.get(), components.first(components.size() - 1).join('/'), components.last());
}

std::optional<EntryFailure> LayerApplier::applyOpaque(const QByteArrayList &directory)
{
    markWritten(directory);
    QList<QByteArrayList> made;
    const DirectoryWalk walk = openDirectoryBeneath(m_root, directory, &made);
    for (const QByteArrayList &component : made)
        m_directories.insert(component.join('/'), DirectoryMetadata());
    if (!walk.fd.isValid())
        return walkFailure(walk);
    const QByteArray path = directory.join('/');
    const std::optional<QByteArrayList> children = listDirectory(walk.fd.get());
    if (!children)
        return failed(u"list"_s, path, errno);
    for (const QByteArray &child : *children) {
        if (auto failure = removeLower(walk.fd.get(), path, child))
            return failure;
    }
    return std::nullopt;
}

// Whiteouts hide what lower layers have, never what this layer wrote, whatever the order of
// the entries: what this layer wrote is kept, and removed around it is what it did not write.
std::optional<EntryFailure> LayerApplier::removeLower(int directory, const QByteArray &parentPath, const QByteArray &name)
{
    const QByteArray path = joined(parentPath, name);
    if (!m_written.contains(path)) {
        if (const int error = removeTree(directory, name))
            return failed(u"remove"_s, path, error);
        return std::nullopt;
    }
    const UniqueFd subdirectory(::openat(directory, name.constData(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!subdirectory.isValid())
        return std::nullopt;   // this layer's own file or link: it stays
    const std::optional<QByteArrayList> children = listDirectory(subdirectory.get());
    if (!children)
        return failed(u"list"_s, path, errno);
    for (const QByteArray &child : *children) {
        if (auto failure = removeLower(subdirectory.get(), path, child))
            return failure;
    }
    return std::nullopt;
}

std::optional<EntryFailure> LayerApplier::finish()
{
    QByteArrayList paths = m_directories.keys();
    // The root, when the layer sets its mode, comes last of all.
    const auto depth = [](const QByteArray &path) { return path.isEmpty() ? -1 : path.count('/'); };
    std::sort(paths.begin(), paths.end(), [&](const QByteArray &a, const QByteArray &b) { return depth(a) > depth(b); });
    for (const QByteArray &path : paths) {
        const DirectoryMetadata &metadata = m_directories.value(path);
        // A later entry may have replaced the directory (or removed it): nothing to set then.
        DirectoryWalk walk = openDirectoryBeneath(m_root, path.isEmpty() ? QByteArrayList() : path.split('/'));
        if (!walk.fd.isValid())
            continue;
        const auto failure = [&](const QString &what) {
            EntryFailure failure = failed(what, path, errno);
            failure.entry = path.isEmpty() ? QByteArray("/") : path;
            return failure;
        };
        const UniqueFd directory(::openat(walk.fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!directory.isValid())
            return failure(u"open"_s);
        if (metadata.uid && ::fchown(directory.get(), *metadata.uid, *metadata.gid) != 0)
            return failure(u"change the owner of"_s);
        if (::fchmod(directory.get(), metadata.mode) != 0)
            return failure(u"change the mode of"_s);
        if (metadata.mtime) {
            const timespec times[2] = {*metadata.mtime, *metadata.mtime};
            if (::futimens(directory.get(), times) != 0)
                return failure(u"set the time of"_s);
        }
    }
    return std::nullopt;
}

} // namespace Sandflow::Internal
