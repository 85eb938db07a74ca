// The host's own name lookup (getaddrinfo: /etc/hosts, then the host's DNS), for the
// sandbox's resolver when no upstream DNS server is configured.
#pragma once

#include <QAbstractSocket>
#include <QFuture>
#include <QHostAddress>
#include <QList>
#include <QString>

namespace Sandflow::Internal {

struct HostLookup
{
    enum class Outcome {
        Found,
        NoSuchName,     ///< the name does not exist (a DNS NXDOMAIN)
        NoAddress,      ///< the name exists, without an address of the family asked for
        Failed,         ///< the lookup itself failed, e.g. the host's DNS did not answer
    };
    Outcome outcome = Outcome::Failed;
    QList<QHostAddress> addresses;      ///< each once, in getaddrinfo's order
};

/// Looks `name` up for one `family` (IPv4 or IPv6) on a thread pool of its own, so that slow
/// lookups (the host's DNS can take seconds to time out) never hold Qt's global pool. A name
/// getaddrinfo would read as a numeric address (`10.1.2.3`, `167838211`) is no host name:
/// NoSuchName.
QFuture<HostLookup> lookUpHost(const QString &name, QAbstractSocket::NetworkLayerProtocol family);

} // namespace Sandflow::Internal
