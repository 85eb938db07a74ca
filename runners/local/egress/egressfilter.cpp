#include "egressfilter_p.h"

#include "egressrules_p.h"
#include "sandboxnetwork_p.h"
#include "tcprelay_p.h"
#include "udprelay_p.h"

#include <QSocketNotifier>
#include <QTimer>

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// Longer than the kernel would try on its own (about two minutes): a connect held past it
/// fails with ETIMEDOUT.
constexpr int HostConnectTimeoutMs = 150'000;
/// Beyond this, new flows of a sandbox fail with EAGAIN rather than grow the runner: each
/// holds a few descriptors, a relay two threads.
constexpr size_t MostFlows = 256;
/// A sockaddr_in6 without its scope id, as RFC 2133 had it: the kernel takes it too.
constexpr quint64 ShortestIpv6Address = 24;
/// How long the proxy waits for the sandbox's side of a connection the runner made.
constexpr int ProxyJoinTimeoutMs = 5'000;
/// Connections the proxy accepts per turn of the event loop: one sandbox cannot hold the
/// runner.
constexpr int MostPerTurn = 64;

QHostAddress addressOf(const sockaddr_storage &address, quint16 *port)
{
    *port = address.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6 *>(&address)->sin6_port)
                                          : ntohs(reinterpret_cast<const sockaddr_in *>(&address)->sin_port);
    // An IPv4 address an IPv6 socket names is that IPv4 address.
    return withoutMapping(QHostAddress(reinterpret_cast<const sockaddr *>(&address)));
}

/// Where a connection stays inside the sandbox's own namespace.
bool isSandboxLocal(const QHostAddress &address)
{
    return address.isLoopback() || address == QHostAddress::AnyIPv4 || address == QHostAddress::AnyIPv6
           || address.isInSubnet(QHostAddress(u"0.0.0.0"_s), 8);
}

sockaddr_storage socketAddress(const QHostAddress &address, quint16 port, socklen_t *length)
{
    sockaddr_storage storage{};
    if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        auto *in6 = reinterpret_cast<sockaddr_in6 *>(&storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        const Q_IPV6ADDR bytes = address.toIPv6Address();
        std::memcpy(&in6->sin6_addr, &bytes, sizeof bytes);
        in6->sin6_scope_id = address.scopeId().toUInt();
        *length = sizeof(sockaddr_in6);
    } else {
        auto *in4 = reinterpret_cast<sockaddr_in *>(&storage);
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        in4->sin_addr.s_addr = htonl(address.toIPv4Address());
        *length = sizeof(sockaddr_in);
    }
    return storage;
}

int socketOption(int fd, int level, int name)
{
    int value = -1;
    socklen_t length = sizeof value;
    return ::getsockopt(fd, level, name, &value, &length) == 0 ? value : -1;
}

/// Keeps `relay` in `relays` until it has finished; it is deleted then once the event loop
/// is back, not from inside its own signal.
template<typename Relay>
void keepUntilFinished(QObject *context, std::map<Relay *, std::unique_ptr<Relay>> *relays, std::unique_ptr<Relay> relay)
{
    Relay *raw = relay.get();
    QObject::connect(raw, &Relay::finished, context, [relays, raw] {
        if (const auto found = relays->find(raw); found != relays->end()) {
            found->second.release()->deleteLater();
            relays->erase(found);
        }
    });
    relays->emplace(raw, std::move(relay));
}

/// The key the proxy finds a connection by: the sandbox socket's address as the dual-stack
/// proxy sees it, and its port.
std::pair<QString, quint16> proxyKey(const sockaddr_storage &local)
{
    quint16 port = 0;
    const QHostAddress address = addressOf(local, &port);
    return {address.toString(), port};
}

} // namespace

struct EgressFilter::AwaitingProxy
{
    UniqueFd host;
    quint64 callId = 0;
    QTimer expiry;
};

struct EgressFilter::HostConnect
{
    SeccompCall call;
    QHostAddress address;
    quint16 port = 0;
    UniqueFd sandboxSocket;
    UniqueFd host;
    std::unique_ptr<QSocketNotifier> writable;
    QTimer timeout;
};

