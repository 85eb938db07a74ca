// The DNS server a sandbox's /etc/resolv.conf names: it answers what the sandbox's network
// policy allows, NXDOMAIN to what it denies, and tells which addresses the allowed names
// resolved to, so that the egress filter lets connections to them through.
#pragma once

#include "dnsmessage_p.h"
#include "egressrules_p.h"
#include "hostlookup_p.h"

#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QPointer>

#include <optional>

class QTcpServer;
class QUdpSocket;

namespace Sandflow::Internal {

class DnsTcpConnection;
class UpstreamForwarder;

struct SandboxResolverSettings
{
    struct Upstream
    {
        QHostAddress address;
        quint16 port = 53;
    };
    /// Where allowed queries go, all types, as they came; none: A and AAAA queries are
    /// answered by the host's getaddrinfo (so /etc/hosts counts), others with no records.
    std::optional<Upstream> upstream;
    SandboxNetworkPolicy policy;
};

/// Serves DNS for one sandbox over UDP and TCP, on the event loop of its thread; blocking
/// lookups run on a thread pool. Bounded whatever the sandbox sends: a sandbox's queries in
/// flight, its TCP connections and their idle time are capped. The policy in force when a
/// query arrives decides it, even if the policy changes before the answer.
class SandboxResolver final : public QObject
{
    Q_OBJECT

public:
    /// The time to live of the answers from getaddrinfo, which tells none: short, so that
    /// a host whose addresses change is looked up again soon.
    static constexpr int LookupTtlSeconds = 30;
    /// Queries being resolved at once; more are answered SERVFAIL at once.
    static constexpr int MaximumPendingQueries = 256;
    /// Open TCP connections; more are closed as they come.
    static constexpr int MaximumTcpConnections = 16;
    /// Addresses in an answer from getaddrinfo: as many AAAA records as fit in a 512-byte
    /// UDP answer beside the longest question, so that no answer needs truncating.
    static constexpr int MaximumLookupAddresses = 8;

    /// Serves on `udpSocket` (bound) and `tcpListeningSocket` (bound and listening), which it
    /// takes over and closes, even when it cannot use them (isServing() then says false).
    SandboxResolver(int udpSocket, int tcpListeningSocket, const SandboxResolverSettings &settings,
                    QObject *parent = nullptr);

    /// Whether both sockets were usable.
    bool isServing() const;

    /// Decides the queries that arrive from now on.
    void setPolicy(const SandboxNetworkPolicy &policy);

signals:
    /// The policy denied a query for `name` (lower case, without a trailing dot).
    void denied(const QString &name);
    /// An allowed query for `name` resolved to `addresses`, valid for `ttlSeconds`. Emitted
    /// before the answer goes out, so that the client can connect as soon as it has it.
    void learned(const QString &name, const QList<QHostAddress> &addresses, int ttlSeconds);

private:
    /// Where an answer goes: a TCP connection, else a UDP sender.
    struct Client
    {
        QPointer<DnsTcpConnection> connection;
        QHostAddress address;
        quint16 port = 0;
    };
    struct Pending
    {
        Client client;
        Dns::Query query;
    };

    void readDatagrams();
    void acceptConnections();
    void answerMessage(const QByteArray &message, const Client &client);
    void resolve(const Dns::Query &query, const Client &client);
    void finishLookup(quint64 ticket, const HostLookup &lookup);
    void relayResponse(quint64 ticket, const QByteArray &response);
    void failQuery(quint64 ticket);
    void reply(const Client &client, const QByteArray &message);
    void announce(const QString &name, const QList<QHostAddress> &addresses, int ttlSeconds);

    EgressRules m_rules;
    QUdpSocket *m_udp = nullptr;
    QTcpServer *m_tcp = nullptr;
    UpstreamForwarder *m_upstream = nullptr;
    QHash<quint64, Pending> m_pending;
    quint64 m_nextTicket = 1;
    int m_connections = 0;
};

} // namespace Sandflow::Internal
