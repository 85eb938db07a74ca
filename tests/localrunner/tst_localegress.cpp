// Network policies on the local runner, with real traffic: servers of the test on host
// loopback addresses (127.0.0.2, 127.0.0.3), clients in sandboxes (bash's /dev/tcp and
// /dev/udp), the policy changed while the sandbox runs, and what a sandbox leaves behind.
#include "dnstesting.h"
#include "localrunnertesting.h"
#include "shellquote.h"

#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QUdpSocket>

using namespace Sandflow;
using namespace RunnerTesting;
using namespace Qt::StringLiterals;
using Action = SandboxNetworkPolicy::Action;

namespace {

/// Answers every connection with one line naming the address it listens on, then closes.
class LineServer : public QObject
{
public:
    explicit LineServer(const QString &address)
    {
        m_server.listen(QHostAddress(address));
        connect(&m_server, &QTcpServer::newConnection, this, [this, address] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                socket->write("served by " + address.toLatin1() + '\n');
                socket->disconnectFromHost();
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
    }
    quint16 port() const { return m_server.serverPort(); }

private:
    QTcpServer m_server;
};

/// Sends zeros to every connection until it closes.
class FloodServer : public QObject
{
public:
    explicit FloodServer(const QString &address)
    {
        m_server.listen(QHostAddress(address));
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                const auto more = [socket] {
                    if (socket->bytesToWrite() < (1 << 20))
                        socket->write(QByteArray(1 << 20, '\0'));
                };
                connect(socket, &QTcpSocket::bytesWritten, socket, more);
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
                connect(socket, &QTcpSocket::errorOccurred, socket, &QObject::deleteLater);
                more();
            }
        });
    }
    quint16 port() const { return m_server.serverPort(); }

private:
    QTcpServer m_server;
};

/// Echoes every datagram back, prefixed.
class EchoServer : public QObject
{
public:
    explicit EchoServer(const QString &address)
    {
        m_socket.bind(QHostAddress(address));
        connect(&m_socket, &QUdpSocket::readyRead, this, [this] {
            while (m_socket.hasPendingDatagrams()) {
                QHostAddress from;
                quint16 port = 0;
                QByteArray datagram(int(m_socket.pendingDatagramSize()), '\0');
                m_socket.readDatagram(datagram.data(), datagram.size(), &from, &port);
                m_socket.writeDatagram("echo " + datagram, from, port);
            }
        });
    }
    quint16 port() const { return m_socket.localPort(); }

private:
    QUdpSocket m_socket;
};

/// A shell function that connects and prints the server's line, or bash's error.
QString fetch(const QString &address, quint16 port)
{
    return u"( exec 3<>/dev/tcp/%1/%2 && cat <&3 ) 2>&1 | tail -n 1 | sed 's/^.*: //'"_s.arg(address).arg(port);
}

SandboxRequest withPolicy(Action defaultAction, const QList<SandboxNetworkPolicy::Rule> &rules)
{
    return sandbox([&](SandboxRequest &r) { r.network = SandboxNetworkPolicy{defaultAction, rules}; });
}

/// What `script` printed, run by bash (its /dev/tcp and /dev/udp are the clients).
QByteArray bash(Runner *runner, const QString &id, const QString &script,
                SourceLocation where = SourceLocation::current())
{
    return shellOutput(runner, id, u"exec bash -c %1"_s.arg(shellQuoted(script)), where);
}

} // namespace

class TestLocalEgress : public QObject
{
    Q_OBJECT

private slots:
    void allowedAddressesAreReachedOthersAreNot();
    void firstMatchingRuleDecidesAddresses();
    void allowByDefaultStillHidesTheHostsLoopback();
    void theSandboxKeepsItsOwnLoopback();
    void datagramsGoOnlyWhereAllowed();
    void changesApplyToNewConnections();
    void deniedConnectionsAreReported();
    void noSocketOfTheSandboxIsTheHosts();
    void onlyAllowedNamesResolve();
    void anAllowedNameIsReachedOverHttps();
    void nothingIsLeftBehind();
    void aClientThatResetsDoesNotHurtTheRunner();
    void threadsConnectLikeTheirProcess();
    void wideRangesDoNotNameTheHostsOwnAddresses();
    void fastOpenGoesThroughAsAPlainConnect();
};

