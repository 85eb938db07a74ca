#include "localrunner.h"

#include "localsandbox_p.h"
#include "sandboxrecords_p.h"
#include "sandboxrequest_p.h"

#include <QDir>
#include <QThread>

#include <QJsonArray>

#include <csignal>

namespace Sandflow {

using namespace Qt::StringLiterals;
using Internal::LocalSandbox;

namespace {

JobError notFound(const QString &id)
{
    return {JobError::Kind::Invalid, u"SANDBOX_NOT_FOUND"_s, u"no sandbox `%1`"_s.arg(id), {{u"id"_s, id}}};
}

JobError sandboxLost(const QString &id, const QString &reason)
{
    return {JobError::Kind::Infra, u"SANDBOX_LOST"_s, u"sandbox `%1` is gone: %2"_s.arg(id, reason), {{u"id"_s, id}}};
}

class CreateJob final : public SandboxJob
{
public:
    CreateJob(LocalRunner *runner, LocalSandbox *sandbox, const LocalRunner::Options &options)
        : m_runner(runner), m_sandbox(sandbox), m_options(options)
    {
    }

protected:
    void doStart() override
    {
        connect(m_sandbox, &LocalSandbox::ready, this, [this] {
            m_info = m_sandbox->info();
            finish();
        });
        connect(m_sandbox, &LocalSandbox::stopped, this, [this](const QString &reason) {
            finish(JobError{JobError::Kind::Infra, u"SANDBOX_CREATE_FAILED"_s,
                            u"cannot create the sandbox: %1"_s.arg(reason), {{u"id"_s, m_sandbox->info().id}}});
        });
        QString warning;
        m_sandbox->start(m_options.readyTimeoutMs, m_options.defaultMaxProcesses, &warning);
        if (!warning.isEmpty())
            m_runner->warnOnce(warning);
    }

    // A half-made sandbox is removed before the job reports the cancellation.
    void doCancel() override
    {
        m_sandbox->disconnect(this);
        connect(m_sandbox, &LocalSandbox::stopped, this, [this] { finish(cancelledError()); });
        m_sandbox->stop();
    }

private:
    LocalRunner *m_runner;
    LocalSandbox *m_sandbox;
    LocalRunner::Options m_options;
};

// A request the runner cannot serve: the job fails without a sandbox ever starting.
class RefusedCreateJob final : public SandboxJob
{
public:
    explicit RefusedCreateJob(JobError error) : m_error(std::move(error)) {}

protected:
    void doStart() override { finish(m_error); }

private:
    JobError m_error;
};

class DeleteJob final : public AsyncJob
{
public:
    DeleteJob(LocalRunner *runner, QString id) : m_runner(runner), m_id(std::move(id)) {}

protected:
    void doStart() override
    {
        LocalSandbox *sandbox = m_runner->find(m_id);
        if (!sandbox) {
            finish(notFound(m_id));
            return;
        }
        connect(sandbox, &LocalSandbox::stopped, this, [this] { finish(); });
        sandbox->stop();
    }

private:
    LocalRunner *m_runner;
    QString m_id;
};

// Freezing or thawing a sandbox's cgroup: immediate, so the job finishes in doStart.
class PauseJob final : public AsyncJob
{
public:
    PauseJob(LocalRunner *runner, QString id, bool pause) : m_runner(runner), m_id(std::move(id)), m_pause(pause) {}

protected:
    void doStart() override
    {
        LocalSandbox *sandbox = m_runner->find(m_id);
        const SandboxState from = m_pause ? SandboxState::Running : SandboxState::Paused;
        if (!sandbox)
            finish(notFound(m_id));
        else if (sandbox->info().state != from)
            finish(JobError{JobError::Kind::Invalid, u"INVALID_STATE"_s,
                            u"sandbox `%1` is %2, not %3"_s.arg(m_id, sandboxStateName(sandbox->info().state),
                                                                sandboxStateName(from)), {{u"id"_s, m_id}}});
        else if (!sandbox->setPaused(m_pause))
            finish(JobError{JobError::Kind::Invalid, u"NOT_SUPPORTED"_s,
                            u"pausing needs the cgroup v1 freezer, which is not available here"_s, {}});
        else
            finish();
    }

private:
    LocalRunner *m_runner;
    QString m_id;
    bool m_pause;
};

// One command through the agent. Interrupting follows execd: SIGTERM to the process
// group, then SIGKILL if it is still there three seconds later.
class LocalCommandJob final : public CommandJob
{
public:
    LocalCommandJob(LocalRunner *runner, QString id, CommandRequest request)
        : m_runner(runner), m_id(std::move(id)), m_request(std::move(request))
    {
    }

protected:
    void doStart() override
    {
        m_sandbox = m_runner->find(m_id);
        if (!m_sandbox || m_sandbox->info().state != SandboxState::Running) {
            finish(m_sandbox ? JobError{JobError::Kind::Invalid, u"SANDBOX_NOT_RUNNING"_s,
                                        u"sandbox `%1` is %2"_s.arg(m_id, sandboxStateName(m_sandbox->info().state)),
                                        {{u"id"_s, m_id}}}
                             : notFound(m_id));
            return;
        }
        m_oomKillsBefore = m_sandbox->cgroup() ? m_sandbox->cgroup()->oomKills() : 0;
        Internal::AgentConnection &agent = m_sandbox->agent();
        connect(&agent, &Internal::AgentConnection::output, this,
                [this](quint32 channel, Internal::AgentConnection::Stream stream, const QByteArray &data) {
                    if (channel == m_channel)
                        emit output(stream == Internal::AgentConnection::Stream::Stdout ? Stream::Stdout : Stream::Stderr, data);
                });
        connect(&agent, &Internal::AgentConnection::replied, this, [this](quint32 channel, const QJsonObject &reply) {
            if (channel == m_channel && !reply.value(u"ok"_s).toBool())
                finish(JobError{JobError::Kind::Task, u"COMMAND_START_FAILED"_s, reply.value(u"error"_s).toString(), {}});
        });
        connect(&agent, &Internal::AgentConnection::commandExited, this, [this](quint32 channel, const QJsonObject &status) {
            if (channel == m_channel)
                onExited(status);
        });
        connect(m_sandbox, &LocalSandbox::stopped, this, [this](const QString &reason) {
            finish(sandboxLost(m_id, reason));
        });

        QJsonObject exec{{u"op"_s, u"exec"_s},
                         {u"argv"_s, QJsonArray{u"/bin/sh"_s, u"-c"_s, m_request.command}},
                         {u"env"_s, m_sandbox->commandEnvironment(m_request.env)}};
        if (!m_request.cwd.isEmpty())
            exec.insert(u"cwd"_s, m_request.cwd);
        if (m_request.timeoutMs)
            exec.insert(u"timeoutMs"_s, *m_request.timeoutMs);
        m_channel = agent.request(exec);
    }

