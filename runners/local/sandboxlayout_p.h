// The bubblewrap command line of one local sandbox: what it can see, what it can write,
// and which namespaces isolate it. Kept apart from the runner so that it can be checked
// by running real sandboxes with nothing else around them.
#pragma once

#include "sandboxidmap_p.h"
#include "sandboxrootlayer_p.h"
#include "uniquefd_p.h"

#include <QString>
#include <QStringList>

#include <vector>

namespace Sandflow::Internal {

/// A host file or directory that appears inside the sandbox.
struct BindMount
{
    /// The host's file or directory, open (O_PATH, close-on-exec): bubblewrap mounts what the
    /// descriptor is, not whatever a path names by the time it mounts. bubblewrap must
    /// inherit it (inheritAcrossExec), and closes its copy once mounted.
    UniqueFd source;
    QString target;             ///< inside the sandbox, absolute
    bool readOnly = false;
    /// Where the sandboxes' ids are a range: a detached clone of `source` that maps the host's
    /// ids to theirs (sandboxidmap_p.h), attached before bubblewrap starts and bound in place
    /// of `source`. Invalid otherwise.
    UniqueFd idmapped;
};

struct SandboxLayout
{
    QString id;                 ///< becomes the sandbox's host name
    QString agentPath;          ///< the host's sandflow-agent binary
    /// Where the sandbox has a network policy: the network namespace made for it
    /// (egress/sandboxnetwork_p.h), which its bubblewrap enters before anything else, and the
    /// egress filter installed last (egress/egressseccomp_p.h), whose listener goes back to the
    /// runner over `egressChannel` (SCM_RIGHTS). -1 and empty: the host's network, unfiltered.
    int networkNamespaceFd = -1;
    QByteArray egressProgram;
    int egressChannel = -1;
    /// The resolv.conf bound over /etc/resolv.conf (bubblewrap reads it from this descriptor),
    /// or written into the writable root's upper layer where the root is an overlay (an
    /// image's /etc/resolv.conf may be a link, which a mount would follow). Invalid: none.
    UniqueFd resolvConf;
    /// The user namespaces the runner made (sandboxuserns_p.h), open in bubblewrap as these
    /// descriptors: bubblewrap enters the first (`--userns`) and, where the ids are a range,
    /// the sandbox runs in the second (`--userns2`), rather than in one bubblewrap makes; its
    /// root keeps the capabilities to act as root there (switch users, own files). -1:
    /// bubblewrap makes one, which maps one id.
    int enterNamespaceFd = -1;
    int sandboxNamespaceFd = -1;
    QStringList env;            ///< NAME=VALUE for the agent and, by default, its commands
    /// The size of /tmp and of /workspace, each (tmpfs: their files are memory); 0: the
    /// kernel's default of half the machine's memory.
    qint64 tmpfsSizeBytes = 0;
    /// An unpacked root filesystem (absolute: an image's or a `rootfs`) to use instead of the
    /// host's system tree; empty: the host's.
    QString rootfs;
    /// The sandbox's own writable root (sandboxrootlayer_p.h), made as it starts: an overlay
    /// over `rootfs`, or a plain directory that gets the system tree or `rootfs` bound into it
    /// read-only. Unset: the root is a tmpfs, read-only once built.
    std::optional<SandboxRootLayer> rootLayer;
    /// Where the sandboxes' ids are a range: `rootfs`, open, and a clone of it that maps the
    /// host's ids to theirs, attached over it before bubblewrap binds its entries by path, so
    /// that its files are root's in the sandbox as in a container. Invalid otherwise.
    UniqueFd rootfsSource;
    UniqueFd rootfsIdmapped;
    std::vector<BindMount> mounts;   ///< volumes, mounted in this order
    /// Where the agent, and so every command that names no directory, starts: an image's
    /// WorkingDir, made when missing; empty: /workspace.
    QString workingDirectory;
    /// The seccomp filter (sandboxseccomp_p.h) for bubblewrap to read and install; every
    /// sandbox of a runner gets one.
    UniqueFd seccompProgram;

    /// workingDirectory, or /workspace.
    QString effectiveWorkingDirectory() const;
    /// Every path inside the sandbox where bubblewrap mounts or makes something: over an
    /// image or a rootfs, none may go through a link (sandboxmountpoints_p.h).
    QStringList mountPoints() const;

    /// The descriptors bubblewrap must inherit (see inheritAcrossExec): the user namespaces
    /// and what the volumes bind. Taken before the fork, as the child may not allocate.
    std::vector<int> inheritedDescriptors() const;
    /// The id-mapped clones the child attaches before bubblewrap starts; taken before the fork.
    std::vector<IdmappedAttachment> idmappedAttachments() const;
};

/// The host path the kernel gives open descriptor `fd`.
QString pathOfDescriptor(int fd);

/// The program to start (bwrap) and its arguments. The agent is the sandbox's pid 1; its
/// stdin and stdout are the control pipes.
///
/// The root is the sandbox's writable layer: an overlay over `rootfs`, or a directory holding
/// read-only binds of the host's system tree (`/usr` and the merged-/usr links, and only the
/// parts of `/etc` programs need, so that secrets such as /etc/shadow stay out) or of the
/// top-level entries of `rootfs`; the usual directories of a container (/var, /root, /home,
/// /run, /opt, /srv, /mnt) exist; a private /proc (its kernel knobs read-only, what runc
/// masks hidden) and /dev, /tmp and /workspace (tmpfs of tmpfsSizeBytes), and the volumes
/// on top. Without a layer, the root is a tmpfs, read-only once built.
/// Every namespace is new (user, pid, ipc, uts, cgroup, and net unless the network is
/// allowed), all capabilities are dropped, and the sandbox dies with the runner.
QString bwrapProgram();
QStringList bwrapArguments(const SandboxLayout &layout);

/// Where the agent appears inside every sandbox.
inline constexpr char AgentPathInSandbox[] = "/.sandflow/agent";

} // namespace Sandflow::Internal
