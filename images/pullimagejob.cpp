#include "pullimagejob.h"

#include "blobdownload_p.h"
#include "blobstore_p.h"
#include "curlnetworkaccessmanager_p.h"
#include "manifestresolver_p.h"
#include "pullerrors_p.h"

#include <QFile>
#include <QSet>

namespace Sandflow {

using namespace Qt::StringLiterals;
using namespace Sandflow::Internal;

namespace {

// An image config is a few kilobytes; read whole, unlike a layer.
constexpr qint64 MaxConfigBytes = 16 << 20;

} // namespace

PullImageJob::PullImageJob(ImageReference reference, QString storeDirectory, PullOptions options, QObject *parent)
    : ResultJob(parent)
    , m_reference(std::move(reference))
    , m_storeDirectory(std::move(storeDirectory))
    , m_options(std::move(options))
{
}

PullImageJob::~PullImageJob()
{
    stopAll();
}

void PullImageJob::doStart()
{
    if (m_reference.source != ImageReference::Source::Registry) {
        return fail({JobError::Kind::Invalid, u"IMAGE_SOURCE_UNSUPPORTED"_s,
                     u"only images of a registry are pulled"_s, {}});
    }
    m_network = std::make_unique<CurlNetworkAccessManager>();
    // The mirrors first, each with what config.json holds for its host; then the registry.
    const auto addSession = [&](const QUrl &base, std::optional<RegistryCredentials> credentials) {
        auto *session = new RegistrySession(m_network.get(), base, m_reference.repository, std::move(credentials), this);
        session->setSilenceLimitMs(m_options.silenceLimitMs);
        m_sessions.append(session);
    };
    for (const QString &mirror : m_options.mirrors.value(m_reference.registry))
        addSession(QUrl(mirror), dockerConfigCredentials(m_options.dockerConfig, QUrl(mirror).authority()));
    addSession(registryApiBase(m_reference, m_options.insecureRegistries),
               m_options.credentials ? m_options.credentials
                                     : dockerConfigCredentials(m_options.dockerConfig, m_reference.registry));
    const bool hostPlatform = m_options.architecture.isEmpty();
    m_resolver = new ManifestResolver(m_sessions, m_reference.digest.isEmpty() ? m_reference.tag : m_reference.digest,
                                      m_reference.digest, hostPlatform ? hostArchitecture() : m_options.architecture,
                                      hostPlatform ? hostVariant() : m_options.variant, BlobStore(m_storeDirectory),
                                      this);
    connect(m_resolver, &ManifestResolver::resolved, this, &PullImageJob::resolved);
    connect(m_resolver, &ManifestResolver::failed, this, &PullImageJob::fail);
    m_resolver->start();
}

void PullImageJob::resolved(const ResolvedManifest &manifest)
{
    m_result.reference = m_reference.canonical();
    m_result.referenceDigest = manifest.referenceDigest;
    m_result.manifestDigest = manifest.manifestDigest;
    m_result.config = manifest.manifest.config;
    m_result.layers = manifest.manifest.layers;
    m_blobSession = manifest.session;

    // Each blob once, even when an image lists a layer twice; those in the store are done.
    const BlobStore store(m_storeDirectory);
    QSet<QString> seen;
    for (const BlobDescriptor &blob : QList<BlobDescriptor>{m_result.config} + m_result.layers) {
        if (seen.contains(blob.digest))
            continue;
        seen.insert(blob.digest);
        m_bytesTotal += blob.size;
        if (store.hasBlob(blob.digest))
            m_bytesDone += blob.size;
        else
            m_queue.append(blob);
    }
    for (const BlobDescriptor &layer : std::as_const(m_result.layers))
        m_layersDone += store.hasBlob(layer.digest) ? 1 : 0;
    emit progress(m_bytesDone, m_bytesTotal, m_layersDone, int(m_result.layers.size()));
    startDownloads();
}

void PullImageJob::startDownloads()
{
    while (!m_queue.isEmpty() && m_running.size() < std::max(1, m_options.parallelDownloads))
        startDownload(m_queue.takeFirst(), m_blobSession);
    if (m_queue.isEmpty() && m_running.isEmpty())
        complete();
}

void PullImageJob::startDownload(const BlobDescriptor &blob, RegistrySession *session)
{
    auto *download = new BlobDownload(session, BlobStore(m_storeDirectory), blob, this);
    m_running.append(download);
    connect(download, &BlobDownload::progress, this, [this](qint64 bytes) {
        m_bytesDone += bytes;
        emit progress(m_bytesDone, m_bytesTotal, m_layersDone, int(m_result.layers.size()));
    });
    connect(download, &BlobDownload::done, this,
            [this, download](const std::optional<JobError> &error) { downloaded(download, error); });
    download->start();
}

void PullImageJob::downloaded(BlobDownload *download, const std::optional<JobError> &error)
{
    m_running.removeOne(download);
    download->deleteLater();
    // A mirror that lacks a blob, or spoils it: the next mirror, or the registry itself.
    // What arrived from it no longer counts.
    const qsizetype next = m_sessions.indexOf(download->session()) + 1;
    if (error && error->code != ImageStoreFailed && next > 0 && next < m_sessions.size()) {
        m_bytesDone -= download->bytesReceived();
        return startDownload(download->blob(), m_sessions.at(next));
    }
    if (error) {
        JobError withBlob = *error;
        withBlob.context.insert(u"blob"_s, download->blob().digest);
        return fail(withBlob);
    }
    for (const BlobDescriptor &layer : std::as_const(m_result.layers)) {
        if (layer.digest == download->blob().digest)
            ++m_layersDone;
    }
    emit progress(m_bytesDone, m_bytesTotal, m_layersDone, int(m_result.layers.size()));
    startDownloads();
}

void PullImageJob::complete()
{
    QFile file(BlobStore(m_storeDirectory).blobPath(m_result.config.digest));
    if (m_result.config.size > MaxConfigBytes)
        return fail({JobError::Kind::Invalid, ManifestUnsupported,
                     u"the image config is larger than %1 bytes"_s.arg(MaxConfigBytes), {}});
    if (!file.open(QIODevice::ReadOnly))
        return fail({JobError::Kind::Infra, ImageStoreFailed,
                     u"cannot read the image config %1: %2"_s.arg(file.fileName(), file.errorString()), {}});
    QString problem;
    const std::optional<ImageConfig> config = parseImageConfig(file.readAll(), &problem);
    if (!config)
        return fail({JobError::Kind::Invalid, ManifestUnsupported, problem, {}});
    m_result.imageConfig = *config;
    finish();
}

void PullImageJob::fail(JobError error)
{
    stopAll();
    error.message = u"cannot pull %1 from %2: %3"_s.arg(m_reference.canonical(), m_reference.registry, error.message);
    error.context.insert(u"image"_s, m_reference.canonical());
    error.context.insert(u"registry"_s, m_reference.registry);
    finish(error);
}

void PullImageJob::doCancel()
{
    stopAll();
    finish(cancelledError());
}

// Called from inside their own signals too: they stop now and go later.
void PullImageJob::stopAll()
{
    m_queue.clear();
    for (BlobDownload *download : std::exchange(m_running, {})) {
        download->disconnect(this);
        download->stop();
        download->deleteLater();
    }
    if (m_resolver) {
        m_resolver->disconnect(this);
        m_resolver->stop();
        m_resolver->deleteLater();
        m_resolver = nullptr;
    }
}

} // namespace Sandflow