EgressFilter::EgressFilter(UniqueFd listener, UniqueFd proxyListener, quint16 proxyPort, Decide decide,
                           MakeSandboxSocket makeSandboxSocket, QObject *parent)
    : QObject(parent)
    , m_listener(std::move(listener))
    , m_proxyListener(std::move(proxyListener))
    , m_proxyPort(proxyPort)
    , m_decide(std::move(decide))
    , m_makeSandboxSocket(std::move(makeSandboxSocket))
{
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    m_proxyDualStack = ::getsockname(m_proxyListener.get(), reinterpret_cast<sockaddr *>(&bound), &length) == 0
                       && bound.ss_family == AF_INET6;
    m_listenerNotifier = std::make_unique<QSocketNotifier>(m_listener.descriptor(), QSocketNotifier::Read);
    connect(m_listenerNotifier.get(), &QSocketNotifier::activated, this, &EgressFilter::onCall);
    m_proxyNotifier = std::make_unique<QSocketNotifier>(m_proxyListener.get(), QSocketNotifier::Read);
    connect(m_proxyNotifier.get(), &QSocketNotifier::activated, this, &EgressFilter::onProxyConnection);
}

EgressFilter::~EgressFilter()
{
    // Calls still held fail: their sandbox is going away.
    for (const auto &[id, connect] : m_hostConnects)
        m_listener.fail(id, ECONNABORTED);
    for (const auto &[key, awaiting] : m_awaitingProxy)
        m_listener.fail(awaiting->callId, ECONNABORTED);
}

size_t EgressFilter::flowCount() const
{
    return m_hostConnects.size() + m_awaitingProxy.size() + m_relays.size() + m_datagramRelays.size();
}

void EgressFilter::onCall()
{
    // Once every process of the sandbox is gone the listener only hangs up: receiving then
    // would fail at once (or, on older kernels, wait for good).
    pollfd ready{m_listener.descriptor(), POLLIN, 0};
    if (::poll(&ready, 1, 0) != 1 || !(ready.revents & POLLIN)) {
        if (ready.revents & (POLLHUP | POLLERR | POLLNVAL))
            m_listenerNotifier->setEnabled(false);
        return;
    }
    const std::optional<SeccompCall> call = m_listener.receive();
    if (!call)
        return;
    // Only connect is held. The 32-bit ABIs' arguments are laid out otherwise (socketcall
    // passes them in memory): their calls run inside the namespace, where they reach nothing.
    if (!SeccompListener::isNative(call->architecture) || call->number != SYS_connect) {
        m_listener.letRun(call->id);
        return;
    }
    onConnect(*call);
}

void EgressFilter::onConnect(const SeccompCall &call)
{
    const int fd = int(call.arguments[0]);
    const quint64 addressLength = call.arguments[2];
    sockaddr_storage destination{};
    // Read once: the decision and the connection from the host both use this copy. A length
    // or family the kernel would refuse is left to it, inside the namespace.
    if (addressLength < sizeof(sa_family_t) || addressLength > sizeof destination
        || !readProcessMemory(call.pid, call.arguments[1], &destination, size_t(addressLength))
        || !m_listener.isHeld(call.id)
        || (destination.ss_family != AF_INET && destination.ss_family != AF_INET6)
        || addressLength < (destination.ss_family == AF_INET6 ? ShortestIpv6Address : sizeof(sockaddr_in))) {
        m_listener.letRun(call.id);
        return;
    }
    quint16 port = 0;
    const QHostAddress address = addressOf(destination, &port);
    // The sandbox's resolver is its own, whatever the rules say of loopback.
    if (port == SandboxNetwork::ResolverPort && address == QHostAddress(QLatin1StringView(SandboxNetwork::ResolverAddress))) {
        m_listener.letRun(call.id);
        return;
    }
    const Verdict verdict = m_decide(address);
    if (isSandboxLocal(address) && !verdict.named) {
        m_listener.letRun(call.id);
        return;
    }
    if (!verdict.allow) {
        m_listener.fail(call.id, EPERM);
        emit denied(address.toString(), port);
        return;
    }
    UniqueFd sandboxSocket = duplicateDescriptorOf(call.pid, fd);
    if (!sandboxSocket.isValid() || !m_listener.isHeld(call.id)) {
        // Not a descriptor of the caller: the kernel says so itself, inside the namespace.
        m_listener.letRun(call.id);
        return;
    }
    const int type = socketOption(sandboxSocket.get(), SOL_SOCKET, SO_TYPE);
    const int protocol = socketOption(sandboxSocket.get(), SOL_SOCKET, SO_PROTOCOL);
    const bool tcp = type == SOCK_STREAM && protocol == IPPROTO_TCP;
    const bool udp = type == SOCK_DGRAM && protocol == IPPROTO_UDP;
    if (!tcp && !udp) {
        // SCTP, raw and the like: nothing of theirs goes through the proxy.
        m_listener.fail(call.id, EPERM);
        emit denied(address.toString(), port);
        return;
    }
    sockaddr_storage peer{};
    socklen_t peerLength = sizeof peer;
    if (tcp && ::getpeername(sandboxSocket.get(), reinterpret_cast<sockaddr *>(&peer), &peerLength) == 0) {
        m_listener.fail(call.id, EISCONN);
        return;
    }
    connectFromHost(call, std::move(sandboxSocket), type, address, port);
}

