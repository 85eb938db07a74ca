// One blob of an image on its way into the store: its lock taken (BlobLock), then either
// found there (another pull brought it) or fetched from the registry straight into a
// BlobStore::Writer as the data arrive, and committed once size and digest check out.
// Destroyed before it is done, it aborts the request and leaves nothing in the store.
#pragma once

#include "asyncjob.h"
#include "blobstore_p.h"
#include "imagemanifest_p.h"
#include "registryfetch_p.h"

#include <QObject>

#include <memory>
#include <optional>

namespace Sandflow::Internal {

class BlobLock;

class BlobDownload final : public QObject
{
    Q_OBJECT

public:
    BlobDownload(RegistrySession *session, const BlobStore &store, BlobDescriptor blob, QObject *parent = nullptr);
    ~BlobDownload() override;

    /// Starts; `progress` and then `done` follow, from the event loop.
    void start();
    /// Aborts the request and drops what was written, at once; `done` does not follow.
    void stop();
    const BlobDescriptor &blob() const { return m_blob; }
    RegistrySession *session() const { return m_session; }
    /// The bytes of the blob that arrived (and were counted in `progress`) so far.
    qint64 bytesReceived() const { return m_received; }

signals:
    /// `bytes` more of the blob arrived (or, all at once, were found in the store).
    void progress(qint64 bytes);
    /// Once: the blob is in the store, or why not.
    void done(const std::optional<Sandflow::JobError> &error);

private:
    void locked();
    void received(const QByteArray &piece);
    void fetched(const std::optional<RegistryError> &error);
    void end(const std::optional<JobError> &error);

    RegistrySession *m_session;
    BlobStore m_store;
    BlobDescriptor m_blob;
    BlobLock *m_lock = nullptr;
    RegistryFetch *m_fetch = nullptr;
    std::unique_ptr<BlobStore::Writer> m_writer;
    qint64 m_received = 0;
    bool m_ended = false;
};

} // namespace Sandflow::Internal
