// A file sent as a response body at the client's pace: it is read in slices, and the next
// slice is read only once the client has taken most of the one before, so a slow client
// costs the server a few megabytes, not the file's size.
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>

namespace Sandflow {
class Runner;
class FileReadJob;
}

namespace Sandflow::Internal {

class HttpExchange;

class DownloadPump final : public QObject
{
public:
    /// Bytes read from the sandbox at a time; the next read waits until fewer than this
    /// many are still unsent.
    static constexpr qint64 SliceBytes = 4 * 1024 * 1024;

    /// Sends `length` bytes (-1: to the end) of `path` from `offset` as the body of
    /// `exchange` (its parent), whose headers went out already, and ends the response.
    DownloadPump(Runner *runner, HttpExchange *exchange, QString sandboxId, QString path, qint64 offset, qint64 length);

private:
    void readNext();
    void sliceDone(FileReadJob *job, qint64 received, qint64 asked);

    Runner *m_runner;
    HttpExchange *m_exchange;
    QString m_sandboxId;
    QString m_path;
    qint64 m_offset;
    qint64 m_remaining;       ///< -1: up to the end of the file
    QPointer<FileReadJob> m_reading;
    bool m_waiting = false;   ///< for the client to take what it has
};

} // namespace Sandflow::Internal