void TestLocalEgress::allowedAddressesAreReachedOthersAreNot()
{
    LineServer allowed(u"127.0.0.2"_s);
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, withPolicy(Action::Deny, {{Action::Allow, u"127.0.0.2"_s}}));
    QCOMPARE(bash(&runner, id, fetch(u"127.0.0.2"_s, allowed.port())), QByteArray("served by 127.0.0.2\n"));
    // An address the policy does not name, beyond loopback: refused, as a firewall refuses.
    QCOMPARE(bash(&runner, id, fetch(u"192.0.2.1"_s, 80)), QByteArray("Operation not permitted\n"));
    QCOMPARE(bash(&runner, id, u"python3 -c \"import socket\ntry:\n socket.create_connection(('2001:db8::1', 80))\n"
                               u"except OSError as e: print(e.strerror)\""_s),
             QByteArray("Operation not permitted\n"));
    // No way around the filter: raw sockets need a capability the sandbox does not have.
    QCOMPARE(bash(&runner, id, u"python3 -c \"import socket\ntry:\n socket.socket(socket.AF_INET, socket.SOCK_RAW, "
                               u"socket.IPPROTO_ICMP)\nexcept OSError as e: print(e.strerror)\""_s),
             QByteArray("Operation not permitted\n"));
}

void TestLocalEgress::firstMatchingRuleDecidesAddresses()
{
    LineServer two(u"127.0.0.2"_s);
    LineServer three(u"127.0.0.3"_s);
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, withPolicy(Action::Deny, {{Action::Deny, u"127.0.0.3"_s},
                                                                 {Action::Allow, u"127.0.0.0/24"_s}}));
    QCOMPARE(bash(&runner, id, fetch(u"127.0.0.2"_s, two.port())), QByteArray("served by 127.0.0.2\n"));
    QCOMPARE(bash(&runner, id, fetch(u"127.0.0.3"_s, three.port())), QByteArray("Operation not permitted\n"));
    // An IPv6 socket naming the IPv4 address the same way.
    QCOMPARE(bash(&runner, id, u"python3 -c \"import socket; s = socket.socket(socket.AF_INET6); "
                                      u"s.connect(('::ffff:127.0.0.2', %1)); print(s.recv(100).decode().strip())\""_s
                                          .arg(two.port())),
             QByteArray("served by 127.0.0.2\n"));
}

// With `defaultAction: allow` a sandbox reaches the world, but the host's loopback (where
// `sandflow serve` listens) only where the policy names it.
void TestLocalEgress::allowByDefaultStillHidesTheHostsLoopback()
{
    LineServer host(u"127.0.0.1"_s);
    LineServer named(u"127.0.0.2"_s);
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, withPolicy(Action::Allow, {{Action::Allow, u"127.0.0.2"_s}}));
    QCOMPARE(bash(&runner, id, fetch(u"127.0.0.1"_s, host.port())), QByteArray("Connection refused\n"));
    QCOMPARE(bash(&runner, id, fetch(u"0.0.0.0"_s, host.port())), QByteArray("Connection refused\n"));
    QCOMPARE(bash(&runner, id, fetch(u"127.0.0.2"_s, named.port())), QByteArray("served by 127.0.0.2\n"));
}

void TestLocalEgress::theSandboxKeepsItsOwnLoopback()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, withPolicy(Action::Deny, {}));
    const QByteArray out = shellOutput(
        &runner, id,
        u"python3 -c \"import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
        u"c = socket.create_connection(s.getsockname()); a, _ = s.accept(); a.send(b'own loopback'); "
        u"print(c.recv(100).decode())\""_s);
    QCOMPARE(out, QByteArray("own loopback\n"));
}