    void doCancel() override
    {
        m_cancelled = true;
        signal(SIGTERM);
        QTimer::singleShot(3000, this, [this] { signal(SIGKILL); });
    }

private:
    void signal(int number)
    {
        if (m_sandbox)
            m_sandbox->agent().request({{u"op"_s, u"signal"_s}, {u"target"_s, qint64(m_channel)}, {u"signal"_s, number}});
    }

    void onExited(const QJsonObject &status)
    {
        if (status.contains(u"exitCode"_s))
            m_exitCode = status.value(u"exitCode"_s).toInt();
        if (m_cancelled) {
            finish(cancelledError());
        } else if (m_exitCode == 0) {
            finish();
        } else if (status.value(u"timedOut"_s).toBool()) {
            finish(JobError{JobError::Kind::Timeout, u"COMMAND_TIMEOUT"_s, u"the command ran out of time"_s,
                            {{u"signal"_s, status.value(u"signal"_s)}}});
        } else if (m_sandbox && m_sandbox->cgroup() && m_sandbox->cgroup()->oomKills() > m_oomKillsBefore) {
            finish(JobError{JobError::Kind::Task, u"COMMAND_OOM_KILLED"_s,
                            u"killed by the kernel: the sandbox ran out of its memory limit"_s,
                            {{u"signal"_s, status.value(u"signal"_s)}}});
        } else if (m_exitCode) {
            finish(JobError{JobError::Kind::Task, u"COMMAND_FAILED"_s, u"exit status %1"_s.arg(*m_exitCode),
                            {{u"exitCode"_s, *m_exitCode}}});
        } else {
            finish(JobError{JobError::Kind::Task, u"COMMAND_KILLED"_s,
                            u"killed by signal %1"_s.arg(status.value(u"signal"_s).toInt()),
                            {{u"signal"_s, status.value(u"signal"_s)}}});
        }
    }

