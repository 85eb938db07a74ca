// Files to and from a sandbox through execd, streamed: an upload is read from its source as
// it is sent, a read handed over as it arrives, so that neither is held in memory (except a
// sequential source, which Qt must size before sending it).
#pragma once

#include "streamcall_p.h"

#include <QHttpMultiPart>

#include <memory>

class QIODevice;

namespace Sandflow::Internal {

/// POST /files/upload: a `metadata` part (the target path and permissions) and a `file`
/// part, paired by order, as execd reads them.
class UploadJob final : public AsyncJob
{
public:
    /// `source` is opened for reading at start unless it is open; a QFile naming a
    /// directory fails then.
    UploadJob(Transport &transport, const OpenSandboxEndpoint &execd, std::unique_ptr<QIODevice> source, QString path,
              FilePermissions permissions);
    ~UploadJob() override;

protected:
    void doStart() override;
    void doCancel() override;

private:
    std::optional<JobError> openSource();
    /// Reads what a sequential source has now; sends it all once it has ended.
    void collect(bool ended);
    /// The `file` part, without its body.
    QHttpPart filePart() const;
    /// Sends the metadata part and `content`.
    void send(QHttpPart content, QObject *contentOwner = nullptr);

    Transport &m_transport;
    OpenSandboxEndpoint m_execd;
    std::unique_ptr<QIODevice> m_source;
    QString m_path;
    FilePermissions m_permissions;
    QByteArray m_collected;
    StreamCall *m_call = nullptr;
};

/// GET /files/download?path=, a byte range of it when asked: handed over as `data` as it
/// arrives, and written to a destination device when there is one.
class ReadFileJob final : public FileReadJob
{
public:
    /// `length` -1: to the end. `destination` (not owned, open for writing) gets every byte.
    ReadFileJob(Transport &transport, const OpenSandboxEndpoint &execd, QString path, qint64 offset, qint64 length,
                QIODevice *destination = nullptr);

protected:
    void doStart() override;
    void doCancel() override;

private:
    bool ranged() const { return m_offset > 0 || m_length >= 0; }
    /// A 200 to a ranged request: the server sent the whole file instead of the range.
    std::optional<JobError> rangeIgnored() const;
    void received(const QByteArray &bytes);
    void ended(const HttpResult &answer);
    void fail(JobError error);

    Transport &m_transport;
    OpenSandboxEndpoint m_execd;
    QString m_path;
    qint64 m_offset;
    qint64 m_length;
    QIODevice *m_destination;
    StreamCall *m_call = nullptr;
    qint64 m_received = 0;
};

} // namespace Sandflow::Internal
