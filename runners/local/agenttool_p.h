// File operations in a local sandbox: the runner execs the agent binary inside the sandbox
// as a file tool (`/.sandflow/agent fs OP ARGS...`, see agent/fstool.h). Running inside the
// sandbox's own mount namespace, it sees exactly what commands see, and no symbolic link
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

/// One run of the file tool, for the job that owns it.
class AgentToolRun final : public QObject
{
public:
    struct Callbacks
    {
        std::function<void(const QByteArray &)> output;            ///< stdout, as it arrives
        std::function<void(std::optional<JobError>)> finished;      ///< once, at the end
    };

    /// `input`, when given, is streamed to the tool's stdin (paced to the agent's pace).
    AgentToolRun(LocalRunner *runner, QString sandboxId, QStringList arguments, std::unique_ptr<QIODevice> input,
                 Callbacks callbacks, QObject *parent);

    void start();

private:
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
    QByteArray m_stderr;
};

/// A file operation whose stdout, once complete, becomes the result.
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
        m_run = new AgentToolRun(runner, sandboxId, arguments, std::move(input), std::move(callbacks), this);
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

/// Reading a file: the tool's stdout is the file's bytes.
class AgentReadJob final : public FileReadJob
{
public:
    AgentReadJob(LocalRunner *runner, const QString &sandboxId, const QStringList &arguments);

protected:
    void doStart() override { m_run->start(); }

private:
    AgentToolRun *m_run = nullptr;
};

} // namespace Sandflow::Internal
