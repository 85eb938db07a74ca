#include "httpconnection_p.h"

#include "httpexchange_p.h"
#include "httpframing_p.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QUrl>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace Sandflow::Internal {

HttpConnection::HttpConnection(QTcpSocket *socket, const HttpLimits &limits, Dispatch dispatch, UpgradeCheck upgradeCheck)
    : QObject(socket)
    , m_socket(socket)
    , m_limits(limits)
    , m_dispatch(std::move(dispatch))
    , m_upgradeCheck(std::move(upgradeCheck))
{
    setObjectName(u"HttpConnection"_s);
    m_idleTimer.setSingleShot(true);
    m_idleTimer.setInterval(m_limits.idleTimeoutMs);
    connect(&m_idleTimer, &QTimer::timeout, this, [this] {
        if (!m_active && m_socket)
            m_socket->disconnectFromHost();
    });
    // Connected before the parser's own slot, so a head announcing an oversized body is
    // refused before the body is read into memory.
    connect(socket, &QTcpSocket::readyRead, this, [this] {
        updateIdleTimer();
        countIncoming();
    });
    connect(socket, &QTcpSocket::bytesWritten, this, [this] {
        updateIdleTimer();
        if (m_active)
            emit m_active->bytesSent();
    });
    connect(socket, &QTcpSocket::disconnected, this, &HttpConnection::clientLeft);
    connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    updateIdleTimer();
}

HttpConnection *HttpConnection::of(QTcpSocket *socket)
{
    return socket->findChild<HttpConnection *>(u"HttpConnection"_s, Qt::FindDirectChildrenOnly);
}

namespace {

/// A request as its head says it (no body): what a WebSocket handshake is decided on.
HttpRequest requestOfHead(const QByteArray &head, const QHostAddress &peer)
{
    HttpRequest request;
    const QList<QByteArray> lines = head.split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    request.method = requestLine.value(0).toUpper();
    const QUrl target(u"http://host"_s + QString::fromLatin1(requestLine.value(1)));
    request.path = target.path(QUrl::FullyDecoded);
    request.encodedQuery = target.query(QUrl::FullyEncoded).toLatin1();
    request.query = QUrlQuery(target);
    for (const QByteArray &line : lines.mid(1)) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            request.headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
    }
    request.peer = peer;
    return request;
}

} // namespace

void HttpConnection::countIncoming()
{
    if (m_closing || !m_socket)
        return;
    const qint64 arrived = m_socket->bytesAvailable();
    m_requestBytes += arrived;
    if (!m_headComplete) {
        m_head += m_socket->peek(qMin<qint64>(arrived, m_limits.maxHeaderBytes - m_head.size() + 4));
        const qsizetype end = m_head.indexOf("\r\n\r\n");
        if (end < 0) {
            if (m_head.size() >= m_limits.maxHeaderBytes)
                refuse(431, u"HEADER_TOO_LARGE"_s,
                       "The request's header is larger than " + QByteArray::number(m_limits.maxHeaderBytes) + " bytes.");
            return;
        }
        m_headComplete = true;
        if (const std::optional<FramingProblem> problem = framingProblem(QByteArrayView(m_head).first(end)))
            return refuse(problem->status, problem->code, problem->message);
        bool webSocket = false;
        bool connectionUpgrade = false;
        for (const QByteArray &line : m_head.left(end).split('\n')) {
            const qsizetype colon = line.indexOf(':');
            if (colon < 0)
                continue;
            const QByteArray name = line.left(colon).trimmed().toLower();
            const QByteArray value = line.mid(colon + 1).trimmed();
            webSocket |= name == "upgrade" && value.toLower() == "websocket";
            connectionUpgrade |= name == "connection" && value.toLower().contains("upgrade");
            if (name != "content-length")
                continue;
            // A body announced as too large is refused before it is read into memory.
            bool ok = false;
            const qint64 length = value.toLongLong(&ok);
            if (ok && length > m_limits.maxBodyBytes)
                return refuse(413, u"REQUEST_TOO_LARGE"_s, "The request body has " + QByteArray::number(length)
                                       + " bytes; the server accepts at most " + QByteArray::number(m_limits.maxBodyBytes) + '.');
        }
        if (webSocket)
            return decideHandshake(m_head.left(end), connectionUpgrade);
    }
    // Bodies without a length (chunked) are counted as they come.
    if (m_requestBytes > m_limits.maxBodyBytes + m_limits.maxHeaderBytes)
        refuse(413, u"REQUEST_TOO_LARGE"_s, "The request body is larger than the " + QByteArray::number(m_limits.maxBodyBytes)
                        + " bytes the server accepts.");
}

