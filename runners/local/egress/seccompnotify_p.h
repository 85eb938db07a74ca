// The runner's side of a seccomp listener (seccomp_unotify(2)): the calls a sandbox's filter
// holds, read one at a time, and the answers that let them go on or fail.
#pragma once

#include "uniquefd_p.h"

#include <QtGlobal>

#include <array>
#include <optional>
#include <sys/types.h>

namespace Sandflow::Internal {

/// A call held by the filter: its system call number, ABI and raw arguments. Arguments that
/// point into the caller's memory may change until the call is answered; a decision reads
/// them once and uses that copy only.
struct SeccompCall
{
    quint64 id = 0;
    pid_t pid = 0;
    int number = 0;
    quint32 architecture = 0;
    std::array<quint64, 6> arguments{};
};

class SeccompListener
{
public:
    explicit SeccompListener(UniqueFd listener);

    int descriptor() const { return m_listener.get(); }
    /// The next held call; std::nullopt when there is none or its caller went away.
    std::optional<SeccompCall> receive();
    /// Whether the call is still held: its caller is alive and the same process, so that what
    /// was read from its memory or descriptors was its own.
    bool isHeld(quint64 id) const;
    /// The call runs as if there were no filter.
    void letRun(quint64 id);
    /// The call fails with `error` (an errno value).
    void fail(quint64 id, int error);
    /// The call returns `value` without running.
    void succeed(quint64 id, qint64 value);

    /// Whether calls of `architecture` are this host's native ones (their arguments are laid
    /// out as the runner reads them).
    static bool isNative(quint32 architecture);

private:
    void respond(quint64 id, qint64 value, int error, quint32 flags);

    UniqueFd m_listener;
    size_t m_notificationSize = 0;   ///< of the kernel's struct seccomp_notif
};

/// `length` bytes of process `pid`'s memory at `address`; false when unreadable.
bool readProcessMemory(pid_t pid, quint64 address, void *buffer, size_t length);

/// Descriptor `fd` of process `pid`, duplicated into this process (close-on-exec): the same
/// open file, whatever the process does with its number afterwards. Invalid, errno set, on
/// failure.
UniqueFd duplicateDescriptorOf(pid_t pid, int fd);

} // namespace Sandflow::Internal
