// The egress filter's seccomp half. A sandbox with a network policy runs in a network
// namespace of its own that holds nothing but loopback (sandboxnetwork_p.h): no socket made
// inside it reaches anything outside, whatever a program does with it. The one way out is the
// runner's proxy, in that namespace too: a sandbox's connect() waits for the runner
// (egressfilter_p.h), which decides from its own copy of the address and, where the policy
// allows, connects to the destination from the host and the sandbox's socket to its proxy.
// The sandbox never holds a socket of the host's network, so nothing it does afterwards
// (another connect, an address given to sendto or sendmsg, a descriptor swapped under a call)
// can reach further than its own namespace.
//
// Calls of the 32-bit ABIs wait for the runner too; it lets them run unchanged, inside the
// namespace. A sandbox without a policy has no filter.
#pragma once

#include "uniquefd_p.h"

#include <QByteArray>
#include <QString>

namespace Sandflow::Internal {

/// The filter as a BPF program (struct sock_filter after struct sock_filter), made once per
/// runner; empty with `error` set when libseccomp cannot make it.
QByteArray egressFilterProgram(QString *error);

/// In the child between fork and exec (async-signal-safe): installs `program` on this
/// process, and so on everything it starts, with the runner as listener. Returns the
/// listener's descriptor (close-on-exec), or -1 with errno set.
int installEgressFilter(const QByteArray &program);

/// In the child (async-signal-safe): sends descriptor `fd` over the Unix socket `channel`.
bool sendDescriptor(int channel, int fd);

/// The descriptor the child sent over `channel` (close-on-exec), if it has arrived; invalid
/// otherwise, errno EAGAIN while it has not.
UniqueFd receiveDescriptor(int channel);

} // namespace Sandflow::Internal
