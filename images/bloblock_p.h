// Who downloads a blob: the first pull that wants it, in this process or another. The others
// wait for its lock and then find the blob in the store, so that a blob two pulls share
// crosses the network once. The lock is flock(2) on <store>/locks/<hex>.lock, taken without
// blocking (the event loop goes on; a busy lock is tried again on a timer) and released by
// closing, which the kernel also does for a process that dies holding it. Lock files stay:
// removing one could hand two pulls two different locks of one blob.
#pragma once

#include "uniquefd_p.h"

#include <QObject>
#include <QString>
#include <QTimer>

namespace Sandflow::Internal {

class BlobStore;

class BlobLock final : public QObject
{
    Q_OBJECT

public:
    BlobLock(const BlobStore &store, const QString &digest, QObject *parent = nullptr);

    /// Takes the lock: `acquired` once it is held (possibly before this returns), `failed`
    /// when the lock file cannot be made.
    void acquire();
    /// One attempt, now: true when the lock is held. For writers that do not wait (a
    /// document written at once is written beside another writer's copy).
    bool tryAcquire();
    /// Gives the lock up (also done when destroyed).
    void release();

signals:
    void acquired();
    void failed(const QString &error);

private:
    bool open(QString *error);
    void tryLock();

    QString m_path;
    UniqueFd m_fd;
    QTimer m_retry;
};

} // namespace Sandflow::Internal
