// The first half of a pull: from a reference to the image manifest of this platform. The
// reference's manifest is asked of each mirror in turn and then of the registry itself; an
// index leads on to the manifest of the platform wanted. Every document is checked against
// the digest it was asked by (the reference's, or the index's descriptor) before it is
// believed, and kept in the blob store.
#pragma once

#include "asyncjob.h"
#include "blobstore_p.h"
#include "imagemanifest_p.h"
#include "registryfetch_p.h"

#include <QList>
#include <QObject>
#include <QPointer>

namespace Sandflow::Internal {

struct ResolvedManifest
{
    RegistrySession *session = nullptr;   ///< where the manifest came from: fetch the blobs there
    QString referenceDigest;              ///< the document the reference names, index or manifest
    QString manifestDigest;               ///< the image manifest of the platform
    ManifestDocument manifest;
};

class ManifestResolver final : public QObject
{
    Q_OBJECT

public:
    /// `sessions`: the mirrors in order, then the registry. `reference` is a tag or a digest;
    /// `pinnedDigest` the digest the reference names, if any.
    ManifestResolver(QList<RegistrySession *> sessions, QString reference, QString pinnedDigest,
                     QString architecture, QString variant, BlobStore store, QObject *parent = nullptr);

    void start();
    /// Aborts the request in flight; nothing is signalled after it.
    void stop();

signals:
    void resolved(const Sandflow::Internal::ResolvedManifest &manifest);
    void failed(const Sandflow::JobError &error);

private:
    /// Fetches `reference` from the current session; `expected` is the descriptor that named
    /// it, when it has one. `then` receives the checked, stored document.
    void fetch(const QString &reference, const std::optional<BlobDescriptor> &expected,
               std::function<void(const QString &digest, const ManifestDocument &document)> then);
    void topFetched(const QString &digest, const ManifestDocument &document);
    void fail(const JobError &error);

    QList<RegistrySession *> m_sessions;
    qsizetype m_current = 0;
    QString m_reference;
    QString m_pinnedDigest;
    QString m_architecture;
    QString m_variant;
    BlobStore m_store;
    QPointer<RegistryFetch> m_fetch;
    QByteArray m_body;
    QString m_referenceDigest;
};

} // namespace Sandflow::Internal
