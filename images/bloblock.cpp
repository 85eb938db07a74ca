#include "bloblock_p.h"

#include "blobstore_p.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <cerrno>
#include <cstring>
#include <sys/file.h>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

// Often enough that a waiting pull follows the first closely; a blob takes far longer.
constexpr int RetryMs = 50;

} // namespace

BlobLock::BlobLock(const BlobStore &store, const QString &digest, QObject *parent)
    : QObject(parent)
    , m_path(store.directory() + u"/locks/"_s + digest.section(u':', 1) + u".lock"_s)
{
    m_retry.setSingleShot(true);
    m_retry.setInterval(RetryMs);
    connect(&m_retry, &QTimer::timeout, this, &BlobLock::tryLock);
}

bool BlobLock::open(QString *error)
{
    if (m_fd.isValid())
        return true;
    const QString directory = QFileInfo(m_path).path();
    if (!QDir().mkpath(directory)) {
        *error = u"cannot make the image store's directory %1"_s.arg(directory);
        return false;
    }
    m_fd = UniqueFd(::open(QFile::encodeName(m_path).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!m_fd.isValid()) {
        *error = u"cannot open the lock %1: %2"_s.arg(m_path, QString::fromLocal8Bit(strerror(errno)));
        return false;
    }
    return true;
}

void BlobLock::acquire()
{
    QString error;
    if (!open(&error)) {
        emit failed(error);
        return;
    }
    tryLock();
}

bool BlobLock::tryAcquire()
{
    QString error;
    return open(&error) && ::flock(m_fd.get(), LOCK_EX | LOCK_NB) == 0;
}

void BlobLock::tryLock()
{
    if (::flock(m_fd.get(), LOCK_EX | LOCK_NB) == 0) {
        emit acquired();
        return;
    }
    if (errno == EWOULDBLOCK || errno == EINTR) {
        m_retry.start();
        return;
    }
    emit failed(u"cannot lock %1: %2"_s.arg(m_path, QString::fromLocal8Bit(strerror(errno))));
}

void BlobLock::release()
{
    m_retry.stop();
    m_fd = UniqueFd();
}

} // namespace Sandflow::Internal
