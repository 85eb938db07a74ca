#include "fstool.h"

#include "fileinfo.h"
#include "fserror.h"
#include "fsio.h"
#include "fstree.h"
#include "glob.h"
#include "json.h"
#include "number.h"
#include "userdb.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <exception>
#include <string_view>

namespace Sandflow::Agent::Fs {

namespace {

using Arguments = std::vector<std::string>;
using Entries = std::vector<std::pair<std::string, struct stat>>;

void printLine(std::string text)
{
    text += '\n';
    writeAll(STDOUT_FILENO, text, "standard output");
}

std::int64_t integerArgument(const std::string &text, std::string_view name, std::int64_t minimum)
{
    const auto value = parseNumber<std::int64_t>(text);
    if (!value || *value < minimum)
        fail("INVALID_ARGUMENT", std::string(name) + " must be an integer of at least " + std::to_string(minimum)
                                     + ", not \"" + text + '"');
    return *value;
}

/// An octal mode such as "644"; 0 asks to leave the mode alone.
mode_t modeArgument(const std::string &text)
{
    const auto value = parseNumber<unsigned>(text, 8);
    if (!value || *value > 07777)
        fail("INVALID_ARGUMENT", "mode must be octal digits up to 7777, not \"" + text + '"');
    return mode_t(*value);
}

/// The owner and group an operation should give; -1 leaves that one as it is.
struct Ownership {
    uid_t uid = uid_t(-1);
    gid_t gid = gid_t(-1);
};

Ownership ownershipArguments(const std::string &owner, const std::string &group)
{
    Ownership ownership;
    if (!owner.empty()) {
        const auto uid = findUser(owner);
        if (!uid)
            fail("INVALID_ARGUMENT", "unknown user \"" + owner + '"');
        ownership.uid = *uid;
    }
    if (!group.empty()) {
        const auto gid = findGroup(group);
        if (!gid)
            fail("INVALID_ARGUMENT", "unknown group \"" + group + '"');
        ownership.gid = *gid;
    }
    return ownership;
}

void applyAttributes(const std::string &path, mode_t mode, const Ownership &ownership)
{
    // The owner changes first: chown(2) clears set-user-ID and set-group-ID bits, which a
    // requested mode should keep.
    if ((ownership.uid != uid_t(-1) || ownership.gid != gid_t(-1))
        && chown(path.c_str(), ownership.uid, ownership.gid) != 0)
        failErrno(errno, "cannot change the owner of", path);
    if (mode != 0 && chmod(path.c_str(), mode) != 0)
        failErrno(errno, "cannot change the mode of", path);
}

/// `path` itself, not a link to one, must be a directory.
void requireDirectory(const std::string &path)
{
    if (!S_ISDIR(lstatOrFail(path).st_mode))
        fail("NOT_A_DIRECTORY", path + " is not a directory");
}

/// A file or directory that exists only while an operation runs; whatever is still at its
/// path is removed at the end. Cleaning up must not replace the failure being reported.
class Temporary {
public:
    explicit Temporary(std::string path) : path_(std::move(path)) {}
    Temporary(const Temporary &) = delete;
    Temporary &operator=(const Temporary &) = delete;
    ~Temporary()
    {
        struct stat st;
        try {
            if (lstat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
                removeTree(path_);
            else
                unlink(path_.c_str());
        } catch (const Failure &) {
        }
    }

    const std::string &path() const { return path_; }

private:
    std::string path_;
};

void showInfo(const Arguments &args)
{
    Entries entries;
    for (const std::string &path : args)
        entries.emplace_back(path, lstatOrFail(path));
    printLine(fileInfoArray(entries));
}

void readFile(const Arguments &args)
{
    const std::string &path = args[0];
    const std::int64_t offset = integerArgument(args[1], "OFFSET", 0);
    const std::int64_t length = integerArgument(args[2], "LENGTH", -1);
    const UniqueFd fd = openOrFail(path, O_RDONLY);
    struct stat st;
    if (fstat(fd.get(), &st) != 0)
        failErrno(errno, "cannot stat", path);
    if (S_ISDIR(st.st_mode))
        fail("IS_A_DIRECTORY", path + " is a directory");
    if (S_ISREG(st.st_mode) && offset > st.st_size)
        fail("RANGE_NOT_SATISFIABLE", "offset " + std::to_string(offset) + " is past the end of " + path + " ("
                                          + std::to_string(st.st_size) + " bytes)");
    if (offset > 0 && lseek(fd.get(), offset, SEEK_SET) < 0)
        failErrno(errno, "cannot seek in", path);
    copyStream(fd.get(), path, STDOUT_FILENO, "standard output", length);
}

void writeFile(const Arguments &args)
{
    const std::string &path = args[0];
    const mode_t mode = modeArgument(args[1]);
    const Ownership ownership = ownershipArguments(args[2], args[3]);
    makeDirectories(parentPath(path), 0777);
    {
        const UniqueFd fd = openOrFail(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        copyStream(STDIN_FILENO, "standard input", fd.get(), path);
        if (fsync(fd.get()) != 0)
            failErrno(errno, "cannot sync", path);
    }
    applyAttributes(path, mode, ownership);
    // The file written, even when `path` is a link to it.
    struct stat st;
    if (stat(path.c_str(), &st) != 0)
        failErrno(errno, "cannot stat", path);
    printLine(fileInfo(path, st));
}

void changeAttributes(const Arguments &args)
{
    const mode_t mode = modeArgument(args[1]);
    const Ownership ownership = ownershipArguments(args[2], args[3]);
    // With nothing to change, a missing path must still fail rather than pass unnoticed.
    struct stat st;
    if (stat(args[0].c_str(), &st) != 0)
        failErrno(errno, "cannot stat", args[0]);
    applyAttributes(args[0], mode, ownership);
}

void makeDirectory(const Arguments &args)
{
    const std::string &path = args[0];
    const mode_t requested = modeArgument(args[1]);
    const Ownership ownership = ownershipArguments(args[2], args[3]);
    struct stat st;
    if (stat(path.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            fail("ALREADY_EXISTS", path + " exists and is not a directory");
        return;
    }
    // Created private, and given their mode only once all of them exist: a mode without
    // owner write permission must not stop the next level from being created.
    for (const std::string &dir : makeDirectories(path, 0700))
        applyAttributes(dir, requested == 0 ? 0755 : requested, ownership);
}

void removeFile(const Arguments &args)
{
    const std::string &path = args[0];
    if (S_ISDIR(lstatOrFail(path).st_mode))
        fail("IS_A_DIRECTORY", path + " is a directory");
    if (unlink(path.c_str()) != 0)
        failErrno(errno, "cannot remove", path);
}

void removeDirectory(const Arguments &args)
{
    requireDirectory(args[0]);
    removeTree(args[0]);
}

void moveEntry(const Arguments &args)
{
    const std::string &from = args[0];
    const std::string &to = args[1];
    // Checked first so that ENOENT from rename() can only mean the destination's directory.
    const struct stat st = lstatOrFail(from);
    if (rename(from.c_str(), to.c_str()) == 0)
        return;
    if (errno != EXDEV)
        failErrno(errno, "cannot move " + from + " to", to);
    // Across file systems: copy next to the destination, then rename into place, so that an
    // existing destination is replaced exactly as rename() would and never half-written.
    std::string stagingPath = childPath(parentPath(to), ".sandflow-move-XXXXXX");
    if (!mkdtemp(stagingPath.data()))
        failErrno(errno, "cannot move " + from + " to", to);
    const Temporary staging(stagingPath);
    const std::string copy = childPath(staging.path(), "copy");
    copyTree(from, copy);
    if (rename(copy.c_str(), to.c_str()) != 0)
        failErrno(errno, "cannot move " + from + " to", to);
    if (S_ISDIR(st.st_mode))
        removeTree(from);
    else if (unlink(from.c_str()) != 0)
        failErrno(errno, "cannot remove", from);
}

void searchFiles(const Arguments &args)
{
    const std::string &dir = args[0];
    const std::string pattern = args[1].empty() ? "**" : args[1];
    requireDirectory(dir);
    Entries found;
    walk(dir, -1, [&](const std::string &path, const struct stat &st) {
        if (S_ISREG(st.st_mode) && globMatches(pattern, baseName(path)))
            found.emplace_back(path, st);
    });
    std::sort(found.begin(), found.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    printLine(fileInfoArray(found));
}

void replaceText(const Arguments &args)
{
    const std::string &old = args[1];
    if (old.empty())
        fail("INVALID_ARGUMENT", "the text to replace in " + args[0] + " is empty");
    // Through a link to the file it names, so the link stays a link.
    char *const resolved = realpath(args[0].c_str(), nullptr);
    if (!resolved)
        failErrno(errno, "cannot open", args[0]);
    const std::string path = resolved;
    std::free(resolved);

    const UniqueFd source = openOrFail(path, O_RDONLY);
    struct stat st;
    if (fstat(source.get(), &st) != 0)
        failErrno(errno, "cannot stat", path);
    if (S_ISDIR(st.st_mode))
        fail("IS_A_DIRECTORY", path + " is a directory");
    if (!S_ISREG(st.st_mode))
        fail("INVALID_ARGUMENT", path + " is not a regular file");

    // Written beside the file and renamed over it: readers see the old or the new contents,
    // never a mixture, and a failure leaves the file as it was.
    std::string temporaryPath = childPath(parentPath(path), '.' + baseName(path) + ".XXXXXX");
    const UniqueFd target(mkostemp(temporaryPath.data(), O_CLOEXEC));
    if (target.get() < 0)
        failErrno(errno, "cannot create a file beside", path);
    const Temporary temporary(temporaryPath);
    const std::int64_t count = copyReplacing(source.get(), path, target.get(), temporaryPath, old, args[2]);
    if (count > 0) {
        // Only a privileged caller can give the file away; anyone else keeps owning it.
        if (fchown(target.get(), st.st_uid, st.st_gid) != 0 && errno != EPERM)
            failErrno(errno, "cannot change the owner of", temporaryPath);
        if (fchmod(target.get(), st.st_mode & 07777) != 0)
            failErrno(errno, "cannot change the mode of", temporaryPath);
        if (fsync(target.get()) != 0)
            failErrno(errno, "cannot sync", temporaryPath);
        if (rename(temporaryPath.c_str(), path.c_str()) != 0)
            failErrno(errno, "cannot replace", path);
    }
    printLine(Json::Writer().addInteger("replacedCount", count).finish());
}

void listDirectory(const Arguments &args)
{
    const std::int64_t depth = integerArgument(args[1], "DEPTH", 0);
    requireDirectory(args[0]);
    Entries entries;
    if (depth > 0) {
        walk(args[0], int(std::min<std::int64_t>(depth, INT_MAX)),
             [&](const std::string &path, const struct stat &st) { entries.emplace_back(path, st); });
    }
    printLine(fileInfoArray(entries));
}

struct Operation {
    std::string_view name;
    std::string_view usage;
    std::size_t minArguments;
    std::size_t maxArguments;
    void (*run)(const Arguments &);
};

constexpr std::size_t Any = std::size_t(-1);

constexpr Operation Operations[] = {
    {"info", "PATH...", 1, Any, showInfo},
    {"read", "PATH OFFSET LENGTH", 3, 3, readFile},
    {"write", "PATH MODE OWNER GROUP", 4, 4, writeFile},
    {"chmod", "PATH MODE OWNER GROUP", 4, 4, changeAttributes},
    {"mkdir", "PATH MODE OWNER GROUP", 4, 4, makeDirectory},
    {"remove", "PATH", 1, 1, removeFile},
    {"rmdir", "PATH", 1, 1, removeDirectory},
    {"move", "SRC DST", 2, 2, moveEntry},
    {"search", "DIR PATTERN", 2, 2, searchFiles},
    {"replace", "PATH OLD NEW", 3, 3, replaceText},
    {"list", "DIR DEPTH", 2, 2, listDirectory},
};

[[noreturn]] void failUsage(std::string message)
{
    throw Failure{"INVALID_ARGUMENT", std::move(message), 2};
}

void dispatch(const Arguments &args)
{
    if (args.empty())
        failUsage("usage: fs OP ARGS...");
    const Arguments operands(args.begin() + 1, args.end());
    for (const Operation &operation : Operations) {
        if (operation.name != args[0])
            continue;
        if (operands.size() < operation.minArguments || operands.size() > operation.maxArguments)
            failUsage("usage: fs " + std::string(operation.name) + ' ' + std::string(operation.usage));
        operation.run(operands);
        return;
    }
    failUsage("unknown fs operation \"" + args[0] + '"');
}

void report(const Failure &failure)
{
    const std::string line =
        Json::Writer().addString("code", failure.code).addString("message", failure.message).finish() + '\n';
    // Nothing better can be done when stderr is gone; the exit status still tells.
    if (::write(STDERR_FILENO, line.data(), line.size()) < 0)
        return;
}

} // namespace

int run(const std::vector<std::string> &args)
{
    try {
        dispatch(args);
        return 0;
    } catch (const Failure &failure) {
        report(failure);
        return failure.status;
    } catch (const std::exception &error) {
        report(Failure{"IO_ERROR", error.what(), 1});
        return 1;
    }
}

} // namespace Sandflow::Agent::Fs
