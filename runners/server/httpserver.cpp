#include "httpserver_p.h"

#include "httpframing_p.h"

#include <QHttpServerRequest>
#include <QMetaEnum>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUuid>
#include <QWebSocket>

#include <algorithm>
#include <limits>

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// Gives every accepted socket its HttpConnection before the parser connects to it.
class HttpListener final : public QTcpServer
{
public:
    HttpListener(const HttpLimits &limits, HttpConnection::Dispatch dispatch, UpgradeCheck upgradeCheck, QObject *parent)
        : QTcpServer(parent)
        , m_limits(limits)
        , m_dispatch(std::move(dispatch))
        , m_upgradeCheck(std::move(upgradeCheck))
    {
        // Room for a burst of clients connecting at once. With Qt's defaults (a backlog of 50)
        // the kernel dropped the connections beyond it, and each came back only with TCP's
        // retry a second later: 5,000 clients took 99 s to get in.
        setListenBacklogSize(4096);
        setMaxPendingConnections(4096);
    }

protected:
    void incomingConnection(qintptr descriptor) override
    {
        // Short of the limit of open files, a new client is turned away at once. At the
        // limit, accept() would fail, the listening socket stay readable, and the server spin;
        // Qt re-enables a paused listener each time a connection is taken, so it cannot wait.
        if (*m_connections >= m_maxConnections)
            return turnAway(int(descriptor));
        auto *socket = new QTcpSocket(this);
        if (!socket->setSocketDescriptor(descriptor)) {
            delete socket;
            return;
        }
        new ConnectionCount(socket, m_connections);
        // Streams write small events one at a time: with Nagle's algorithm each would wait
        // for the client's delayed acknowledgement of the one before (about 40 ms).
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        new HttpConnection(socket, m_limits, m_dispatch, m_upgradeCheck);
        addPendingConnection(socket);
    }

private:
    /// One connection counted while its socket lives. A child of the socket, not a
    /// connection to its `destroyed` signal: Qt's WebSocket upgrade and QWebSocket both
    /// disconnect everything from the socket's signals. The count is shared, as the listener
    /// may go before its sockets' children do.
    class ConnectionCount final : public QObject
    {
    public:
        ConnectionCount(QTcpSocket *socket, std::shared_ptr<qint64> count)
            : QObject(socket)
            , m_count(std::move(count))
        {
            ++*m_count;
        }
        ~ConnectionCount() override { --*m_count; }

    private:
        std::shared_ptr<qint64> m_count;
    };

    /// 503 and close, without reading the request: the client may try again shortly.
    static void turnAway(int descriptor)
    {
        static constexpr char body[] =
            R"({"code":"TOO_MANY_CONNECTIONS","message":"The server has as many connections as it can hold."})";
        static const QByteArray answer = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                         "Content-Length: " + QByteArray::number(qsizetype(sizeof body - 1))
                                         + "\r\nConnection: close\r\nRetry-After: 1\r\n\r\n" + body;
        [[maybe_unused]] const ssize_t sent = ::send(descriptor, answer.constData(), size_t(answer.size()),
                                                     MSG_DONTWAIT | MSG_NOSIGNAL);
        ::close(descriptor);
    }

    /// Connections the limit of open files leaves room for, with a reserve for everything
    /// else the process opens (sandboxes' pipes, files being sent).
    static qint64 connectionBudget()
    {
        rlimit files{};
        if (::getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur == RLIM_INFINITY)
            return std::numeric_limits<qint64>::max();
        const qint64 limit = qint64(files.rlim_cur);
        return std::max<qint64>(1, limit - std::max<qint64>(64, limit / 8));
    }

    HttpLimits m_limits;
    HttpConnection::Dispatch m_dispatch;
    UpgradeCheck m_upgradeCheck;
    std::shared_ptr<qint64> m_connections = std::make_shared<qint64>(0);
    const qint64 m_maxConnections = connectionBudget();
};

QByteArray methodName(QHttpServerRequest::Method method)
{
    return QByteArray(QMetaEnum::fromType<QHttpServerRequest::Method>().valueToKey(int(method))).toUpper();
}

/// An RFC 4122 UUID in its dashed form, as the lifecycle spec declares the header
/// (`format: uuid`); a client's own id is sent back as it came.
QByteArray newRequestId()
{
    return QUuid::createUuid().toByteArray(QUuid::WithoutBraces);
}

/// What ties a handshake to the WebSocket Qt makes of it.
QString peerKey(const QHostAddress &address, quint16 port)
{
    return address.toString() + u'|' + QString::number(port);
}

