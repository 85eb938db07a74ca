#include "faultyexchange.h"

#include "faultproxy.h"

#include <QHostAddress>

#include <sys/socket.h>

namespace {

/// The head (blank line included) with `Connection: close` instead of whatever it said.
QByteArray withConnectionClose(const QByteArray &head)
{
    QList<QByteArray> lines = head.left(head.size() - 4).split('\n');
    QByteArray out = lines.takeFirst() + '\n';
    for (const QByteArray &line : std::as_const(lines)) {
        const QByteArray name = line.left(line.indexOf(':')).trimmed().toLower();
        if (name != "connection" && name != "keep-alive")
            out += line + '\n';
    }
    return out + "Connection: close\r\n\r\n";
}

constexpr int TrickleBytes = 16;
constexpr int TrickleIntervalMs = 10;

} // namespace

FaultyExchange::FaultyExchange(QTcpSocket *client, FaultProxy &proxy)
    : QObject(&proxy)
    , m_proxy(proxy)
    , m_client(client)
{
    client->setParent(this);
    connect(client, &QTcpSocket::readyRead, this, &FaultyExchange::clientRead);
    connect(client, &QTcpSocket::disconnected, this, &FaultyExchange::end);
    m_trickle.setInterval(TrickleIntervalMs);
    connect(&m_trickle, &QTimer::timeout, this, &FaultyExchange::trickle);
}

void FaultyExchange::clientRead()
{
    const QByteArray bytes = m_client->readAll();
    if (m_head)
        return takeRequestBytes(bytes);
    m_buffer += bytes;
    m_head = HttpRequestHead::read(m_buffer);
    if (m_head)
        planned();
}

void FaultyExchange::planned()
{
    FaultProxy::Counts &counts = m_proxy.counting();
    ++counts.requests;
    if (m_head->target.contains("/proxy/"))
        ++counts.execdRequests;
    m_plan = m_proxy.schedule().next(m_head->headers.value("x-request-id"));
    if (m_plan.fault == Fault::ResetBeforeForwarding)
        return resetClient();
    m_requestChunked = m_head->headers.value("transfer-encoding").toLower().contains("chunked");
    m_requestBodyLeft = m_head->headers.value("content-length", "0").toLongLong();
    const QByteArray body = m_buffer.mid(m_head->size);
    if (m_plan.fault != Fault::ServerError && m_plan.fault != Fault::TooManyRequests) {
        m_server = new QTcpSocket(this);
        connect(m_server, &QTcpSocket::readyRead, this, &FaultyExchange::serverRead);
        connect(m_server, &QTcpSocket::disconnected, this, &FaultyExchange::serverGone);
        connect(m_server, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
            if (error != QAbstractSocket::RemoteHostClosedError)
                serverGone();
        });
        // Written as it comes; the socket holds it until the connection is made.
        m_server->connectToHost(QHostAddress::LocalHost, m_proxy.serverPort());
        m_server->write(withConnectionClose(m_buffer.left(m_head->size)));
    }
    m_buffer.clear();
    takeRequestBytes(body);
}

void FaultyExchange::takeRequestBytes(const QByteArray &bytes)
{
    if (m_requestDone)
        return;
    if (m_server)
        m_server->write(bytes);
    if (m_requestChunked) {
        m_requestTail = (m_requestTail + bytes).right(5);
        if (m_requestTail == "0\r\n\r\n")
            requestDone();
        return;
    }
    m_requestBodyLeft -= bytes.size();
    if (m_requestBodyLeft <= 0)
        requestDone();
}

void FaultyExchange::requestDone()
{
    m_requestDone = true;
    // Answered once the whole request is in: a connection closed on unread bytes is reset,
    // and the reset could overtake the answer.
    if (m_plan.fault == Fault::ServerError)
        return answerDirectly(m_plan.status, {});
    if (m_plan.fault == Fault::TooManyRequests)
        return answerDirectly(429, "Retry-After: 1\r\n");
    if (m_head->method == "POST" && m_head->target.split('?').first().endsWith("/sandboxes"))
        ++m_proxy.counting().forwardedCreates;
    // The server acts on it, but its answer never reaches the client.
    if (m_plan.fault == Fault::ResetAfterForwarding) {
        m_stopped = true;
        resetClient();
    }
}

