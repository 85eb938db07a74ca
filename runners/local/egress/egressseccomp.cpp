#include "egressseccomp_p.h"

#include "sandboxseccomp_p.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

struct ContextDeleter
{
    void operator()(scmp_filter_ctx context) const { seccomp_release(context); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

} // namespace

QByteArray egressFilterProgram(QString *error)
{
    const Context context(seccomp_init(SCMP_ACT_ALLOW));
    if (!context) {
        *error = u"libseccomp cannot make a filter"_s;
        return {};
    }
    scmp_filter_ctx filter = context.get();
    addCompatibleArchitectures(filter);
    const int failed = seccomp_rule_add(filter, SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name("connect"), 0);
    if (failed) {
        *error = u"libseccomp cannot add a rule: %1"_s.arg(QString::fromLocal8Bit(strerror(-failed)));
        return {};
    }
    return exportSeccompProgram(filter, error);
}

int installEgressFilter(const QByteArray &program)
{
    sock_fprog filter{static_cast<unsigned short>(size_t(program.size()) / sizeof(sock_filter)),
                      reinterpret_cast<sock_filter *>(const_cast<char *>(program.constData()))};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return int(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &filter));
}

bool sendDescriptor(int channel, int fd)
{
    char byte = 0;
    iovec data{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
    return ::sendmsg(channel, &message, MSG_NOSIGNAL) == 1;
}

UniqueFd receiveDescriptor(int channel)
{
    char byte = 0;
    iovec data{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    if (::recvmsg(channel, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1)
        return {};
    const cmsghdr *header = CMSG_FIRSTHDR(&message);
    if (!header || header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS
        || header->cmsg_len != CMSG_LEN(sizeof(int)))
        return {};
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
    return UniqueFd(fd);
}

} // namespace Sandflow::Internal
