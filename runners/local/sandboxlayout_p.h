// The bubblewrap command line of one local sandbox: what it can see, what it can write,
// and which namespaces isolate it. Kept apart from the runner so that it can be checked
// by running real sandboxes with nothing else around them.
#pragma once

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
};

struct SandboxLayout
{
    QString id;                 ///< becomes the sandbox's host name
    QString agentPath;          ///< the host's sandflow-agent binary
    bool isolateNetwork = true; ///< an empty network namespace (policy `defaultAction: deny`)
    /// A user namespace the runner made (sandboxuserns_p.h), open in bubblewrap as this
    /// descriptor: the sandbox enters it rather than making its own, and its root keeps the
    /// capabilities to act as root there (switch users, own files). -1: bubblewrap makes one.
    int userNamespaceFd = -1;
    QStringList env;            ///< NAME=VALUE for the agent and, by default, its commands
    /// The size of /tmp and of /workspace, each (tmpfs: their files are memory); 0: the
    /// kernel's default of half the machine's memory.
    qint64 tmpfsSizeBytes = 0;
    /// An unpacked root filesystem (absolute) to use instead of the host's system tree;
    /// empty: the host's.
    QString rootfs;
    std::vector<BindMount> mounts;   ///< volumes, mounted in this order

    /// The descriptors bubblewrap must inherit (see inheritAcrossExec): the user namespace
    /// and the volumes' sources. Taken before the fork, as the child may not allocate.
    std::vector<int> inheritedDescriptors() const;
};

/// The program to start (bwrap) and its arguments. The agent is the sandbox's pid 1; its
/// stdin and stdout are the control pipes.
///
/// The root is a fresh tmpfs holding read-only binds of the host's system tree (`/usr` and
/// the merged-/usr links, and only the parts of `/etc` programs need, so that secrets such
/// as /etc/shadow stay out) or of the top-level entries of `rootfs`, a private /proc (its
/// kernel knobs read-only, what runc masks hidden) and /dev, writable /tmp and /workspace
/// (tmpfs of tmpfsSizeBytes), and the volumes on top; the root itself is read-only.
/// Every namespace is new (user, pid, ipc, uts, cgroup, and net unless the network is
/// allowed), all capabilities are dropped, and the sandbox dies with the runner.
QString bwrapProgram();
QStringList bwrapArguments(const SandboxLayout &layout);

/// Where the agent appears inside every sandbox.
inline constexpr char AgentPathInSandbox[] = "/.sandflow/agent";

} // namespace Sandflow::Internal
