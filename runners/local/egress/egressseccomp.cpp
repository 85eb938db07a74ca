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

QByteArray egressFilterProgram(QString *error)
{
    const SeccompContext context(seccomp_init(SCMP_ACT_ALLOW));
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

namespace {

/// One byte and room for one descriptor: the message the listener travels in.
struct DescriptorMessage
{
    char byte = 0;
    iovec data{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr header{};

    DescriptorMessage()
    {
        header.msg_iov = &data;
        header.msg_iovlen = 1;
        header.msg_control = control;
        header.msg_controllen = sizeof control;
    }
    DescriptorMessage(const DescriptorMessage &) = delete;
};

} // namespace

bool sendDescriptor(int channel, int fd)
{
    DescriptorMessage message;
    cmsghdr *header = CMSG_FIRSTHDR(&message.header);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
    return ::sendmsg(channel, &message.header, MSG_NOSIGNAL) == 1;
}

UniqueFd receiveDescriptor(int channel)
{
    DescriptorMessage message;
    if (::recvmsg(channel, &message.header, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1)
        return {};
    const cmsghdr *header = CMSG_FIRSTHDR(&message.header);
    if (!header || header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS
        || header->cmsg_len != CMSG_LEN(sizeof(int)))
        return {};
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
    return UniqueFd(fd);
}

} // namespace Sandflow::Internal
