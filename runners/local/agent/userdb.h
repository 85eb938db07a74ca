// User and group names from /etc/passwd and /etc/group, read directly: the agent is static,
// and glibc's getpwuid() in a static binary needs NSS modules the sandbox may not have.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace Sandflow::Agent::Fs {

/// The name of user `uid`, or the number itself when /etc/passwd has no entry for it.
std::string userName(uid_t uid);
/// The name of group `gid`, or the number itself when /etc/group has no entry for it.
std::string groupName(gid_t gid);

/// A user given by name or as a decimal number; nullopt when it is neither.
std::optional<uid_t> findUser(std::string_view nameOrId);
/// A group given by name or as a decimal number; nullopt when it is neither.
std::optional<gid_t> findGroup(std::string_view nameOrId);

} // namespace Sandflow::Agent::Fs
