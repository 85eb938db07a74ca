#include "httpconnection_p.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>

using namespace Qt::StringLiterals;

namespace Sandflow::Internal {

HttpConnection::HttpConnection(QTcpSocket *socket, const HttpLimits &limits, Dispatch dispatch)
    : QObject(socket)
    , m_socket(socket)
    , m_limits(limits)
    , m_dispatch(std::move(dispatch))
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
        checkIncomingHead();
    });
    connect(socket, &QTcpSocket::bytesWritten, this, [this] {
        updateIdleTimer();
        if (m_active && m_socket && m_socket->bytesToWrite() == 0)
            emit m_active->drained();
    });
    connect(socket, &QTcpSocket::disconnected, this, &HttpConnection::clientLeft);
    connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    updateIdleTimer();
}

HttpConnection *HttpConnection::of(QTcpSocket *socket)
{
    return socket->findChild<HttpConnection *>(u"HttpConnection"_s, Qt::FindDirectChildrenOnly);
}

void HttpConnection::checkIncomingHead()
{
    if (m_headChecked || m_closing || !m_socket)
        return;
    const QByteArray head = m_socket->peek(m_limits.maxHeaderBytes);
    const qsizetype end = head.indexOf("\r\n\r\n");
    if (end < 0) {
        if (head.size() >= m_limits.maxHeaderBytes)
            refuse(431, "The request's header is larger than " + QByteArray::number(m_limits.maxHeaderBytes) + " bytes.");
        return;
    }
    m_headChecked = true;
    for (const QByteArray &line : head.left(end).split('\n')) {
        const qsizetype colon = line.indexOf(':');
        if (colon < 0 || line.left(colon).trimmed().toLower() != "content-length")
            continue;
        bool ok = false;
        const qint64 length = line.mid(colon + 1).trimmed().toLongLong(&ok);
        if (ok && length > m_limits.maxBodyBytes)
            refuse(413, "The request body has " + QByteArray::number(length) + " bytes; the server accepts at most "
                            + QByteArray::number(m_limits.maxBodyBytes) + '.');
    }
}

void HttpConnection::refuse(int status, const QByteArray &message)
{
    m_closing = true;
    const QByteArray body = QJsonDocument(QJsonObject{{u"code"_s, status == 413 ? u"REQUEST_TOO_LARGE"_s
                                                                                 : u"HEADER_TOO_LARGE"_s},
                                                      {u"message"_s, QString::fromUtf8(message)}})
                                .toJson(QJsonDocument::Compact);
    write("HTTP/1.1 " + QByteArray::number(status) + (status == 413 ? " Payload Too Large" : " Request Header Fields Too Large")
          + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size())
          + "\r\nConnection: close\r\n\r\n" + body);
    m_socket->disconnectFromHost();
}

void HttpConnection::enqueue(HttpExchange *exchange)
{
    m_headChecked = false;
    if (m_closing) {
        exchange->deleteLater();
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
    if (m_active)
        m_dispatch(m_active);
}

void HttpConnection::write(QByteArrayView bytes)
{
    if (m_socket && m_socket->state() == QAbstractSocket::ConnectedState)
        m_socket->write(bytes.data(), bytes.size());
}

qint64 HttpConnection::pendingBytes() const
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
