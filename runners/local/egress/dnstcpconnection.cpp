#include "dnstcpconnection_p.h"

#include <QTcpSocket>
#include <QTimer>
#include <QtEndian>

namespace Sandflow::Internal {

namespace {

constexpr qint64 LengthPrefixSize = 2;
// The socket buffers one whole message at most, so a client cannot make it grow further.
constexpr qint64 ReadBufferSize = LengthPrefixSize + 0xffff;
// Answers a client has not read yet, beyond which it is dropped rather than buffered.
constexpr qint64 MaximumUnsentBytes = 256 * 1024;

} // namespace

DnsTcpConnection::DnsTcpConnection(QTcpSocket *socket, QObject *parent)
    : QObject(parent), m_socket(socket), m_idle(new QTimer(this))
{
    m_socket->setParent(this);
    m_socket->setReadBufferSize(ReadBufferSize);
    m_idle->setSingleShot(true);
    m_idle->setInterval(IdleTimeoutMs);
    connect(m_idle, &QTimer::timeout, this, &DnsTcpConnection::close);
    connect(m_socket, &QTcpSocket::readyRead, this, &DnsTcpConnection::readMessages);
    connect(m_socket, &QTcpSocket::disconnected, this, &DnsTcpConnection::close);
    connect(m_socket, &QTcpSocket::errorOccurred, this, &DnsTcpConnection::close);
    m_idle->start();
    // Bytes may have come before the connection had this object.
    QMetaObject::invokeMethod(this, &DnsTcpConnection::readMessages, Qt::QueuedConnection);
}

void DnsTcpConnection::send(const QByteArray &message)
{
    if (m_closed || message.size() > 0xffff)
        return;
    if (m_socket->bytesToWrite() + message.size() > MaximumUnsentBytes) {
        close();
        return;
    }
    uchar length[LengthPrefixSize];
    qToBigEndian(quint16(message.size()), length);
    m_socket->write(reinterpret_cast<const char *>(length), LengthPrefixSize);
    m_socket->write(message);
    m_idle->start();
}

void DnsTcpConnection::readMessages()
{
    while (!m_closed && m_socket->bytesAvailable() >= LengthPrefixSize) {
        uchar length[LengthPrefixSize];
        m_socket->peek(reinterpret_cast<char *>(length), LengthPrefixSize);
        const qint64 size = qFromBigEndian<quint16>(length);
        if (size == 0) {
            close();
            return;
        }
        if (m_socket->bytesAvailable() < LengthPrefixSize + size)
            return;
        m_socket->skip(LengthPrefixSize);
        m_idle->start();
        emit messageReceived(m_socket->read(size));
    }
}

void DnsTcpConnection::close()
{
    if (m_closed)
        return;
    m_closed = true;
    m_idle->stop();
    m_socket->abort();
    emit closed();
    deleteLater();
}

} // namespace Sandflow::Internal
