#include "agenttool_p.h"

#include "localerrors_p.h"
#include "localrunner.h"
#include "sandboxlayout_p.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>

#include <csignal>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// Enough queued stdin to keep the agent busy, little enough not to hold a big upload in memory.
constexpr qint64 MaxPendingInput = 1 << 20;
constexpr qint64 InputChunk = 256 << 10;
/// Of a tool's stderr: its failure is one short line of JSON.
constexpr qsizetype MaxStderrBytes = 64 << 10;

} // namespace

AgentToolRun::AgentToolRun(LocalRunner *runner, QString sandboxId, QStringList arguments,
                           std::unique_ptr<QIODevice> input, Callbacks callbacks, QObject *parent)
    : QObject(parent)
    , m_runner(runner)
    , m_sandboxId(std::move(sandboxId))
    , m_arguments(std::move(arguments))
    , m_input(std::move(input))
    , m_callbacks(std::move(callbacks))
{
}

void AgentToolRun::start()
{
    JobError error;
    m_sandbox = runningSandbox(m_runner, m_sandboxId, &error);
    if (!m_sandbox) {
        end(error);
        return;
    }
    AgentConnection &agent = m_sandbox->agent();
    connect(&agent, &AgentConnection::output, this,
            [this](quint32 channel, AgentConnection::Stream stream, const QByteArray &data) {
                if (channel == m_channel)
                    onOutput(stream, data);
            });
    connect(&agent, &AgentConnection::replied, this, [this](quint32 channel, const QJsonObject &reply) {
        if (channel != m_channel)
            return;
        if (!reply.value(u"ok"_s).toBool()) {
            end(JobError{JobError::Kind::Infra, u"FILE_TOOL_FAILED"_s,
                         u"cannot start the sandbox's file tool: %1"_s.arg(reply.value(u"error"_s).toString()), {}});
            return;
        }
        m_started = true;
        pump();
    });
    connect(&agent, &AgentConnection::written, this, &AgentToolRun::pump);
    connect(&agent, &AgentConnection::commandExited, this, [this](quint32 channel, const QJsonObject &status) {
        if (channel == m_channel)
            end(failure(status));
    });
    connect(m_sandbox, &LocalSandbox::stopped, this, [this](const QString &reason) {
        end(sandboxLost(m_sandboxId, reason));
    });

    QJsonObject exec{{u"op"_s, u"exec"_s},
                     {u"argv"_s, QJsonArray::fromStringList(QStringList{QString::fromLatin1(AgentPathInSandbox)}
                                                            + m_arguments)},
                     {u"env"_s, m_sandbox->commandEnvironment()}};
    if (m_input)
        exec.insert(u"stdin"_s, true);
    m_channel = agent.request(exec);
}

void AgentToolRun::kill()
{
    if (m_ended || m_killed)
        return;
    if (!m_sandbox) {
        end(sandboxLost(m_sandboxId, u"it was removed"_s));
        return;
    }
    m_killed = true;
    sendKill();
}

// What the sandbox sends is taken only as far as it was asked for: past the limit, the tool
// is stopped and its run fails, rather than the runner holding (or passing on) the rest.
void AgentToolRun::onOutput(AgentConnection::Stream stream, const QByteArray &data)
{
    if (m_ended)
        return;
    if (stream == AgentConnection::Stream::Stderr) {
        m_stderr += data.left(MaxStderrBytes - m_stderr.size());
        return;
    }
    if (m_outputLimit >= 0 && data.size() > m_outputLimit - m_outputBytes) {
        sendKill();
        end(JobError{JobError::Kind::Infra, u"FILE_TOOL_FAILED"_s,
                     u"the sandbox's file tool sent more than %1"_s.arg(QLocale::c().formattedDataSize(m_outputLimit, 0)),
                     {}});
        return;
    }
    m_outputBytes += data.size();
    m_callbacks.output(data);
}

// SIGKILL at once: the tool holds nothing that needs cleaning up. The agent handles requests
// in order, so this reaches the tool even if its exec is not answered yet.
void AgentToolRun::sendKill()
{
    m_sandbox->agent().request({{u"op"_s, u"signal"_s}, {u"target"_s, qint64(m_channel)}, {u"signal"_s, SIGKILL}});
}

void AgentToolRun::pump()
{
    if (!m_started || !m_input || m_ended || !m_sandbox)
        return;
    AgentConnection &agent = m_sandbox->agent();
    while (agent.pendingBytes() < MaxPendingInput) {
        const QByteArray chunk = m_input->read(InputChunk);
        if (chunk.isEmpty()) {
            if (!m_input->atEnd()) {
                if (!m_input->isSequential())
                    end(JobError{JobError::Kind::Task, u"UPLOAD_READ_FAILED"_s,
                                 u"cannot read the upload: %1"_s.arg(m_input->errorString()), {}});
                return;   // a sequential source may simply have nothing yet
            }
            agent.writeStdin(m_channel, {});
            m_input.reset();
            return;
        }
        agent.writeStdin(m_channel, chunk);
    }
}

// The run's own mapping decides when it has one. The fs tool reports a failure as one JSON
// line on stderr: {"code", "message"}.
std::optional<JobError> AgentToolRun::failure(const QJsonObject &status) const
{
    if (status.value(u"exitCode"_s).toInt(-1) == 0 && status.contains(u"exitCode"_s))
        return std::nullopt;
    if (m_callbacks.failure)
        return m_callbacks.failure(status, m_stderr);
    const QJsonObject reported = QJsonDocument::fromJson(m_stderr.trimmed()).object();
    if (reported.contains(u"code"_s)) {
        const QString code = reported.value(u"code"_s).toString();
        return JobError{code == u"IO_ERROR"_s ? JobError::Kind::Task : JobError::Kind::Invalid, code,
                        reported.value(u"message"_s).toString(), {}};
    }
    return JobError{JobError::Kind::Infra, u"FILE_TOOL_FAILED"_s,
                    u"the sandbox's file tool failed: %1"_s.arg(QString::fromUtf8(m_stderr.trimmed())), {}};
}

void AgentToolRun::end(std::optional<JobError> error)
{
    if (m_ended)
        return;
    m_ended = true;
    if (m_sandbox)
        m_sandbox->agent().disconnect(this);
    m_callbacks.finished(std::move(error));
}

std::optional<JobError> ignoreOutput(const QByteArray &, std::monostate &)
{
    return std::nullopt;
}

AgentReadJob::AgentReadJob(LocalRunner *runner, const QString &sandboxId, const QStringList &arguments,
                           std::unique_ptr<QIODevice> input, AgentToolRun::Failure failure)
{
    AgentToolRun::Callbacks callbacks;
    callbacks.output = [this](const QByteArray &bytes) { emit data(bytes); };
    callbacks.finished = [this](std::optional<JobError> error) {
        finish(m_cancelled ? cancelledError() : std::move(error));
    };
    callbacks.failure = std::move(failure);
    m_run = new AgentToolRun(runner, sandboxId, arguments, std::move(input), std::move(callbacks), this);
}

void AgentReadJob::doCancel()
{
    m_cancelled = true;
    m_run->kill();
}

} // namespace Sandflow::Internal