void TestLocalEgress::datagramsGoOnlyWhereAllowed()
{
    EchoServer allowed(u"127.0.0.2"_s);
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, withPolicy(Action::Deny, {{Action::Allow, u"127.0.0.2"_s}}));
    QCOMPARE(bash(&runner, id,
                         u"exec 3<>/dev/udp/127.0.0.2/%1 && echo ping >&3 && timeout 10 head -n 1 <&3"_s
                             .arg(allowed.port())),
             QByteArray("echo ping\n"));
    QCOMPARE(bash(&runner, id, u"(echo ping > /dev/udp/192.0.2.1/53) 2>&1 | tail -n 1 | sed 's/^.*: //'"_s),
             QByteArray("Operation not permitted\n"));
    // Unconnected, to an address outside: nothing leaves the sandbox's namespace.
    QCOMPARE(bash(&runner, id,
                         u"python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                         u"try:\n s.sendto(b'x', ('192.0.2.1', 53)); print('sent')\n"
                         u"except OSError as e: print(e.strerror)\""_s),
             QByteArray("Network is unreachable\n"));
}

void TestLocalEgress::changesApplyToNewConnections()
{
    LineServer server(u"127.0.0.2"_s);
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, withPolicy(Action::Deny, {}));
    const QString get = fetch(u"127.0.0.2"_s, server.port());
    // Not named: the sandbox's own 127.0.0.2, where nothing listens.
    QCOMPARE(bash(&runner, id, get), QByteArray("Connection refused\n"));
    const SandboxNetworkPolicy patched = resultOf(runner.patchEgressRules(id, {{Action::Allow, u"127.0.0.2"_s}}));
    QCOMPARE(patched.egress.size(), 1);
    QCOMPARE(bash(&runner, id, get), QByteArray("served by 127.0.0.2\n"));
    resultOf(runner.patchEgressRules(id, {{Action::Deny, u"127.0.0.2"_s}}));
    QCOMPARE(bash(&runner, id, get), QByteArray("Operation not permitted\n"));
    const SandboxNetworkPolicy removed = resultOf(runner.deleteEgressRules(id, {u"127.0.0.2"_s}));
    QVERIFY(removed.egress.isEmpty());
    QCOMPARE(bash(&runner, id, get), QByteArray("Connection refused\n"));
    QCOMPARE(resultOf(runner.egressPolicy(id)).defaultAction, Action::Deny);
    // A sandbox made without a policy has none to change.
    const QString open = create(&runner);
    QCOMPARE(errorCodeOf(runner.egressPolicy(open)), u"EGRESS_POLICY_NOT_FOUND"_s);
    QCOMPARE(errorCodeOf(runner.patchEgressRules(id, {{Action::Allow, u"not a target"_s}})), u"EGRESS_RULE_INVALID"_s);
}

void TestLocalEgress::deniedConnectionsAreReported()
{
    LocalRunner runner(runnerOptions());
    QSignalSpy denied(&runner, &Runner::egressDenied);
    const QString id = create(&runner, withPolicy(Action::Deny, {}));
    bash(&runner, id, fetch(u"192.0.2.7"_s, 8443));
    QCOMPARE(denied.size(), 1);
    QCOMPARE(denied.at(0).at(0).toString(), id);
    QCOMPARE(denied.at(0).at(1).toString(), u"192.0.2.7"_s);
    QCOMPARE(denied.at(0).at(2).toInt(), 8443);
}

