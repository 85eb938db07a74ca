// The system calls a sandbox may not make, as a seccomp filter that bubblewrap installs
// (`--seccomp FD`) on the agent and so on every command. Capabilities already keep root in a
// sandbox from the calls that need privilege; this closes what they do not:
//
// - the kernel's keyrings (keyctl, add_key, request_key): they are not namespaced per
//   sandbox, so sandboxes of one runner, which share a user namespace, share root's user
//   keyring: what one stores there another reads;
// - new user namespaces (clone and unshare with CLONE_NEWUSER; clone3, whose flags a filter
//   cannot read, answers ENOSYS so that the C library falls back to clone): inside one a
//   command holds every capability again, over namespaces of its own, and reaches the parts
//   of the kernel that only privileged code could (filesystems to mount, netfilter), where
//   most container escapes of recent years began;
// - kernel interfaces that ordinary users reach where the host allows them, and that are a
//   large surface for a sandbox's code: bpf, perf_event_open, userfaultfd, io_uring.
//
// Denied calls fail with EPERM, as under Docker's default profile, whose choices these are.
// Calls of the other ABIs the host runs (32-bit x86 on x86-64) are filtered the same way.
#pragma once

#include "uniquefd_p.h"

#include <QByteArray>
#include <QString>

#include <seccomp.h>

#include <memory>

namespace Sandflow::Internal {

/// A libseccomp filter context, released when it goes.
struct SeccompContextDeleter
{
    void operator()(scmp_filter_ctx context) const { seccomp_release(context); }
};
using SeccompContext = std::unique_ptr<void, SeccompContextDeleter>;

/// Adds the other ABIs a process of this host can call the kernel with: a filter that left
/// them out would let a 32-bit program make the calls it filters.
void addCompatibleArchitectures(scmp_filter_ctx context);

/// `filter` as a BPF program (struct sock_filter after struct sock_filter); empty with
/// `error` set on failure.
QByteArray exportSeccompProgram(scmp_filter_ctx filter, QString *error);

/// The filter as a BPF program, made once per runner; empty with `error` set when libseccomp
/// cannot make it.
QByteArray sandboxSeccompProgram(QString *error);

/// A descriptor bubblewrap reads `program` from (close-on-exec; see inheritAcrossExec). Each
/// sandbox needs its own: bubblewrap reads it to its end. Invalid with errno set on failure.
UniqueFd seccompProgramDescriptor(const QByteArray &program);

} // namespace Sandflow::Internal
