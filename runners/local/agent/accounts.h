// The groups a user runs with, from the sandbox's /etc/passwd and /etc/group, read afresh
// on every call: commands may add users while the agent runs.
#pragma once

#include <sys/types.h>

#include <vector>

namespace Sandflow::Agent {

struct Groups {
    gid_t primary = 0;
    std::vector<gid_t> all;   ///< the primary group and every group listing the user as a member
};

/// The groups of user `uid`, as login would set them. A user missing from /etc/passwd gets
/// the group with its own number and nothing else, so it never keeps the agent's groups.
Groups groupsOf(uid_t uid);

} // namespace Sandflow::Agent
