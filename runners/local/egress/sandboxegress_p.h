// Everything of one sandbox's network policy on the runner's side: its network namespace,
// the resolver that answers the names the policy allows (and learns what they resolve to),
// and the filter that lets connections through to the addresses the policy allows, by rule
// or by an allowed name that resolved to them. Follows the policy as it changes: the next
// lookup and the next connect are decided by the new one.
#pragma once

#include "egressfilter_p.h"
#include "egressrules_p.h"
#include "sandboxnetwork_p.h"

#include "runner.h"

#include <QElapsedTimer>
#include <QObject>
#include <QSet>

#include <map>
#include <memory>

namespace Sandflow::Internal {

class SandboxResolver;

class SandboxEgress : public QObject
{
    Q_OBJECT

public:
    /// How the sandboxes' resolver finds the addresses of allowed names.
    struct Settings
    {
        /// A DNS server to ask; none: the host's resolver (getaddrinfo, so /etc/hosts counts).
        std::optional<QHostAddress> upstream;
        quint16 upstreamPort = 53;
    };

    /// Serves `network`'s resolver at once; connections wait for attachFilter().
    SandboxEgress(SandboxNetwork network, const SandboxNetworkPolicy &policy, const Settings &settings,
                  QObject *parent = nullptr);
    ~SandboxEgress() override;

    /// The sandbox's network namespace, for its bubblewrap to enter.
    int namespaceFd() const { return m_network.namespaceFd.get(); }
    /// The listener of the sandbox's filter, as its bubblewrap sent it: connects are decided
    /// from now on.
    void attachFilter(UniqueFd listener);
    void setPolicy(const SandboxNetworkPolicy &policy);

signals:
    /// The policy refused a name (`port` 0) or a connection to an address and port.
    void denied(const QString &target, int port);

private:
    EgressFilter::Verdict decide(const QHostAddress &address);
    void learn(const QString &name, const QList<QHostAddress> &addresses, int ttlSeconds);
    void forgetExpired(qint64 now);
    UniqueFd socketInside(int family) const;

    SandboxNetwork m_network;
    EgressRules m_rules;
    std::unique_ptr<SandboxResolver> m_resolver;
    std::unique_ptr<EgressFilter> m_filter;
    /// What allowed names resolved to, with when each name stops vouching for the address
    /// (milliseconds on m_clock).
    std::map<QString, std::map<QString, qint64>> m_learned;
    QElapsedTimer m_clock;
    /// The host's interfaces' addresses as the sandbox was made: the host's own, which the
    /// default does not reach.
    QSet<QHostAddress> m_hostAddresses;
};

} // namespace Sandflow::Internal
