// File operations and relays to services in a local sandbox: the runner execs the agent
// binary inside the sandbox as a tool (`/.sandflow/agent fs OP ARGS...`, see agent/fstool.h;
// `/.sandflow/agent relay PORT`, see agent/relaytool.h). Running inside the sandbox's own
// namespaces, it sees exactly the files and network that commands see, and no symbolic link
// in the sandbox can lead it to the host's files.
#pragma once

#include "localsandbox_p.h"
#include "runner.h"

#include <QIODevice>
#include <QPointer>

#include <functional>
#include <memory>
#include <variant>

namespace Sandflow {
class LocalRunner;
}

namespace Sandflow::Internal {

/// The most a file tool's answer may hold: a job keeps it in memory until it is complete.
inline constexpr qint64 MaxToolAnswerBytes = 64 << 20;

/// One run of the agent as a tool, for the job that owns it.
class AgentToolRun final : public QObject
{
public:
    /// The error for a tool that did not exit 0, from its Exit status and its stderr.
    using Failure = std::function<JobError(const QJsonObject &exitStatus, const QByteArray &stderrBytes)>;

    struct Callbacks
    {
        std::function<void(const QByteArray &)> output;            ///< stdout, as it arrives
        std::function<void(std::optional<JobError>)> finished;      ///< once, at the end
        Failure failure;                                            ///< unset: the fs tool's JSON line
    };

    /// `arguments` follow the agent's path: the tool (`fs`, `relay`) and its operands.
    /// `input`, when given, is streamed to the tool's stdin (paced to the agent's pace).
    AgentToolRun(LocalRunner *runner, QString sandboxId, QStringList arguments, std::unique_ptr<QIODevice> input,
                 Callbacks callbacks, QObject *parent);

    /// The most stdout the run takes; more kills the tool and fails the run. -1: no limit.
    void setOutputLimit(qint64 bytes) { m_outputLimit = bytes; }
    void start();
    /// Kills the tool; `finished` follows once it has exited (or the sandbox is gone), so that
    /// nothing of the run is left in the sandbox.
    void kill();

private:
    void onOutput(AgentConnection::Stream stream, const QByteArray &data);
    void sendKill();
    void pump();
    void end(std::optional<JobError> error);
    std::optional<JobError> failure(const QJsonObject &status) const;

    LocalRunner *m_runner;
    QString m_sandboxId;
    QStringList m_arguments;
    std::unique_ptr<QIODevice> m_input;
    Callbacks m_callbacks;
    QPointer<LocalSandbox> m_sandbox;
    quint32 m_channel = 0;
    bool m_started = false;
    bool m_ended = false;
    bool m_killed = false;
    qint64 m_outputLimit = -1;
    qint64 m_outputBytes = 0;
    QByteArray m_stderr;   ///< its start: enough for the one line that says why it failed
};

/// A file operation (`fs` tool) whose stdout, once complete, becomes the result.
template <typename Result>
class AgentToolJob final : public ResultJob<Result>
{
public:
    using Parse = std::function<std::optional<JobError>(const QByteArray &stdoutBytes, Result &result)>;

    AgentToolJob(LocalRunner *runner, const QString &sandboxId, const QStringList &arguments, Parse parse,
                 std::unique_ptr<QIODevice> input = {})
        : m_parse(std::move(parse))
    {
        AgentToolRun::Callbacks callbacks;
        callbacks.output = [this](const QByteArray &data) { m_stdout += data; };
        callbacks.finished = [this](std::optional<JobError> error) {
            this->finish(error ? error : m_parse(m_stdout, this->m_result));
        };
        m_run = new AgentToolRun(runner, sandboxId, QStringList{QStringLiteral("fs")} + arguments, std::move(input),
                                 std::move(callbacks), this);
        m_run->setOutputLimit(MaxToolAnswerBytes);
    }

protected:
    void doStart() override { m_run->start(); }

private:
    Parse m_parse;
    AgentToolRun *m_run = nullptr;
    QByteArray m_stdout;
};

/// A file operation that returns nothing.
std::optional<JobError> ignoreOutput(const QByteArray &, std::monostate &);

/// Reading from a sandbox: the tool's stdout, as it arrives, is the data. Cancelling kills
/// the tool, which may otherwise wait on a service for ever.
class AgentReadJob final : public FileReadJob
{
public:
    /// `arguments` as for AgentToolRun; `failure` unset: the fs tool's errors.
    AgentReadJob(LocalRunner *runner, const QString &sandboxId, const QStringList &arguments,
                 std::unique_ptr<QIODevice> input = {}, AgentToolRun::Failure failure = {});
    /// See AgentToolRun::setOutputLimit().
    void setOutputLimit(qint64 bytes) { m_run->setOutputLimit(bytes); }

protected:
    void doStart() override { m_run->start(); }
    void doCancel() override;

private:
    AgentToolRun *m_run = nullptr;
    bool m_cancelled = false;
};

} // namespace Sandflow::Internal
