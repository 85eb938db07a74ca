// Pulling a container image from an OCI/Docker registry into the blob store, over the
// distribution API: manifest (and, for an index, the manifest of this platform), config and
// layers, each verified against its digest and kept in the store under it.
#pragma once

#include "imagemanifest_p.h"
#include "imagereference.h"
#include "registryauth_p.h"
#include "runner.h"

#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

class QNetworkAccessManager;

namespace Sandflow {

namespace Internal {
class BlobDownload;
class ManifestResolver;
class RegistrySession;
struct ResolvedManifest;
}

struct PullOptions
{
    /// The credentials to pull with (a request's `image.auth`); when none, `dockerConfig`'s.
    std::optional<Internal::RegistryCredentials> credentials;
    /// The content of a Docker config.json, where credentials for the registry are looked
    /// up when `credentials` has none (credential helpers are not run).
    QByteArray dockerConfig;
    /// Registries ("host" or "host:port", as references name them) reached over plain HTTP.
    /// Loopback registries always are, as Docker does it; every other one over HTTPS.
    QStringList insecureRegistries;
    /// Per registry as references name it ("docker.io"), base URLs of mirrors
    /// ("https://mirror.example", "http://127.0.0.1:5001"), asked in order before the
    /// registry itself, as Docker's `registry-mirrors`. A mirror that cannot give the image's
    /// manifest is passed over; the blobs come from where the manifest came from, and one
    /// that fails there from the next mirror or the registry.
    QMap<QString, QStringList> mirrors;
    /// The platform to pull from an index, in Go's names; empty: this host's.
    QString architecture;
    QString variant;
    /// Blobs fetched at once.
    int parallelDownloads = 3;
    /// How long a request (connecting included) may go without a byte before the registry
    /// counts as unreachable.
    int silenceLimitMs = 30'000;
};

/// What a pull brought into the store.
struct PulledImage
{
    QString reference;         ///< the reference, canonical
    QString referenceDigest;   ///< the document the reference names: an index or the manifest
    QString manifestDigest;    ///< the image manifest of the platform pulled
    Internal::BlobDescriptor config;
    Internal::ImageConfig imageConfig;
    QList<Internal::BlobDescriptor> layers;   ///< base layer first
};

/// Pulls an image of a registry into the blob store at `storeDirectory`
/// (Internal::BlobStore). Blobs already in the store are not fetched again; a blob that
/// another pull (of this process or another) is fetching is waited for, not fetched twice.
/// Nothing a pull brings is kept unless it matches its digest, so a pull cut short
/// (cancelled, killed) leaves only whole, verified blobs.
///
/// Errors (context: "image", "registry"; the message names both and says why):
/// - `IMAGE_NOT_FOUND` (Invalid): no such repository, tag or digest
/// - `REGISTRY_AUTH_REQUIRED` (Invalid): the registry wants credentials and has none
/// - `REGISTRY_AUTH_FAILED` (Invalid): the credentials were turned down
/// - `BLOB_DIGEST_MISMATCH` (Invalid): a manifest, config or layer is not what its digest says
/// - `MANIFEST_UNSUPPORTED`, `PLATFORM_NOT_FOUND`, `BLOB_NOT_FOUND` (Invalid): a manifest
///   of a kind not pulled, an index without this platform, a blob the registry lacks
/// - `REGISTRY_UNREACHABLE`, `REGISTRY_ERROR`, `REGISTRY_AUTH_UNAVAILABLE` (Infra): no
///   connection or a silent one, a failing registry (5xx), a failing token service
/// - `IMAGE_STORE_FAILED` (Infra): the store cannot be written
/// - `IMAGE_SOURCE_UNSUPPORTED` (Invalid): the reference is no registry's
class PullImageJob final : public ResultJob<PulledImage>
{
    Q_OBJECT

public:
    PullImageJob(ImageReference reference, QString storeDirectory, PullOptions options = {},
                 QObject *parent = nullptr);
    ~PullImageJob() override;

signals:
    /// Bytes of the config and layers in the store out of all of theirs, and layers whole
    /// in the store; blobs that were there already count as done from the start.
    void progress(qint64 bytesDone, qint64 bytesTotal, int layersDone, int layersTotal);

protected:
    void doStart() override;
    void doCancel() override;

private:
    void resolved(const Internal::ResolvedManifest &manifest);
    void startDownloads();
    void startDownload(const Internal::BlobDescriptor &blob, Internal::RegistrySession *session);
    void downloaded(Internal::BlobDownload *download, const std::optional<JobError> &error);
    void complete();
    void fail(JobError error);
    void stopAll();

    ImageReference m_reference;
    QString m_storeDirectory;
    PullOptions m_options;
    std::unique_ptr<QNetworkAccessManager> m_network;
    Internal::ManifestResolver *m_resolver = nullptr;
    QList<Internal::RegistrySession *> m_sessions;   ///< the mirrors, then the registry
    Internal::RegistrySession *m_blobSession = nullptr;
    QList<Internal::BlobDescriptor> m_queue;
    QList<Internal::BlobDownload *> m_running;
    qint64 m_bytesDone = 0;
    qint64 m_bytesTotal = 0;
    int m_layersDone = 0;
};

} // namespace Sandflow
