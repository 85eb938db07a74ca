// A sandbox's own writable root, as a container has: whatever the sandbox writes outside its
// tmpfs and volumes lands in a directory of its own on the host (`upper`, or `root` when
// plain), which goes with the sandbox and which the runner can read, for snapshots to build on.
//
// - Over an image (or a `rootfs`), the root is a kernel overlay: the image's unpacked root,
//   read-only and shared by every sandbox of that image, below; the sandbox's layer
//   (`upper`) above. The child that becomes bubblewrap mounts it as root in its own mount
//   namespace, after the image's root has been attached id-mapped there, so that the
//   image's files keep their owners inside; bubblewrap binds the merged tree as `/`. Writes
//   go to the layer, copied up with their owners; the image is never modified.
// - Over the host's system tree, the root is a plain directory of the sandbox's own, bound
//   as `/`, with the system tree bound read-only into it as before: the usual directories
//   of a container (/var, /root, /home, ...) are writable, /usr and /etc are the host's.
// - Where the runner cannot mount an overlay (not root), an image's root is bound into the
//   plain directory entry by entry, read-only, as the host's tree is.
//
//   <layers>/<sandbox id>/upper    what the sandbox wrote over an image (overlay)
//   <layers>/<sandbox id>/work     the overlay's own scratch directory
//   <layers>/<sandbox id>/root     the mount point of the merged tree (overlay), or the
//                                  sandbox's root itself (plain)
#pragma once

#include <QByteArray>
#include <QString>

#include <optional>

#include <sys/types.h>

namespace Sandflow::Internal {

/// An overlay for the child to mount before bubblewrap starts, ready to pass to mount(2).
struct OverlayMount
{
    QByteArray target;
    QByteArray options;   ///< lowerdir, upperdir and workdir, escaped as overlayfs reads them
};

struct SandboxRootLayer
{
    QString directory;    ///< <layers>/<sandbox id>, what removeRootLayer() removes
    QString root;         ///< what bubblewrap binds as `/`
    std::optional<OverlayMount> overlay;

    /// Makes the layer of sandbox `sandboxId` under `layersDirectory`: an overlay over `lower`
    /// (an unpacked root, absolute) when `overlay` is true, else a plain directory. What the
    /// sandbox's root writes into must be its own: `owner` is its host id. std::nullopt with
    /// `error` set when the directories cannot be made.
    static std::optional<SandboxRootLayer> create(const QString &layersDirectory, const QString &sandboxId,
                                                  const QString &lower, bool overlay, uid_t owner, QString *error);
};

/// 0 where this process can mount an overlay in a mount namespace of its own, over a lower
/// layer id-mapped by `userNamespace` where that is not -1 (checked once in a short-lived
/// child, with directories under `layersDirectory`), else why not (errno).
int overlayMountsRefused(const QString &layersDirectory, int userNamespace);

/// Between fork and exec (async-signal-safe), in the child's own mount namespace: mounts
/// `overlay`. False with errno set on failure.
bool mountOverlay(const OverlayMount &overlay);

/// Removes a sandbox's layer directory and all it holds, following no link. Returns 0 or an
/// errno. Blocking: called off the event loop, or at a runner's end.
int removeRootLayer(const QString &directory);

} // namespace Sandflow::Internal
