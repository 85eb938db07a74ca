#include "sandboxserver.h"

#include "httpserver_p.h"
#include "execderror_p.h"
#include "lifecyclewire_p.h"
#include "ptysessions_p.h"
#include "runner.h"
#include "serverroutes_p.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QUrl>
#include <QWebSocket>

#include <algorithm>
#include <climits>

using namespace Qt::StringLiterals;

namespace Sandflow {

using namespace Internal;

namespace {

/// Compares in time that does not depend on where the strings differ.
bool sameSecret(const QByteArray &given, const QByteArray &expected)
{
    unsigned char difference = given.size() == expected.size() ? 0 : 1;
    for (qsizetype i = 0; i < given.size(); ++i)
        difference |= static_cast<unsigned char>(given[i] ^ expected[i % qMax<qsizetype>(expected.size(), 1)]);
    return difference == 0 && !expected.isEmpty();
}

/// Where `/sandboxes/ID/proxy/PORT` ends in `path`, or -1.
qsizetype proxyPrefixEnd(const QString &path, const QStringList &segments, bool versioned)
{
    QString prefix = versioned ? u"/v1"_s : QString();
    prefix += u"/sandboxes/"_s + segments.at(1) + u"/proxy/"_s + segments.at(3);
    return path.startsWith(prefix) ? prefix.size() : -1;
}

/// The PTY session a WebSocket path names, `/[v1/]sandboxes/ID/proxy/44772/pty/SESSION/ws`:
/// {sandbox id, session id}, or nothing for any other path.
std::optional<std::pair<QString, QString>> ptySocketPath(const QString &path)
{
    QStringList segments = path.split(u'/', Qt::SkipEmptyParts);
    if (!segments.isEmpty() && segments.first() == u"v1"_s)
        segments.removeFirst();
    if (segments.size() != 7 || segments.at(0) != u"sandboxes"_s || segments.at(2) != u"proxy"_s
        || segments.at(3) != QString::number(ExecdPort) || segments.at(4) != u"pty"_s || segments.at(6) != u"ws"_s)
        return std::nullopt;
    return std::pair{segments.at(1), segments.at(5)};
}

/// A whole number at the start of `text`, as Go's Sscanf("%d") reads `since`; 0 otherwise.
qint64 leadingNumber(const QString &text)
{
    qsizetype end = text.startsWith(u'-') || text.startsWith(u'+') ? 1 : 0;
    while (end < text.size() && text.at(end).isDigit())
        ++end;
    bool ok = false;
    const qint64 number = text.left(end).toLongLong(&ok);
    return ok ? number : 0;
}

HttpRefusal refusalOf(const ApiError &error)
{
    return HttpRefusal{error.status, error.body.value(u"code"_s).toString(),
                       error.body.value(u"message"_s).toString().toUtf8()};
}

} // namespace

SandboxServer::SandboxServer(Runner *runner, Options options, QObject *parent)
    : QObject(parent)
    , m_runner(runner)
    , m_options(std::move(options))
    , m_ptySessions(std::make_unique<PtySessions>(runner))
{
}

SandboxServer::~SandboxServer() = default;

bool SandboxServer::start(QString *error)
{
    HttpLimits limits;
    limits.maxBodyBytes = m_options.maxBodyBytes;
    limits.idleTimeoutMs = m_options.idleTimeoutMs;
    m_http = std::make_unique<HttpServer>(limits, [this](HttpExchange *exchange) { dispatch(exchange); });
    m_http->acceptWebSockets([this](const HttpRequest &request) { return checkWebSocket(request); },
                             [this](QWebSocket *socket, const HttpRequest &request) { webSocketAccepted(socket, request); });
    if (!m_http->start(m_options.address, m_options.port, error)) {
        m_http.reset();
        return false;
    }
    return true;
}

quint16 SandboxServer::port() const
{
    return m_http ? m_http->port() : 0;
}

std::optional<ApiError> SandboxServer::accessRefusal(const HttpRequest &request) const
{
    if (m_options.apiKey.isEmpty()) {
        // Without a key, the only guard is that the client runs here. A web page does too:
        // its browser sends an Origin, and a page that rebinds a name to 127.0.0.1 sends its
        // own Host. Programs send neither.
        const QString host = QUrl(u"http://"_s + QString::fromLatin1(request.header("host"))).host();
        const bool loopbackHost = host.isEmpty() || host == u"localhost"_s || QHostAddress(host).isLoopback();
        if (request.header("origin").isEmpty() && loopbackHost)
            return std::nullopt;
        return ApiError::coded(403, u"FORBIDDEN"_s,
                               u"A server without an API key answers programs on this machine only, not web pages "
                               u"(the request has an Origin or a foreign Host)."_s);
    }
    const QByteArray given = request.header("open-sandbox-api-key");
    if (given.isEmpty())
        return missingApiKeyError();
    if (!sameSecret(given, m_options.apiKey.toUtf8()))
        return invalidApiKeyError();
    return std::nullopt;
}

bool SandboxServer::authorized(HttpExchange *exchange) const
{
    const std::optional<ApiError> refusal = accessRefusal(exchange->request());
    if (refusal)
        respondApiError(exchange, *refusal);
    return !refusal;
}

std::optional<HttpRefusal> SandboxServer::checkWebSocket(const HttpRequest &request) const
{
    if (const std::optional<ApiError> refusal = accessRefusal(request))
        return refusalOf(*refusal);
    const auto path = ptySocketPath(request.path);
    if (!path)
        return HttpRefusal{400, u"GENERAL::UNSUPPORTED"_s, "This server takes WebSocket connections on execd's PTY "
                                                             "route only: /sandboxes/ID/proxy/44772/pty/SESSION/ws."};
    const PtySession *session = m_ptySessions->find(path->first, path->second);
    if (!session)
        return refusalOf(execdError(404, u"CONTEXT_NOT_FOUND"_s, u"pty session %1 not found"_s.arg(path->second)));
    if (session->isAttached() && request.query.queryItemValue(u"takeover"_s) != u"1"_s)
        return refusalOf(execdError(409, u"ALREADY_CONNECTED"_s,
                                    u"another client is already connected to pty session %1"_s.arg(path->second)));
    return std::nullopt;
}

void SandboxServer::webSocketAccepted(QWebSocket *socket, const HttpRequest &request)
{
    const auto path = ptySocketPath(request.path);
    PtySession *session = path ? m_ptySessions->find(path->first, path->second) : nullptr;
    if (!session) {
        // Deleted between the handshake's check and now.
        socket->close(QWebSocketProtocol::CloseCodeGoingAway, u"session deleted"_s);
        socket->deleteLater();
        return;
    }
    PtySession::Attachment attachment;
    attachment.pty = request.query.queryItemValue(u"pty"_s) != u"0"_s;
    attachment.since = leadingNumber(request.query.queryItemValue(u"since"_s));
    // Sandflow's own: the terminal starts at the client's size, so that a command that asks
    // at once does not read upstream's 80x24 before the first resize comes.
    // PtySession::start() takes it only when isTerminalSize(); an int holds any it takes.
    const auto dimension = [&request](const QString &name) {
        return int(std::clamp<qint64>(leadingNumber(request.query.queryItemValue(name)), 0, INT_MAX));
    };
    attachment.window = QSize(dimension(u"cols"_s), dimension(u"rows"_s));
    session->attach(socket, attachment);
}

void SandboxServer::dispatch(HttpExchange *exchange)
{
    const HttpRequest &request = exchange->request();
    QElapsedTimer clock;
    clock.start();
    connect(exchange, &HttpExchange::completed, this, [this, clock, method = request.method, path = request.path](int status) {
        emit requestServed(u"%1 %2 %3 %4 ms"_s.arg(QString::fromLatin1(method), path).arg(status).arg(clock.elapsed()));
    });

    QStringList segments = request.path.split(u'/', Qt::SkipEmptyParts);
    // The health check lives at the root only, and answers without a key, as upstream's.
    if (segments == QStringList{u"health"_s}) {
        if (request.method != "GET")
            return respondWrongMethod(exchange);
        return exchange->respondJson(200, QJsonObject{{u"status"_s, u"healthy"_s}});
    }
    // Browsers ask before sending the API key from a page; the answer lets them, and the key
    // is still checked on the request itself.
    if (request.method == "OPTIONS" && !m_options.apiKey.isEmpty())
        return exchange->respondEmpty(204, {{"Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE"},
                                            {"Access-Control-Allow-Headers", "*"},
                                            {"Access-Control-Max-Age", "600"}});
    const bool versioned = !segments.isEmpty() && segments.first() == u"v1"_s;
    if (versioned)
        segments.removeFirst();
    if (segments.isEmpty() || !authorized(exchange))
        return segments.isEmpty() ? respondNoRoute(exchange) : void();

    const ServerContext context{m_runner, &m_options, port(), m_ptySessions.get()};
    if (segments.first() == u"sandboxes"_s) {
        if (segments.size() >= 4 && segments.at(2) == u"proxy"_s) {
            bool ok = false;
            const uint port = segments.at(3).toUInt(&ok);
            if (!ok || port == 0 || port > 65535)
                return respondNoRoute(exchange);
            if (port == ExecdPort)
                return routeExecd(context, exchange, segments.at(1), segments.mid(4));
            if (port == EgressPort)
                return routeEgress(context, exchange, segments.at(1), segments.mid(4));
            const qsizetype end = proxyPrefixEnd(request.path, segments, versioned);
            const QString rest = end < 0 ? QString() : request.path.mid(end);
            return relayToService(context, exchange, segments.at(1), quint16(port), rest.isEmpty() ? u"/"_s : rest);
        }
        return routeLifecycle(context, exchange, segments.mid(1));
    }
    // The JS SDK reports each create here, fire and forget; there is nothing to keep.
    if (segments == QStringList{u"metrics"_s, u"events"_s} && request.method == "POST")
        return exchange->respondEmpty(204);
    respondNoRoute(exchange);
}

void SandboxServer::stop()
{
    if (m_stopping)
        return;
    m_stopping = true;
    m_http.reset();
    SandboxFilter everything;
    everything.pageSize = std::numeric_limits<int>::max();
    auto *list = m_runner->listSandboxes(everything);
    connect(list, &AsyncJob::finished, this, [this, list] {
        const QList<SandboxInfo> sandboxes = list->error() ? QList<SandboxInfo>() : list->result().items;
        auto remaining = std::make_shared<qsizetype>(sandboxes.size());
        if (*remaining == 0)
            return emit stopped();
        for (const SandboxInfo &sandbox : sandboxes) {
            auto *deletion = m_runner->deleteSandbox(sandbox.id);
            connect(deletion, &AsyncJob::finished, this, [this, remaining] {
                if (--*remaining == 0)
                    emit stopped();
            });
            deletion->start();
        }
    });
    list->start();
}

void Internal::respondApiError(HttpExchange *exchange, const ApiError &error)
{
    exchange->respondJson(error.status, error.body);
}

std::optional<ApiError> Internal::sandboxStateError(const JobError &error)
{
    if (error.code == u"SANDBOX_NOT_FOUND"_s)
        return ApiError::coded(404, u"DOCKER::SANDBOX_NOT_FOUND"_s, error.message);
    // Upstream's execd is frozen with its paused container and answers nothing: the
    // lifecycle API's code for a sandbox that must be running says so at once, and as a
    // 4xx it tells clients not to try again until they resume it.
    if (error.code == u"SANDBOX_NOT_RUNNING"_s)
        return ApiError::coded(409, u"DOCKER::SANDBOX_NOT_RUNNING"_s, error.message);
    return std::nullopt;
}

void Internal::respondNoRoute(HttpExchange *exchange)
{
    exchange->respondJson(404, QJsonObject{{u"detail"_s, u"Not Found"_s}});
}

void Internal::respondWrongMethod(HttpExchange *exchange)
{
    exchange->respondJson(405, QJsonObject{{u"detail"_s, u"Method Not Allowed"_s}});
}

} // namespace Sandflow
