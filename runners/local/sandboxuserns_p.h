// The user namespace of a local sandbox. bubblewrap's own --unshare-user maps one id, so
// root in the sandbox could never switch to another user or hand a file to one. A runner
// running as root instead makes the namespace itself, mapping the ids 0-65535 to the same
// ids outside, as a container runtime does; bubblewrap then works inside it and keeps a
// Docker-like set of capabilities for the sandbox's root, which only count inside.
#pragma once

namespace Sandflow::Internal {

/// Whether this process may map a range of ids (it has CAP_SETUID outside: it is root).
bool canMapUserRange();

/// Moves the calling process into a new user namespace with ids 0-65535 mapped to
/// themselves. Async-signal-safe: it runs in the child between fork and exec. A helper
/// process forked before the namespace exists writes the maps, since only a process
/// outside the namespace may map ranges. Returns false when that failed.
bool enterMappedUserNamespace();

/// How many ids the namespace maps.
inline constexpr unsigned MappedIds = 65536;

} // namespace Sandflow::Internal
