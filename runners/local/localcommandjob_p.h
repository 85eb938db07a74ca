// Commands in a local sandbox through its agent: plain ones (foreground or background) and
// runs in a bash session.
#pragma once

#include "localsandbox_p.h"
#include "runner.h"

#include <QPointer>

namespace Sandflow {
class LocalRunner;
}

namespace Sandflow::Internal {

/// Runs `program` (the agent's exec fields, see LocalSandbox::startCommand; by default the
/// request's command with its shell). Cancelling interrupts it as execd does: SIGTERM to
/// the process group, SIGKILL three seconds later.
class LocalCommandJob final : public CommandJob
{
public:
    LocalCommandJob(LocalRunner *runner, QString sandboxId, CommandRequest request, QJsonObject program = {});

    /// The agent's channel of the command, once `started`.
    quint32 channel() const { return m_channel; }

    /// Exit statuses, signals, timeouts and OOM kills as JobErrors.
    static std::optional<JobError> outcome(const QJsonObject &exitStatus, bool oomKilled);

protected:
    void doStart() override;
    void doCancel() override;

private:
    void onExited(const QJsonObject &status);

    LocalRunner *m_runner;
    QString m_sandboxId;
    CommandRequest m_request;
    QJsonObject m_program;
    QPointer<LocalSandbox> m_sandbox;
    quint32 m_channel = 0;
    int m_oomKillsBefore = 0;
    bool m_cancelled = false;
};

/// One run in a bash session: stdout and stderr arrive as stdout; afterwards the session
/// keeps the run's exported variables and directory.
class SessionRunJob final : public CommandJob
{
public:
    SessionRunJob(LocalRunner *runner, QString sandboxId, QString sessionId, CommandRequest request);

protected:
    void doStart() override;
    void doCancel() override;

private:
    LocalRunner *m_runner;
    QString m_sandboxId;
    QString m_sessionId;
    CommandRequest m_request;
    QPointer<LocalCommandJob> m_run;
    QByteArray m_dump;
};

} // namespace Sandflow::Internal
