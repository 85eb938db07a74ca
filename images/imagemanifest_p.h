// What a registry (or an OCI layout, or a `docker save` archive) says an image is: an index
// that lists an image per platform, a manifest that lists the config and the layers, and the
// config that says how to run it. OCI's and Docker's schema 2 media types alike; every
// digest, size and media type checked before anything is fetched by it, as all of it comes
// from a server the runner does not trust.
#pragma once

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

#include <optional>

namespace Sandflow::Internal {

/// A blob named by its content: "sha256:<64 hex>", with its size in bytes.
struct BlobDescriptor
{
    QString mediaType;
    QString digest;
    qint64 size = 0;
};

/// The image for one platform, as an index lists it.
struct PlatformManifest
{
    BlobDescriptor manifest;
    QString os;
    QString architecture;
    QString variant;
};

/// What a manifest document is: an index (or Docker manifest list) or an image manifest.
struct ManifestDocument
{
    enum class Kind { Index, Image };
    Kind kind = Kind::Image;
    QList<PlatformManifest> platforms;   ///< for an index
    BlobDescriptor config;               ///< for an image
    QList<BlobDescriptor> layers;        ///< for an image, base layer first
};

/// The parts of an image's config that decide how its sandboxes run.
struct ImageConfig
{
    QStringList env;          ///< NAME=VALUE
    QString workingDir;
    QString user;
    QStringList entrypoint;
    QStringList cmd;
    QStringList diffIds;      ///< the uncompressed layers' digests, base first
};

/// The media types a manifest request accepts, for its Accept header.
QByteArray acceptedManifestTypes();

/// Parses a manifest or index of media type `mediaType` (the response's Content-Type; when
/// it is missing or generic, the document's own `mediaType` decides). std::nullopt with
/// `error` set when it is neither, is Docker's obsolete schema 1, or breaks a rule.
std::optional<ManifestDocument> parseManifest(const QByteArray &body, const QString &mediaType, QString *error);

/// The entry of `index` for linux on `architecture` (Go's names: amd64, arm64, ...) and,
/// where given, `variant`; std::nullopt with `error` listing the platforms there are.
std::optional<BlobDescriptor> selectPlatform(const ManifestDocument &index, const QString &architecture,
                                             const QString &variant, QString *error);

/// This host's architecture and variant in Go's names, as image indexes write them.
QString hostArchitecture();
QString hostVariant();

/// Parses an image config blob.
std::optional<ImageConfig> parseImageConfig(const QByteArray &body, QString *error);

/// True for "sha256:" and 64 lowercase hexadecimal digits.
bool isSha256Digest(const QString &digest);

} // namespace Sandflow::Internal
