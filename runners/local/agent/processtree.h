// The agent's descendants, found through /proc: where no cgroup freezer is available, a
// sandbox is paused by stopping every one of them.
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

} // namespace Sandflow::Agent