    LocalRunner *m_runner;
    QString m_id;
    CommandRequest m_request;
    QPointer<LocalSandbox> m_sandbox;
    quint32 m_channel = 0;
    int m_oomKillsBefore = 0;
    bool m_cancelled = false;
};

} // namespace

LocalRunner::LocalRunner(Options options, QObject *parent)
    : Runner(parent)
    , m_options(std::move(options))
{
}

LocalRunner::~LocalRunner() = default;

SandboxJob *LocalRunner::createSandbox(const SandboxRequest &request)
{
    // Said once per runner (one runner serves a whole run), not once per sandbox. A rootfs
    // stands for the image.
    if (!request.image.isEmpty() && request.rootfs.isEmpty())
        warnOnce(u"the local runner does not pull images: sandboxes run on this machine's read-only system "
                 u"tree instead of their `image`"_s);
    Internal::SandboxLayout layout;
    if (std::optional<JobError> refusal = Internal::layoutForRequest(request, m_options, &layout))
        return new RefusedCreateJob(std::move(*refusal));
    auto sandbox = std::make_unique<LocalSandbox>(layout, request);
    LocalSandbox *raw = sandbox.get();
    const QString id = raw->info().id;
    // Whatever ends the sandbox, the runner forgets it, once the signal has been delivered.
    connect(raw, &LocalSandbox::stopped, this, [this, id] { forget(id); }, Qt::QueuedConnection);
    const Internal::SandboxRecords records(m_options.stateDirectory);
    if (records.isEnabled()) {
        connect(&raw->agent(), &Internal::AgentConnection::started, this, [this, raw, records] {
            const qint64 pid = raw->agent().processId();
            records.write({raw->info().id, m_options.runId, pid, Internal::SandboxRecords::processStartTicks(pid),
                           raw->info().image, raw->info().createdAt});
        });
        connect(raw, &LocalSandbox::stopped, this, [records, id] { records.remove(id); });
    }
    m_sandboxes.emplace(id, std::move(sandbox));
    return new CreateJob(this, raw, m_options);
}

AsyncJob *LocalRunner::deleteSandbox(const QString &id)
{
    return new DeleteJob(this, id);
}

AsyncJob *LocalRunner::pauseSandbox(const QString &id)
{
    return new PauseJob(this, id, true);
}

AsyncJob *LocalRunner::resumeSandbox(const QString &id)
{
    return new PauseJob(this, id, false);
}

void LocalRunner::warnOnce(const QString &message)
{
    if (m_warned.contains(message))
        return;
    m_warned.append(message);
    emit warning(message);
}

CommandJob *LocalRunner::runCommand(const QString &sandboxId, const CommandRequest &request)
{
    return new LocalCommandJob(this, sandboxId, request);
}

QString LocalRunner::defaultStateDirectory()
{
    const QString explicitDirectory = qEnvironmentVariable("SANDFLOW_STATE_DIR");
    if (!explicitDirectory.isEmpty())
        return explicitDirectory;
    const QString xdg = qEnvironmentVariable("XDG_STATE_HOME");
    return (xdg.isEmpty() ? QDir::homePath() + u"/.local/state"_s : xdg) + u"/sandflow"_s;
}

QList<LocalRunner::RecordedSandbox> LocalRunner::recordedSandboxes(const QString &stateDirectory)
{
    QList<RecordedSandbox> result;
    for (const Internal::SandboxRecord &record : Internal::SandboxRecords(stateDirectory).all())
        result.append({record.id, record.runId, record.pid, record.isAlive(), record.image, record.createdAt});
    return result;
}

QStringList LocalRunner::collectGarbage(const QString &stateDirectory, bool includeAlive)
{
    const Internal::SandboxRecords records(stateDirectory);
    QStringList removed;
    for (const Internal::SandboxRecord &record : records.all()) {
        const bool alive = record.isAlive();
        if (alive && !includeAlive)
            continue;
        // Killing bubblewrap's outer process takes the sandbox down (--die-with-parent and
        // the pid namespace); the cgroups then only wait for the kernel's teardown.
        if (alive)
            ::kill(pid_t(record.pid), SIGKILL);
        bool cgroupsGone = false;
        for (int attempt = 0; attempt < 200 && !cgroupsGone; ++attempt) {
            cgroupsGone = Internal::SandboxCgroup::removeLeftover(record.id);
            if (!cgroupsGone)
                QThread::msleep(5);
        }
        if (!cgroupsGone)
            continue;
        records.remove(record.id);
        removed.append(record.id);
    }
    return removed;
}

QList<SandboxInfo> LocalRunner::sandboxes() const
{
    QList<SandboxInfo> result;
    for (const auto &[id, sandbox] : m_sandboxes)
        result.append(sandbox->info());
    return result;
}

Internal::LocalSandbox *LocalRunner::find(const QString &id) const
{
    const auto it = m_sandboxes.find(id);
    return it == m_sandboxes.end() ? nullptr : it->second.get();
}

void LocalRunner::forget(const QString &id)
{
    m_sandboxes.erase(id);
}

} // namespace Sandflow