void EgressFilter::connectFromHost(const SeccompCall &call, UniqueFd sandboxSocket, int type,
                                   const QHostAddress &address, quint16 port)
{
    if (flowCount() >= MostFlows) {
        m_listener.fail(call.id, EAGAIN);
        return;
    }
    socklen_t length = 0;
    const sockaddr_storage destination = socketAddress(address, port, &length);
    UniqueFd host(::socket(destination.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!host.isValid()) {
        m_listener.fail(call.id, errno);
        return;
    }
    const int one = 1;
    if (type == SOCK_STREAM)
        ::setsockopt(host.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const int connected = ::connect(host.get(), reinterpret_cast<const sockaddr *>(&destination), length);
    if (connected != 0 && errno != EINPROGRESS) {
        m_listener.fail(call.id, errno);
        return;
    }
    if (type == SOCK_DGRAM) {
        relayDatagrams(call, std::move(sandboxSocket), std::move(host));
        return;
    }
    auto pending = std::make_unique<HostConnect>();
    pending->call = call;
    pending->address = address;
    pending->port = port;
    pending->sandboxSocket = std::move(sandboxSocket);
    pending->host = std::move(host);
    const quint64 id = call.id;
    if (connected == 0) {
        m_hostConnects.emplace(id, std::move(pending));
        onHostConnected(id);
        return;
    }
    pending->writable = std::make_unique<QSocketNotifier>(pending->host.get(), QSocketNotifier::Write);
    connect(pending->writable.get(), &QSocketNotifier::activated, this, [this, id] { onHostConnected(id); });
    pending->timeout.setSingleShot(true);
    connect(&pending->timeout, &QTimer::timeout, this, [this, id] {
        const auto it = m_hostConnects.find(id);
        if (it == m_hostConnects.end())
            return;
        m_listener.fail(id, ETIMEDOUT);
        m_hostConnects.erase(it);
    });
    pending->timeout.start(HostConnectTimeoutMs);
    m_hostConnects.emplace(id, std::move(pending));
}

void EgressFilter::onHostConnected(quint64 id)
{
    const auto it = m_hostConnects.find(id);
    if (it == m_hostConnects.end())
        return;
    std::unique_ptr<HostConnect> pending = std::move(it->second);
    m_hostConnects.erase(it);
    const int error = socketOption(pending->host.get(), SOL_SOCKET, SO_ERROR);
    if (error != 0) {
        m_listener.fail(id, error < 0 ? ECONNREFUSED : error);
        return;
    }
    // The caller may have gone meanwhile (killed, or a signal ended its wait).
    if (!m_listener.isHeld(id))
        return;
    // The policy may have changed while the host connected: the new one decides.
    if (!m_decide(pending->address).allow) {
        m_listener.fail(id, EPERM);
        emit denied(pending->address.toString(), pending->port);
        return;
    }
    joinProxy(*pending);
}

// The sandbox's socket to the proxy, from here: its descriptor is the one the caller named,
// duplicated, so what it is cannot change under this. Non-blocking for the moment of the
// call only (the flag is the caller's too, and it waits in connect meanwhile): the proxy's
// backlog never holds the runner's event loop.
void EgressFilter::joinProxy(HostConnect &pending)
{
    const int sandbox = pending.sandboxSocket.get();
    const int family = socketOption(sandbox, SOL_SOCKET, SO_DOMAIN);
    const QHostAddress proxyAddress = family == AF_INET6 ? QHostAddress(m_proxyDualStack ? u"::1"_s : u"::ffff:127.0.0.1"_s)
                                                         : QHostAddress(QHostAddress::LocalHost);
    socklen_t length = 0;
    const sockaddr_storage proxy = socketAddress(proxyAddress, m_proxyPort, &length);
    // Fast Open would make this connect send nothing until the sandbox writes.
    const int off = 0;
    ::setsockopt(sandbox, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &off, sizeof off);
    const int flags = ::fcntl(sandbox, F_GETFL);
    ::fcntl(sandbox, F_SETFL, flags | O_NONBLOCK);
    const int connected = ::connect(sandbox, reinterpret_cast<const sockaddr *>(&proxy), length);
    const int connectError = errno;
    ::fcntl(sandbox, F_SETFL, flags);
    sockaddr_storage local{};
    socklen_t localLength = sizeof local;
    if ((connected != 0 && connectError != EINPROGRESS)
        || ::getsockname(sandbox, reinterpret_cast<sockaddr *>(&local), &localLength) != 0) {
        m_listener.fail(pending.call.id, connected != 0 ? connectError : errno);
        return;
    }
    // Blocking for the relay's threads.
    ::fcntl(pending.host.get(), F_SETFL, ::fcntl(pending.host.get(), F_GETFL) & ~O_NONBLOCK);
    const std::pair<QString, quint16> key = proxyKey(local);
    auto awaiting = std::make_unique<AwaitingProxy>();
    awaiting->host = std::move(pending.host);
    awaiting->callId = pending.call.id;
    awaiting->expiry.setSingleShot(true);
    connect(&awaiting->expiry, &QTimer::timeout, this, [this, key] {
        const auto it = m_awaitingProxy.find(key);
        if (it == m_awaitingProxy.end())
            return;
        m_listener.fail(it->second->callId, ECONNABORTED);
        m_awaitingProxy.erase(it);
    });
    awaiting->expiry.start(ProxyJoinTimeoutMs);
    m_awaitingProxy[key] = std::move(awaiting);
}

void EgressFilter::onProxyConnection()
{
    for (int turn = 0; turn < MostPerTurn; ++turn) {
        sockaddr_storage peer{};
        socklen_t length = sizeof peer;
        UniqueFd accepted(::accept4(m_proxyListener.get(), reinterpret_cast<sockaddr *>(&peer), &length, SOCK_CLOEXEC));
        if (!accepted.isValid()) {
            // Out of descriptors: the connection stays queued; the listener rests a moment
            // rather than wake the event loop at once again.
            if (errno == EMFILE || errno == ENFILE) {
                m_proxyNotifier->setEnabled(false);
                QTimer::singleShot(100, this, [this] { m_proxyNotifier->setEnabled(true); });
            }
            return;
        }
        // Connections the runner did not make (a program connecting to the proxy's port
        // itself) have no host side: closed.
        const auto it = m_awaitingProxy.find(proxyKey(peer));
        if (it == m_awaitingProxy.end())
            continue;
        const std::unique_ptr<AwaitingProxy> awaiting = std::move(it->second);
        m_awaitingProxy.erase(it);
        std::unique_ptr<TcpRelay> relay;
        try {
            relay = std::make_unique<TcpRelay>(std::move(accepted), std::move(awaiting->host));
        } catch (const std::system_error &) {
            // No thread to be had: the connection fails, the runner goes on.
            m_listener.fail(awaiting->callId, EAGAIN);
            continue;
        }
        m_listener.succeed(awaiting->callId, 0);
        keepUntilFinished(this, &m_relays, std::move(relay));
    }
}

void EgressFilter::relayDatagrams(const SeccompCall &call, UniqueFd sandboxSocket, UniqueFd host)
{
    // The runner's end of the flow, in the sandbox's namespace, on its loopback.
    const int sandboxFamily = socketOption(sandboxSocket.get(), SOL_SOCKET, SO_DOMAIN);
    UniqueFd relayEnd = m_makeSandboxSocket(sandboxFamily);
    socklen_t length = 0;
    const QHostAddress loopback = sandboxFamily == AF_INET6 ? QHostAddress(QHostAddress::LocalHostIPv6)
                                                            : QHostAddress(QHostAddress::LocalHost);
    const sockaddr_storage any = socketAddress(loopback, 0, &length);
    sockaddr_storage relayAddress{};
    socklen_t relayLength = sizeof relayAddress;
    if (!relayEnd.isValid() || ::bind(relayEnd.get(), reinterpret_cast<const sockaddr *>(&any), length) != 0
        || ::getsockname(relayEnd.get(), reinterpret_cast<sockaddr *>(&relayAddress), &relayLength) != 0
        || ::connect(sandboxSocket.get(), reinterpret_cast<const sockaddr *>(&relayAddress), relayLength) != 0) {
        m_listener.fail(call.id, relayEnd.isValid() ? errno : EAGAIN);
        return;
    }
    sockaddr_storage sandboxAddress{};
    socklen_t sandboxLength = sizeof sandboxAddress;
    if (::getsockname(sandboxSocket.get(), reinterpret_cast<sockaddr *>(&sandboxAddress), &sandboxLength) != 0
        || ::connect(relayEnd.get(), reinterpret_cast<const sockaddr *>(&sandboxAddress), sandboxLength) != 0) {
        m_listener.fail(call.id, errno);
        return;
    }
    keepUntilFinished(this, &m_datagramRelays, std::make_unique<UdpRelay>(std::move(relayEnd), std::move(host)));
    m_listener.succeed(call.id, 0);
}

} // namespace Sandflow::Internal