/// A handshake Qt's WebSocket server would answer without a word (closing the connection)
/// gets an answer that says what is wrong.
std::optional<HttpRefusal> malformedHandshake(const HttpRequest &request)
{
    if (request.method != "GET")
        return HttpRefusal{400, u"INVALID_HANDSHAKE"_s, "A WebSocket handshake is a GET."};
    if (request.header("sec-websocket-version") != "13")
        return HttpRefusal{426, u"INVALID_HANDSHAKE"_s, "Only WebSocket version 13 is spoken here."};
    if (QByteArray::fromBase64(request.header("sec-websocket-key")).size() != 16)
        return HttpRefusal{400, u"INVALID_HANDSHAKE"_s, "Sec-WebSocket-Key is not 16 bytes in base64."};
    return std::nullopt;
}

} // namespace

HttpServer::HttpServer(const HttpLimits &limits, HttpConnection::Dispatch dispatch, QObject *parent)
    : QAbstractHttpServer(parent)
    , m_limits(limits)
    , m_dispatch(std::move(dispatch))
{
    m_clock.start();
}

void HttpServer::acceptWebSockets(UpgradeCheck check, WebSocketAccepted accepted)
{
    m_upgradeCheck = [check = std::move(check)](const HttpRequest &request) -> std::optional<HttpRefusal> {
        if (std::optional<HttpRefusal> refusal = malformedHandshake(request))
            return refusal;
        return check(request);
    };
    m_webSocketAccepted = std::move(accepted);
    connect(this, &QAbstractHttpServer::newWebSocketConnection, this, &HttpServer::takeWebSockets,
            Qt::UniqueConnection);
}

bool HttpServer::acceptUpgrade(HttpRequest request, QTcpSocket *socket, HttpConnection *connection)
{
    // Handshakes whose WebSocket never came (the client left at once) are forgotten after
    // a while, so that a client cannot grow the table.
    constexpr qint64 ForgetAfterMs = 30'000;
    const qint64 now = m_clock.elapsed();
    m_pendingUpgrades.removeIf([now](const auto &entry) { return now - entry.value().checkedAtMs > ForgetAfterMs; });
    const QString key = peerKey(socket->peerAddress(), socket->peerPort());
    m_pendingUpgrades.insert(key, {std::move(request), now});
    connection->handOver();
    return true;
}

void HttpServer::takeWebSockets()
{
    while (hasPendingWebSocketConnections()) {
        std::unique_ptr<QWebSocket> socket = nextPendingWebSocketConnection();
        const auto pending = m_pendingUpgrades.find(peerKey(socket->peerAddress(), socket->peerPort()));
        if (pending == m_pendingUpgrades.end()) {
            socket->close(QWebSocketProtocol::CloseCodePolicyViolated, u"unexpected connection"_s);
            continue;
        }
        const PendingUpgrade upgrade = std::move(pending.value());
        m_pendingUpgrades.erase(pending);
        m_webSocketAccepted(socket.release(), upgrade.request);
    }
}

bool HttpServer::start(const QHostAddress &address, quint16 port, QString *error)
{
    auto *listener = new HttpListener(m_limits, m_dispatch, m_upgradeCheck, this);
    if (!listener->listen(address, port)) {
        *error = listener->errorString();
        delete listener;
        return false;
    }
    m_port = listener->serverPort();
    bind(listener);
    return true;
}

bool HttpServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    HttpConnection *connection = HttpConnection::of(socket);
    if (!connection) {
        // Its connection let it go to a WebSocket: nothing more is served on it as HTTP.
        socket->abort();
        return true;
    }
    // The connection checks the first head it sees raw; a request pipelined behind it is
    // checked here, as the parser split it.
    if (const std::optional<FramingProblem> problem = framingProblem(request.headers())) {
        connection->refuse(problem->status, problem->code, problem->message);
        return true;
    }
    HttpRequest copy;
    copy.method = methodName(request.method());
    const QUrl url = request.url();
    copy.path = url.path(QUrl::FullyDecoded);
    copy.encodedQuery = url.query(QUrl::FullyEncoded).toLatin1();
    copy.query = request.query();
    copy.headers = request.headers();
    copy.body = request.body();
    copy.peer = request.remoteAddress();
    // Qt asks about a WebSocket handshake before it upgrades: true lets it. The connection
    // checked it as its head came in, and refused it there if it had to.
    if (copy.header("upgrade").toLower() == "websocket")
        return connection->upgradeAccepted() && acceptUpgrade(std::move(copy), socket, connection);
    QByteArray requestId = copy.header("x-request-id");
    if (requestId.isEmpty())
        requestId = newRequestId();
    connection->enqueue(new HttpExchange(std::move(copy), std::move(requestId), connection));
    return true;
}

void HttpServer::missingHandler(const QHttpServerRequest &, QTcpSocket *)
{
    // handleRequest takes every request; the router answers 404 itself.
}

} // namespace Sandflow::Internal
