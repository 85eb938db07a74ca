// Unpacking an image's layers onto a root directory, following the OCI image-spec's rules for
// layer changesets: whiteouts, opaque directories, hard links, symbolic links, modes, times,
// and ownership when run as root. Every byte of a layer is treated as hostile: nothing it holds
// can make the unpacker write outside the root (see docs/local-runner.md, "Image layers").
//
// This is the synchronous core; UnpackLayersJob runs it off the event loop.
#pragma once

#include <QList>
#include <QString>

#include <atomic>
#include <optional>

namespace Sandflow {

/// One layer blob of an image: a tar archive, gzip- or zstd-compressed or not. The format is
/// told by the blob's first bytes, whatever its media type says.
struct ImageLayer
{
    QString path;   ///< the blob file
    QString name;   ///< how messages name the layer, e.g. its digest; empty: its path

    QString displayName() const { return name.isEmpty() ? path : name; }
};

/// Why a layer could not be applied. What the layer had applied before stays in the root.
struct LayerUnpackError
{
    enum class Reason {
        Refused,      ///< an entry breaks a rule (climbs out, a device node, a link escaping)
        Unreadable,   ///< the blob is not a tar archive, or is corrupt or truncated
        Failed,       ///< the file system refused (no space, permissions)
        Cancelled,    ///< the caller's cancel flag was raised
    };

    Reason reason = Reason::Failed;
    QString layer;     ///< the layer's displayName()
    QString entry;     ///< the entry's name as the archive writes it; empty for the whole blob
    QString message;   ///< the whole sentence, e.g. `layer L: entry "../x": refused: ...`
};

/// What was applied.
struct LayerUnpackStats
{
    qint64 layers = 0;    ///< layers applied completely
    qint64 entries = 0;   ///< archive entries applied, whiteouts included
    qint64 bytes = 0;     ///< file content written
};

/// Applies one layer onto the directory open as `rootFd` (a descriptor the caller keeps).
/// Stops at the first entry it cannot apply. `cancelled`, when given, is checked between
/// entries.
std::optional<LayerUnpackError> unpackLayer(const ImageLayer &layer, int rootFd, LayerUnpackStats &stats,
                                            const std::atomic_bool *cancelled = nullptr);

/// Applies `layers` in order, base layer first, onto the existing directory `rootDirectory`,
/// flattening the image there.
std::optional<LayerUnpackError> unpackLayers(const QList<ImageLayer> &layers, const QString &rootDirectory,
                                             LayerUnpackStats &stats, const std::atomic_bool *cancelled = nullptr);

} // namespace Sandflow
