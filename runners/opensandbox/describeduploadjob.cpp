#include "describeduploadjob_p.h"

#include <QIODevice>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

DescribedUploadJob::DescribedUploadJob(OpenSandboxClient &client, OpenSandboxEndpoint execd, QString path,
                                       FilePermissions permissions, QIODevice *source)
    : m_client(client)
    , m_execd(std::move(execd))
    , m_path(std::move(path))
    , m_permissions(std::move(permissions))
    , m_source(source)
{
    // Until the upload takes it over, the device is this job's.
    m_source->setParent(this);
}

void DescribedUploadJob::doStart()
{
    AsyncJob *upload = m_client.uploadFile(m_execd, std::exchange(m_source, nullptr), m_path, m_permissions);
    m_step = upload;
    upload->setParent(this);
    upload->setAutoDelete(false);
    connect(upload, &AsyncJob::finished, this, &DescribedUploadJob::uploaded);
    upload->start();
}

void DescribedUploadJob::uploaded()
{
    if (m_step->error())
        return finish(m_step->error());
    ResultJob<QList<FileInfo>> *info = m_client.fileInfo(m_execd, {m_path});
    m_step = info;
    info->setParent(this);
    info->setAutoDelete(false);
    connect(info, &AsyncJob::finished, this, &DescribedUploadJob::described);
    info->start();
}

void DescribedUploadJob::described()
{
    const auto *info = static_cast<ResultJob<QList<FileInfo>> *>(m_step);
    if (info->error())
        return finish(info->error());
    if (!info->result().isEmpty())
        m_result = info->result().first();
    finish();
}

void DescribedUploadJob::doCancel()
{
    if (m_step && !m_step->isFinished())
        return m_step->cancel();   // its end ends this job too
    finish(cancelledError());
}

} // namespace Sandflow::Internal
