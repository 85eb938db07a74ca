// One `http-wait` step: asks the server inside the sandbox, again and again, until it
// answers with a status below 500 or the time is up. The request is made inside the
// sandbox (bash's /dev/tcp), so it reaches servers on the sandbox's own network.
#pragma once

#include "runner.h"
#include "stepplugin.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QTimer>

namespace Sandflow::Internal {

class HttpWaitJob final : public AsyncJob
{
public:
    struct Target
    {
        QString host = QStringLiteral("127.0.0.1");
        int port = 0;
        QString path = QStringLiteral("/");
        qint64 timeoutMs = 30'000;
        qint64 intervalMs = 200;
    };

    HttpWaitJob(StepContext context, Target target);

protected:
    void doStart() override;
    void doCancel() override;

private:
    void ask();
    QString url() const;

    StepContext m_context;
    Target m_target;
    QElapsedTimer m_clock;
    QTimer m_retry;
    QPointer<CommandJob> m_request;
    QString m_lastProblem;
};

} // namespace Sandflow::Internal
