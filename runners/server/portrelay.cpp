// The proxy route for every port but execd's: the request is passed to the service
// listening on that port inside the sandbox, and its answer is relayed back byte for byte
// (status, headers, framing and encoding as the service wrote them).
#include "runner.h"
#include "serverroutes_p.h"

#include <QBuffer>
#include <QJsonObject>

using namespace Qt::StringLiterals;

namespace Sandflow::Internal {

namespace {

/// Headers that belong to one connection, and credentials meant for this server only.
bool isDropped(const QByteArray &name, const QList<QByteArray> &namedByConnection)
{
    static const QList<QByteArray> dropped{"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                                           "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length",
                                           "authorization", "cookie", "open-sandbox-api-key"};
    const QByteArray lower = name.toLower();
    return dropped.contains(lower) || namedByConnection.contains(lower);
}

/// The request as the service gets it: one request per connection, so that the end of the
/// answer is where the service closes.
QByteArray serviceRequest(const HttpRequest &request, quint16 port, const QString &path)
{
    QList<QByteArray> namedByConnection;
    for (const QByteArray &name : request.header("connection").split(','))
        namedByConnection.append(name.trimmed().toLower());
    QByteArray target = QUrl::toPercentEncoding(path, "/");
    if (!request.encodedQuery.isEmpty())
        target += '?' + request.encodedQuery;
    QByteArray head = request.method + ' ' + target + " HTTP/1.1\r\n";
    head += "Host: 127.0.0.1:" + QByteArray::number(port) + "\r\n";
    bool forwardedFor = false, forwardedHost = false, forwardedProto = false;
    for (const auto &[name, value] : request.headers) {
        if (isDropped(name, namedByConnection))
            continue;
        const QByteArray lower = name.toLower();
        forwardedFor |= lower == "x-forwarded-for";
        forwardedHost |= lower == "x-forwarded-host";
        forwardedProto |= lower == "x-forwarded-proto";
        head += name + ": " + value + "\r\n";
    }
    if (!forwardedFor)
        head += "X-Forwarded-For: " + request.peer.toString().toLatin1() + "\r\n";
    if (!forwardedHost)
        head += "X-Forwarded-Host: " + request.header("host") + "\r\n";
    if (!forwardedProto)
        head += "X-Forwarded-Proto: http\r\n";
    head += "Content-Length: " + QByteArray::number(request.body.size()) + "\r\n";
    head += "Connection: close\r\n\r\n";
    return head + request.body;
}

} // namespace

void relayToService(const ServerContext &context, HttpExchange *exchange, const QString &sandboxId, quint16 port,
                    const QString &path)
{
    if (exchange->request().header("upgrade").toLower() == "websocket")
        return exchange->respondJson(400, QJsonObject{{u"code"_s, u"GENERAL::UNSUPPORTED"_s},
                                                      {u"message"_s, u"WebSocket connections are not relayed."_s}});
    auto *request = new QBuffer;
    request->setData(serviceRequest(exchange->request(), port, path));
    request->open(QIODevice::ReadOnly);
    FileReadJob *relay = context.runner->relayToPort(sandboxId, port, request);
    QObject::connect(relay, &FileReadJob::data, exchange, [exchange](const QByteArray &bytes) {
        exchange->isResponding() ? exchange->writeRaw(bytes) : exchange->beginRaw(bytes);
    });
    QObject::connect(exchange, &HttpExchange::clientGone, relay, &AsyncJob::cancel);
    whenFinished<FileReadJob>(exchange, relay, [sandboxId, port](HttpExchange *exchange, FileReadJob *job) {
        if (exchange->isResponding())
            return exchange->endRaw();
        const JobError error = job->error().value_or(JobError{JobError::Kind::Infra, u"EMPTY_REPLY"_s,
                                                              u"the service closed the connection without answering"_s, {}});
        if (error.code == u"SANDBOX_NOT_FOUND"_s)
            return exchange->respondJson(404, QJsonObject{{u"code"_s, u"DOCKER::SANDBOX_NOT_FOUND"_s}, {u"message"_s, error.message}});
        const bool unreachable = error.code == u"PORT_UNREACHABLE"_s;
        exchange->respondJson(unreachable ? 502 : 500,
                              QJsonObject{{u"code"_s, u"GENERAL::UNKNOWN_ERROR"_s},
                                          {u"message"_s, unreachable ? u"Could not connect to port %1 in sandbox %2: %3"_s.arg(port).arg(sandboxId, error.message)
                                                                     : error.message}});
    });
}

} // namespace Sandflow::Internal
