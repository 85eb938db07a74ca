// The content-addressed part of the image store: blobs (manifests, configs, layers) kept once
// under their sha256 digest, shared by every run. A blob is written to a temporary file of
// the store, hashed as it arrives, and renamed into place only when its digest and size are
// the ones it was asked for: whatever is under a digest's name is that content, and a pull
// cut short leaves nothing another pull could take for a blob.
//
//   <store>/blobs/sha256/<hex>     verified blobs
//   <store>/tmp/                   blobs being written
#pragma once

#include "sha256_p.h"
#include "uniquefd_p.h"

#include <QString>

#include <memory>

namespace Sandflow::Internal {

class BlobStore
{
public:
    /// A store rooted at `directory`, made (0700) on first write.
    explicit BlobStore(QString directory);

    const QString &directory() const { return m_directory; }
    /// Where the blob of `digest` ("sha256:<hex>"; see isSha256Digest) is, or would be.
    QString blobPath(const QString &digest) const;
    bool hasBlob(const QString &digest) const;

    /// Removes the temporary files of `digest` that writers gone without a word (a process
    /// killed mid-write) left. Only for a caller that knows no other writer of the blob is
    /// at work: a pull holding the blob's lock (BlobLock), as every pull fetching it does.
    void removeTemporaries(const QString &digest) const;

    class Writer;
    /// Starts writing the blob of `digest` and `expectedSize` bytes; nullptr with `error` set
    /// when the digest is not a sha256 one or the store cannot be written.
    std::unique_ptr<Writer> write(const QString &digest, qint64 expectedSize, QString *error) const;

private:
    QString m_directory;
};

/// One blob on its way into the store. Destroyed before commit(), it leaves nothing behind.
class BlobStore::Writer
{
public:
    Writer(const Writer &) = delete;
    Writer &operator=(const Writer &) = delete;
    ~Writer();

    /// Appends `data`; false with `error` set on a write error or when it would exceed the
    /// expected size (a server that sends more than the manifest said).
    bool append(QByteArrayView data, QString *error);
    qint64 written() const { return m_written; }
    /// The digest of what was appended so far ("sha256:<hex>"): once all of it is there,
    /// tells a blob whose content is not what was asked for from a store that failed.
    QString writtenDigest() const;
    /// Checks size and digest and renames the blob into place (another writer of the same
    /// blob may have been first: then this copy goes). False with `error` set otherwise.
    bool commit(QString *error);

private:
    friend class BlobStore;
    Writer(QString finalPath, QString temporaryPath, UniqueFd fd, QString digest, qint64 expectedSize);
    void discard();

    QString m_finalPath;
    QString m_temporaryPath;
    UniqueFd m_fd;
    QString m_digest;
    qint64 m_expectedSize = 0;
    qint64 m_written = 0;
    Sha256 m_hash;
};

} // namespace Sandflow::Internal
