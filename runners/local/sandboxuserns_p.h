// The user namespaces of local sandboxes, for a runner running as root. bubblewrap's own
// --unshare-user maps one id, so root in a sandbox could never switch to another user or
// hand a file to one. Mapping the ids 0-65535 to the same host ids instead would make root
// in a sandbox the host's root by id, for whatever host object it reaches: a file of the
// system tree only root may read, a volume, a service on an abstract socket that trusts
// uid 0. So the runner maps its sandboxes' ids to a range of their own, as rootless
// container runtimes map subordinate ids, in two namespaces:
//
// - the sandbox namespace, where every sandbox's processes run: its ids 0-65535 are the host
//   ids FirstHostId to FirstHostId + 65535, and no other host id exists there, so its root
//   has no power over the host's files or processes;
// - the setup namespace, its parent, where bubblewrap builds each sandbox as the sandbox's
//   root before it enters the sandbox namespace (`--userns2`). Its ids 0-65535 are the same
//   as the sandbox namespace's, and its ids 65536-131071 are the host's 0-65535, so that
//   bubblewrap still reaches what the runner names (the agent, a rootfs, under a home
//   directory only root may enter), while what it makes (the sandbox's /workspace and /tmp)
//   belongs to the sandbox's root.
//
// Volumes are mounted id-mapped (sandboxidmap_p.h), so that the sandbox's root owns what the
// host's root owns there, and nothing beyond them. Where the kernel refuses id-mapped mounts
// (a runner that itself runs in a user namespace, as in many CI containers), a range would
// leave every volume unwritable; there the runner falls back to one namespace that maps the
// ids to themselves, whose root is the runner's own, and says so once.
//
// Sharing the namespaces costs no isolation between sandboxes: their processes, mounts and
// networks are still apart, and root in a sandbox keeps only capabilities over its own
// files and users. Making them takes about a millisecond, once per runner.
#pragma once

#include "uniquefd_p.h"

#include <QString>

#include <sys/types.h>

namespace Sandflow::Internal {

class SandboxUserNamespaces
{
public:
    /// The host id of root in every sandbox, uid and gid, where the ids are a range: far
    /// above the ids of users and of the subordinate ranges `useradd` hands out from 100000.
    static constexpr uid_t FirstHostId = 1'000'000'000;
    /// How many ids a sandbox has.
    static constexpr unsigned MappedIds = 65536;

    /// Makes the namespaces. Not valid where that is not possible (not root, or user
    /// namespaces disabled), with `error` saying why; valid but not mapsRange() where only
    /// the ids mapped to themselves are, with `error` saying why not a range.
    static SandboxUserNamespaces create(QString *error);

    bool isValid() const { return m_enter.isValid(); }
    /// True: the sandboxes' ids are the range from FirstHostId. False: the host's own.
    bool mapsRange() const { return m_sandbox.isValid(); }
    /// What bubblewrap enters first (`--userns`; close-on-exec, see inheritAcrossExec): the
    /// setup namespace of a range, or the one namespace of ids mapped to themselves.
    int enterFd() const { return m_enter.get(); }
    /// What the sandbox runs in (`--userns2`) where the ids are a range; -1 otherwise. Also
    /// the id mapping of the volumes' mounts.
    int sandboxFd() const { return m_sandbox.get(); }

    /// Between fork and exec of bubblewrap (async-signal-safe) where the ids are a range:
    /// becomes the sandboxes' root on the host, which owns the setup namespace, so that
    /// bubblewrap may enter it and, started as that id, builds the sandbox as it. False,
    /// with errno set, on failure.
    static bool becomeSandboxRoot();

private:
    UniqueFd m_enter;
    UniqueFd m_sandbox;
};

} // namespace Sandflow::Internal
