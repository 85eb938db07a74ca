#include "ptyterminaljob_p.h"

#include "restjob_p.h"
#include "shellquote.h"
#include "transport_p.h"
#include "wirejson_p.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QUrlQuery>


using namespace Qt::StringLiterals;

namespace Sandflow::Internal {

namespace {

/// POST /pty's body: execd runs `command` with `bash -c`, so the program and its arguments
/// are quoted into one; no command is an interactive shell. `envs` is Sandflow's addition.
QJsonObject ptyBody(const TerminalRequest &request)
{
    QJsonObject body;
    if (!request.cwd.isEmpty())
        body.insert(u"cwd"_s, request.cwd);
    if (!request.argv.isEmpty()) {
        QStringList words;
        for (const QString &word : request.argv)
            words.append(shellQuoted(word));
        body.insert(u"command"_s, u"exec "_s + words.join(u' '));
    }
    QJsonObject env;
    for (auto it = request.env.cbegin(); it != request.env.cend(); ++it)
        env.insert(it.key(), it.value());
    if (!env.isEmpty())
        body.insert(u"envs"_s, env);
    return body;
}

std::optional<QString> sessionIdFrom(const HttpResult &answer, QString &id)
{
    // It goes into paths: an id that could lead elsewhere (`../`) is refused.
    static const QRegularExpression plain(u"^[A-Za-z0-9_-]{1,128}$"_s);
    id = QJsonDocument::fromJson(answer.body).object().value(u"session_id"_s).toString();
    if (!plain.match(id).hasMatch())
        return u"the answer's session_id is not an id: `%1`"_s.arg(id.left(80));
    return std::nullopt;
}

} // namespace

PtyTerminalJob::PtyTerminalJob(Transport &transport, OpenSandboxEndpoint execd, TerminalRequest request)
    : m_transport(transport)
    , m_execd(std::move(execd))
    , m_request(std::move(request))
{
    connect(&m_socket, &QWebSocket::binaryMessageReceived, this, &PtyTerminalJob::frameReceived);
    connect(&m_socket, &QWebSocket::textMessageReceived, this, &PtyTerminalJob::textReceived);
    connect(&m_socket, &QWebSocket::disconnected, this, &PtyTerminalJob::socketClosed);
    connect(&m_socket, &QWebSocket::bytesWritten, this, &TerminalJob::inputWritten);
}

PtyTerminalJob::~PtyTerminalJob()
{
    m_socket.disconnect(this);
    m_socket.abort();
}

void PtyTerminalJob::doStart()
{
    if (m_request.uid || m_request.gid)
        return endWith(failure(u"INVALID_ARGUMENT"_s, u"execd's PTY sessions run as the sandbox's own user only"_s));
    if (m_request.pty && !isTerminalSize(m_request.columns, m_request.rows))
        return endWith(failure(u"INVALID_TERMINAL_SIZE"_s,
                               u"a terminal of %1x%2 is not one to open"_s.arg(m_request.columns).arg(m_request.rows)));
    auto *create = new RestJob<QString>(m_transport,
                                        withJsonBody(m_transport.execd(m_execd, "POST", u"/pty"_s),
                                                     QJsonDocument(ptyBody(m_request))),
                                        &sessionIdFrom);
    m_create = create;
    connect(create, &AsyncJob::finished, this, [this, create] {
        if (create->error())
            return endWith(create->error());
        m_sessionId = create->result();
        openSocket();
    });
    create->start();
}

void PtyTerminalJob::openSocket()
{
    QUrl url = m_transport.execd(m_execd, "GET", u"/pty/%1/ws"_s.arg(m_sessionId)).url;
    url.setScheme(url.scheme() == u"https"_s ? u"wss"_s : u"ws"_s);
    QUrlQuery query{{u"pty"_s, m_request.pty ? u"1"_s : u"0"_s}};
    if (m_request.pty) {
        // sandflow serve starts the terminal at this size; upstream's execd ignores these
        // and starts at 80x24, until the resize sent once connected.
        query.addQueryItem(u"cols"_s, QString::number(m_request.columns));
        query.addQueryItem(u"rows"_s, QString::number(m_request.rows));
    }
    url.setQuery(query);
    QNetworkRequest request = m_transport.networkRequest(m_transport.execd(m_execd, "GET", {}), {});
    request.setUrl(url);
    m_socket.open(request);
}

void PtyTerminalJob::frameReceived(const QByteArray &frame)
{
    if (frame.isEmpty() || isFinished())
        return;
    switch (frame.at(0)) {
    case 0x01:
        emit output(Stream::Stdout, frame.mid(1));
        break;
    case 0x02:
        emit output(Stream::Stderr, frame.mid(1));
        break;
    case 0x03:
        // Output from before this client came (a fresh session has little or none): after
        // the 8-byte offset, it reads as stdout.
        if (frame.size() > 9)
            emit output(Stream::Stdout, frame.mid(9));
        break;
    default:
        break;
    }
}

void PtyTerminalJob::textReceived(const QString &frame)
{
    if (isFinished())
        return;
    const QJsonObject object = QJsonDocument::fromJson(frame.toUtf8()).object();
    const QString type = object.value(u"type"_s).toString();
    if (type == u"connected"_s) {
        if (m_connected)
            return;
        m_connected = true;
        m_commandId = m_sessionId;
        emit started(m_sessionId);
        // execd starts every terminal at 80x24.
        if (m_request.pty && (m_request.columns != 80 || m_request.rows != 24))
            resize(m_request.columns, m_request.rows);
        if (!m_early.isEmpty())
            writeInput(std::exchange(m_early, {}));
        if (m_inputClosed) {
            m_inputClosed = false;
            closeInput();
        }
    } else if (type == u"exit"_s) {
        const int code = object.value(u"exit_code"_s).toInt(-1);
        if (code >= 0)
            m_exitCode = code;
        if (code == 0)
            return endWith(std::nullopt);
        QJsonObject context{{u"commandId"_s, m_sessionId}};
        if (code > 0) {
            context.insert(u"exitCode"_s, code);
            return endWith(JobError{JobError::Kind::Task, u"COMMAND_FAILED"_s, u"exit status %1"_s.arg(code), context});
        }
        context.insert(u"signal"_s, u"unknown"_s);
        endWith(JobError{JobError::Kind::Task, u"COMMAND_KILLED"_s, u"the process was stopped by a signal"_s, context});
    } else if (type == u"error"_s) {
        const QString code = object.value(u"code"_s).toString();
        // Before `connected` an error ends the attempt; after it, it is about one frame.
        if (!m_connected || code == u"STDIN_WRITE_FAILED"_s)
            endWith(failure(code == u"START_FAILED"_s ? u"COMMAND_START_FAILED"_s : code,
                            object.value(u"error"_s).toString()));
    }
}

void PtyTerminalJob::socketClosed()
{
    if (isFinished())
        return;
    const QString reason = m_socket.closeReason().isEmpty() ? m_socket.errorString() : m_socket.closeReason();
    endWith(JobError{JobError::Kind::Infra, u"CONNECTION_FAILED"_s,
                     u"the terminal's connection to %1 ended before its process did: %2"_s
                         .arg(m_socket.requestUrl().toString(QUrl::RemoveQuery), reason),
                     {{u"commandId"_s, m_sessionId}, {u"closeCode"_s, int(m_socket.closeCode())}}});
}

void PtyTerminalJob::writeInput(const QByteArray &data)
{
    if (isFinished() || data.isEmpty())
        return;
    if (!m_connected) {
        m_early += data;
        return;
    }
    m_socket.sendBinaryMessage('\0' + data);
}

void PtyTerminalJob::closeInput()
{
    if (isFinished())
        return;
    if (!m_connected) {
        m_inputClosed = true;
        return;
    }
    // A terminal reads its EOF character; pipes take Sandflow's eof frame (upstream's
    // execd has no way to close them).
    if (m_request.pty)
        m_socket.sendBinaryMessage(QByteArray("\0\x04", 2));
    else
        sendControl({{u"type"_s, u"eof"_s}});
}

void PtyTerminalJob::resize(int columns, int rows)
{
    if (!m_connected || isFinished() || !m_request.pty || !isTerminalSize(columns, rows))
        return;
    sendControl({{u"type"_s, u"resize"_s}, {u"cols"_s, columns}, {u"rows"_s, rows}});
}

void PtyTerminalJob::sendSignal(int signal)
{
    const QString name = terminalSignalName(signal);
    if (!m_connected || isFinished() || name.isEmpty())
        return;
    sendControl({{u"type"_s, u"signal"_s}, {u"signal"_s, name}});
}

qint64 PtyTerminalJob::pendingInput() const
{
    return m_early.size() + m_socket.bytesToWrite();
}

void PtyTerminalJob::sendControl(const QJsonObject &frame)
{
    m_socket.sendTextMessage(QString::fromUtf8(QJsonDocument(frame).toJson(QJsonDocument::Compact)));
}

void PtyTerminalJob::doCancel()
{
    if (m_create)
        m_create->cancel();
    // Cancelled again while the session is being deleted: no more waiting.
    if (m_removal)
        return finish(cancelledError());
    endWith(cancelledError());
}

void PtyTerminalJob::endWith(std::optional<JobError> error)
{
    if (isFinished() || m_removal)
        return;
    m_socket.disconnect(this);
    m_socket.close();
    if (m_sessionId.isEmpty())
        return finish(std::move(error));
    // execd keeps a session, and a process a client left, until it is deleted: the job ends
    // once it is, whether the deletion worked or not.
    auto *removal = new RestJob<Nothing>(m_transport, m_transport.execd(m_execd, "DELETE", u"/pty/"_s + m_sessionId));
    m_removal = removal;
    connect(removal, &AsyncJob::finished, this, [this, error = std::move(error)] {
        if (!isFinished())
            finish(error);
    });
    removal->start();
}

JobError PtyTerminalJob::failure(const QString &code, const QString &message) const
{
    return JobError{JobError::Kind::Task, code, message, {{u"commandId"_s, m_sessionId}}};
}

} // namespace Sandflow::Internal
