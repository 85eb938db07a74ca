// Volumes mounted id-mapped: where the sandboxes' ids are a range of their own
// (sandboxuserns_p.h), a volume's files owned by host id N appear in the sandbox as owned by
// its id N, and what the sandbox's root writes there belongs to the host's root, as with a
// container runtime's id-mapped mounts. Nothing else of the host is mapped so.
//
// The runner clones each volume's source as a detached mount and gives the clone the
// sandboxes' id mapping. bubblewrap cannot bind a detached mount, so the child that becomes
// bubblewrap attaches every clone in a mount namespace of its own, over its source, which
// only that namespace sees; bubblewrap then binds the clone by descriptor as before.
#pragma once

#include "uniquefd_p.h"

#include <QByteArray>

#include <vector>

namespace Sandflow::Internal {

/// 0 where the kernel mounts the host's `/` id-mapped by `userNamespace`, else why not
/// (an errno value).
int idmappedMountsRefused(int userNamespace);

/// A detached clone of the mount at `source` (a descriptor of a directory or file), mapped by
/// `userNamespace`; invalid with `*error` set (an errno value) where the kernel refuses.
UniqueFd idmappedClone(int source, int userNamespace, int *error);

/// A clone to attach in the child: where its source is, and both descriptors.
struct IdmappedAttachment
{
    QByteArray sourcePath;   ///< the source's path on the host, as the kernel names it
    int source = -1;         ///< the source, open
    int clone = -1;          ///< its id-mapped clone, detached
};

/// Between fork and exec of bubblewrap, as root (async-signal-safe): moves the child into a
/// mount namespace of its own, whose mounts receive nothing from the host's and reach
/// nothing of it. False, with errno set, on failure.
bool enterOwnMountNamespace();

/// Then, in that namespace (async-signal-safe): attaches each clone over its source, after
/// checking that the source's path still names the same file. False, with errno set, when
/// any of that fails: then the sandbox must not start, as it would miss a volume.
bool attachIdmappedClones(const std::vector<IdmappedAttachment> &attachments);

} // namespace Sandflow::Internal
