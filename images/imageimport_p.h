// Images that come as files rather than from a registry: an OCI image layout directory
// (what `umoci`, `skopeo copy ... oci:DIR` and `docker buildx --output type=oci` write) and a
// `docker save` archive. Their blobs are copied into the store, each verified against its
// digest as a pulled one is: a layout or an archive is as untrusted as a registry.
#pragma once

#include "imagereference.h"
#include "imagestore.h"

#include <QString>

#include <optional>

namespace Sandflow::Internal {

/// Copies the image the OCI layout at `layoutPath` tags `tag` (its index's
/// `org.opencontainers.image.ref.name`; empty: the layout's only image) into `store`, for
/// this host's platform where the tag names an index. The result is not saved under a
/// reference yet. std::nullopt with `error` set, naming the layout and what is wrong.
std::optional<StoredImage> importOciLayout(const ImageStore &store, const QString &layoutPath, const QString &tag,
                                           QString *error);

/// Copies the image of the `docker save` archive at `archivePath` into `store`: the one whose
/// RepoTags hold `tag` (e.g. "debian:12"), or the archive's only image when `tag` is empty.
/// Its layers must be the ones its config names (their diff ids).
std::optional<StoredImage> importDockerArchive(const ImageStore &store, const QString &archivePath,
                                               const QString &tag, QString *error);

/// Copies the image of `source` (an OCI layout or a `docker save` archive) into `store` and
/// records it under `name` (canonical). Blocking: for QtConcurrent's pool.
std::optional<StoredImage> importImage(const ImageStore &store, const ImageReference &source, const QString &name,
                                       QString *error);

} // namespace Sandflow::Internal
