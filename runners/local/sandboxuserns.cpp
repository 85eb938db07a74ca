#include "sandboxuserns_p.h"

#include "sandboxidmap_p.h"


#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

constexpr uid_t First = SandboxUserNamespaces::FirstHostId;
constexpr unsigned Count = SandboxUserNamespaces::MappedIds;

/// Both ends of a pipe, close-on-exec, closed with it.
struct Pipe
{
    UniqueFd read;
    UniqueFd write;
    bool open()
    {
        int ends[2];
        if (pipe2(ends, O_CLOEXEC) != 0)
            return false;
        read = UniqueFd(ends[0]);
        write = UniqueFd(ends[1]);
        return true;
    }
};

// Async-signal-safe helpers: the namespaces are made by forked children of a runner that may
// have other threads, and such children may make no other calls.

bool readFully(int fd, void *data, size_t size)
{
    ssize_t got;
    while ((got = ::read(fd, data, size)) < 0 && errno == EINTR) {
    }
    return got == ssize_t(size);
}

void writeFully(int fd, const void *data, size_t size)
{
    [[maybe_unused]] const ssize_t written = ::write(fd, data, size);
}

/// "/proc/PID/FILE" into `buffer` (of 64 bytes), without snprintf.
const char *procPath(char *buffer, pid_t pid, const char *file)
{
    char digits[16];
    int count = 0;
    do {
        digits[count++] = char('0' + pid % 10);
        pid /= 10;
    } while (pid > 0);
    char *out = buffer;
    for (const char *c = "/proc/"; *c; ++c)
        *out++ = *c;
    while (count > 0)
        *out++ = digits[--count];
    *out++ = '/';
    for (const char *c = file; *c; ++c)
        *out++ = *c;
    *out = '\0';
    return buffer;
}

bool writeFile(const char *path, const char *text)
{
    const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const size_t length = strlen(text);
    const bool written = ::write(fd, text, length) == ssize_t(length);
    ::close(fd);
    return written;
}

/// Writes `map` as both id maps of `pid`'s namespace: from a forked child, or the runner.
bool writeMaps(pid_t pid, const char *map)
{
    char path[64];
    return writeFile(procPath(path, pid, "uid_map"), map) && writeFile(procPath(path, pid, "gid_map"), map);
}

/// Waits for `release` to reach end of file: the runner has opened what it needs.
void awaitRelease(int release)
{
    char byte;
    while (readFully(release, &byte, 1)) {
    }
}

/// The sandbox namespace, made by a grandchild of the runner from inside the setup
/// namespace: only a process there may write the maps of a namespace below it. The
/// grandchild holds it until `release` ends. Returns its pid, or -1.
pid_t makeSandboxNamespace(int release)
{
    Pipe made;
    if (!made.open())
        return -1;
    const pid_t child = fork();
    if (child < 0)
        return -1;
    if (child == 0) {
        const char status = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
        writeFully(made.write.get(), &status, 1);
        awaitRelease(release);
        _exit(0);
    }
    char status = 'n';
    // The setup namespace's ids 0-65535 are the sandbox's: the same ids, one level down.
    static const char map[] = "0 0 65536\n";
    if (readFully(made.read.get(), &status, 1) && status == 'y' && writeMaps(child, map))
        return child;
    return -1;
}

/// The runner's child: makes the setup namespace, owned by the sandboxes' root, then the
/// sandbox namespace below it once the runner has mapped the first. Tells the runner on
/// `report`: 'y' or 'n' for the setup namespace, then 'y' with the grandchild's pid, or 'n'.
[[noreturn]] void makeNamespaces(int report, int release)
{
    if (setresgid(First, First, First) != 0 || setgroups(0, nullptr) != 0 || setresuid(First, First, First) != 0
        || unshare(CLONE_NEWUSER) != 0) {
        writeFully(report, "n", 1);
        _exit(0);
    }
    writeFully(report, "y", 1);
    char mapped;
    if (!readFully(release, &mapped, 1))
        _exit(0);
    const pid_t sandbox = makeSandboxNamespace(release);
    if (sandbox < 0) {
        writeFully(report, "n", 1);
    } else {
        writeFully(report, "y", 1);
        writeFully(report, &sandbox, sizeof sandbox);
    }
    awaitRelease(release);
    while (sandbox > 0 && waitpid(sandbox, nullptr, 0) < 0 && errno == EINTR) {
    }
    _exit(0);
}

UniqueFd openNamespace(pid_t pid)
{
    const QByteArray path = "/proc/" + QByteArray::number(pid) + "/ns/user";
    return UniqueFd(::open(path.constData(), O_RDONLY | O_CLOEXEC));
}

