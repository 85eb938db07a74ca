// What the sandbox's resolver adds to a DNS query. Upstream path: an A query for an allowed
// name answered through SandboxResolver with dnsmasq as its upstream server, against the same
// query asked of dnsmasq directly. Host path: `localhost` through the resolver's getaddrinfo,
// against getaddrinfo called directly. Each round is the median of many sequential queries;
// the sides take turns over the rounds (rounds.h). Prints figures; not a test.
#include "dnstesting.h"
#include "rounds.h"
#include "sandboxresolver_p.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>

#include <netdb.h>

#include <cstdio>

namespace {

using namespace Sandflow;
using namespace Sandflow::Internal;
using namespace Qt::StringLiterals;

constexpr int Rounds = 11;
constexpr int QueriesPerRound = 200;

/// Asks over UDP and waits in the event loop, which the resolver shares, for the answer:
/// no polling, so that the figure is the resolver's and not the client's.
class Asker
{
public:
    explicit Asker(quint16 port) : m_port(port) { m_socket.bind(QHostAddress::LocalHost, 0); }

    /// Microseconds until an answer with `expected` came; -1 on any failure.
    double microseconds(const QByteArray &query, const QHostAddress &expected)
    {
        QElapsedTimer timer;
        timer.start();
        m_socket.writeDatagram(query, QHostAddress::LocalHost, m_port);
        if (!m_socket.hasPendingDatagrams()) {
            QEventLoop loop;
            QObject::connect(&m_socket, &QUdpSocket::readyRead, &loop, &QEventLoop::quit);
            QTimer::singleShot(DnsTesting::AnswerWaitMs, &loop, &QEventLoop::quit);
            loop.exec();
        }
        const double elapsed = double(timer.nsecsElapsed()) / 1e3;
        if (!m_socket.hasPendingDatagrams())
            return -1;
        const DnsTesting::Response answer = DnsTesting::response(m_socket.receiveDatagram().data());
        return answer.addresses.contains(expected) ? elapsed : -1;
    }

private:
    QUdpSocket m_socket;
    const quint16 m_port;
};

/// The median of `QueriesPerRound` runs of `once`; a failed run fails the whole benchmark.
double medianOf(const std::function<double()> &once, bool &failed)
{
    std::vector<double> values;
    for (int i = 0; i < QueriesPerRound; ++i) {
        const double value = once();
        failed = failed || value < 0;
        values.push_back(value);
    }
    return Bench::spread(values).median;
}

double getaddrinfoMicroseconds()
{
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo *list = nullptr;
    QElapsedTimer timer;
    timer.start();
    const int status = getaddrinfo("localhost", nullptr, &hints, &list);
    const double elapsed = double(timer.nsecsElapsed()) / 1e3;
    if (status != 0)
        return -1;
    freeaddrinfo(list);
    return elapsed;
}

SandboxResolver *resolverOnLoopback(const SandboxResolverSettings &settings, quint16 &port)
{
    const auto [udp, udpPort] = DnsTesting::boundSocket(SOCK_DGRAM);
    const auto [tcp, tcpPort] = DnsTesting::boundSocket(SOCK_STREAM);
    Q_UNUSED(tcpPort);
    port = udpPort;
    return new SandboxResolver(udp, tcp, settings);
}

void printAdded(const Bench::Rounds &rounds)
{
    std::printf("  %-46s %9.1f us (median against median)\n", "added by the resolver",
                Bench::spread(rounds.measured).median - Bench::spread(rounds.baseline).median);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication application(argc, argv);
    DnsTesting::Dnsmasq dnsmasq;
    if (!dnsmasq.waitUntilAnswering()) {
        std::fprintf(stderr, "bench_egressdns: dnsmasq (/usr/sbin/dnsmasq) did not start answering\n");
        return 1;
    }
    SandboxNetworkPolicy policy;
    policy.defaultAction = SandboxNetworkPolicy::Action::Deny;
    policy.egress = {{SandboxNetworkPolicy::Action::Allow, u"svc.test"_s}, {SandboxNetworkPolicy::Action::Allow, u"localhost"_s}};

    quint16 forwardingPort = 0;
    const std::unique_ptr<SandboxResolver> forwarding(resolverOnLoopback(
        {SandboxResolverSettings::Upstream{QHostAddress(QHostAddress::LocalHost), dnsmasq.port()}, policy}, forwardingPort));
    quint16 lookingUpPort = 0;
    const std::unique_ptr<SandboxResolver> lookingUp(resolverOnLoopback({std::nullopt, policy}, lookingUpPort));

    Asker direct(dnsmasq.port());
    Asker throughResolver(forwardingPort);
    Asker throughLookup(lookingUpPort);
    const QByteArray svcQuery = DnsTesting::query(0x5151, "svc.test", LDNS_RR_TYPE_A);
    const QByteArray localhostQuery = DnsTesting::query(0x5252, "localhost", LDNS_RR_TYPE_A);
    const QHostAddress svcAddress(u"127.0.0.2"_s);
    const QHostAddress loopback(QHostAddress::LocalHost);

    bool failed = false;
    const Bench::Rounds upstream = Bench::alternate(
        Rounds, [&] { return medianOf([&] { return direct.microseconds(svcQuery, svcAddress); }, failed); },
        [&] { return medianOf([&] { return throughResolver.microseconds(svcQuery, svcAddress); }, failed); });
    const Bench::Rounds host = Bench::alternate(
        Rounds, [&] { return medianOf(getaddrinfoMicroseconds, failed); },
        [&] { return medianOf([&] { return throughLookup.microseconds(localhostQuery, loopback); }, failed); });
    if (failed) {
        std::fprintf(stderr, "bench_egressdns: a query was not answered with the expected address\n");
        return 1;
    }

    std::printf("bench_egressdns: median latency of an A query over UDP on loopback, %d rounds of %d queries, "
                "alternating after one untimed round each\n", Rounds, QueriesPerRound);
    std::printf(" allowed name, upstream dnsmasq:\n");
    Bench::printComparison(upstream, "us", "dnsmasq asked directly", "through SandboxResolver");
    printAdded(upstream);
    std::printf(" localhost from /etc/hosts, no upstream:\n");
    Bench::printComparison(host, "us", "getaddrinfo called directly", "through SandboxResolver (getaddrinfo)");
    printAdded(host);
    return 0;
}
