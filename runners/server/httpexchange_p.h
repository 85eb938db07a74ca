// One HTTP request and its response, as the server's handlers see them. The HTTP layer
// parses requests (QAbstractHttpServer) and writes responses itself, straight to the socket,
// so that every write is guarded against a client that has gone and streams use explicit
// chunked framing.
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QJsonValue>
#include <QList>
#include <QObject>
#include <QPair>
#include <QPointer>
#include <QString>
#include <QUrlQuery>

#include <optional>

namespace Sandflow::Internal {

class HttpConnection;

using HttpHeaders = QList<QPair<QByteArray, QByteArray>>;

/// The reason phrase of an HTTP status, e.g. "Not Found".
QByteArray reasonPhrase(int status);

/// A request, copied out of the parser (whose request object lives only during dispatch).
struct HttpRequest
{
    QByteArray method;          ///< upper case, e.g. "GET"
    QString path;               ///< percent-decoded
    QByteArray encodedQuery;    ///< the query string as sent, without `?`
    QUrlQuery query;
    HttpHeaders headers;
    QByteArray body;
    QHostAddress peer;

    /// The first value of header `name`, compared case-insensitively; empty when absent.
    QByteArray header(QByteArrayView name) const;
};

/// The exchange deletes itself once its response is complete or its client has gone, so
/// asynchronous handlers keep a QPointer to it.
class HttpExchange final : public QObject
{
    Q_OBJECT

public:
    HttpExchange(HttpRequest request, QByteArray requestId, HttpConnection *connection);

    const HttpRequest &request() const { return m_request; }
    /// The request's X-Request-ID, or one made up for it; sent back on every response.
    const QByteArray &requestId() const { return m_requestId; }

    /// A complete response. `extraHeaders` come after the ones every response has.
    void respond(int status, const QByteArray &contentType, const QByteArray &body,
                 const HttpHeaders &extraHeaders = {});
    void respondJson(int status, const QJsonValue &json, const HttpHeaders &extraHeaders = {});
    void respondEmpty(int status, const HttpHeaders &extraHeaders = {});

    /// Starts a response whose body follows in pieces; the headers go out at once. Without
    /// `length` the body is chunked, with it the pieces must add up to exactly `length`.
    void beginStream(int status, const QByteArray &contentType, const HttpHeaders &extraHeaders = {},
                     std::optional<qint64> length = std::nullopt);
    void writeChunk(QByteArrayView data);
    void endStream();
    /// Sends `head` and then the body as it comes, unframed, and closes the connection at
    /// the end: for answers relayed from elsewhere whose framing is kept as is.
    void beginRaw(QByteArrayView bytes);
    void writeRaw(QByteArrayView bytes);
    void endRaw();
    /// Ends the response where it is and closes the connection: for a body that failed
    /// half-way, which the client then sees as cut short. Before anything was sent, prefer
    /// an error response.
    void abort();

    bool isResponding() const { return m_state != State::Idle; }
    /// Bytes written but not yet sent to the client: producers wait above a limit.
    qint64 unsentBytes() const;

signals:
    /// The client went away before the response was complete; the exchange is deleted next.
    void clientGone();
    /// Some of the response went out to the client (unsentBytes() fell).
    void bytesSent();
    /// The response is complete (it may still be on its way to the client).
    void completed(int status);

private:
    friend class HttpConnection;
    enum class State { Idle, Streaming, Raw, Done };

    void writeHead(int status, const QByteArray &contentType, std::optional<qint64> length,
                   const HttpHeaders &extraHeaders);
    void complete(bool closeConnection);
    void abandon();

    HttpRequest m_request;
    QByteArray m_requestId;
    QPointer<HttpConnection> m_connection;
    State m_state = State::Idle;
    bool m_chunked = false;
    std::optional<qint64> m_remaining;   ///< of a body of known length still to be written
    int m_status = 0;
};

} // namespace Sandflow::Internal
