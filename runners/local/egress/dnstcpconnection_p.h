// One client's DNS over TCP (RFC 7766): messages framed by a two-byte length, several
// queries per connection, answers in any order.
#pragma once

#include <QObject>

class QTcpSocket;
class QTimer;

namespace Sandflow::Internal {

class DnsTcpConnection final : public QObject
{
    Q_OBJECT

public:
    /// A connection closes after this long without a message in either direction.
    static constexpr int IdleTimeoutMs = 10000;

    /// Takes `socket` over.
    explicit DnsTcpConnection(QTcpSocket *socket, QObject *parent = nullptr);

    /// Sends one message. A client that leaves its answers unread past a bound is dropped.
    void send(const QByteArray &message);

signals:
    void messageReceived(const QByteArray &message);
    /// The connection is over; the object deletes itself later.
    void closed();

private:
    void readMessages();
    void close();

    QTcpSocket *const m_socket;
    QTimer *const m_idle;
    bool m_closed = false;
};

} // namespace Sandflow::Internal
