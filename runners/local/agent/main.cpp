// sandflow-agent: the first process in every sandbox of the local runner. It speaks the
// protocol of agentprotocol.h on its stdin and stdout and runs commands for the runner.
// Deliberately plain C++ and statically linked, so it runs in any root filesystem.
// Run as `sandflow-agent fs OP ARGS...` it is instead the sandbox's file tool (fstool.h), and
// as `sandflow-agent relay PORT` a pipe to a service on the sandbox's loopback (relaytool.h).
#include "agent.h"
#include "fstool.h"
#include "relaytool.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace {

/// Protocol pipes move to here, out of the way of the low numbers commands inherit.
constexpr int FirstProtocolFd = 100;

/// Closes every descriptor from 3 up except `keep` (ascending): what the agent was started
/// with beyond its pipes (bubblewrap's own, a volume's, whatever a runner leaked) is a way
/// out of the sandbox for anyone who gets hold of it.
void closeAllBut(std::initializer_list<int> keep)
{
    unsigned first = STDERR_FILENO + 1;
    for (const int fd : keep) {
        if (unsigned(fd) > first)
            close_range(first, unsigned(fd) - 1, 0);
        first = unsigned(fd) + 1;
    }
    close_range(first, ~0u, 0);
}

} // namespace

int main(int argc, char **argv)
{
    // Commands run as the same user as the agent and its tools. Not dumpable, a process's
    // /proc entries (its descriptors above all: the runner's pipes) and ptrace are closed
    // to them, since root in the sandbox lacks CAP_SYS_PTRACE.
    prctl(PR_SET_DUMPABLE, 0);
    if (argc > 1 && std::string_view(argv[1]) == "fs")
        return Sandflow::Agent::Fs::run(std::vector<std::string>(argv + 2, argv + argc));
    if (argc > 1 && std::string_view(argv[1]) == "relay")
        return Sandflow::Agent::Relay::run(std::vector<std::string>(argv + 2, argv + argc));

    // Close-on-exec copies of the protocol pipes; 0, 1 and 2 then become /dev/null, so no
    // command can inherit the control channel or corrupt it by printing to the wrong fd.
    const int input = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, FirstProtocolFd);
    const int output = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, FirstProtocolFd);
    const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (input < 0 || output < 0 || null < 0)
        return 2;
    for (const int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
        if (dup2(null, fd) < 0)
            return 2;
    }
    close(null);
    closeAllBut({std::min(input, output), std::max(input, output)});

    // A full runner pipe must not block the loop: output waits in the agent's queue instead.
    const int flags = fcntl(output, F_GETFL);
    if (flags < 0 || fcntl(output, F_SETFL, flags | O_NONBLOCK) != 0)
        return 2;

    // Orphans of commands (`daemon &`) are reparented to the agent rather than escaping to
    // an init that may not reap them, and the agent still knows about them when killing.
    prctl(PR_SET_CHILD_SUBREAPER, 1);

    // A runner that went away shows as EPIPE from write(), not as a fatal signal.
    signal(SIGPIPE, SIG_IGN);
    // Child exits and requests to end arrive as readable data in the event loop.
    sigset_t handled;
    sigemptyset(&handled);
    for (const int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP})
        sigaddset(&handled, sig);
    sigprocmask(SIG_BLOCK, &handled, nullptr);
    const int signals = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signals < 0)
        return 2;

    return Sandflow::Agent::Agent(input, output, signals).run();
}