// An allowed connection is the runner's: the sandbox's socket is connected to the runner's
// proxy in the sandbox's own namespace, never to the host's network, so nothing the sandbox
// does with it afterwards (connect it elsewhere, swap descriptors under a call) leaves that
// namespace. And the proxy, reached directly, relays nothing.
void TestLocalEgress::noSocketOfTheSandboxIsTheHosts()
{
    LineServer server(u"127.0.0.2"_s);
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, withPolicy(Action::Deny, {{Action::Allow, u"127.0.0.2"_s}}));
    const QByteArray peer = bash(&runner, id,
                                 u"python3 -c \"import socket; s = socket.create_connection(('127.0.0.2', %1)); "
                                 u"print(s.recv(100).decode().strip()); print(s.getpeername()[0]); "
                                 u"print(s.getpeername()[1] != %1)\""_s.arg(server.port()));
    QCOMPARE(peer, QByteArray("served by 127.0.0.2\n127.0.0.1\nTrue\n"));
    // The proxy's own port, found from a relayed connection: a connection there is closed.
    const QByteArray direct = bash(&runner, id,
                                   u"python3 -c \"import socket; s = socket.create_connection(('127.0.0.2', %1)); "
                                   u"port = s.getpeername()[1]; d = socket.create_connection(('127.0.0.1', port)); "
                                   u"print(repr(d.recv(100)))\""_s.arg(server.port()));
    QCOMPARE(direct, QByteArray("b''\n"));
}

namespace {

/// A runner whose sandboxes' resolver asks `dnsmasq`.
LocalRunner::Options throughDnsmasq(const DnsTesting::Dnsmasq &dnsmasq)
{
    LocalRunner::Options options = runnerOptions();
    options.dnsUpstream = QHostAddress(QHostAddress::LocalHost);
    options.dnsUpstreamPort = dnsmasq.port();
    return options;
}

} // namespace

// svc.test is 127.0.0.2 to dnsmasq, alias.test a CNAME of it.
void TestLocalEgress::onlyAllowedNamesResolve()
{
    DnsTesting::Dnsmasq dnsmasq;
    QVERIFY(dnsmasq.waitUntilAnswering());
    LineServer server(u"127.0.0.2"_s);
    LocalRunner runner(throughDnsmasq(dnsmasq));
    QSignalSpy denied(&runner, &Runner::egressDenied);
    const QString id = create(&runner, withPolicy(Action::Deny, {{Action::Allow, u"SVC.test."_s}}));
    QCOMPARE(bash(&runner, id, u"getent hosts svc.test | cut -d' ' -f1"_s), QByteArray("127.0.0.2\n"));
    // By name: the name is allowed, so its address is the host's, and reached.
    QCOMPARE(bash(&runner, id, fetch(u"svc.test"_s, server.port())), QByteArray("served by 127.0.0.2\n"));
    // Not allowed: it does not resolve, even through the name it is an alias of.
    QCOMPARE(bash(&runner, id, u"getent hosts alias.test || echo unresolved"_s), QByteArray("unresolved\n"));
    QTRY_VERIFY(!denied.isEmpty());
    QCOMPARE(denied.last().at(1).toString(), u"alias.test"_s);
    QCOMPARE(denied.last().at(2).toInt(), 0);
    // Another DNS server, asked directly: out of reach.
    QCOMPARE(bash(&runner, id, u"(echo x > /dev/udp/192.0.2.53/53) 2>&1 | tail -n 1 | sed 's/^.*: //'"_s),
             QByteArray("Operation not permitted\n"));

    // A wildcard covers subdomains, not the name itself; names come back as the policy changes.
    const QString wild = create(&runner, withPolicy(Action::Deny, {{Action::Allow, u"*.test"_s}}));
    QCOMPARE(bash(&runner, wild, u"getent hosts alias.test | cut -d' ' -f1"_s), QByteArray("127.0.0.2\n"));
    resultOf(runner.patchEgressRules(wild, {{Action::Deny, u"alias.test"_s}}));
    QCOMPARE(bash(&runner, wild, u"getent hosts alias.test || echo unresolved"_s), QByteArray("unresolved\n"));
    const QString apex = create(&runner, withPolicy(Action::Deny, {{Action::Allow, u"*.svc.test"_s}}));
    QCOMPARE(bash(&runner, apex, u"getent hosts svc.test || echo unresolved"_s), QByteArray("unresolved\n"));
}

