// An upload that ends with the written file described, as Runner::uploadFile promises:
// execd's upload answers with nothing, so the file's info is asked for next.
#pragma once

#include "opensandboxclient.h"

namespace Sandflow::Internal {

class DescribedUploadJob final : public ResultJob<FileInfo>
{
public:
    /// Takes ownership of `source`.
    DescribedUploadJob(OpenSandboxClient &client, OpenSandboxEndpoint execd, QString path,
                       FilePermissions permissions, QIODevice *source);

protected:
    void doStart() override;
    void doCancel() override;

private:
    void uploaded();
    void described();

    OpenSandboxClient &m_client;
    OpenSandboxEndpoint m_execd;
    QString m_path;
    FilePermissions m_permissions;
    QIODevice *m_source;
    AsyncJob *m_step = nullptr;
};

} // namespace Sandflow::Internal
