#include "sandboxresolver_p.h"

#include "dnstcpconnection_p.h"
#include "networkpolicy.h"
#include "upstreamforwarder_p.h"

#include <QNetworkDatagram>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUdpSocket>

#include <unistd.h>

namespace Sandflow::Internal {

namespace {

// Datagrams read in one go before the event loop gets its turn again.
constexpr int DatagramsPerRound = 64;
// A DNS message over UDP is at most this long.
constexpr qint64 MaximumDatagramSize = 65535;

/// `socket` once `use` gave it `descriptor`; else nullptr, with the descriptor closed, since
/// the resolver owns it either way.
template<typename Socket, typename Use>
Socket *adopted(Socket *socket, int descriptor, const char *transport, Use use)
{
    if (use(socket, descriptor))
        return socket;
    qWarning("Sandbox DNS: cannot serve %s: %s", transport, qUtf8Printable(socket->errorString()));
    delete socket;
    ::close(descriptor);
    return nullptr;
}

} // namespace

SandboxResolver::SandboxResolver(int udpSocket, int tcpListeningSocket, const SandboxResolverSettings &settings,
                                 QObject *parent)
    : QObject(parent), m_rules(settings.policy)
{
    m_udp = adopted(new QUdpSocket(this), udpSocket, "UDP", [](QUdpSocket *socket, int descriptor) {
        return socket->setSocketDescriptor(descriptor, QAbstractSocket::BoundState);
    });
    if (m_udp)
        connect(m_udp, &QUdpSocket::readyRead, this, &SandboxResolver::readDatagrams);
    m_tcp = adopted(new QTcpServer(this), tcpListeningSocket, "TCP",
                    [](QTcpServer *server, int descriptor) { return server->setSocketDescriptor(descriptor); });
    if (m_tcp)
        connect(m_tcp, &QTcpServer::newConnection, this, &SandboxResolver::acceptConnections);
    if (settings.upstream) {
        m_upstream = new UpstreamForwarder(settings.upstream->address, settings.upstream->port, this);
        connect(m_upstream, &UpstreamForwarder::answered, this, &SandboxResolver::relayResponse);
        connect(m_upstream, &UpstreamForwarder::failed, this, &SandboxResolver::failQuery);
    }
}

bool SandboxResolver::isServing() const
{
    return m_udp && m_tcp;
}

void SandboxResolver::setPolicy(const SandboxNetworkPolicy &policy)
{
    m_rules = EgressRules(policy);
}

void SandboxResolver::readDatagrams()
{
    for (int count = 0; count < DatagramsPerRound && m_udp->hasPendingDatagrams(); ++count) {
        const QNetworkDatagram datagram = m_udp->receiveDatagram(MaximumDatagramSize);
        if (datagram.isValid())
            answerMessage(datagram.data(), {nullptr, datagram.senderAddress(), quint16(datagram.senderPort())});
    }
}

void SandboxResolver::acceptConnections()
{
    while (QTcpSocket *socket = m_tcp->nextPendingConnection()) {
        if (m_connections >= MaximumTcpConnections) {
            socket->abort();
            socket->deleteLater();
            continue;
        }
        auto *connection = new DnsTcpConnection(socket, this);
        ++m_connections;
        connect(connection, &DnsTcpConnection::closed, this, [this] { --m_connections; });
        connect(connection, &DnsTcpConnection::messageReceived, this,
                [this, connection](const QByteArray &message) { answerMessage(message, {connection, {}, 0}); });
    }
}

void SandboxResolver::answerMessage(const QByteArray &message, const Client &client)
{
    const Dns::ReadQuery read = Dns::readQuery(message);
    if (!read.query) {
        if (!read.immediateAnswer.isEmpty())
            reply(client, read.immediateAnswer);
        return;
    }
    const Dns::Query &query = *read.query;
    if (!m_rules.forName(query.name).allowed()) {
        emit denied(normalizedTarget(query.name));
        reply(client, Dns::answer(query, Dns::ResponseCode::NameError));
        return;
    }
    if (m_pending.size() >= MaximumPendingQueries) {
        reply(client, Dns::answer(query, Dns::ResponseCode::ServerFailure));
        return;
    }
    resolve(query, client);
}

void SandboxResolver::resolve(const Dns::Query &query, const Client &client)
{
    const bool isAddressQuery = query.recordClass == Dns::InternetClass && (query.type == Dns::A || query.type == Dns::Aaaa);
    if (!m_upstream && (!isAddressQuery || query.name.isEmpty())) {
        reply(client, Dns::answer(query, Dns::ResponseCode::NoError));
        return;
    }
    const quint64 ticket = m_nextTicket++;
    m_pending.insert(ticket, {client, query});
    if (m_upstream) {
        if (!m_upstream->forward(ticket, query.message))
            failQuery(ticket);
        return;
    }
    const auto family = query.type == Dns::A ? QAbstractSocket::IPv4Protocol : QAbstractSocket::IPv6Protocol;
    // With this object as context, the continuation is dropped if the resolver goes first.
    lookUpHost(query.name, family).then(this, [this, ticket](const HostLookup &lookup) { finishLookup(ticket, lookup); });
}

void SandboxResolver::finishLookup(quint64 ticket, const HostLookup &lookup)
{
    const Pending pending = m_pending.take(ticket);
    switch (lookup.outcome) {
    case HostLookup::Outcome::Found: {
        const QList<QHostAddress> addresses = lookup.addresses.mid(0, MaximumLookupAddresses);
        announce(pending.query.name, addresses, LookupTtlSeconds);
        reply(pending.client, Dns::answer(pending.query, Dns::ResponseCode::NoError, addresses, LookupTtlSeconds));
        return;
    }
    case HostLookup::Outcome::NoSuchName:
        reply(pending.client, Dns::answer(pending.query, Dns::ResponseCode::NameError));
        return;
    case HostLookup::Outcome::NoAddress:
        reply(pending.client, Dns::answer(pending.query, Dns::ResponseCode::NoError));
        return;
    case HostLookup::Outcome::Failed:
        reply(pending.client, Dns::answer(pending.query, Dns::ResponseCode::ServerFailure));
        return;
    }
}

void SandboxResolver::relayResponse(quint64 ticket, const QByteArray &response)
{
    const Pending pending = m_pending.take(ticket);
    if (const std::optional<Dns::AnsweredAddresses> answered = Dns::answeredAddresses(response))
        announce(pending.query.name, answered->addresses, answered->ttlSeconds);
    reply(pending.client, Dns::withId(response, pending.query.id));
}

void SandboxResolver::failQuery(quint64 ticket)
{
    const Pending pending = m_pending.take(ticket);
    reply(pending.client, Dns::answer(pending.query, Dns::ResponseCode::ServerFailure));
}

void SandboxResolver::reply(const Client &client, const QByteArray &message)
{
    if (client.connection)
        client.connection->send(message);
    else if (!client.address.isNull() && m_udp)
        m_udp->writeDatagram(message, client.address, client.port);
}

void SandboxResolver::announce(const QString &name, const QList<QHostAddress> &addresses, int ttlSeconds)
{
    if (!addresses.isEmpty())
        emit learned(normalizedTarget(name), addresses, ttlSeconds);
}

} // namespace Sandflow::Internal
