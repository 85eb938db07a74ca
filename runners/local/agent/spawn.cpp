#include "spawn.h"

#include "accounts.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

extern char **environ;

namespace Sandflow::Agent {

namespace {

/// What execvp would search when the command's environment has no PATH.
constexpr const char *DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The step at which the child gave up, sent to the parent with its errno.
enum class Step : int { Terminal, Setgroups, Setgid, Setuid, Chdir, Exec };

struct Failure {
    Step step;
    int error;
};

/// A pipe whose ends are closed unless taken.
struct Pipe {
    int read = -1;
    int write = -1;

    bool open()
    {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0)
            return false;
        read = fds[0];
        write = fds[1];
        return true;
    }

    static void close(int &fd)
    {
        if (fd >= 0)
            ::close(fd);
        fd = -1;
    }

    static int take(int &fd)
    {
        const int taken = fd;
        fd = -1;
        return taken;
    }

    ~Pipe()
    {
        close(read);
        close(write);
    }
};

/// A new pseudo-terminal from the sandbox's own devpts instance, closed unless taken.
struct Terminal {
    int master = -1;
    int slave = -1;

    /// False with errno set when no terminal can be had.
    bool open(const WindowSize &size)
    {
        master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || unlockpt(master) != 0)
            return false;
        // The slave from the master itself, not by a path in /dev/pts that could name another.
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        const winsize window{size.rows, size.columns, 0, 0};
        return slave >= 0 && ioctl(master, TIOCSWINSZ, &window) == 0;
    }

    ~Terminal()
    {
        Pipe::close(master);
        Pipe::close(slave);
    }
};

/// The paths to try for `program`, in order: itself when it has a slash, else each PATH entry
/// (an empty entry meaning the working directory, as execvp treats it).
std::vector<std::string> candidates(const std::string &program, const ExecRequest &request)
{
    if (program.find('/') != std::string::npos)
        return {program};
    const char *path = nullptr;
    if (request.env) {
        for (const std::string &entry : *request.env) {
            if (entry.starts_with("PATH="))
                path = entry.c_str() + 5;
        }
    } else {
        path = std::getenv("PATH");
    }
    const std::string_view list = path ? path : DefaultPath;
    std::vector<std::string> result;
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = std::min(list.find(':', start), list.size());
        const std::string_view dir = list.substr(start, end - start);
        result.push_back((dir.empty() ? std::string(".") : std::string(dir)) + '/' + program);
        if (end == list.size())
            return result;
        start = end + 1;
    }
}

/// execve() wants mutable pointers but never writes through them.
std::vector<char *> pointers(const std::vector<std::string> &strings)
{
    std::vector<char *> result;
    for (const std::string &s : strings)
        result.push_back(const_cast<char *>(s.c_str()));
    result.push_back(nullptr);
    return result;
}

[[noreturn]] void fail(int report, Step step)
{
    const Failure failure{step, errno};
    // Eight bytes into an empty pipe cannot be short; if the parent is gone nobody cares.
    [[maybe_unused]] const ssize_t written = write(report, &failure, sizeof failure);
    _exit(127);
}

/// When a sandbox runs out of memory, its kernel OOM killer must take a command, never the
/// agent or bubblewrap, whose end is the sandbox's (and every command's status with it).
/// Lowering the agent's score needs a privilege the runner may lack; raising a command's
/// needs none. On the host too, a sandbox's commands are the first to go. A command may
/// lower its own score again, which can cost only its own sandbox.
void becomeFirstOomCandidate()
{
    const int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;   // no /proc: the agent's own tests
    [[maybe_unused]] const ssize_t written = write(fd, "1000", 4);
    close(fd);
}

/// The child between fork and exec. Everything it needs was prepared before the fork.
[[noreturn]] void runChild(const ExecRequest &request, const Groups &groups, const std::vector<std::string> &paths,
                           char *const argv[], char *const envp[], int stdinFd, int stdoutFd, int stderrFd, int report)
{
    if (request.pty) {
        // A session of its own, whose controlling terminal the pty is: the shell's job
        // control, Ctrl-C and SIGWINCH work as on any terminal.
        if (setsid() < 0 || ioctl(stdinFd, TIOCSCTTY, 0) != 0)
            fail(report, Step::Terminal);
        // The user's own terminal, as login gives it; where the agent may not hand it over,
        // the command still has it open, which is all it needs.
        if (request.uid) {
            [[maybe_unused]] const int owned = fchown(stdinFd, *request.uid, groups.primary);
        }
    } else {
        setpgid(0, 0);
    }
    becomeFirstOomCandidate();
    // The agent blocks and ignores signals for its own loop; commands start with defaults.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig)
        signal(sig, SIG_DFL);

    // The agent's 0/1/2 are /dev/null, so without a stdin pipe the command reads /dev/null.
    if (stdinFd >= 0)
        dup2(stdinFd, STDIN_FILENO);
    dup2(stdoutFd, STDOUT_FILENO);
    dup2(stderrFd, STDERR_FILENO);

    if (request.uid) {
        // Only change supplementary groups where the agent has some: in a user namespace
        // made by bubblewrap setgroups() is denied, and with none to drop it is not needed.
        if (getgroups(0, nullptr) > 0 && setgroups(groups.all.size(), groups.all.data()) != 0)
            fail(report, Step::Setgroups);
        if (setgid(groups.primary) != 0)
            fail(report, Step::Setgid);
    }
    if (request.uid && setuid(*request.uid) != 0)
        fail(report, Step::Setuid);
    // After setuid, so the command cannot start in a directory its user may not enter.
    if (request.cwd && chdir(request.cwd->c_str()) != 0)
        fail(report, Step::Chdir);

    // Like execvp: keep searching past missing entries, report EACCES if any entry had it.
    int error = ENOENT;
    for (const std::string &path : paths) {
        execve(path.c_str(), argv, envp);
        if (errno != ENOENT && errno != ENOTDIR && errno != EACCES) {
            error = errno;
            break;
        }
        if (error != EACCES)
            error = errno;
    }
    errno = error;
    fail(report, Step::Exec);
}

