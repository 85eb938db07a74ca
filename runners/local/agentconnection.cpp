#include "agentconnection_p.h"

#include "units.h"

#include <QJsonDocument>
#include <QtEndian>

#include <algorithm>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;
using AgentProtocol::FrameType;

namespace {

// Text from the process that hosts a sandbox, fit for one line of a message: trimmed, with
// control characters (a terminal's escape sequences among them) shown as spaces.
QString printableText(const QByteArray &bytes)
{
    QString text = QString::fromUtf8(bytes).trimmed();
    for (QChar &c : text) {
        if (c.category() == QChar::Other_Control)
            c = u' ';
    }
    return text;
}

} // namespace

AgentConnection::AgentConnection(QObject *parent)
    : QObject(parent)
{
    // Not the runner's own stderr: what a sandbox holds open it can read and write, and the
    // runner's is its log (or the user's terminal). bwrap's messages come through a pipe of
    // their own and only serve to explain a sandbox that did not start.
    m_process.setProcessChannelMode(QProcess::SeparateChannels);
    // Nothing of the runner's environment (API keys, tokens in the user's shell): bwrap is
    // the sandbox's parent, and the sandbox gets only what its request names.
    QProcessEnvironment environment;
    environment.insert(u"PATH"_s, u"/usr/sbin:/usr/bin:/sbin:/bin"_s);
    m_process.setProcessEnvironment(environment);
    connect(&m_process, &QProcess::started, this, &AgentConnection::started);
    connect(&m_process, &QProcess::readyReadStandardOutput, this, &AgentConnection::readFrames);
    connect(&m_process, &QProcess::readyReadStandardError, this, &AgentConnection::readDiagnostics);
    connect(&m_process, &QProcess::bytesWritten, this, &AgentConnection::written);
    connect(&m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart)
            fail(u"cannot start %1: %2"_s.arg(m_process.program(), m_process.errorString()));
    });
    connect(&m_process, &QProcess::finished, this, [this](int exitCode, QProcess::ExitStatus status) {
        readFrames();
        readDiagnostics();
        QString reason = status == QProcess::CrashExit ? u"the agent was killed"_s
                                                       : u"the agent exited with status %1"_s.arg(exitCode);
        if (!m_diagnostics.isEmpty())
            reason += u": "_s + printableText(m_diagnostics);
        fail(reason);
    });
    m_deadlineTimer.setSingleShot(true);
    connect(&m_deadlineTimer, &QTimer::timeout, this, &AgentConnection::checkDeadlines);
}

// Owners stop the agent through closeControl() and wait for `disconnected`; this is the
// last resort, and SIGKILL of bubblewrap takes the whole sandbox down (--die-with-parent
// and the pid namespace), so QProcess's reaping in its destructor returns at once.
AgentConnection::~AgentConnection()
{
    m_process.disconnect(this);
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        // Only reached when a runner is torn down with live sandboxes: reaping the killed
        // process here is what QProcess's destructor would do anyway, without its warning.
        m_process.waitForFinished(1000);
    }
}

void AgentConnection::start(const QString &program, const QStringList &arguments,
                            const std::function<void()> &childSetup)
{
    if (childSetup)
        m_process.setChildProcessModifier(childSetup);
    m_process.start(program, arguments);
}

bool AgentConnection::isRunning() const
{
    return m_process.state() == QProcess::Running && !m_disconnected;
}

qint64 AgentConnection::processId() const
{
    return m_process.processId();
}

quint32 AgentConnection::request(const QJsonObject &request)
{
    const quint32 channel = m_nextChannel++;
    writeFrame(FrameType::Request, channel, QJsonDocument(request).toJson(QJsonDocument::Compact));
    m_awaitingReply.insert_or_assign(channel, replyDeadline());
    // Requests made later are due later: a running timer is already set to an earlier one.
    if (!m_deadlineTimer.isActive())
        armDeadline();
    return channel;
}

void AgentConnection::writeStdin(quint32 channel, const QByteArray &data)
{
    // Large inputs go in protocol-sized pieces; an empty frame is the end-of-input marker.
    for (qsizetype offset = 0; offset < data.size(); offset += AgentProtocol::MaxPayload)
        writeFrame(FrameType::Stdin, channel, data.mid(offset, AgentProtocol::MaxPayload));
    if (data.isEmpty())
        writeFrame(FrameType::Stdin, channel, {});
}

