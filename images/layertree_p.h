// The file-system steps of unpacking a layer, all by descriptor below the root: no chdir, no
// path that starts above the root, no symbolic link followed.
#pragma once

#include "uniquefd_p.h"

#include <QByteArray>
#include <QByteArrayList>

#include <optional>

namespace Sandflow::Internal {

/// Splits an entry's name into its components. Empty and `.` components are dropped, so a
/// leading `/` reads as the root's. std::nullopt when a component is `..`.
std::optional<QByteArrayList> splitEntryName(const QByteArray &name);

/// The end of a walk below the root: a descriptor of the directory, or the errno of the step
/// that failed (ELOOP: a symbolic link in the way; ENOTDIR: a file in the way) and the
/// components up to it.
struct DirectoryWalk
{
    UniqueFd fd;
    int error = 0;
    QByteArray failedAt;
};

/// Opens the directory `components` names below `root` (an O_PATH descriptor, enough for the
/// *at calls). Each component is opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS).
/// With `made`, a missing directory is made (mode 0700, so that its files can be written
/// before its own mode is set) and its components are appended to `made`.
DirectoryWalk openDirectoryBeneath(int root, const QByteArrayList &components,
                                   QList<QByteArrayList> *made = nullptr);

/// `name` as text for a message, with control characters written as \xNN: a layer's names
/// must not be able to rewrite the terminal that shows the message.
QString printable(const QByteArray &name);

/// The names in the directory open as `directory`, without `.` and `..`; errno set on failure.
std::optional<QByteArrayList> listDirectory(int directory);

/// Removes `name` in `directory` and, when it is a directory, everything below it, however
/// deep, without following a link. Returns 0 or an errno; a missing `name` is no error, nor
/// what vanishes while it works (another removal of the same tree).
int removeTree(int directory, const QByteArray &name);

} // namespace Sandflow::Internal
