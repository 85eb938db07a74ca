// Host paths opened by descriptor, one component at a time below a directory that is already
// open, so that what is checked is what is used: no symbolic link is followed and nothing
// leads above that directory, whatever other processes rename meanwhile (a sandbox holding a
// volume, or sharing a download's destination, can swap names there as fast as it likes).
#pragma once

#include "uniquefd_p.h"

#include <QString>

namespace Sandflow::Internal {

/// The end of a walk: a descriptor of what `path` names, or the step that failed and why.
struct OpenedPath
{
    UniqueFd fd;        ///< O_PATH and close-on-exec; invalid when a step failed
    int error = 0;      ///< the failed step's errno: ELOOP for a symbolic link in the way
    QString failedAt;   ///< the components up to the one that failed, relative to the start
};

/// Opens `path` below the open directory `directory`, one component at a time, each below
/// the one before with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
/// RESOLVE_NO_MAGICLINKS): a link or `..` anywhere fails the walk. A missing component is
/// made as a directory, with mkdirat in its parent's descriptor. Every component but the
/// last must be a directory; the last may be any file. Empty and `.` components are
/// skipped, so a leading `/` reads as below `directory` too, and an empty `path` opens
/// `directory` itself.
OpenedPath openBeneath(int directory, const QString &path);

/// One name `name` (no `/`) below `parent`, opened O_PATH and close-on-exec, following no
/// link of any kind and never leaving `parent`: a descriptor, or -1 with errno set.
int openComponent(int parent, const QByteArray &name, bool mustBeDirectory);

/// The host's `/`, where the operator's own paths (allowed host paths, the state
/// directory) are walked from.
UniqueFd openHostRoot();

} // namespace Sandflow::Internal
