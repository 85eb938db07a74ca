#include "sandboxidmap_p.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cerrno>

namespace Sandflow::Internal {

namespace {

bool setIdmap(int clone, int userNamespace)
{
    mount_attr attributes{};
    attributes.attr_set = MOUNT_ATTR_IDMAP;
    attributes.userns_fd = quint64(userNamespace);
    return mount_setattr(clone, "", AT_EMPTY_PATH, &attributes, sizeof attributes) == 0;
}

} // namespace

int idmappedMountsRefused(int userNamespace)
{
    int error = 0;
    const UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root.isValid())
        return errno;
    idmappedClone(root.get(), userNamespace, &error);
    return error;
}

UniqueFd idmappedClone(int source, int userNamespace, int *error)
{
    UniqueFd clone(open_tree(source, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
    if (!clone.isValid() || !setIdmap(clone.get(), userNamespace)) {
        *error = errno;
        return {};
    }
    return clone;
}

bool enterOwnMountNamespace()
{
    // Slave, not private: the host's later unmounts still reach this namespace, and nothing
    // mounted here reaches the host.
    return ::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) == 0;
}

bool attachIdmappedClones(const std::vector<IdmappedAttachment> &attachments)
{
    for (const IdmappedAttachment &attachment : attachments) {
        // The descriptors name the source in the runner's namespace; attaching needs it in
        // this one. Its path is walked again, through no link, and must be the same file: a
        // sandbox that renamed something in between fails to start, and gets nothing else.
        open_how how{};
        how.flags = O_PATH | O_CLOEXEC;
        how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        const int target = int(::syscall(SYS_openat2, AT_FDCWD, attachment.sourcePath.constData(), &how, sizeof how));
        if (target < 0)
            return false;
        struct stat expected;
        struct stat found;
        const bool same = ::fstat(attachment.source, &expected) == 0 && ::fstat(target, &found) == 0
                          && expected.st_dev == found.st_dev && expected.st_ino == found.st_ino;
        const bool attached = same
                              && move_mount(attachment.clone, "", target, "",
                                            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) == 0;
        const int error = same ? errno : ESTALE;
        ::close(target);
        if (!attached) {
            errno = error;
            return false;
        }
    }
    return true;
}

} // namespace Sandflow::Internal
