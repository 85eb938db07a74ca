#include "blobstore_p.h"

#include "imagemanifest_p.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

QString errnoText()
{
    return QString::fromLocal8Bit(strerror(errno));
}

bool makeDirectory(const QString &path)
{
    return QDir().mkpath(path)
           && QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
}

} // namespace

BlobStore::BlobStore(QString directory)
    : m_directory(std::move(directory))
{
}

QString BlobStore::blobPath(const QString &digest) const
{
    // "sha256:<hex>" as a path: the algorithm is a directory.
    return m_directory + u"/blobs/"_s + QString(digest).replace(u':', u'/');
}

bool BlobStore::hasBlob(const QString &digest) const
{
    return isSha256Digest(digest) && QFile::exists(blobPath(digest));
}

// A temporary file is named after the first 16 digits of its blob's digest (write()).
void BlobStore::removeTemporaries(const QString &digest) const
{
    if (!isSha256Digest(digest))
        return;
    QDir temporaryDirectory(m_directory + u"/tmp"_s);
    const QStringList stale = temporaryDirectory.entryList({digest.section(u':', 1).left(16) + u".*"_s},
                                                           QDir::Files | QDir::Hidden);
    for (const QString &name : stale)
        temporaryDirectory.remove(name);
}

std::unique_ptr<BlobStore::Writer> BlobStore::write(const QString &digest, qint64 expectedSize, QString *error) const
{
    // The digest becomes a file name: only one that is all hexadecimal digits.
    if (!isSha256Digest(digest)) {
        *error = u"`%1` is not a sha256 digest"_s.arg(digest.left(80));
        return nullptr;
    }
    const QString temporaryDirectory = m_directory + u"/tmp"_s;
    const QString finalPath = blobPath(digest);
    for (const QString &path : {m_directory, temporaryDirectory, QFileInfo(finalPath).path()}) {
        if (!makeDirectory(path)) {
            *error = u"cannot make the image store's directory %1"_s.arg(path);
            return nullptr;
        }
    }
    QByteArray name = QFile::encodeName(temporaryDirectory + u'/' + digest.section(u':', 1).left(16) + u".XXXXXX"_s);
    UniqueFd fd(::mkostemp(name.data(), O_CLOEXEC));
    if (!fd.isValid()) {
        *error = u"cannot write in the image store %1: %2"_s.arg(temporaryDirectory, errnoText());
        return nullptr;
    }
    return std::unique_ptr<Writer>(new Writer(finalPath, QFile::decodeName(name), std::move(fd), digest, expectedSize));
}

BlobStore::Writer::Writer(QString finalPath, QString temporaryPath, UniqueFd fd, QString digest, qint64 expectedSize)
    : m_finalPath(std::move(finalPath))
    , m_temporaryPath(std::move(temporaryPath))
    , m_fd(std::move(fd))
    , m_digest(std::move(digest))
    , m_expectedSize(expectedSize)
{
}

// After commit() there is nothing left to discard.
BlobStore::Writer::~Writer()
{
    discard();
}

void BlobStore::Writer::discard()
{
    m_fd = UniqueFd();
    if (!m_temporaryPath.isEmpty())
        ::unlink(QFile::encodeName(m_temporaryPath).constData());
    m_temporaryPath.clear();
}

bool BlobStore::Writer::append(QByteArrayView data, QString *error)
{
    if (!m_fd.isValid()) {
        *error = u"the blob %1 was already given up"_s.arg(m_digest);
        return false;
    }
    if (data.size() > m_expectedSize - m_written) {
        *error = u"the blob %1 is longer than the %2 bytes its manifest says"_s.arg(m_digest).arg(m_expectedSize);
        discard();
        return false;
    }
    qsizetype done = 0;
    while (done < data.size()) {
        const ssize_t wrote = ::write(m_fd.get(), data.data() + done, size_t(data.size() - done));
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote <= 0) {
            *error = u"cannot write the blob %1 into the image store: %2"_s.arg(m_digest, errnoText());
            discard();
            return false;
        }
        done += wrote;
    }
    m_hash.addData(data);
    m_written += data.size();
    return true;
}

QString BlobStore::Writer::writtenDigest() const
{
    return m_hash.digest();
}

bool BlobStore::Writer::commit(QString *error)
{
    if (!m_fd.isValid()) {
        *error = u"the blob %1 was already given up"_s.arg(m_digest);
        return false;
    }
    if (m_written != m_expectedSize) {
        *error = u"the blob %1 ended after %2 of its %3 bytes"_s.arg(m_digest).arg(m_written).arg(m_expectedSize);
        discard();
        return false;
    }
    const QString actual = writtenDigest();
    if (actual != m_digest) {
        *error = u"the blob's content does not match its digest: expected %1, got %2"_s.arg(m_digest, actual);
        discard();
        return false;
    }
    // On disk before it has its name: a crash may lose the blob, never leave it half there.
    if (::fsync(m_fd.get()) != 0
        || ::rename(QFile::encodeName(m_temporaryPath).constData(), QFile::encodeName(m_finalPath).constData()) != 0) {
        *error = u"cannot store the blob %1: %2"_s.arg(m_digest, errnoText());
        discard();
        return false;
    }
    m_fd = UniqueFd();
    m_temporaryPath.clear();
    return true;
}

} // namespace Sandflow::Internal