QString describeErrno(const QString &what)
{
    return u"%1: %2"_s.arg(what, QString::fromLocal8Bit(strerror(errno)));
}

/// The setup namespace (mapped by the runner) and the sandbox namespace, or an error.
bool makeRange(UniqueFd *setup, UniqueFd *sandbox, QString *error)
{
    Pipe report;
    Pipe release;
    if (!report.open() || !release.open()) {
        *error = describeErrno(u"pipe"_s);
        return false;
    }
    const pid_t child = fork();
    if (child < 0) {
        *error = describeErrno(u"fork"_s);
        return false;
    }
    if (child == 0) {
        // Its own copies of these ends would keep the ends of file from ever coming.
        report.read = UniqueFd();
        release.write = UniqueFd();
        makeNamespaces(report.write.get(), release.read.get());
    }
    report.write = UniqueFd();
    release.read = UniqueFd();
    // The sandboxes' ids first, then the host's own above them, for bubblewrap's reach.
    const QByteArray setupMap = "0 " + QByteArray::number(First) + ' ' + QByteArray::number(Count) + '\n'
                                + QByteArray::number(Count) + " 0 " + QByteArray::number(Count) + '\n';
    char status = 'n';
    pid_t grandchild = -1;
    bool made = false;
    if (!readFully(report.read.get(), &status, 1) || status != 'y') {
        *error = u"cannot make a user namespace owned by the sandboxes' root"_s;
    } else if (!writeMaps(child, setupMap.constData())) {
        *error = describeErrno(u"cannot write the setup namespace's id maps"_s);
    } else {
        writeFully(release.write.get(), "y", 1);
        if (!readFully(report.read.get(), &status, 1) || status != 'y'
            || !readFully(report.read.get(), &grandchild, sizeof grandchild)) {
            *error = u"cannot make the sandbox namespace below the setup namespace"_s;
        } else {
            *setup = openNamespace(child);
            *sandbox = openNamespace(grandchild);
            made = setup->isValid() && sandbox->isValid();
            if (!made)
                *error = describeErrno(u"cannot open the user namespaces"_s);
        }
    }
    release.write = UniqueFd();   // the children end on end of file
    while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    return made;
}

/// One namespace that maps the ids 0-65535 to themselves, or an error. A short-lived child
/// makes it and waits while the runner, still outside it and root there, maps it.
UniqueFd makeIdentity(QString *error)
{
    Pipe report;
    Pipe release;
    if (!report.open() || !release.open()) {
        *error = describeErrno(u"pipe"_s);
        return {};
    }
    const pid_t child = fork();
    if (child < 0) {
        *error = describeErrno(u"fork"_s);
        return {};
    }
    if (child == 0) {
        release.write = UniqueFd();
        const char status = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
        writeFully(report.write.get(), &status, 1);
        awaitRelease(release.read.get());
        _exit(0);
    }
    report.write = UniqueFd();
    release.read = UniqueFd();
    char status = 'n';
    UniqueFd opened;
    if (!readFully(report.read.get(), &status, 1) || status != 'y')
        *error = u"user namespaces are not available"_s;
    else if (!writeMaps(child, ("0 0 " + QByteArray::number(Count) + '\n').constData()))
        *error = describeErrno(u"cannot write the user namespace's id maps"_s);
    else if (opened = openNamespace(child); !opened.isValid())
        *error = describeErrno(u"cannot open the user namespace"_s);
    release.write = UniqueFd();
    while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    return opened;
}

} // namespace

SandboxUserNamespaces SandboxUserNamespaces::create(QString *error)
{
    SandboxUserNamespaces result;
    if (geteuid() != 0) {
        *error = u"only root can map more than its own user id"_s;
        return result;
    }
    UniqueFd setup;
    UniqueFd sandbox;
    if (makeRange(&setup, &sandbox, error)) {
        // A range is worth having only where volumes can follow it.
        const int refused = idmappedMountsRefused(sandbox.get());
        if (refused == 0) {
            result.m_enter = std::move(setup);
            result.m_sandbox = std::move(sandbox);
            return result;
        }
        *error = u"the kernel refuses id-mapped mounts here (%1), which volumes would need"_s.arg(
            QString::fromLocal8Bit(strerror(refused)));
    }
    QString identityError;
    result.m_enter = makeIdentity(&identityError);
    if (!result.isValid())
        *error = identityError;
    return result;
}

bool SandboxUserNamespaces::becomeSandboxRoot()
{
    return setresgid(First, First, First) == 0 && setgroups(0, nullptr) == 0 && setresuid(First, First, First) == 0;
}

} // namespace Sandflow::Internal
