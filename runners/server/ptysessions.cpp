#include "ptysessions_p.h"

#include "runner.h"

#include <QUuid>
#include <QWebSocket>

using namespace Qt::StringLiterals;

namespace Sandflow::Internal {

namespace {

/// How often an idle client is pinged, and how long it may stay silent, as upstream.
constexpr int KeepAliveMs = 30'000;
constexpr qint64 SilenceLimitMs = 60'000;
/// Output a client has not taken yet, and input the process has not read, beyond which the
/// connection is cut rather than held in memory: a client reconnects with `since`.
constexpr qint64 BacklogLimitBytes = 4 * 1024 * 1024;
/// The largest message a client may send: Qt would otherwise buffer up to 2 GiB of one.
constexpr qint64 MaxClientMessageBytes = 1024 * 1024;
/// How long a client may take to close after its process's exit frame.
constexpr int ClientCloseWaitMs = 5000;
/// How often sessions of sandboxes that are gone (expired, deleted by their run) are looked for.
constexpr int SweepIntervalMs = 60'000;

/// Closes `socket` with `code` and lets it go once the client has answered (or after a
/// while): deleted at once, its TCP connection would stay open with nobody reading it.
void closeAndRelease(QWebSocket *socket, int code, const QString &reason)
{
    socket->disconnect();
    QObject::connect(socket, &QWebSocket::disconnected, socket, &QObject::deleteLater);
    QTimer::singleShot(5000, socket, [socket] {
        socket->abort();
        socket->deleteLater();
    });
    socket->close(QWebSocketProtocol::CloseCode(code), reason);
}

} // namespace

PtySession::PtySession(Runner *runner, QString sandboxId, QString id, PtyRequest request, QObject *parent)
    : QObject(parent)
    , m_runner(runner)
    , m_sandboxId(std::move(sandboxId))
    , m_id(std::move(id))
    , m_request(std::move(request))
{
    m_keepAlive.setInterval(KeepAliveMs);
    connect(&m_keepAlive, &QTimer::timeout, this, [this] {
        if (!m_socket)
            return;
        if (m_sinceHeard.elapsed() > SilenceLimitMs)
            return detach(int(QWebSocketProtocol::CloseCodeGoingAway), u"no answer for a minute"_s);
        m_socket->ping();
    });
}

PtySession::~PtySession()
{
    end();
}

void PtySession::attach(QWebSocket *socket, const Attachment &attachment)
{
    if (m_socket)
        detach(4001, u"TAKEN_OVER"_s);
    m_socket.reset(socket);
    socket->setMaxAllowedIncomingMessageSize(MaxClientMessageBytes);
    socket->setMaxAllowedIncomingFrameSize(MaxClientMessageBytes);
    m_sinceHeard.start();
    m_keepAlive.start();
    // Only the attached socket is listened to: one being let go says nothing more.
    connect(socket, &QWebSocket::binaryMessageReceived, this, [this, socket](const QByteArray &frame) {
        if (m_socket.get() == socket)
            received(parsePtyBinaryFrame(frame));
    });
    connect(socket, &QWebSocket::textMessageReceived, this, [this, socket](const QString &frame) {
        if (m_socket.get() == socket)
            received(parsePtyTextFrame(frame));
    });
    connect(socket, &QWebSocket::pong, this, [this] { m_sinceHeard.restart(); });
    connect(socket, &QWebSocket::disconnected, this, [this, socket] {
        // The process goes on; a client may attach again.
        if (m_socket.get() == socket) {
            m_keepAlive.stop();
            socket->disconnect(this);
            m_socket.release()->deleteLater();
        }
    });
    if (!m_job)
        start(attachment.pty, attachment.window);
    // What was kept first, then `connected`, then the live output: nothing lost or doubled
    // in between, as all of it happens here, in one go.
    const qint64 oldest = m_total - m_retained.size();
    const qint64 from = std::max(attachment.since, oldest);
    if (from < m_total)
        m_socket->sendBinaryMessage(ptyReplayFrame(quint64(from), QByteArrayView(m_retained).sliced(from - oldest)));
    if (m_socket)
        m_socket->sendTextMessage(QString::fromUtf8(ptyConnectedFrame(m_id, m_pty)));
}

void PtySession::start(bool pty, QSize window)
{
    m_pty = pty;
    TerminalRequest request;
    request.pty = pty;
    if (isTerminalSize(window.width(), window.height())) {
        request.columns = window.width();
        request.rows = window.height();
    }
    request.cwd = m_request.cwd;
    request.env = m_request.env;
    // Upstream runs bash: `-c` with a command, else interactive. Without a command the
    // runner starts the sandbox user's own shell.
    if (!m_request.command.isEmpty())
        request.argv = {u"bash"_s, u"-c"_s, m_request.command};
    TerminalJob *job = m_runner->openTerminal(m_sandboxId, request);
    m_job = job;
    connect(job, &CommandJob::output, this, [this](CommandJob::Stream stream, const QByteArray &data) {
        keep(stream == CommandJob::Stream::Stderr ? PtyChannel::Stderr : PtyChannel::Stdout, data);
    });
    connect(job, &AsyncJob::finished, this, [this, job] {
        if (m_job != job)
            return;
        // A job that started has a command id.
        if (job->commandId().isEmpty() && job->error()) {
            // Upstream's answer to a process that cannot start: an error frame, and the end.
            m_job = nullptr;
            if (job->error()->code == u"SANDBOX_NOT_FOUND"_s)
                emit sandboxGone(m_sandboxId);
            if (m_socket) {
                m_socket->sendTextMessage(QString::fromUtf8(ptyErrorFrame(u"START_FAILED"_s, job->error()->message)));
                detach(int(QWebSocketProtocol::CloseCodeAbnormalDisconnection), u"start failed"_s);
            }
            return;
        }
        processEnded();
    });
    job->start();
}

void PtySession::keep(PtyChannel channel, const QByteArray &data)
{
    m_retained.append(data);
    // Trimmed only once twice as much is kept: trimming at every chunk moved a MiB for each.
    if (m_retained.size() > 2 * RetainedBytes)
        m_retained.remove(0, m_retained.size() - RetainedBytes);
    m_total += data.size();
    if (m_socket)
        sendLive(channel, data);
}

void PtySession::sendLive(PtyChannel channel, const QByteArray &data)
{
    for (qsizetype at = 0; at < data.size(); at += PtyChunkBytes)
        m_socket->sendBinaryMessage(ptyOutputFrame(channel, QByteArrayView(data).sliced(at, std::min(PtyChunkBytes, data.size() - at))));
    if (m_socket->bytesToWrite() > BacklogLimitBytes)
        cut();
}

void PtySession::processEnded()
{
    TerminalJob *job = m_job;
    m_job = nullptr;
    // -1 for a process a signal ended, as upstream reports it.
    const int exitCode = job && job->exitCode() ? *job->exitCode() : -1;
    if (job && job->error() && job->error()->code == u"SANDBOX_NOT_FOUND"_s)
        emit sandboxGone(m_sandboxId);
    if (!m_socket)
        return;
    m_socket->sendTextMessage(QString::fromUtf8(ptyExitFrame(exitCode)));
    // The client closes on the exit frame; closing first here would drop what it still
    // sends (its end of input, say), and the kernel answers that with a reset, which can
    // take the unread exit frame with it on the client's side. A client that does not close
    // is closed a little later.
    QPointer<QWebSocket> socket = m_socket.get();
    QTimer::singleShot(ClientCloseWaitMs, this, [this, socket] {
        if (socket && m_socket.get() == socket)
            detach(int(QWebSocketProtocol::CloseCodeNormal), u"process exited"_s);
    });
}

void PtySession::received(const PtyClientFrame &frame)
{
    m_sinceHeard.restart();
    switch (frame.kind) {
    case PtyClientFrame::Kind::Ignored:
        return;
    case PtyClientFrame::Kind::Ping:
        m_socket->sendTextMessage(QString::fromUtf8(ptyPongFrame()));
        return;
    case PtyClientFrame::Kind::Unknown:
        m_socket->sendTextMessage(
            QString::fromUtf8(ptyErrorFrame(u"INVALID_FRAME"_s, u"unknown frame type \"%1\""_s.arg(frame.type))));
        return;
    default:
        break;
    }
    if (!m_job)
        return;
    switch (frame.kind) {
    case PtyClientFrame::Kind::Input:
        // Input the process does not read is not held for it without end.
        if (m_job->pendingInput() + frame.data.size() > BacklogLimitBytes)
            return cut();
        return m_job->writeInput(frame.data);
    case PtyClientFrame::Kind::EndOfInput:
        return m_job->closeInput();
    case PtyClientFrame::Kind::Resize:
        return m_job->resize(frame.columns, frame.rows);
    case PtyClientFrame::Kind::Signal:
        return m_job->sendSignal(frame.signal);
    default:
        return;
    }
}

void PtySession::cut()
{
    // At once, not with a close frame queued behind megabytes: the client attaches again
    // with `since` and gets what it missed from the kept output.
    m_keepAlive.stop();
    if (QWebSocket *socket = m_socket.release()) {
        socket->disconnect(this);
        socket->abort();
        socket->deleteLater();
    }
}

void PtySession::detach(int closeCode, const QString &reason)
{
    m_keepAlive.stop();
    if (m_socket)
        closeAndRelease(m_socket.release(), closeCode, reason);
}

void PtySession::end()
{
    if (TerminalJob *job = m_job) {
        m_job = nullptr;
        job->disconnect(this);
        job->cancel();
        if (m_socket)
            m_socket->sendTextMessage(QString::fromUtf8(ptyExitFrame(-1)));
        return detach(int(QWebSocketProtocol::CloseCodeNormal), u"process exited"_s);
    }
    detach(int(QWebSocketProtocol::CloseCodeGoingAway), u"session deleted"_s);
}

PtySessions::PtySessions(Runner *runner, QObject *parent)
    : QObject(parent)
    , m_runner(runner)
{
    m_sweep.setInterval(SweepIntervalMs);
    connect(&m_sweep, &QTimer::timeout, this, &PtySessions::sweep);
    m_sweep.start();
}

void PtySessions::sweep()
{
    for (auto it = m_sessions.cbegin(); it != m_sessions.cend(); ++it) {
        const QString sandboxId = it.key();
        SandboxJob *job = m_runner->getSandbox(sandboxId);
        connect(job, &AsyncJob::finished, this, [this, job, sandboxId] {
            if (job->error() && job->error()->code == u"SANDBOX_NOT_FOUND"_s)
                removeAll(sandboxId);
        });
        job->start();
    }
}

PtySession *PtySessions::create(const QString &sandboxId, PtyRequest request)
{
    QHash<QString, PtySession *> &sessions = m_sessions[sandboxId];
    if (sessions.size() >= MaxPerSandbox)
        return nullptr;
    const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    auto *session = new PtySession(m_runner, sandboxId, id, std::move(request), this);
    connect(session, &PtySession::sandboxGone, this, [this](const QString &gone) {
        // Not while the session that says so is still on the stack.
        QMetaObject::invokeMethod(this, [this, gone] { removeAll(gone); }, Qt::QueuedConnection);
    });
    sessions.insert(id, session);
    return session;
}

PtySession *PtySessions::find(const QString &sandboxId, const QString &id) const
{
    return m_sessions.value(sandboxId).value(id);
}

bool PtySessions::remove(const QString &sandboxId, const QString &id)
{
    const auto sandbox = m_sessions.find(sandboxId);
    if (sandbox == m_sessions.end())
        return false;
    PtySession *session = sandbox->take(id);
    if (sandbox->isEmpty())
        m_sessions.erase(sandbox);
    if (!session)
        return false;
    delete session;
    return true;
}

void PtySessions::removeAll(const QString &sandboxId)
{
    const QHash<QString, PtySession *> sessions = m_sessions.take(sandboxId);
    qDeleteAll(sessions);
}

} // namespace Sandflow::Internal
