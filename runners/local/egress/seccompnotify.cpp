#include "seccompnotify_p.h"

#include <QByteArray>

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace Sandflow::Internal {

SeccompListener::SeccompListener(UniqueFd listener) : m_listener(std::move(listener))
{
    // The kernel's structure may be larger than the headers this was built with.
    seccomp_notif_sizes sizes{};
    const bool known = ::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0;
    m_notificationSize = std::max<size_t>(known ? sizes.seccomp_notif : 0, sizeof(seccomp_notif));
}

bool SeccompListener::isNative(quint32 architecture)
{
#if defined(__x86_64__)
    return architecture == AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
    return architecture == AUDIT_ARCH_AARCH64;
#else
    Q_UNUSED(architecture)
    return false;
#endif
}

std::optional<SeccompCall> SeccompListener::receive()
{
    std::vector<char> buffer(m_notificationSize, 0);
    auto *notification = reinterpret_cast<seccomp_notif *>(buffer.data());
    if (::ioctl(m_listener.get(), SECCOMP_IOCTL_NOTIF_RECV, notification) != 0)
        return std::nullopt;
    SeccompCall call;
    call.id = notification->id;
    call.pid = pid_t(notification->pid);
    call.number = notification->data.nr;
    call.architecture = notification->data.arch;
    for (size_t i = 0; i < call.arguments.size(); ++i)
        call.arguments[i] = notification->data.args[i];
    return call;
}

bool SeccompListener::isHeld(quint64 id) const
{
    return ::ioctl(m_listener.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

void SeccompListener::respond(quint64 id, qint64 value, int error, quint32 flags)
{
    seccomp_notif_resp response{};
    response.id = id;
    response.val = value;
    response.error = error;
    response.flags = flags;
    // ENOENT: the caller went away (killed, or interrupted by a signal); nothing waits then.
    ::ioctl(m_listener.get(), SECCOMP_IOCTL_NOTIF_SEND, &response);
}

void SeccompListener::letRun(quint64 id)
{
    respond(id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

void SeccompListener::fail(quint64 id, int error)
{
    respond(id, 0, -error, 0);
}

void SeccompListener::succeed(quint64 id, qint64 value)
{
    respond(id, value, 0, 0);
}

bool readProcessMemory(pid_t pid, quint64 address, void *buffer, size_t length)
{
    iovec local{buffer, length};
    iovec remote{reinterpret_cast<void *>(address), length};
    return ::process_vm_readv(pid, &local, 1, &remote, 1, 0) == ssize_t(length);
}

// The call's pid is its thread's id; a pidfd is of a whole process, its thread group.
static pid_t threadGroupOf(pid_t thread)
{
    const QByteArray path = "/proc/" + QByteArray::number(thread) + "/status";
    const UniqueFd status(::open(path.constData(), O_RDONLY | O_CLOEXEC));
    char text[4096];
    const ssize_t got = status.isValid() ? ::read(status.get(), text, sizeof text - 1) : -1;
    if (got <= 0)
        return -1;
    text[got] = '\0';
    const char *line = std::strstr(text, "\nTgid:");
    return line ? pid_t(std::strtol(line + 6, nullptr, 10)) : -1;
}

UniqueFd duplicateDescriptorOf(pid_t pid, int fd)
{
    const pid_t group = threadGroupOf(pid);
    if (group <= 0)
        return {};
    const UniqueFd process(int(::syscall(SYS_pidfd_open, group, 0)));
    if (!process.isValid())
        return {};
    return UniqueFd(int(::syscall(SYS_pidfd_getfd, process.get(), fd, 0)));
}

} // namespace Sandflow::Internal