void TestLocalEgress::anAllowedNameIsReachedOverHttps()
{
    DnsTesting::Dnsmasq dnsmasq;
    QVERIFY(dnsmasq.waitUntilAnswering());
    QTemporaryDir keys;
    QProcess openssl;
    openssl.start(u"openssl"_s, {u"req"_s, u"-x509"_s, u"-newkey"_s, u"rsa:2048"_s, u"-nodes"_s, u"-days"_s, u"1"_s,
                                  u"-subj"_s, u"/CN=svc.test"_s, u"-keyout"_s, keys.filePath(u"key.pem"_s), u"-out"_s,
                                  keys.filePath(u"cert.pem"_s)});
    QVERIFY(openssl.waitForFinished(60'000) && openssl.exitCode() == 0);
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress(u"127.0.0.2"_s)));
    const quint16 port = probe.serverPort();
    probe.close();
    QProcess server;
    server.start(u"openssl"_s, {u"s_server"_s, u"-accept"_s, u"127.0.0.2:%1"_s.arg(port), u"-cert"_s,
                                 keys.filePath(u"cert.pem"_s), u"-key"_s, keys.filePath(u"key.pem"_s), u"-www"_s,
                                 u"-quiet"_s});
    QVERIFY(server.waitForStarted());
    const auto stopServer = qScopeGuard([&server] {
        server.kill();
        server.waitForFinished();
    });
    QTRY_VERIFY_WITH_TIMEOUT(QTcpSocket().bind(QHostAddress(u"127.0.0.2"_s), port) == false, 10'000);
    LocalRunner runner(throughDnsmasq(dnsmasq));
    const QString id = create(&runner, withPolicy(Action::Deny, {{Action::Allow, u"svc.test"_s}}));
    QFile certificate(keys.filePath(u"cert.pem"_s));
    QVERIFY(certificate.open(QIODevice::ReadOnly));
    // Verified against the server's certificate, for the name asked: the TLS session is the
    // client's and the server's, end to end through the proxy.
    const QByteArray page = bash(&runner, id,
                                 u"cat > /tmp/ca.pem <<'PEM'\n%1PEM\ncurl -sS --cacert /tmp/ca.pem https://svc.test:%2/ "
                                 u"| grep -q s_server && echo verified"_s.arg(QString::fromLatin1(certificate.readAll())).arg(port));
    QCOMPARE(page, QByteArray("verified\n"));
}

// Deleting a sandbox closes its network: the namespace, the proxy, its connections.
void TestLocalEgress::nothingIsLeftBehind()
{
    LineServer server(u"127.0.0.2"_s);
    LocalRunner runner(runnerOptions());
    // The first sandbox makes what the runner keeps for all (its filters' programs).
    QCOMPARE(errorOf(runner.deleteSandbox(create(&runner, withPolicy(Action::Deny, {})))), std::nullopt);
    // Once what that sandbox's deletion left to the event loop is done.
    QTest::qWait(500);
    const qsizetype before = openDescriptors().size();
    for (int i = 0; i < 3; ++i) {
        const QString id = create(&runner, withPolicy(Action::Deny, {{Action::Allow, u"127.0.0.2"_s}}));
        QCOMPARE(bash(&runner, id, fetch(u"127.0.0.2"_s, server.port())), QByteArray("served by 127.0.0.2\n"));
        // A connection still open as the sandbox goes.
        runner.runCommand(id, command(u"exec 3<>/dev/tcp/127.0.0.2/%1; sleep 60"_s.arg(server.port())))->start();
        QTest::qWait(200);
        QCOMPARE(errorOf(runner.deleteSandbox(id)), std::nullopt);
    }
    QTRY_COMPARE(openDescriptors().size(), before);
}

// A client that reads a little of a large download and resets its connection: the relay's
// write to it fails (EPIPE), which must not end the runner.
void TestLocalEgress::aClientThatResetsDoesNotHurtTheRunner()
{
    FloodServer server(u"127.0.0.2"_s);
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, withPolicy(Action::Deny, {{Action::Allow, u"127.0.0.2"_s}}));
    const QString reset = u"python3 -c \"import socket, struct, time\nfor _ in range(5):\n"
                          u" s = socket.create_connection(('127.0.0.2', %1)); time.sleep(0.2); s.recv(10)\n"
                          u" s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); s.close()\n"
                          u"print('reset')\""_s.arg(server.port());
    QCOMPARE(bash(&runner, id, reset), QByteArray("reset\n"));
    QTest::qWait(500);
    QCOMPARE(bash(&runner, id, u"echo alive"_s), QByteArray("alive\n"));
}

