#include "localterminaljob_p.h"

#include "agentprotocol.h"
#include "localcommandjob_p.h"
#include "localrunner.h"

#include <QJsonArray>

#include <algorithm>
#include <csignal>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

LocalTerminalJob::LocalTerminalJob(LocalRunner *runner, QString sandboxId, TerminalRequest request)
    : m_runner(runner)
    , m_sandboxId(std::move(sandboxId))
    , m_request(std::move(request))
{
}

void LocalTerminalJob::doStart()
{
    if (m_request.pty && !isTerminalSize(m_request.columns, m_request.rows)) {
        finish(JobError{JobError::Kind::Invalid, u"INVALID_TERMINAL_SIZE"_s,
                        u"a terminal of %1 columns and %2 rows: each must be from 1 to 10000"_s.arg(m_request.columns)
                            .arg(m_request.rows),
                        {{u"columns"_s, m_request.columns}, {u"rows"_s, m_request.rows}}});
        return;
    }
    QJsonObject program;
    if (m_request.argv.isEmpty())
        program.insert(u"interactiveShell"_s, true);
    else
        program.insert(u"argv"_s, QJsonArray::fromStringList(m_request.argv));
    m_window = {m_request.columns, m_request.rows};
    if (m_request.pty)
        program.insert(u"pty"_s, QJsonObject{{u"columns"_s, m_window.first}, {u"rows"_s, m_window.second}});
    else
        program.insert(u"stdin"_s, true);

    CommandRequest command;
    command.command = m_request.argv.join(u' ');   // what commandStatus shows
    command.env = m_request.env;
    command.cwd = m_request.cwd;
    command.uid = m_request.uid;
    command.gid = m_request.gid;

    m_run = new LocalCommandJob(m_runner, m_sandboxId, command, program);
    m_run->setParent(this);
    m_run->setAutoDelete(false);
    connect(m_run, &CommandJob::started, this, &LocalTerminalJob::onStarted);
    connect(m_run, &CommandJob::output, this, [this](Stream stream, const QByteArray &data) {
        // A terminal has one stream; anything else on its channel is an agent that lies.
        if (!m_request.pty || stream == Stream::Stdout)
            emit output(stream, data);
    });
    connect(m_run, &AsyncJob::finished, this, [this] {
        m_exitCode = m_run->exitCode();
        finish(m_cancelled ? cancelledError() : m_run->error());
    });
    m_run->start();
}

void LocalTerminalJob::onStarted(const QString &commandId)
{
    m_commandId = commandId;
    m_channel = m_run->channel();
    m_sandbox = m_runner->find(m_sandboxId);
    if (m_sandbox) {
        AgentConnection &agent = m_sandbox->agent();
        connect(&agent, &AgentConnection::stdinWritten, this, [this](quint32 channel, qint64 bytes) {
            if (channel == m_channel)
                onInputWritten(bytes);
        });
        // The agent's pipe drained: input held back for it can go.
        connect(&agent, &AgentConnection::written, this, &LocalTerminalJob::sendInput);
    }
    emit started(commandId);
    sendInput();
    // A resize that came while the command was starting.
    resize(m_request.columns, m_request.rows);
}

void LocalTerminalJob::doCancel()
{
    m_cancelled = true;
    if (AgentConnection *running = agent())
        running->request({{u"op"_s, u"signal"_s}, {u"target"_s, qint64(m_channel)}, {u"signal"_s, SIGKILL}});
    else
        m_run->cancel();   // not started yet: it never will
}

AgentConnection *LocalTerminalJob::agent() const
{
    if (!m_sandbox || !m_channel || !m_run || m_run->isFinished())
        return nullptr;
    return &m_sandbox->agent();
}

void LocalTerminalJob::writeInput(const QByteArray &data)
{
    if (isFinished() || m_inputClosed || data.isEmpty())
        return;
    m_input += data;
    sendInput();
}

void LocalTerminalJob::closeInput()
{
    if (isFinished() || m_inputClosed)
        return;
    m_inputClosed = true;
    sendInput();
}

// The agent's pipe is bounded too (pendingBytes), not only what it has yet to report: an
// agent that claims to have written everything but reads nothing must not make the runner
// queue all the input a second time, in its pipe to the agent.
void LocalTerminalJob::sendInput()
{
    AgentConnection *running = agent();
    if (!running)
        return;
    constexpr qint64 window = AgentProtocol::StdinWindow;
    while (m_inputSent < m_input.size() && m_unacknowledged < window && running->pendingBytes() < window) {
        const qsizetype size = qsizetype(std::min<qint64>(m_input.size() - m_inputSent, window - m_unacknowledged));
        running->writeStdin(m_channel, m_input.sliced(m_inputSent, size));
        m_inputSent += size;
        m_unacknowledged += size;
    }
    // Sent bytes go once they are most of the buffer, so that the buffer is copied seldom.
    if (m_inputSent == m_input.size() || m_inputSent > m_input.size() / 2) {
        m_input.remove(0, m_inputSent);
        m_inputSent = 0;
    }
    if (m_input.isEmpty() && m_inputClosed && !m_endSent) {
        running->writeStdin(m_channel, {});
        m_endSent = true;
    }
}

void LocalTerminalJob::onInputWritten(qint64 bytes)
{
    // The agent's count, bounded by what it was sent.
    const qint64 taken = std::clamp<qint64>(bytes, 0, m_unacknowledged);
    if (taken == 0)
        return;
    m_unacknowledged -= taken;
    emit inputWritten();
    sendInput();
}

qint64 LocalTerminalJob::pendingInput() const
{
    return m_input.size() - m_inputSent + m_unacknowledged;
}

void LocalTerminalJob::resize(int columns, int rows)
{
    if (!m_request.pty || !isTerminalSize(columns, rows) || isFinished())
        return;
    // Kept for a command that has yet to start; sent when it has.
    m_request.columns = columns;
    m_request.rows = rows;
    AgentConnection *running = agent();
    if (!running || m_window == std::pair(columns, rows))
        return;
    m_window = {columns, rows};
    running->request({{u"op"_s, u"resize"_s}, {u"target"_s, qint64(m_channel)}, {u"columns"_s, columns},
                      {u"rows"_s, rows}});
}

void LocalTerminalJob::sendSignal(int signal)
{
    if (signal < 1 || signal >= NSIG)
        return;
    if (AgentConnection *running = agent())
        running->request({{u"op"_s, u"signal"_s}, {u"target"_s, qint64(m_channel)}, {u"signal"_s, signal}});
}

} // namespace Sandflow::Internal
