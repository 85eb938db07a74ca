#include "downloadpump_p.h"

#include "httpexchange_p.h"
#include "runner.h"

#include <memory>

namespace Sandflow::Internal {

DownloadPump::DownloadPump(Runner *runner, HttpExchange *exchange, QString sandboxId, QString path, qint64 offset,
                           qint64 length)
    : QObject(exchange)
    , m_runner(runner)
    , m_exchange(exchange)
    , m_sandboxId(std::move(sandboxId))
    , m_path(std::move(path))
    , m_offset(offset)
    , m_remaining(length)
{
    connect(exchange, &HttpExchange::bytesSent, this, [this] {
        if (m_waiting && m_exchange->unsentBytes() < SliceBytes) {
            m_waiting = false;
            readNext();
        }
    });
    // A client that leaves stops the read in the sandbox too.
    connect(exchange, &HttpExchange::clientGone, this, [this] {
        if (m_reading)
            m_reading->cancel();
    });
    readNext();
}

void DownloadPump::readNext()
{
    if (m_remaining == 0)
        return m_exchange->endStream();
    if (m_exchange->unsentBytes() >= SliceBytes) {
        m_waiting = true;
        return;
    }
    const qint64 asked = m_remaining < 0 ? SliceBytes : std::min(m_remaining, SliceBytes);
    FileReadJob *job = m_runner->downloadFile(m_sandboxId, m_path, m_offset, asked);
    m_reading = job;
    auto received = std::make_shared<qint64>(0);
    connect(job, &FileReadJob::data, this, [this, received](const QByteArray &bytes) {
        *received += bytes.size();
        m_exchange->writeChunk(bytes);
    });
    connect(job, &AsyncJob::finished, this, [this, job, received, asked] { sliceDone(job, *received, asked); });
    job->start();
}

void DownloadPump::sliceDone(FileReadJob *job, qint64 received, qint64 asked)
{
    // The headers said all is well: a read that fails half-way can only be told by closing
    // the connection early (so can a file that shrank while it was sent).
    if (job->error())
        return m_exchange->abort();
    m_offset += received;
    if (m_remaining > 0)
        m_remaining -= received;
    // Less than asked: the end of the file.
    if (received < asked)
        m_remaining = 0;
    readNext();
}

} // namespace Sandflow::Internal
