// The agent's descendants, found through /proc: where no cgroup freezer is available, a
// sandbox is paused by stopping every one of them. And the processes a command's signals reach.
#pragma once

#include <sys/types.h>

#include <vector>

namespace Sandflow::Agent {

/// Every live descendant of `root`, including processes that left their process group or
/// session, as long as they were reparented to `root` (the agent is a subreaper).
std::vector<pid_t> descendantsOf(pid_t root);

/// Sends `signal` to every descendant of `root`, again and again until a pass finds none it
/// has not signalled yet, so that children forked meanwhile are caught too. Returns how many
/// processes were signalled.
int signalDescendants(pid_t root, int signal);

/// What a command's signals reach: its process group, or, for a command on a terminal, its
/// whole session, since an interactive shell puts each of its jobs in a group of its own.
struct Processes {
    enum class Scope { Group, Session };

    pid_t leader = -1;   ///< the command's main process, whose pid names its group and session
    Scope scope = Scope::Group;

    /// Sends `signal` to every member, to those that join meanwhile too. Returns 0 once it
    /// reached one, else the errno (ESRCH: none is left).
    int signal(int signal) const;
    /// Whether any member is left that has not exited.
    bool alive() const;
};

} // namespace Sandflow::Agent
