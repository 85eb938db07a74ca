#include "httpexchange_p.h"

#include "httpconnection_p.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace Sandflow::Internal {

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 416: return "Range Not Satisfiable";
    case 422: return "Unprocessable Entity";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

namespace {

bool wantsClose(const HttpRequest &request)
{
    return request.header("connection").toLower().contains("close");
}

/// HEAD answers carry the headers of a GET without its body.
bool bodyless(const HttpRequest &request)
{
    return request.method == "HEAD";
}

} // namespace

QByteArray HttpRequest::header(QByteArrayView name) const
{
    for (const auto &[key, value] : headers) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

HttpExchange::HttpExchange(HttpRequest request, QByteArray requestId, HttpConnection *connection)
    : m_request(std::move(request))
    , m_requestId(std::move(requestId))
    , m_connection(connection)
{
}

void HttpExchange::respond(int status, const QByteArray &contentType, const QByteArray &body,
                           const HttpHeaders &extraHeaders)
{
    if (m_state != State::Idle)
        return;
    writeHead(status, contentType, body.size(), extraHeaders);
    if (m_connection && !body.isEmpty() && !bodyless(m_request))
        m_connection->write(body);
    complete(wantsClose(m_request));
}

void HttpExchange::respondJson(int status, const QJsonValue &json, const HttpHeaders &extraHeaders)
{
    const QJsonDocument document = json.isArray() ? QJsonDocument(json.toArray()) : QJsonDocument(json.toObject());
    respond(status, "application/json", document.toJson(QJsonDocument::Compact), extraHeaders);
}

void HttpExchange::respondEmpty(int status, const HttpHeaders &extraHeaders)
{
    respond(status, {}, {}, extraHeaders);
}

void HttpExchange::beginStream(int status, const QByteArray &contentType, const HttpHeaders &extraHeaders,
                               std::optional<qint64> length)
{
    if (m_state != State::Idle)
        return;
    writeHead(status, contentType, length, extraHeaders);
    m_state = State::Streaming;
    m_chunked = !length;
    m_remaining = length;
}

void HttpExchange::writeChunk(QByteArrayView data)
{
    if (m_state != State::Streaming || data.isEmpty() || !m_connection || bodyless(m_request))
        return;
    if (!m_chunked) {
        // Never more than announced: the excess would be read as the next response.
        const qint64 size = std::min<qint64>(data.size(), *m_remaining);
        *m_remaining -= size;
        return m_connection->write(data.first(size));
    }
    m_connection->write(QByteArray::number(data.size(), 16) + "\r\n");
    m_connection->write(data);
    m_connection->write("\r\n");
}

void HttpExchange::endStream()
{
    if (m_state != State::Streaming)
        return;
    if (m_connection && m_chunked && !bodyless(m_request))
        m_connection->write("0\r\n\r\n");
    // A body shorter than announced can only be told by closing the connection.
    const bool shortBody = m_remaining.value_or(0) > 0 && !bodyless(m_request);
    complete(wantsClose(m_request) || shortBody);
}

void HttpExchange::beginRaw(QByteArrayView bytes)
{
    if (m_state != State::Idle)
        return;
    m_state = State::Raw;
    writeRaw(bytes);
}

void HttpExchange::writeRaw(QByteArrayView bytes)
{
    if (m_state == State::Raw && m_connection)
        m_connection->write(bytes);
}

void HttpExchange::endRaw()
{
    if (m_state == State::Raw)
        complete(true);
}

qint64 HttpExchange::unsentBytes() const
{
    return m_connection ? m_connection->unsentBytes() : 0;
}

void HttpExchange::abort()
{
    if (m_state != State::Done)
        complete(true);
}

void HttpExchange::writeHead(int status, const QByteArray &contentType, std::optional<qint64> length,
                             const HttpHeaders &extraHeaders)
{
    m_status = status;
    QByteArray head = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    head += "X-Request-ID: " + m_requestId + "\r\n";
    // Browsers may call the API from any page with the key, as upstream allows.
    head += "Access-Control-Allow-Origin: *\r\n";
    if (!contentType.isEmpty())
        head += "Content-Type: " + contentType + "\r\n";
    if (length)
        head += "Content-Length: " + QByteArray::number(*length) + "\r\n";
    else if (!bodyless(m_request))
        head += "Transfer-Encoding: chunked\r\n";
    for (const auto &[name, value] : extraHeaders)
        head += name + ": " + value + "\r\n";
    if (wantsClose(m_request))
        head += "Connection: close\r\n";
    head += "\r\n";
    if (m_connection)
        m_connection->write(head);
}

void HttpExchange::complete(bool closeConnection)
{
    m_state = State::Done;
    emit completed(m_status);
    if (m_connection)
        m_connection->exchangeDone(this, closeConnection);
    else
        deleteLater();
}

void HttpExchange::abandon()
{
    if (m_state == State::Done)
        return;
    m_state = State::Done;
    emit clientGone();
    deleteLater();
}

} // namespace Sandflow::Internal
