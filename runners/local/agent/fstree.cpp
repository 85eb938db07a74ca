#include "fstree.h"

#include "fserror.h"
#include "fsio.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace Sandflow::Agent::Fs {

namespace {

/// The sorted names in directory `dir`, which must not itself be a symbolic link.
std::vector<std::string> entryNames(const std::string &dir)
{
    UniqueFd fd = openOrFail(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    DIR *stream = fdopendir(fd.get());
    if (!stream)
        failErrno(errno, "cannot read directory", dir);
    fd.release();
    std::vector<std::string> names;
    errno = 0;
    while (const dirent *entry = readdir(stream)) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..")
            names.emplace_back(name);
    }
    const int error = errno;
    closedir(stream);
    if (error != 0)
        failErrno(error, "cannot read directory", dir);
    std::sort(names.begin(), names.end());
    return names;
}

/// Gives `path` the owner of `st` as far as this process may: an unprivileged move still
/// succeeds, with the files owned by the mover, as with mv(1).
void copyOwner(const std::string &path, const struct stat &st)
{
    if (lchown(path.c_str(), st.st_uid, st.st_gid) != 0 && errno != EPERM)
        failErrno(errno, "cannot change the owner of", path);
}

void copyTimes(const std::string &path, const struct stat &st)
{
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        failErrno(errno, "cannot set the times of", path);
}

void copyFile(const std::string &from, const std::string &to, const struct stat &st)
{
    const UniqueFd source = openOrFail(from, O_RDONLY | O_NOFOLLOW);
    {
        const UniqueFd target = openOrFail(to, O_WRONLY | O_CREAT | O_EXCL, 0600);
        copyStream(source.get(), from, target.get(), to);
        if (fsync(target.get()) != 0)
            failErrno(errno, "cannot sync", to);
    }
    copyOwner(to, st);
    // After the owner: chown clears set-user-ID bits, which the mode then restores.
    if (chmod(to.c_str(), st.st_mode & 07777) != 0)
        failErrno(errno, "cannot change the mode of", to);
}

void copySymlink(const std::string &from, const std::string &to, const struct stat &st)
{
    std::string target(std::size_t(st.st_size) + 1, '\0');
    const ssize_t length = readlink(from.c_str(), target.data(), target.size());
    if (length < 0)
        failErrno(errno, "cannot read link", from);
    // A link retargeted since lstat() could have grown; its new target would be cut short.
    if (std::size_t(length) == target.size())
        fail("IO_ERROR", "link " + from + " changed while being copied");
    target.resize(std::size_t(length));
    if (symlink(target.c_str(), to.c_str()) != 0)
        failErrno(errno, "cannot create link", to);
    copyOwner(to, st);
}

void copyDirectory(const std::string &from, const std::string &to, const struct stat &st)
{
    // Writable by the copier until filled, whatever the source's mode.
    if (mkdir(to.c_str(), 0700) != 0)
        failErrno(errno, "cannot create directory", to);
    for (const std::string &name : entryNames(from))
        copyTree(childPath(from, name), childPath(to, name));
    copyOwner(to, st);
    if (chmod(to.c_str(), st.st_mode & 07777) != 0)
        failErrno(errno, "cannot change the mode of", to);
}

} // namespace

struct stat lstatOrFail(const std::string &path)
{
    struct stat st;
    if (lstat(path.c_str(), &st) != 0)
        failErrno(errno, "cannot stat", path);
    return st;
}

std::string childPath(const std::string &parent, const std::string &name)
{
    if (!parent.empty() && parent.back() == '/')
        return parent + name;
    return parent + '/' + name;
}

std::string parentPath(const std::string &path)
{
    const auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string baseName(const std::string &path)
{
    return path.substr(path.rfind('/') + 1);
}

std::vector<std::string> makeDirectories(const std::string &path, mode_t mode)
{
    std::vector<std::string> created;
    std::size_t end = 0;
    do {
        end = path.find('/', end + 1);
        const std::string prefix = path.substr(0, end);
        // Repeated and trailing slashes add nothing to create.
        if (prefix.empty() || prefix.back() == '/')
            continue;
        struct stat st;
        if (stat(prefix.c_str(), &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                fail("NOT_A_DIRECTORY", prefix + " exists and is not a directory");
            continue;
        }
        if (errno != ENOENT)
            failErrno(errno, "cannot stat", prefix);
        if (mkdir(prefix.c_str(), mode) == 0)
            created.push_back(prefix);
        else if (errno != EEXIST) // EEXIST: someone else made it meanwhile, which is as good
            failErrno(errno, "cannot create directory", prefix);
    } while (end != std::string::npos);
    return created;
}

void walk(const std::string &dir, int depth,
          const std::function<void(const std::string &path, const struct stat &st)> &visit)
{
    for (const std::string &name : entryNames(dir)) {
        const std::string path = childPath(dir, name);
        struct stat st;
        // Gone since the directory was read: it is not there to report.
        if (lstat(path.c_str(), &st) != 0)
            continue;
        visit(path, st);
        if (!S_ISDIR(st.st_mode) || depth == 1)
            continue;
        try {
            walk(path, depth < 0 ? depth : depth - 1, visit);
        } catch (const Failure &) {
            // One unreadable subdirectory should not hide everything else from the caller.
        }
    }
}

void copyTree(const std::string &from, const std::string &to)
{
    const struct stat st = lstatOrFail(from);
    if (S_ISDIR(st.st_mode))
        copyDirectory(from, to, st);
    else if (S_ISLNK(st.st_mode))
        copySymlink(from, to, st);
    else if (S_ISREG(st.st_mode))
        copyFile(from, to, st);
    else
        fail("IO_ERROR", "cannot copy " + from + ": not a regular file, directory or symbolic link");
    copyTimes(to, st);
}

void removeTree(const std::string &dir)
{
    for (const std::string &name : entryNames(dir)) {
        const std::string path = childPath(dir, name);
        if (S_ISDIR(lstatOrFail(path).st_mode))
            removeTree(path);
        else if (unlink(path.c_str()) != 0)
            failErrno(errno, "cannot remove", path);
    }
    if (rmdir(dir.c_str()) != 0)
        failErrno(errno, "cannot remove directory", dir);
}

} // namespace Sandflow::Agent::Fs
