// Starting one command: fork, set up the child exactly as an exec request asks, exec.
#pragma once

#include "request.h"

#include <sys/types.h>

#include <string>

namespace Sandflow::Agent {

struct Child {
    pid_t pid = -1;      ///< also the id of the command's process group
    int stdinFd = -1;    ///< write end of the command's stdin, or -1 when it reads /dev/null
    int stdoutFd = -1;   ///< read ends of the command's output; all three are non-blocking
    int stderrFd = -1;
};

/// Starts `request` in a new process group. Returns an empty string once the program runs,
/// or why it could not start (chdir, set*id or exec failing, with the errno text); in that
/// case the child has already been reaped and `child` is untouched.
std::string spawn(const ExecRequest &request, Child &child);

} // namespace Sandflow::Agent
