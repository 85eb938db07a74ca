// The runner's half of a sandbox's egress filter (egressseccomp_p.h): every connect() the
// sandbox makes waits here, with the address as the runner read it once.
//
// - A destination on the sandbox's own loopback (127.0.0.0/8, ::1, the unspecified
//   addresses) stays there: the call runs unchanged inside the sandbox's namespace. Unless a
//   rule names that address, or a name resolving to it: then it means the host's, as the
//   workflow's author meant (a test server on the host's 127.0.0.2), allowed or denied.
// - A destination the policy denies fails with EPERM, as a firewall's refusal does, and is
//   reported (`denied`).
// - A destination it allows is connected from the host; once that connection stands, the
//   sandbox's socket is connected to the runner's proxy in its namespace (sandboxnetwork_p.h)
//   and the call returns 0, or the host's error (ECONNREFUSED, ETIMEDOUT, ...). The proxy
//   pairs the connection it accepts with the host's and relays the bytes (tcprelay_p.h).
//   A connect() the sandbox meant as non-blocking returns only once connected, which the
//   call may do too. TCP Fast Open is not relayed: the sandbox's socket connects plainly.
// - Datagram sockets connect the same way through a relay of the runner's in the namespace.
#pragma once

#include "seccompnotify_p.h"
#include "uniquefd_p.h"

#include <QHostAddress>
#include <QObject>

#include <functional>
#include <map>
#include <memory>

class QSocketNotifier;

namespace Sandflow::Internal {

class TcpRelay;
class UdpRelay;

class EgressFilter : public QObject
{
    Q_OBJECT

public:
    /// What the policy says of an address: allowed or not, and whether by a rule that names
    /// it (or a name resolving to it) rather than by the default.
    struct Verdict
    {
        bool allow = false;
        bool named = false;
    };
    using Decide = std::function<Verdict(const QHostAddress &address)>;
    /// Makes a datagram socket in the sandbox's network namespace, for the relays.
    using MakeSandboxSocket = std::function<UniqueFd(int family)>;

    /// `listener`: the filter's seccomp listener; `proxyListener`/`proxyPort`: the proxy's
    /// socket in the sandbox's namespace. `decide` is asked at every connect.
    EgressFilter(UniqueFd listener, UniqueFd proxyListener, quint16 proxyPort, Decide decide,
                 MakeSandboxSocket makeSandboxSocket, QObject *parent = nullptr);
    ~EgressFilter() override;

    signals:
    /// A connect the policy refused: the address as text and the port.
    void denied(const QString &address, int port);

private:
    struct HostConnect;
    struct AwaitingProxy;

    void onCall();
    void onConnect(const SeccompCall &call);
    void connectFromHost(const SeccompCall &call, UniqueFd sandboxSocket, int type, const QHostAddress &address,
                         quint16 port);
    void onHostConnected(quint64 id);
    void joinProxy(HostConnect &connect);
    void relayDatagrams(const SeccompCall &call, UniqueFd sandboxSocket, UniqueFd host);
    void onProxyConnection();
    /// Flows of the sandbox now: connects held, connections on their way to the proxy or
    /// relayed, datagram relays. Bounded, so that no sandbox grows the runner without end.
    size_t flowCount() const;

    SeccompListener m_listener;
    std::unique_ptr<QSocketNotifier> m_listenerNotifier;
    UniqueFd m_proxyListener;
    quint16 m_proxyPort;
    bool m_proxyDualStack = false;
    std::unique_ptr<QSocketNotifier> m_proxyNotifier;
    Decide m_decide;
    MakeSandboxSocket m_makeSandboxSocket;
    std::map<quint64, std::unique_ptr<HostConnect>> m_hostConnects;   // by call id
    /// Host connections whose sandbox side is on its way to the proxy, by the sandbox
    /// socket's address and port (IPv4 ones as the dual-stack proxy sees them, mapped). The
    /// sandbox's connect is answered once the proxy has its side.
    std::map<std::pair<QString, quint16>, std::unique_ptr<AwaitingProxy>> m_awaitingProxy;
    std::map<TcpRelay *, std::unique_ptr<TcpRelay>> m_relays;
    std::map<UdpRelay *, std::unique_ptr<UdpRelay>> m_datagramRelays;
};

} // namespace Sandflow::Internal
