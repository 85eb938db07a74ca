#include "sandboxegress_p.h"

#include "sandboxresolver_p.h"

#include <QNetworkInterface>

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace Sandflow::Internal {

namespace {

/// Programs keep what they resolved for a while (the C library does not, language runtimes
/// and HTTP clients do): an address stays allowed at least this long after its name
/// resolved to it, whatever the answer's TTL said.
constexpr qint64 ShortestVouchMs = 60'000;
constexpr size_t MostLearnedAddresses = 4096;

} // namespace

SandboxEgress::SandboxEgress(SandboxNetwork network, const SandboxNetworkPolicy &policy, const Settings &settings,
                             QObject *parent)
    : QObject(parent)
    , m_network(std::move(network))
    , m_rules(policy)
{
    m_clock.start();
    for (const QHostAddress &address : QNetworkInterface::allAddresses()) {
        if (!address.isLoopback())
            m_hostAddresses.insert(address);
    }
    SandboxResolverSettings resolverSettings;
    if (settings.upstream)
        resolverSettings.upstream = SandboxResolverSettings::Upstream{*settings.upstream, settings.upstreamPort};
    resolverSettings.policy = policy;
    m_resolver = std::make_unique<SandboxResolver>(m_network.resolverUdp.release(), m_network.resolverTcp.release(),
                                                   resolverSettings);
    connect(m_resolver.get(), &SandboxResolver::denied, this, [this](const QString &name) { emit denied(name, 0); });
    connect(m_resolver.get(), &SandboxResolver::learned, this, &SandboxEgress::learn);
}

SandboxEgress::~SandboxEgress() = default;

void SandboxEgress::attachFilter(UniqueFd listener)
{
    m_filter = std::make_unique<EgressFilter>(
        std::move(listener), std::move(m_network.proxyListener), m_network.proxyPort,
        [this](const QHostAddress &address) { return decide(address); },
        [this](int family) { return socketInside(family); });
    connect(m_filter.get(), &EgressFilter::denied, this, &SandboxEgress::denied);
}

void SandboxEgress::setPolicy(const SandboxNetworkPolicy &policy)
{
    m_rules = EgressRules(policy);
    m_resolver->setPolicy(policy);
}

void SandboxEgress::learn(const QString &name, const QList<QHostAddress> &addresses, int ttlSeconds)
{
    const qint64 now = m_clock.elapsed();
    const qint64 until = now + std::max<qint64>(ShortestVouchMs, qint64(ttlSeconds) * 1000);
    if (m_learned.size() >= MostLearnedAddresses)
        forgetExpired(now);
    for (const QHostAddress &address : addresses) {
        // Bounded, whatever names a sandbox looks up: past the bound a new address is not
        // allowed until older ones expire.
        if (m_learned.size() >= MostLearnedAddresses)
            break;
        m_learned[withoutMapping(address).toString()][name] = until;
    }
}

namespace {

/// The address blocks that are the host's own rather than the world's, with the shortest
/// prefix a rule must have to name one of them rather than sweep it up: the loopback and
/// unspecified blocks (which are the sandbox's own unless named), link-local ones (cloud
/// metadata services live there), multicast and broadcast.
int hostBlockPrefix(const QHostAddress &address)
{
    struct Block
    {
        const char *network;
        int prefix;
    };
    static const Block blocks[] = {{"127.0.0.0", 8},    {"0.0.0.0", 8},  {"169.254.0.0", 16}, {"224.0.0.0", 4},
                                   {"255.255.255.255", 32}, {"::1", 128}, {"::", 128},       {"fe80::", 10},
                                   {"ff00::", 8}};
    for (const Block &block : blocks) {
        if (address.isInSubnet(QHostAddress(QString::fromLatin1(block.network)), block.prefix))
            return block.prefix;
    }
    return -1;
}

} // namespace

// A rule naming the address decides first. Else the names that resolved to it, as the
// policy judges them now: one it allows lets the connection through (named, if a rule names
// it); where all it resolved from are denied, so is the address. Else the default, which
// never reaches the host's own addresses: its loopback (the filter keeps those the sandbox's
// own), link-local and multicast blocks, and its interfaces' addresses. A range rule counts
// as naming one of those only when it lies inside its block (`127.0.0.0/8` names the host's
// loopback, `0.0.0.0/0` does not).
EgressFilter::Verdict SandboxEgress::decide(const QHostAddress &address)
{
    const int hostPrefix = m_hostAddresses.contains(address) ? (address.protocol() == QAbstractSocket::IPv6Protocol ? 128 : 32)
                                                             : hostBlockPrefix(address);
    if (const std::optional<EgressRules::Decision> byAddress = m_rules.forAddress(address)) {
        if (hostPrefix < 0 || byAddress->prefixLength >= hostPrefix)
            return {byAddress->allowed(), true};
    }
    const auto learned = m_learned.find(address.toString());
    if (learned != m_learned.end()) {
        const qint64 now = m_clock.elapsed();
        bool deniedByName = false;
        for (auto it = learned->second.begin(); it != learned->second.end();) {
            if (it->second < now) {
                it = learned->second.erase(it);
                continue;
            }
            const EgressRules::Decision byName = m_rules.forName(it->first);
            if (byName.allowed() && (hostPrefix < 0 || byName.explicitRule))
                return {true, byName.explicitRule};
            deniedByName = true;
            ++it;
        }
        if (learned->second.empty())
            m_learned.erase(learned);
        if (deniedByName)
            return {false, true};
    }
    return {hostPrefix < 0 && m_rules.defaultAction() == SandboxNetworkPolicy::Action::Allow, false};
}

void SandboxEgress::forgetExpired(qint64 now)
{
    for (auto address = m_learned.begin(); address != m_learned.end();) {
        std::erase_if(address->second, [now](const auto &name) { return name.second < now; });
        address = address->second.empty() ? m_learned.erase(address) : std::next(address);
    }
}

// A socket of the sandbox's namespace, for the relays: made by a thread that enters the
// namespace and ends there, as the namespace itself was made.
UniqueFd SandboxEgress::socketInside(int family) const
{
    UniqueFd socket;
    const int ns = m_network.namespaceFd.get();
    std::thread maker([&socket, ns, family] {
        if (::setns(ns, CLONE_NEWNET) == 0)
            socket = UniqueFd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    });
    maker.join();
    return socket;
}

} // namespace Sandflow::Internal
