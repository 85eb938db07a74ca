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
    // What the client says it forwarded is only its word: the address this server saw is
    // added after it (the last one is the one to trust), and host and scheme are stated
    // here, never taken from the client.
    QByteArray forwardedFor;
    for (const auto &[name, value] : request.headers) {
        if (isDropped(name, namedByConnection))
            continue;
        const QByteArray lower = name.toLower();
        if (lower == "x-forwarded-for")
            forwardedFor += (forwardedFor.isEmpty() ? "" : ", ") + value.trimmed();
        else if (lower != "x-forwarded-host" && lower != "x-forwarded-proto" && lower != "forwarded")
            head += name + ": " + value + "\r\n";
    }
    const QByteArray peer = request.peer.toString().toLatin1();
    head += "X-Forwarded-For: " + (forwardedFor.isEmpty() ? peer : forwardedFor + ", " + peer) + "\r\n";
    head += "X-Forwarded-Host: " + request.header("host") + "\r\n";
    head += "X-Forwarded-Proto: http\r\n";
    head += "Content-Length: " + QByteArray::number(request.body.size()) + "\r\n";
    head += "Connection: close\r\n\r\n";
    return head + request.body;
}

/// The service's answer head as the client gets it: the relay ends with the connection, so
/// it says so, whatever the service said about keeping it.
QByteArray clientHead(const QByteArray &head)
{
    QList<QByteArray> lines = head.split('\n');
    QByteArray rewritten;
    for (const QByteArray &line : lines) {
        const QByteArray name = line.left(line.indexOf(':')).trimmed().toLower();
        if (name == "connection" || name == "keep-alive" || name == "proxy-connection" || line.trimmed().isEmpty())
            continue;
        rewritten += line + '\n';
    }
    return rewritten + "Connection: close\r\n\r\n";
}

/// Collects the service's answer until its head is complete, then passes it on.
class AnswerRelay
{
public:
    static constexpr qsizetype MaxHead = 64 * 1024;

    void add(HttpExchange *exchange, const QByteArray &bytes)
    {
        if (m_headSent)
            return exchange->writeRaw(bytes);
        m_pending += bytes;
        const qsizetype end = m_pending.indexOf("\r\n\r\n");
        if (end < 0 && m_pending.size() < MaxHead)
            return;
        m_headSent = true;
        // Not HTTP as we know it (no head end within the limit): passed on untouched.
        exchange->beginRaw(end < 0 ? m_pending : clientHead(m_pending.left(end + 2)) + m_pending.mid(end + 4));
        m_pending.clear();
    }

    /// What the service sent without ever finishing its head.
    QByteArray leftover() const { return m_pending; }

private:
    QByteArray m_pending;
    bool m_headSent = false;
};

} // namespace

void relayToService(const ServerContext &context, HttpExchange *exchange, const QString &sandboxId, quint16 port,
                    const QString &path)
{
    auto *request = new QBuffer;
    request->setData(serviceRequest(exchange->request(), port, path));
    request->open(QIODevice::ReadOnly);
    FileReadJob *relay = context.runner->relayToPort(sandboxId, port, request);
    auto answer = std::make_shared<AnswerRelay>();
    QObject::connect(relay, &FileReadJob::data, exchange, [exchange, answer](const QByteArray &bytes) {
        answer->add(exchange, bytes);
    });
    QObject::connect(exchange, &HttpExchange::clientGone, relay, &AsyncJob::cancel);
    whenFinished<FileReadJob>(exchange, relay, [sandboxId, port, answer](HttpExchange *exchange, FileReadJob *job) {
        if (!exchange->isResponding() && !answer->leftover().isEmpty()) {
            exchange->beginRaw(answer->leftover());
            return exchange->abort();
        }
        if (exchange->isResponding())
            return job->error() ? exchange->abort() : exchange->endRaw();
        const JobError error = job->error().value_or(JobError{JobError::Kind::Infra, u"EMPTY_REPLY"_s,
                                                              u"the service closed the connection without answering"_s, {}});
        if (const std::optional<ApiError> sandboxError = sandboxStateError(error))
            return respondApiError(exchange, *sandboxError);
        const bool unreachable = error.code == u"PORT_UNREACHABLE"_s;
        exchange->respondJson(unreachable ? 502 : 500,
                              QJsonObject{{u"code"_s, u"GENERAL::UNKNOWN_ERROR"_s},
                                          {u"message"_s, unreachable ? u"Could not connect to port %1 in sandbox %2: %3"_s.arg(port).arg(sandboxId, error.message)
                                                                     : error.message}});
    });
}

} // namespace Sandflow::Internal