std::string describe(const Failure &failure, const ExecRequest &request, const Groups &groups)
{
    std::string what;
    switch (failure.step) {
    case Step::Terminal: what = "controlling terminal"; break;
    case Step::Setgroups: what = "setgroups"; break;
    case Step::Setgid: what = "setgid(" + std::to_string(groups.primary) + ")"; break;
    case Step::Setuid: what = "setuid(" + std::to_string(*request.uid) + ")"; break;
    case Step::Chdir: what = "chdir(" + *request.cwd + ")"; break;
    case Step::Exec: what = "exec(" + request.argv.front() + ")"; break;
    }
    return what + ": " + std::strerror(failure.error);
}

bool setNonBlocking(int fd)
{
    const int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

std::string systemError(const char *what)
{
    return std::string(what) + ": " + std::strerror(errno);
}

} // namespace

std::string spawn(const ExecRequest &request, Child &child)
{
    const std::vector<std::string> paths = candidates(request.argv.front(), request);
    // Looked up before the fork: the child may only make async-signal-safe calls. An
    // explicit gid is the command's only group, as with `setpriv --regid --clear-groups`.
    Groups groups;
    if (request.uid) {
        groups = request.gid ? Groups{*request.gid, {*request.gid}} : groupsOf(*request.uid);
    }
    const std::vector<char *> argv = pointers(request.argv);
    std::vector<char *> env;
    if (request.env)
        env = pointers(*request.env);

    Pipe in, out, err, report;
    Terminal terminal;
    if ((request.stdinPipe && !in.open()) || !report.open())
        return systemError("pipe");
    if (request.pty) {
        if (!terminal.open(*request.pty))
            return systemError("pty");
        // The agent's ends of stdin and stdout are the master, so that each can be closed
        // on its own; the child's three streams are the slave.
        in.write = fcntl(terminal.master, F_DUPFD_CLOEXEC, 0);
        out.read = fcntl(terminal.master, F_DUPFD_CLOEXEC, 0);
        if (in.write < 0 || out.read < 0)
            return systemError("fcntl");
    } else if (request.output) {
        // Both streams into one file, as execd keeps a background command's combined log.
        out.write = open(request.output->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (out.write < 0)
            return systemError(("open(" + *request.output + ")").c_str());
        err.write = fcntl(out.write, F_DUPFD_CLOEXEC, 0);
        if (err.write < 0)
            return systemError("fcntl");
    } else if (!out.open() || !err.open()) {
        return systemError("pipe");
    }
    // Only the agent's ends: the command gets ordinary blocking pipes.
    if ((in.write >= 0 && !setNonBlocking(in.write)) || (out.read >= 0 && !setNonBlocking(out.read))
        || (err.read >= 0 && !setNonBlocking(err.read)))
        return systemError("fcntl");

    const pid_t pid = fork();
    if (pid < 0)
        return systemError("fork");
    if (pid == 0)
        runChild(request, groups, paths, argv.data(), request.env ? env.data() : environ,
                 request.pty ? terminal.slave : in.read, request.pty ? terminal.slave : out.write,
                 request.pty ? terminal.slave : err.write, report.write);

    // Also here, so the group exists before the reply promises it, whichever process runs
    // first. Not with a pty: the child must not lead a group yet when it calls setsid(), and
    // the report below waits for it anyway.
    if (!request.pty)
        setpgid(pid, pid);
    Pipe::close(in.read);
    Pipe::close(out.write);
    Pipe::close(err.write);
    Pipe::close(report.write);
    Pipe::close(terminal.slave);

    // The report pipe is close-on-exec: end of file means exec succeeded.
    Failure failure{};
    ssize_t n;
    do {
        n = read(report.read, &failure, sizeof failure);
    } while (n < 0 && errno == EINTR);
    if (n == sizeof failure) {
        waitpid(pid, nullptr, 0);
        return describe(failure, request, groups);
    }

    child.pid = pid;
    child.stdinFd = Pipe::take(in.write);
    child.stdoutFd = Pipe::take(out.read);
    child.stderrFd = Pipe::take(err.read);
    child.terminalFd = Pipe::take(terminal.master);
    return {};
}

} // namespace Sandflow::Agent
