#include "upstreamforwarder_p.h"

#include "dnsmessage_p.h"

#include <QNetworkDatagram>
#include <QRandomGenerator>
#include <QTimer>
#include <QUdpSocket>

namespace Sandflow::Internal {

namespace {

// Responses read in one go before the event loop gets its turn again.
constexpr int ResponsesPerRound = 64;
// UDP responses are at most this long (an EDNS buffer size no server exceeds).
constexpr qint64 MaximumResponseSize = 65535;

} // namespace

UpstreamForwarder::UpstreamForwarder(const QHostAddress &server, quint16 port, QObject *parent)
    : QObject(parent), m_server(server), m_port(port)
{
}

bool UpstreamForwarder::ensureSocket()
{
    if (m_socket)
        return true;
    auto *socket = new QUdpSocket(this);
    // Unconnected, from a port of the kernel's choice: responses are checked by sender.
    const QHostAddress any = m_server.protocol() == QAbstractSocket::IPv6Protocol ? QHostAddress(QHostAddress::AnyIPv6)
                                                                                  : QHostAddress(QHostAddress::AnyIPv4);
    if (!socket->bind(any, 0)) {
        qWarning("Sandbox DNS: cannot open a socket to the upstream server: %s", qUtf8Printable(socket->errorString()));
        delete socket;
        return false;
    }
    connect(socket, &QUdpSocket::readyRead, this, &UpstreamForwarder::readResponses);
    m_socket = socket;
    return true;
}

bool UpstreamForwarder::forward(quint64 ticket, const QByteArray &query)
{
    if (!ensureSocket() || m_pending.size() > 0xffff / 2)
        return false;
    // A random ID not in use: unpredictable to anyone who might forge a response.
    quint16 id = 0;
    do {
        id = quint16(QRandomGenerator::global()->bounded(0x10000));
    } while (m_pending.contains(id));
    if (m_socket->writeDatagram(Dns::withId(query, id), m_server, m_port) < 0)
        return false;
    auto *timeout = new QTimer(this);
    timeout->setSingleShot(true);
    connect(timeout, &QTimer::timeout, this, [this, id] { expire(id); });
    timeout->start(TimeoutMs);
    m_pending.insert(id, {ticket, timeout});
    return true;
}

void UpstreamForwarder::readResponses()
{
    for (int count = 0; count < ResponsesPerRound && m_socket->hasPendingDatagrams(); ++count) {
        const QNetworkDatagram datagram = m_socket->receiveDatagram(MaximumResponseSize);
        const QByteArray response = datagram.data();
        if (datagram.senderAddress() != m_server || datagram.senderPort() != m_port || response.size() < 12)
            continue;
        const auto pending = m_pending.constFind(Dns::messageId(response));
        if (pending == m_pending.constEnd())
            continue;
        const quint64 ticket = pending->ticket;
        delete pending->timeout;
        m_pending.erase(pending);
        emit answered(ticket, response);
    }
}

void UpstreamForwarder::expire(quint16 id)
{
    const Pending pending = m_pending.take(id);
    pending.timeout->deleteLater();
    emit failed(pending.ticket);
}

} // namespace Sandflow::Internal
