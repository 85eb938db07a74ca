// Files to and from a sandbox through execd, streamed: an upload is read from disk as it
// is sent, a download written out as it arrives, so that neither is held in memory.
#pragma once

#include "streamcall_p.h"

class QIODevice;

namespace Sandflow::Internal {

/// POST /files/upload: a `metadata` part (the target path and permissions) and a `file`
/// part, paired by order, as execd reads them.
class UploadJob final : public AsyncJob
{
public:
    UploadJob(Transport &transport, const OpenSandboxEndpoint &execd, QString localPath, QString path,
              FilePermissions permissions);

protected:
    void doStart() override;
    void doCancel() override;

private:
    Transport &m_transport;
    OpenSandboxEndpoint m_execd;
    QString m_localPath;
    QString m_path;
    FilePermissions m_permissions;
    StreamCall *m_call = nullptr;
};

/// GET /files/download?path=, written to a device as it arrives.
class DownloadJob final : public AsyncJob
{
public:
    DownloadJob(Transport &transport, const OpenSandboxEndpoint &execd, QString path, QIODevice *destination);

protected:
    void doStart() override;
    void doCancel() override;

private:
    void write(const QByteArray &bytes);
    void ended(const HttpResult &answer);

    Transport &m_transport;
    OpenSandboxEndpoint m_execd;
    QString m_path;
    QIODevice *m_destination;
    StreamCall *m_call = nullptr;
    qint64 m_written = 0;
};

} // namespace Sandflow::Internal
