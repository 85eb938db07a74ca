// The bubblewrap command line of one local sandbox: what it can see, what it can write,
// and which namespaces isolate it. Kept apart from the runner so that it can be checked
// by running real sandboxes with nothing else around them.
#pragma once

#include <QString>
#include <QStringList>

namespace Sandflow::Internal {

struct SandboxLayout
{
    QString id;                 ///< becomes the sandbox's host name
    QString agentPath;          ///< the host's sandflow-agent binary
    bool isolateNetwork = true; ///< an empty network namespace (policy `defaultAction: deny`)
    /// bubblewrap starts inside a user namespace the runner made (sandboxuserns_p.h) rather
    /// than making its own, and the sandbox's root keeps the capabilities to act as root
    /// there (switch users, own files).
    bool inMappedUserNamespace = false;
    QStringList env;            ///< NAME=VALUE for the agent and, by default, its commands
};

/// The program to start (bwrap) and its arguments. The agent is the sandbox's first
/// process; its stdin and stdout are the control pipes.
///
/// The root is a fresh tmpfs holding read-only binds of the host's system tree (`/usr` and
/// the merged-/usr links, and only the parts of `/etc` programs need, so that secrets such
/// as /etc/shadow stay out), a private /proc and /dev, and writable /tmp and /workspace
/// (tmpfs); the root itself is read-only.
/// Every namespace is new (user, pid, ipc, uts, cgroup, and net unless the network is
/// allowed), all capabilities are dropped, and the sandbox dies with the runner.
QString bwrapProgram();
QStringList bwrapArguments(const SandboxLayout &layout);

/// Where the agent appears inside every sandbox.
inline constexpr char AgentPathInSandbox[] = "/.sandflow/agent";

} // namespace Sandflow::Internal