void TestLocalEgress::threadsConnectLikeTheirProcess()
{
    LineServer server(u"127.0.0.2"_s);
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, withPolicy(Action::Deny, {{Action::Allow, u"127.0.0.2"_s}}));
    QCOMPARE(bash(&runner, id,
                  u"python3 -c \"import socket, threading\nout = []\n"
                  u"t = threading.Thread(target=lambda: out.append(socket.create_connection(('127.0.0.2', %1)).recv(100)))\n"
                  u"t.start(); t.join(); print(out[0].decode().strip())\""_s.arg(server.port())),
             QByteArray("served by 127.0.0.2\n"));
}

// `0.0.0.0/0` allows the world, not the host's loopback nor its link-local services (cloud
// metadata); denied, it leaves the sandbox its own loopback and resolver.
void TestLocalEgress::wideRangesDoNotNameTheHostsOwnAddresses()
{
    LineServer host(u"127.0.0.1"_s);
    LocalRunner runner(runnerOptions());
    const QString open = create(&runner, withPolicy(Action::Deny, {{Action::Allow, u"0.0.0.0/0"_s}, {Action::Allow, u"::/0"_s}}));
    QCOMPARE(bash(&runner, open, fetch(u"127.0.0.1"_s, host.port())), QByteArray("Connection refused\n"));
    QCOMPARE(bash(&runner, open, fetch(u"169.254.169.254"_s, 80)), QByteArray("Operation not permitted\n"));
    const QString byDefault = create(&runner, withPolicy(Action::Allow, {}));
    QCOMPARE(bash(&runner, byDefault, fetch(u"169.254.169.254"_s, 80)), QByteArray("Operation not permitted\n"));
    const QString closed = create(&runner, withPolicy(Action::Allow, {{Action::Deny, u"0.0.0.0/0"_s}}));
    QCOMPARE(bash(&runner, closed,
                  u"python3 -c \"import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
                  u"c = socket.create_connection(s.getsockname()); print('own loopback')\""_s),
             QByteArray("own loopback\n"));
    QCOMPARE(bash(&runner, closed, u"getent hosts localhost | head -n 1 | cut -d' ' -f1"_s).isEmpty(), false);
}

void TestLocalEgress::fastOpenGoesThroughAsAPlainConnect()
{
    LineServer server(u"127.0.0.2"_s);
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, withPolicy(Action::Deny, {{Action::Allow, u"127.0.0.2"_s}}));
    QCOMPARE(bash(&runner, id,
                  u"python3 -c \"import socket; s = socket.socket(); "
                  u"s.setsockopt(socket.IPPROTO_TCP, 30, 1); s.connect(('127.0.0.2', %1)); "
                  u"print(s.recv(100).decode().strip())\""_s.arg(server.port())),
             QByteArray("served by 127.0.0.2\n"));
}

QTEST_GUILESS_MAIN(TestLocalEgress)
#include "tst_localegress.moc"
