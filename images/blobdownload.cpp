#include "blobdownload_p.h"

#include "bloblock_p.h"
#include "pullerrors_p.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

BlobDownload::BlobDownload(RegistrySession *session, const BlobStore &store, BlobDescriptor blob, QObject *parent)
    : QObject(parent)
    , m_session(session)
    , m_store(store)
    , m_blob(std::move(blob))
{
}

BlobDownload::~BlobDownload()
{
    stop();
}

void BlobDownload::stop()
{
    // The writer goes with its temporary file, then the lock: a waiting pull finds no blob
    // and fetches it itself.
    m_ended = true;
    if (m_fetch)
        m_fetch->abort();
    m_writer.reset();
    if (m_lock)
        m_lock->release();
}

void BlobDownload::start()
{
    m_lock = new BlobLock(m_store, m_blob.digest, this);
    connect(m_lock, &BlobLock::acquired, this, &BlobDownload::locked, Qt::QueuedConnection);
    connect(m_lock, &BlobLock::failed, this, [this](const QString &error) {
        end(JobError{JobError::Kind::Infra, ImageStoreFailed, error, {}});
    }, Qt::QueuedConnection);
    m_lock->acquire();
}

void BlobDownload::locked()
{
    if (m_ended)
        return;
    // Brought in by whoever held the lock before, or by an earlier pull.
    if (m_store.hasBlob(m_blob.digest)) {
        m_received = m_blob.size;
        emit progress(m_blob.size);
        return end(std::nullopt);
    }
    // Left by a pull that was killed while it held this lock.
    m_store.removeTemporaries(m_blob.digest);
    QString error;
    m_writer = m_store.write(m_blob.digest, m_blob.size, &error);
    if (!m_writer)
        return end(JobError{JobError::Kind::Infra, ImageStoreFailed, error, {}});
    m_fetch = new RegistryFetch(m_session, u"blobs/"_s + m_blob.digest, {}, this);
    connect(m_fetch, &RegistryFetch::data, this, &BlobDownload::received);
    connect(m_fetch, &RegistryFetch::done, this, &BlobDownload::fetched);
}

void BlobDownload::received(const QByteArray &piece)
{
    if (m_ended)
        return;
    // More than the manifest said: the content cannot be the one asked for.
    if (piece.size() > m_blob.size - m_writer->written()) {
        m_fetch->abort();
        return end(digestMismatch(u"the blob %1"_s.arg(m_blob.digest), u"%1 bytes"_s.arg(m_blob.size),
                                  u"more"_s));
    }
    QString error;
    if (!m_writer->append(piece, &error)) {
        m_fetch->abort();
        return end(JobError{JobError::Kind::Infra, ImageStoreFailed, error, {}});
    }
    m_received += piece.size();
    emit progress(piece.size());
}

void BlobDownload::fetched(const std::optional<RegistryError> &error)
{
    if (m_ended)
        return;
    if (error)
        return end(registryJobError(*error, BlobNotFound));
    const QString what = u"the blob %1"_s.arg(m_blob.digest);
    if (m_writer->written() != m_blob.size)
        return end(digestMismatch(what, u"%1 bytes"_s.arg(m_blob.size), u"%1"_s.arg(m_writer->written())));
    if (const QString got = m_writer->writtenDigest(); got != m_blob.digest)
        return end(digestMismatch(what, m_blob.digest, got));
    QString storeError;
    if (!m_writer->commit(&storeError))
        return end(JobError{JobError::Kind::Infra, ImageStoreFailed, storeError, {}});
    end(std::nullopt);
}

void BlobDownload::end(const std::optional<JobError> &error)
{
    if (m_ended)
        return;
    m_ended = true;
    m_writer.reset();
    if (m_lock)
        m_lock->release();
    emit done(error);
}

} // namespace Sandflow::Internal