void AgentConnection::closeControl()
{
    m_process.closeWriteChannel();
    m_awaitingExit = replyDeadline();
    armDeadline();
}

void AgentConnection::kill()
{
    m_process.kill();
}

void AgentConnection::setReplyTimeout(std::chrono::milliseconds timeout)
{
    m_replyTimeout = timeout;
    for (auto &[channel, deadline] : m_awaitingReply)
        deadline = replyDeadline();
    if (m_awaitingExit)
        m_awaitingExit = replyDeadline();
    armDeadline();
}

QDeadlineTimer AgentConnection::replyDeadline() const
{
    return m_replyTimeout > std::chrono::milliseconds::zero() ? QDeadlineTimer(m_replyTimeout)
                                                              : QDeadlineTimer(QDeadlineTimer::Forever);
}

void AgentConnection::armDeadline()
{
    QDeadlineTimer earliest(QDeadlineTimer::Forever);
    for (const auto &[channel, deadline] : m_awaitingReply)
        earliest = std::min(earliest, deadline);
    if (m_awaitingExit)
        earliest = std::min(earliest, *m_awaitingExit);
    if (m_disconnected || earliest.isForever())
        m_deadlineTimer.stop();
    else
        m_deadlineTimer.start(std::chrono::milliseconds(earliest.remainingTime()));
}

void AgentConnection::checkDeadlines()
{
    const auto overdue = [](const QDeadlineTimer &deadline) { return deadline.hasExpired(); };
    const QString bound = formatDuration(m_replyTimeout.count());
    if (m_awaitingExit && overdue(*m_awaitingExit))
        fail(u"the agent did not exit within %1 of being asked to"_s.arg(bound));
    else if (std::any_of(m_awaitingReply.cbegin(), m_awaitingReply.cend(), [&](const auto &entry) { return overdue(entry.second); }))
        fail(u"the agent did not answer within %1"_s.arg(bound));
    else
        armDeadline();
}

void AgentConnection::writeFrame(FrameType type, quint32 channel, const QByteArray &payload)
{
    char header[AgentProtocol::HeaderSize];
    qToLittleEndian<quint32>(quint32(payload.size()), header);
    header[4] = char(type);
    qToLittleEndian<quint32>(channel, header + 5);
    m_process.write(header, sizeof header);
    m_process.write(payload);
}

void AgentConnection::readFrames()
{
    m_frames.append(m_process.readAllStandardOutput());
    while (!m_disconnected) {
        const std::optional<AgentMessage> message = m_frames.next();
        if (!message)
            break;
        dispatch(*message);
    }
    if (!m_frames.error().isEmpty())
        fail(u"the agent broke the protocol: %1"_s.arg(m_frames.error()));
}

void AgentConnection::dispatch(const AgentMessage &message)
{
    switch (message.type) {
    case FrameType::Stdout:
        emit output(message.channel, Stream::Stdout, message.data);
        return;
    case FrameType::Stderr:
        emit output(message.channel, Stream::Stderr, message.data);
        return;
    case FrameType::Reply:
        if (m_awaitingReply.erase(message.channel) > 0)
            armDeadline();
        emit replied(message.channel, message.object);
        return;
    case FrameType::Exit:
        emit commandExited(message.channel, message.object);
        return;
    case FrameType::Event:
        emit notified(message.object);
        return;
    case FrameType::StdinWritten:
        emit stdinWritten(message.channel, message.object.value(u"bytes"_s).toInteger());
        return;
    case FrameType::Request:
    case FrameType::Stdin:
        return;   // never: the decoder lets only the agent's own frame types through
    }
}

// Its first lines say why a sandbox did not start; anything past them is noise (or a flood).
void AgentConnection::readDiagnostics()
{
    constexpr qsizetype kept = 2048;
    const QByteArray text = m_process.readAllStandardError();
    m_diagnostics += text.left(std::max<qsizetype>(0, kept - m_diagnostics.size()));
}

void AgentConnection::fail(const QString &reason)
{
    if (m_disconnected)
        return;
    m_disconnected = true;
    m_deadlineTimer.stop();
    if (m_process.state() != QProcess::NotRunning) {
        m_process.closeWriteChannel();
        m_process.kill();
    }
    emit disconnected(reason);
}

} // namespace Sandflow::Internal