// Qt's HTTP server takes a WebSocket handshake over before it is dispatched (when the
// Connection header says upgrade too), and closes it without a word when it is not let
// through: it is decided here. One that Qt would not take over is refused too: Qt would
// serve it as a plain request, on a socket already handed over.
void HttpConnection::decideHandshake(const QByteArray &head, bool connectionUpgrade)
{
    if (!m_upgradeCheck)
        return refuse(400, u"GENERAL::UNSUPPORTED"_s, "This server takes no WebSocket connections.");
    if (!connectionUpgrade)
        return refuse(400, u"INVALID_HANDSHAKE"_s, "A WebSocket handshake says `Connection: Upgrade`.");
    if (const std::optional<HttpRefusal> refusal = m_upgradeCheck(requestOfHead(head, m_socket->peerAddress())))
        return refuse(refusal->status, refusal->code, refusal->message);
    m_upgradeAccepted = true;
}

void HttpConnection::refuse(int status, const QString &code, const QByteArray &message)
{
    if (m_closing)
        return;
    m_closing = true;
    if (m_active) {
        // An answer is under way on this connection: the refusal cannot be put in its middle.
        m_socket->abort();
        return;
    }
    // Qt's parser must not read the refused request on: it would dispatch it, or upgrade it
    // to a WebSocket, after this answer.
    disconnect(m_socket, &QIODevice::readyRead, nullptr, nullptr);
    const QByteArray body = QJsonDocument(QJsonObject{{u"code"_s, code}, {u"message"_s, QString::fromUtf8(message)}})
                                .toJson(QJsonDocument::Compact);
    write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status)
          + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size())
          + "\r\nConnection: close\r\n\r\n" + body);
    m_socket->disconnectFromHost();
}

void HttpConnection::handOver()
{
    m_closing = true;
    m_idleTimer.stop();
    if (m_socket)
        m_socket->disconnect(this);
    m_socket = nullptr;
    deleteLater();
}

void HttpConnection::enqueue(HttpExchange *exchange)
{
    m_head.clear();
    m_headComplete = false;
    m_upgradeAccepted = false;
    m_requestBytes = 0;
    if (m_closing) {
        exchange->deleteLater();
        return;
    }
    if (m_queue.size() >= m_limits.maxQueuedRequests) {
        // A client that sends far ahead of its answers gets no answers at all: an error
        // response cannot be put between the ones already under way.
        exchange->deleteLater();
        if (m_socket)
            m_socket->abort();
        return;
    }
    m_queue.append(exchange);
    if (!m_active)
        dispatchNext();
}

void HttpConnection::dispatchNext()
{
    while (!m_queue.isEmpty() && !m_active)
        m_active = m_queue.takeFirst();
    updateIdleTimer();
    if (!m_active)
        return;
    // Queued, so that a pipelined request answered at once does not nest in the one before.
    QMetaObject::invokeMethod(this, [this, exchange = m_active] {
        if (exchange && exchange == m_active)
            m_dispatch(exchange);
    }, Qt::QueuedConnection);
}

void HttpConnection::write(QByteArrayView bytes)
{
    if (m_socket && m_socket->state() == QAbstractSocket::ConnectedState)
        m_socket->write(bytes.data(), bytes.size());
}

qint64 HttpConnection::unsentBytes() const
{
    return m_socket ? m_socket->bytesToWrite() : 0;
}

void HttpConnection::exchangeDone(HttpExchange *exchange, bool closeConnection)
{
    exchange->deleteLater();
    if (exchange != m_active)
        return;
    m_active = nullptr;
    if (closeConnection) {
        m_closing = true;
        if (m_socket)
            m_socket->disconnectFromHost();
        return;
    }
    dispatchNext();
}

void HttpConnection::clientLeft()
{
    m_closing = true;
    m_idleTimer.stop();
    const auto waiting = std::exchange(m_queue, {});
    if (const QPointer<HttpExchange> active = std::exchange(m_active, nullptr))
        active->abandon();
    for (const QPointer<HttpExchange> &exchange : waiting) {
        if (exchange)
            exchange->abandon();
    }
}

void HttpConnection::updateIdleTimer()
{
    if (m_active || m_closing)
        m_idleTimer.stop();
    else
        m_idleTimer.start();
}

} // namespace Sandflow::Internal
