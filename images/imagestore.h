// The image store under a runner's state directory: what each image reference names, the
// blobs (manifests, configs, layers) stored once by digest and shared by every run, and each
// image's layers unpacked into a root that every sandbox of the image shares read-only.
//
//   <store>/blobs/sha256/<hex>     verified blobs (blobstore_p.h)
//   <store>/images/<hex>.json      one reference: its manifest, config and layers; <hex> is
//                                  the sha256 of the reference as canonical() writes it
//   <store>/roots/<hex>/           an image's root, unpacked; <hex> is its config's digest,
//                                  which names its layers (their diff ids)
//   <store>/roots/<hex>.lock       held shared by every sandbox using the root, exclusively
//                                  by prune while it removes the root
//   <store>/roots/<hex>.unpack     held by the run unpacking the root
//   <store>/tmp/                   what is being written: blobs, roots being unpacked
//   <store>/store.lock             held shared by every pull, import and unpack while it
//                                  writes, exclusively by prune
//
// Nothing is ever modified in place: a blob, a root, a reference's file appears whole under
// its name (a rename), so a run killed at any moment leaves only what `prune` sweeps.
#pragma once

#include "blobstore_p.h"
#include "imagemanifest_p.h"
#include "layerunpacker.h"
#include "uniquefd_p.h"

#include <QDateTime>
#include <QList>
#include <QString>

#include <optional>

namespace Sandflow {

/// An image as the store holds it.
struct StoredImage
{
    QString reference;       ///< canonical: "docker.io/library/debian:12", "oci-layout:/x:v1"
    QString manifestDigest;  ///< the image manifest's; empty for a `docker save` archive
    Internal::BlobDescriptor config;
    QList<Internal::BlobDescriptor> layers;   ///< base layer first
    QDateTime storedAt;

    /// The bytes of its blobs (compressed layers as stored).
    qint64 size() const;
};

/// What prune() removed.
struct ImagePruneStats
{
    int blobs = 0;
    int roots = 0;
    qint64 bytes = 0;   ///< of blobs
};

class ImageStore
{
public:
    /// A store rooted at `directory`, made on first write.
    explicit ImageStore(QString directory);
    /// The store of a runner's state directory: `<state>/images`.
    static QString directoryIn(const QString &stateDirectory);

    const QString &directory() const { return m_directory; }
    Internal::BlobStore blobs() const;

    /// What `reference` (canonical) names, when the store has it whole: every blob present.
    std::optional<StoredImage> find(const QString &reference) const;
    /// Every reference the store holds, by name.
    QList<StoredImage> images() const;
    /// Records `image` under its reference (replacing what it named). Its blobs must be in the
    /// store already. False with `error` set otherwise.
    bool save(const StoredImage &image, QString *error) const;
    /// Forgets `reference`; its blobs and root stay until prune(). False when it was unknown.
    bool remove(const QString &reference) const;
    /// Removes blobs and roots no reference names (roots only when no sandbox holds them),
    /// and what interrupted writes left in tmp/. Waits for the pulls, imports and unpacks
    /// under way (writeHold()) to end first, and keeps new ones waiting while it works.
    /// Blocking: for the command line, or off the event loop.
    ImagePruneStats prune() const;

    /// A hold on the store while a pull, an import or an unpack writes to it, so that prune
    /// does not take its blobs before it has recorded them. While prune works: with `wait`
    /// (off the event loop only), once it is done; without, invalid with `*busy` set, to be
    /// tried again a moment later. Invalid with `error` set when the store cannot be made.
    Internal::UniqueFd writeHold(bool wait, bool *busy, QString *error) const;

    /// The image's config, read from its blob; std::nullopt with `error` set when unreadable.
    std::optional<Internal::ImageConfig> config(const StoredImage &image, QString *error) const;
    /// The image's layer blobs, for unpacking.
    QList<ImageLayer> layerFiles(const StoredImage &image) const;
    /// Where the image's unpacked root is, once prepareRoot() made it.
    QString rootPath(const StoredImage &image) const;

    /// Makes the image's root when it is not there yet (unpacking its layers into tmp/, then
    /// renaming it into place, under the root's lock so that two runs unpack it once), and
    /// returns a hold on it: the root stays while the descriptor is open. Blocking: called
    /// off the event loop. Invalid with `error` set on failure (`unpackError` too when a layer
    /// could not be applied).
    Internal::UniqueFd prepareRoot(const StoredImage &image, QString *error,
                                   std::optional<LayerUnpackError> *unpackError = nullptr,
                                   const std::atomic_bool *cancelled = nullptr) const;

private:
    QString referencePath(const QString &reference) const;
    QString lockPath(const StoredImage &image) const;

    QString m_directory;
};

} // namespace Sandflow
