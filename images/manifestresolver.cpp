#include "manifestresolver_p.h"

#include "bloblock_p.h"
#include "pullerrors_p.h"
#include "sha256_p.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

// Docker's own limit for a manifest or index; more is a server's flood.
constexpr qsizetype MaxManifestBytes = 4 << 20;

/// Keeps a checked document in the store, as the runner's later reads expect it there.
bool storeDocument(const BlobStore &store, const QString &digest, const QByteArray &body, QString *error)
{
    if (store.hasBlob(digest))
        return true;
    // Held, the lock says no other pull is writing the document: what a killed one left
    // can go. Busy, another pull is writing it, and this copy is written beside its own.
    BlobLock lock(store, digest);
    if (lock.tryAcquire())
        store.removeTemporaries(digest);
    std::unique_ptr<BlobStore::Writer> writer = store.write(digest, body.size(), error);
    return writer && writer->append(body, error) && writer->commit(error);
}

} // namespace

ManifestResolver::ManifestResolver(QList<RegistrySession *> sessions, QString reference, QString pinnedDigest,
                                   QString architecture, QString variant, BlobStore store, QObject *parent)
    : QObject(parent)
    , m_sessions(std::move(sessions))
    , m_reference(std::move(reference))
    , m_pinnedDigest(std::move(pinnedDigest))
    , m_architecture(std::move(architecture))
    , m_variant(std::move(variant))
    , m_store(std::move(store))
{
}

void ManifestResolver::start()
{
    fetch(m_reference, std::nullopt,
          [this](const QString &digest, const ManifestDocument &document) { topFetched(digest, document); });
}

void ManifestResolver::fetch(const QString &reference, const std::optional<BlobDescriptor> &expected,
                             std::function<void(const QString &, const ManifestDocument &)> then)
{
    m_body.clear();
    // Called from the previous fetch's own done signal: it goes once that has returned.
    if (m_fetch) {
        m_fetch->disconnect(this);
        m_fetch->deleteLater();
    }
    m_fetch = new RegistryFetch(m_sessions.at(m_current), u"manifests/"_s + reference, acceptedManifestTypes(), this);
    connect(m_fetch, &RegistryFetch::data, this, [this](const QByteArray &piece) {
        m_body += piece;
        if (m_body.size() > MaxManifestBytes) {
            m_fetch->abort();
            fail({JobError::Kind::Invalid, ManifestUnsupported,
                  u"the manifest is larger than %1 bytes"_s.arg(MaxManifestBytes), {}});
        }
    });
    connect(m_fetch, &RegistryFetch::done, this, [this, reference, expected, then](const std::optional<RegistryError> &error) {
        if (error) {
            // A mirror that cannot give the reference's document: the next one, or the
            // registry itself, whose answer is the one reported.
            if (!expected && m_current + 1 < m_sessions.size()) {
                ++m_current;
                return start();
            }
            return fail(registryJobError(*error, ImageNotFound));
        }
        const QString digest = Sha256::of(m_body);
        // A tag names no digest; the registry's word for it is checked where it gives one.
        QString wanted = expected ? expected->digest : m_pinnedDigest;
        if (wanted.isEmpty() && isSha256Digest(m_fetch->contentDigest()))
            wanted = m_fetch->contentDigest();
        if (!wanted.isEmpty() && digest != wanted)
            return fail(digestMismatch(u"the manifest %1"_s.arg(reference), wanted, digest));
        if (expected && m_body.size() != expected->size)
            return fail(digestMismatch(u"the manifest %1"_s.arg(reference), u"%1 bytes"_s.arg(expected->size),
                                       u"%1"_s.arg(m_body.size())));
        QString problem;
        const std::optional<ManifestDocument> document = parseManifest(m_body, m_fetch->contentType(), &problem);
        if (!document)
            return fail({JobError::Kind::Invalid, ManifestUnsupported, problem, {}});
        if (!storeDocument(m_store, digest, m_body, &problem))
            return fail({JobError::Kind::Infra, ImageStoreFailed, problem, {}});
        then(digest, *document);
    });
}

void ManifestResolver::topFetched(const QString &digest, const ManifestDocument &document)
{
    m_referenceDigest = digest;
    if (document.kind == ManifestDocument::Kind::Image)
        return emit resolved({m_sessions.at(m_current), digest, digest, document});
    QString problem;
    const std::optional<BlobDescriptor> platform = selectPlatform(document, m_architecture, m_variant, &problem);
    if (!platform)
        return fail({JobError::Kind::Invalid, PlatformNotFound, problem, {}});
    fetch(platform->digest, platform, [this](const QString &digest, const ManifestDocument &manifest) {
        if (manifest.kind != ManifestDocument::Kind::Image)
            return fail({JobError::Kind::Invalid, ManifestUnsupported,
                         u"the index lists another index for this platform, not an image"_s, {}});
        emit resolved({m_sessions.at(m_current), m_referenceDigest, digest, manifest});
    });
}

void ManifestResolver::stop()
{
    if (m_fetch)
        m_fetch->abort();
}

void ManifestResolver::fail(const JobError &error)
{
    stop();
    emit failed(error);
}

} // namespace Sandflow::Internal
