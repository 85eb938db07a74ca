// Starting one command: fork, set up the child exactly as an exec request asks, exec.
#pragma once

#include "request.h"

#include <sys/types.h>

#include <string>

namespace Sandflow::Agent {

struct Child {
    pid_t pid = -1;      ///< also the id of the command's process group (and session, with a pty)
    int stdinFd = -1;    ///< write end of the command's stdin, or -1 when it reads /dev/null
    int stdoutFd = -1;   ///< read ends of the command's output; all three are non-blocking
    int stderrFd = -1;   ///< -1 with a pty, whose one stream is stdoutFd
    /// With a pty: its master, for the window size and the terminal's settings. stdinFd and
    /// stdoutFd are copies of it, so that each can be closed on its own.
    int terminalFd = -1;
};

/// Starts `request` in a new process group, or with a pty in a new session whose controlling
/// terminal it is. Returns an empty string once the program runs, or why it could not start
/// (the terminal, chdir, set*id or exec failing, with the errno text); in that case the child
/// has already been reaped and `child` is untouched. Every descriptor the agent keeps is
/// close-on-exec, so no other command inherits this one's.
std::string spawn(const ExecRequest &request, Child &child);

} // namespace Sandflow::Agent
