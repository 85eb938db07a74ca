#include "localcommandjob_p.h"

#include "localerrors_p.h"
#include "localrunner.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

LocalCommandJob::LocalCommandJob(LocalRunner *runner, QString sandboxId, CommandRequest request, QJsonObject program)
    : m_runner(runner)
    , m_sandboxId(std::move(sandboxId))
    , m_request(std::move(request))
    , m_program(std::move(program))
{
}

void LocalCommandJob::doStart()
{
    JobError error;
    m_sandbox = runningSandbox(m_runner, m_sandboxId, &error);
    if (!m_sandbox) {
        finish(error);
        return;
    }
    m_oomKillsBefore = m_sandbox->cgroup() ? m_sandbox->cgroup()->oomKills() : 0;
    AgentConnection &agent = m_sandbox->agent();
    connect(&agent, &AgentConnection::output, this,
            [this](quint32 channel, AgentConnection::Stream stream, const QByteArray &data) {
                if (channel == m_channel)
                    emit output(stream == AgentConnection::Stream::Stdout ? Stream::Stdout : Stream::Stderr, data);
            });
    connect(&agent, &AgentConnection::replied, this, [this](quint32 channel, const QJsonObject &reply) {
        if (channel != m_channel)
            return;
        if (!reply.value(u"ok"_s).toBool())
            finish(JobError{JobError::Kind::Task, u"COMMAND_START_FAILED"_s, reply.value(u"error"_s).toString(),
                            {{u"commandId"_s, m_commandId}}});
        else if (m_request.background)
            finish();   // execd's `complete` right after `init`: the command goes on alone
    });
    connect(&agent, &AgentConnection::commandExited, this, [this](quint32 channel, const QJsonObject &status) {
        if (channel == m_channel)
            onExited(status);
    });
    connect(m_sandbox, &LocalSandbox::stopped, this, [this](const QString &reason) {
        finish(sandboxLost(m_sandboxId, reason));
    });

    if (m_program.isEmpty())
        m_program = LocalSandbox::argvProgram(m_sandbox->shellArguments(m_request));
    m_commandId = m_sandbox->startCommand(m_request, m_program);
    m_channel = m_sandbox->commands().find(m_commandId)->channel;
    emit started(m_commandId);
}

void LocalCommandJob::doCancel()
{
    m_cancelled = true;
    if (!m_sandbox || !m_sandbox->interruptCommand(m_commandId))
        finish(cancelledError());
}

std::optional<JobError> LocalCommandJob::outcome(const QJsonObject &status, bool oomKilled)
{
    const QJsonValue signal = status.value(u"signal"_s);
    if (status.value(u"timedOut"_s).toBool())
        return JobError{JobError::Kind::Timeout, u"COMMAND_TIMEOUT"_s, u"the command ran out of time"_s,
                        {{u"signal"_s, signal}}};
    if (oomKilled)
        return JobError{JobError::Kind::Task, u"COMMAND_OOM_KILLED"_s,
                        u"killed by the kernel: the sandbox ran out of its memory limit"_s, {{u"signal"_s, signal}}};
    if (status.contains(u"exitCode"_s)) {
        const int code = status.value(u"exitCode"_s).toInt();
        if (code == 0)
            return std::nullopt;
        return JobError{JobError::Kind::Task, u"COMMAND_FAILED"_s, u"exit status %1"_s.arg(code), {{u"exitCode"_s, code}}};
    }
    return JobError{JobError::Kind::Task, u"COMMAND_KILLED"_s, u"killed by signal %1"_s.arg(signal.toInt()),
                    {{u"signal"_s, signal}}};
}

void LocalCommandJob::onExited(const QJsonObject &status)
{
    if (status.contains(u"exitCode"_s))
        m_exitCode = status.value(u"exitCode"_s).toInt();
    if (m_cancelled) {
        finish(cancelledError());
        return;
    }
    // An exit code of 0 is success even if something else in the sandbox was OOM-killed.
    const bool oomKilled = m_exitCode != 0 && m_sandbox && m_sandbox->cgroup()
        && m_sandbox->cgroup()->oomKills() > m_oomKillsBefore;
    finish(outcome(status, oomKilled));
}

SessionRunJob::SessionRunJob(LocalRunner *runner, QString sandboxId, QString sessionId, CommandRequest request)
    : m_runner(runner)
    , m_sandboxId(std::move(sandboxId))
    , m_sessionId(std::move(sessionId))
    , m_request(std::move(request))
{
}

void SessionRunJob::doStart()
{
    JobError error;
    LocalSandbox *sandbox = runningSandbox(m_runner, m_sandboxId, &error);
    if (!sandbox) {
        finish(error);
        return;
    }
    const SessionState *state = sandbox->session(m_sessionId);
    if (!state) {
        finish(sessionNotFound(m_sessionId));
        return;
    }
    CommandRequest run = m_request;
    run.cwd.clear();   // the script changes directory itself, so that it can report it
    m_run = new LocalCommandJob(m_runner, m_sandboxId, run,
                                LocalSandbox::argvProgram(sessionArgv(*state, m_request.command, m_request.cwd)));
    m_run->setParent(this);
    m_run->setAutoDelete(false);
    connect(m_run, &CommandJob::started, this, [this](const QString &id) {
        m_commandId = id;
        emit started(id);
    });
    connect(m_run, &CommandJob::output, this, [this](Stream stream, const QByteArray &data) {
        if (stream == Stream::Stdout)
            emit output(stream, data);
        else
            m_dump += data;
    });
    connect(m_run, &AsyncJob::finished, this, [this, sandbox = QPointer<LocalSandbox>(sandbox)] {
        // The session may have been deleted while the command ran.
        if (SessionState *state = sandbox ? sandbox->session(m_sessionId) : nullptr)
            applySessionDump(m_dump, state);
        m_exitCode = m_run->exitCode();
        finish(m_run->error());
    });
    m_run->start();
}

void SessionRunJob::doCancel()
{
    if (m_run)
        m_run->cancel();
    else
        finish(cancelledError());
}

} // namespace Sandflow::Internal