void FaultyExchange::serverRead()
{
    QByteArray bytes = m_server->readAll();
    if (m_stopped || !m_client)
        return;
    if (!m_answerHeadDone) {
        m_answerHead += bytes;
        const qsizetype end = m_answerHead.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        m_answerHeadDone = true;
        bytes = m_answerHead.mid(end + 4);
        // An answer of known length is stopped short of its end, so that the client does
        // not get all of it after all.
        const std::optional<HttpRequestHead> head = HttpRequestHead::read(m_answerHead);
        const qint64 length = head->headers.value("content-length", "-1").toLongLong();
        if (length > 0)
            m_plan.bodyBytes = std::min(m_plan.bodyBytes, length - 1);
        m_client->write(withConnectionClose(m_answerHead.left(end + 4)));
    }
    answerBytes(bytes);
}

void FaultyExchange::answerBytes(QByteArray bytes)
{
    switch (m_plan.fault) {
    case Fault::SlowBody:
        m_slow += bytes;
        if (!m_trickle.isActive())
            m_trickle.start();
        return;
    case Fault::CutResponse:
    case Fault::Silence: {
        const qint64 room = m_plan.bodyBytes - m_bodyBytesPassed;
        m_client->write(bytes.left(room));
        m_bodyBytesPassed += std::min<qint64>(room, bytes.size());
        if (bytes.size() < room)
            return;
        m_stopped = true;
        // A silent answer leaves the connection open: the client has to notice the silence.
        if (m_plan.fault == Fault::CutResponse)
            m_client->disconnectFromHost();
        return;
    }
    default:
        m_client->write(bytes);
    }
}

void FaultyExchange::trickle()
{
    if (!m_client) {
        m_trickle.stop();
        return;
    }
    m_client->write(m_slow.left(TrickleBytes));
    m_slow.remove(0, TrickleBytes);
    if (!m_slow.isEmpty())
        return;
    m_trickle.stop();
    if (m_serverDone)
        m_client->disconnectFromHost();
}

void FaultyExchange::serverGone()
{
    if (m_serverDone)
        return;
    m_serverDone = true;
    if (m_server && m_server->bytesAvailable() > 0)
        serverRead();
    // A silence goes on until the client gives up; a slow body ends once it has trickled out.
    if (!m_client || m_plan.fault == Fault::Silence || !m_slow.isEmpty())
        return;
    if (m_client->state() == QAbstractSocket::ConnectedState)
        m_client->disconnectFromHost();
    else
        end();
}

void FaultyExchange::answerDirectly(int status, const QByteArray &extraHeaders)
{
    const QByteArray body = "{\"code\":\"PROXY::FAULT\",\"message\":\"a fault played by the proxy\"}";
    m_client->write("HTTP/1.1 " + QByteArray::number(status) + " Fault\r\nContent-Type: application/json\r\n"
                    + extraHeaders + "Content-Length: " + QByteArray::number(body.size())
                    + "\r\nConnection: close\r\n\r\n" + body);
    m_client->disconnectFromHost();
}

void FaultyExchange::resetClient()
{
    // A reset, as a dropped connection or a middlebox gives, not a FIN.
    const linger abortive{1, 0};
    ::setsockopt(int(m_client->socketDescriptor()), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    m_client->abort();
    end();
}

void FaultyExchange::end()
{
    if (std::exchange(m_ended, true))
        return;
    // The server keeps its connection until it has answered a request that was forwarded
    // and then lost, as the answer's way back broke, not the server's.
    if (m_server && m_plan.fault == Fault::ResetAfterForwarding && !m_serverDone) {
        m_server->disconnect(this);
        connect(m_server, &QTcpSocket::readyRead, m_server, [server = m_server.data()] { server->readAll(); });
        connect(m_server, &QTcpSocket::disconnected, m_server, &QObject::deleteLater);
        m_server->setParent(&m_proxy);
        m_server = nullptr;
    }
    if (m_server)
        m_server->abort();
    m_trickle.stop();
    deleteLater();
}
