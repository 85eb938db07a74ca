// Queries relayed to an upstream DNS server over UDP, for the sandbox's resolver.
#pragma once

#include <QHash>
#include <QHostAddress>
#include <QObject>

class QTimer;
class QUdpSocket;

namespace Sandflow::Internal {

class UpstreamForwarder final : public QObject
{
    Q_OBJECT

public:
    /// How long the server has to answer before the query fails (a client's own resolver
    /// tries again after about 5 s; failing earlier lets it see SERVFAIL rather than nothing).
    static constexpr int TimeoutMs = 2000;

    UpstreamForwarder(const QHostAddress &server, quint16 port, QObject *parent = nullptr);

    /// Sends `query` (a whole DNS message) under an ID of the forwarder's own, so that the
    /// queries of several clients cannot collide. Then answered() or failed() follows for
    /// `ticket`, once. False, and neither follows, when the query could not be sent.
    bool forward(quint64 ticket, const QByteArray &query);

signals:
    /// The server's response, still with the forwarder's ID.
    void answered(quint64 ticket, const QByteArray &response);
    void failed(quint64 ticket);

private:
    struct Pending
    {
        quint64 ticket;
        QTimer *timeout;
    };

    bool ensureSocket();
    void readResponses();
    void expire(quint16 id);

    const QHostAddress m_server;
    const quint16 m_port;
    QUdpSocket *m_socket = nullptr;
    QHash<quint16, Pending> m_pending;      ///< by the ID the query went out with
};

} // namespace Sandflow::Internal
