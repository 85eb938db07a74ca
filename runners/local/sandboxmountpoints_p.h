// Where bubblewrap mounts and makes things in a sandbox whose root is an image (or a
// rootfs): /proc, /dev, /tmp, /workspace, the agent, the usual directories, the working
// directory, the volumes. bubblewrap builds them before it switches root, resolving each
// path under the new root with the host's `/` still reachable, and it follows symbolic links
// on the way, dangling ones too, making what they point at. So an image whose `/tmp`, or any
// directory on the way to a mount point, is a link such as `/oldroot/etc` would have it make
// directories and files on the host. Such an image is refused before bubblewrap starts.
#pragma once

#include <QString>
#include <QStringList>

#include <optional>

namespace Sandflow::Internal {

/// Why the root at `root` (an unpacked image or rootfs) cannot take a mount point at one of
/// `paths` (absolute, inside the sandbox): a path that is not absolute and plain (`.` or `..`
/// in it), or a symbolic link, or something not a directory on the way. std::nullopt when
/// every path is safe: each of its components is missing (bubblewrap then makes it, fresh) or
/// a real directory, the last one a real directory or file.
std::optional<QString> unsafeMountPoint(const QString &root, const QStringList &paths);

} // namespace Sandflow::Internal
