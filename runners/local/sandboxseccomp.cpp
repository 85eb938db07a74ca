#include "sandboxseccomp_p.h"

#include <seccomp.h>

#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// Denies `name` outright. A call this kernel's headers do not know is skipped: it cannot
/// be made here anyway.
int deny(scmp_filter_ctx context, const char *name, int error = EPERM)
{
    const int call = seccomp_syscall_resolve_name(name);
    if (call == __NR_SCMP_ERROR)
        return 0;
    return seccomp_rule_add(context, SCMP_ACT_ERRNO(error), call, 0);
}

/// Denies `name` when its argument `argument` has the CLONE_NEWUSER bit.
int denyNewUserNamespace(scmp_filter_ctx context, const char *name, unsigned argument)
{
    const scmp_arg_cmp newUser{argument, SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER};
    return seccomp_rule_add(context, SCMP_ACT_ERRNO(EPERM), seccomp_syscall_resolve_name(name), 1, newUser);
}

} // namespace

void addCompatibleArchitectures(scmp_filter_ctx context)
{
    switch (seccomp_arch_native()) {
    case SCMP_ARCH_X86_64:
        seccomp_arch_add(context, SCMP_ARCH_X86);
        seccomp_arch_add(context, SCMP_ARCH_X32);
        break;
    case SCMP_ARCH_AARCH64:
        seccomp_arch_add(context, SCMP_ARCH_ARM);
        break;
    default:
        break;
    }
}

QByteArray exportSeccompProgram(scmp_filter_ctx filter, QString *error)
{
    // libseccomp writes the program to a descriptor; a memory file holds it for reading back.
    const UniqueFd buffer(::memfd_create("sandflow-seccomp", MFD_CLOEXEC));
    if (!buffer.isValid() || seccomp_export_bpf(filter, buffer.get()) != 0 || ::lseek(buffer.get(), 0, SEEK_SET) != 0) {
        *error = u"cannot export the seccomp filter: %1"_s.arg(QString::fromLocal8Bit(strerror(errno)));
        return {};
    }
    QByteArray program;
    char chunk[4096];
    ssize_t got;
    while ((got = ::read(buffer.get(), chunk, sizeof chunk)) > 0)
        program.append(chunk, got);
    if (got < 0 || program.isEmpty()) {
        *error = u"cannot read the seccomp filter back: %1"_s.arg(QString::fromLocal8Bit(strerror(errno)));
        return {};
    }
    return program;
}

QByteArray sandboxSeccompProgram(QString *error)
{
    const SeccompContext context(seccomp_init(SCMP_ACT_ALLOW));
    if (!context) {
        *error = u"libseccomp cannot make a filter"_s;
        return {};
    }
    scmp_filter_ctx filter = context.get();
    addCompatibleArchitectures(filter);
    int failed = 0;
    const auto add = [&failed](int result) {
        if (failed == 0)
            failed = result;
    };
    for (const char *name : {"keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
                             "io_uring_setup", "io_uring_enter", "io_uring_register"})
        add(deny(filter, name));
    add(deny(filter, "clone3", ENOSYS));
    // clone's flags are its first argument on x86 and arm alike; unshare has only them.
    add(denyNewUserNamespace(filter, "clone", 0));
    add(denyNewUserNamespace(filter, "unshare", 0));
    if (failed) {
        *error = u"libseccomp cannot add a rule: %1"_s.arg(QString::fromLocal8Bit(strerror(-failed)));
        return {};
    }
    return exportSeccompProgram(filter, error);
}

UniqueFd seccompProgramDescriptor(const QByteArray &program)
{
    UniqueFd fd(::memfd_create("sandflow-seccomp", MFD_CLOEXEC));
    if (!fd.isValid())
        return fd;
    if (::write(fd.get(), program.constData(), size_t(program.size())) != program.size()
        || ::lseek(fd.get(), 0, SEEK_SET) != 0)
        return {};
    return fd;
}

} // namespace Sandflow::Internal
