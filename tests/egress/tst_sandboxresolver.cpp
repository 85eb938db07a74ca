// SandboxResolver over real sockets on loopback, as a sandbox's processes would ask it:
// policy decisions, getaddrinfo answers, relaying to dnsmasq, hostile messages, timeouts.
#include "dnstesting.h"
#include "sandboxresolver_p.h"

#include <netdb.h>

using namespace Sandflow;
using namespace Sandflow::Internal;
using namespace DnsTesting;
using namespace Qt::StringLiterals;

namespace {

using Action = SandboxNetworkPolicy::Action;

SandboxNetworkPolicy policy(Action defaultAction, const QStringList &allowed = {})
{
    SandboxNetworkPolicy result;
    result.defaultAction = defaultAction;
    for (const QString &target : allowed)
        result.egress.append({Action::Allow, target});
    return result;
}

/// A resolver on fresh loopback sockets, with its ports.
struct Served
{
    explicit Served(const SandboxResolverSettings &settings)
    {
        const auto [udp, udpPort] = boundSocket(SOCK_DGRAM);
        const auto [tcp, tcpPort] = boundSocket(SOCK_STREAM);
        this->udpPort = udpPort;
        this->tcpPort = tcpPort;
        resolver = std::make_unique<SandboxResolver>(udp, tcp, settings);
    }

    std::unique_ptr<SandboxResolver> resolver;
    quint16 udpPort = 0;
    quint16 tcpPort = 0;
};

SandboxResolverSettings throughUpstream(quint16 port, const SandboxNetworkPolicy &rules)
{
    return {SandboxResolverSettings::Upstream{QHostAddress(QHostAddress::LocalHost), port}, rules};
}

/// What the host's getaddrinfo says `name` has for `family`: what the resolver must answer.
QList<QHostAddress> hostAddresses(const char *name, int family)
{
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo *list = nullptr;
    QList<QHostAddress> addresses;
    if (getaddrinfo(name, nullptr, &hints, &list) == 0) {
        for (const addrinfo *entry = list; entry; entry = entry->ai_next) {
            if (!addresses.contains(QHostAddress(entry->ai_addr)))
                addresses.append(QHostAddress(entry->ai_addr));
        }
        freeaddrinfo(list);
    }
    return addresses;
}

QByteArray header(quint16 id, quint16 flags, quint16 questions)
{
    QByteArray message(12, '\0');
    qToBigEndian(id, message.data());
    qToBigEndian(flags, message.data() + 2);
    qToBigEndian(questions, message.data() + 4);
    return message;
}

const QByteArray QuestionTail = QByteArray::fromHex("00010001");     // type A, class IN

} // namespace

class TestSandboxResolver : public QObject
{
    Q_OBJECT

private slots:
    void deniedNameGetsNxdomain()
    {
        Served served({std::nullopt, policy(Action::Deny, {u"localhost"_s})});
        QVERIFY(served.resolver->isServing());
        QSignalSpy denied(served.resolver.get(), &SandboxResolver::denied);
        QSignalSpy learned(served.resolver.get(), &SandboxResolver::learned);
        UdpClient client(served.udpPort);

        const Response answer = client.ask(query(0x4242, "Blocked.Example.COM.", LDNS_RR_TYPE_A));
        QVERIFY(answer.parsed);
        QCOMPARE(answer.id, 0x4242);
        QCOMPARE(answer.rcode, int(LDNS_RCODE_NXDOMAIN));
        QCOMPARE(answer.questions, 1);
        QVERIFY(answer.recursionAvailable);
        QVERIFY(answer.addresses.isEmpty());
        QCOMPARE(denied.size(), 1);
        QCOMPARE(denied.at(0).at(0).toString(), u"blocked.example.com"_s);
        QCOMPARE(learned.size(), 0);

        TcpClient tcp(served.tcpPort);
        QCOMPARE(tcp.ask(query(7, "other.example", LDNS_RR_TYPE_AAAA)).rcode, int(LDNS_RCODE_NXDOMAIN));
        QCOMPARE(denied.size(), 2);
    }

    void allowedNameIsLookedUpOnTheHost()
    {
        Served served({std::nullopt, policy(Action::Deny, {u"localhost"_s})});
        QSignalSpy learned(served.resolver.get(), &SandboxResolver::learned);
        UdpClient client(served.udpPort);

        const Response ipv4 = client.ask(query(1, "localhost", LDNS_RR_TYPE_A));
        QCOMPARE(ipv4.rcode, int(LDNS_RCODE_NOERROR));
        QVERIFY(ipv4.addresses.contains(QHostAddress(QHostAddress::LocalHost)));
        QCOMPARE(ipv4.addresses, hostAddresses("localhost", AF_INET));
        QCOMPARE(learned.size(), 1);
        QCOMPARE(learned.at(0).at(0).toString(), u"localhost"_s);
        QCOMPARE(learned.at(0).at(1).value<QList<QHostAddress>>(), ipv4.addresses);
        QCOMPARE(learned.at(0).at(2).toInt(), SandboxResolver::LookupTtlSeconds);

        // ::1 where the host's /etc/hosts names it; else the name exists without an IPv6
        // address: NOERROR with no record, not NXDOMAIN.
        const QList<QHostAddress> expected = hostAddresses("localhost", AF_INET6);
        TcpClient tcp(served.tcpPort);
        tcp.send(query(2, "localhost", LDNS_RR_TYPE_AAAA));
        tcp.send(query(3, "localhost.", LDNS_RR_TYPE_A));
        const Response first = response(tcp.next());
        const Response second = response(tcp.next());
        const Response ipv6 = first.id == 2 ? first : second;
        QCOMPARE((first.id == 2 ? second : first).addresses, ipv4.addresses);
        QCOMPARE(ipv6.rcode, int(LDNS_RCODE_NOERROR));
        QCOMPARE(ipv6.addresses, expected);
        if (expected.contains(QHostAddress(QHostAddress::LocalHostIPv6)))
            QVERIFY(learned.last().at(1).value<QList<QHostAddress>>().contains(QHostAddress(QHostAddress::LocalHostIPv6)));
        QCOMPARE(learned.size(), expected.isEmpty() ? 2 : 3);
    }

    void hostLookupAnswersNxdomainNumericNamesAndOtherTypes()
    {
        Served served({std::nullopt, policy(Action::Allow)});
        QSignalSpy learned(served.resolver.get(), &SandboxResolver::learned);
        UdpClient client(served.udpPort);
        QCOMPARE(client.ask(query(1, "no-such-name.invalid", LDNS_RR_TYPE_A)).rcode, int(LDNS_RCODE_NXDOMAIN));
        // getaddrinfo would read these as addresses: a sandbox must not learn 127.0.0.1 so.
        QCOMPARE(client.ask(query(2, "127.0.0.1", LDNS_RR_TYPE_A)).rcode, int(LDNS_RCODE_NXDOMAIN));
        QCOMPARE(client.ask(query(3, "2130706433", LDNS_RR_TYPE_A)).rcode, int(LDNS_RCODE_NXDOMAIN));
        const Response mx = client.ask(query(4, "localhost", LDNS_RR_TYPE_MX));
        QCOMPARE(mx.rcode, int(LDNS_RCODE_NOERROR));
        QVERIFY(mx.answerTypes.isEmpty());
        const Response chaos = client.ask(query(5, "localhost", LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH));
        QCOMPARE(chaos.rcode, int(LDNS_RCODE_NOERROR));
        QVERIFY(chaos.answerTypes.isEmpty());
        QCOMPARE(learned.size(), 0);
    }

    void upstreamAnswersAreRelayedAndLearned()
    {
        Dnsmasq dnsmasq;
        QVERIFY(dnsmasq.waitUntilAnswering());
        Served served(throughUpstream(dnsmasq.port(), policy(Action::Deny, {u"svc.test"_s, u"alias.test"_s,
                                                                              u"mail.test"_s, u"txt.test"_s})));
        QSignalSpy learned(served.resolver.get(), &SandboxResolver::learned);
        QSignalSpy denied(served.resolver.get(), &SandboxResolver::denied);
        UdpClient client(served.udpPort);

        const Response direct = client.ask(query(0xbeef, "svc.test", LDNS_RR_TYPE_A));
        QCOMPARE(direct.id, 0xbeef);
        QCOMPARE(direct.rcode, int(LDNS_RCODE_NOERROR));
        QCOMPARE(direct.addresses, QList<QHostAddress>{QHostAddress(u"127.0.0.2"_s)});
        QCOMPARE(learned.size(), 1);
        QCOMPARE(learned.at(0).at(0).toString(), u"svc.test"_s);
        QCOMPARE(learned.at(0).at(1).value<QList<QHostAddress>>(), direct.addresses);
        QCOMPARE(learned.at(0).at(2).toInt(), Dnsmasq::RecordTtl);

        TcpClient tcp(served.tcpPort);
        const Response alias = tcp.ask(query(0xcafe, "alias.test", LDNS_RR_TYPE_A));
        QCOMPARE(alias.id, 0xcafe);
        QCOMPARE(alias.answerTypes, (QList<int>{LDNS_RR_TYPE_CNAME, LDNS_RR_TYPE_A}));
        QCOMPARE(learned.size(), 2);
        QCOMPARE(learned.at(1).at(0).toString(), u"alias.test"_s);
        QCOMPARE(learned.at(1).at(1).value<QList<QHostAddress>>(), QList<QHostAddress>{QHostAddress(u"127.0.0.2"_s)});

        // Other types go upstream too; the MX answer's additional A record teaches nothing.
        const Response mx = client.ask(query(5, "mail.test", LDNS_RR_TYPE_MX));
        QCOMPARE(mx.answerTypes, QList<int>{LDNS_RR_TYPE_MX});
        const Response txt = tcp.ask(query(6, "txt.test", LDNS_RR_TYPE_TXT));
        QCOMPARE(txt.answerTypes, QList<int>{LDNS_RR_TYPE_TXT});
        QCOMPARE(learned.size(), 2);

        // A denied name never reaches the upstream server.
        QCOMPARE(client.ask(query(8, "other.test", LDNS_RR_TYPE_A)).rcode, int(LDNS_RCODE_NXDOMAIN));
        QCOMPARE(denied.size(), 1);
    }

    void silentUpstreamGivesServfail()
    {
        QUdpSocket silent;
        QVERIFY(silent.bind(QHostAddress::LocalHost, 0));
        Served served(throughUpstream(silent.localPort(), policy(Action::Allow)));
        QSignalSpy learned(served.resolver.get(), &SandboxResolver::learned);
        UdpClient client(served.udpPort);
        const Response answer = client.ask(query(99, "anything.test", LDNS_RR_TYPE_A));
        QCOMPARE(answer.id, 99);
        QCOMPARE(answer.rcode, int(LDNS_RCODE_SERVFAIL));
        QCOMPARE(answer.questions, 1);
        QCOMPARE(learned.size(), 0);
        QVERIFY(silent.hasPendingDatagrams());  // it was asked, under an ID of the resolver's
    }

    void malformedMessagesGetFormerrOrAreDropped()
    {
        Served served({std::nullopt, policy(Action::Deny)});
        QSignalSpy denied(served.resolver.get(), &SandboxResolver::denied);
        UdpClient client(served.udpPort);

        const QByteArray question = QByteArray::fromHex("03777777076578616d706c6503636f6d00") + QuestionTail;
        const QList<QPair<const char *, QByteArray>> formatErrors{
            {"no question", header(0x0101, 0x0100, 0)},
            {"two questions", header(0x0102, 0x0100, 2) + question + question},
            {"question count beyond the message", header(0x0103, 0x0100, 2) + question},
            {"label with a dot", header(0x0104, 0x0100, 1) + QByteArray::fromHex("03612e62036f726700") + QuestionTail},
            {"label with binary bytes", header(0x0105, 0x0100, 1) + QByteArray::fromHex("02ff0000") + QuestionTail},
            {"label running past the end", header(0x0106, 0x0100, 1) + QByteArray::fromHex("3f6161")},
            {"compression loop", header(0x0107, 0x0100, 1) + QByteArray::fromHex("c00c") + QuestionTail},
            {"question without its type", header(0x0108, 0x0100, 1) + QByteArray::fromHex("0161" "00")},
        };
        for (const auto &[what, message] : formatErrors) {
            const Response answer = client.ask(message);
            QVERIFY2(answer.parsed, what);
            QCOMPARE(answer.id, messageIdOf(message));
            QCOMPARE(answer.rcode, int(LDNS_RCODE_FORMERR));
        }
        QCOMPARE(client.ask(header(0x0109, 0x2900, 1) + question).rcode, int(LDNS_RCODE_NOTIMPL));   // UPDATE

        // No readable header, or a response rather than a query: nothing comes back, and the
        // next query is answered (its answer is the next datagram).
        client.send(QByteArray::fromHex("0102030405"));
        client.send(QByteArray());
        client.send(header(0x0110, 0x8180, 1) + question);
        const Response after = client.ask(query(0x0111, "still.answered", LDNS_RR_TYPE_A));
        QCOMPARE(after.id, 0x0111);
        QCOMPARE(after.rcode, int(LDNS_RCODE_NXDOMAIN));
        QVERIFY(!client.hasMore());
        QCOMPARE(denied.size(), 1);

        // The same over TCP: FORMERR, and the connection goes on.
        TcpClient tcp(served.tcpPort);
        QCOMPARE(tcp.ask(header(0x0201, 0x0100, 0)).rcode, int(LDNS_RCODE_FORMERR));
        QCOMPARE(tcp.ask(query(0x0202, "still.answered", LDNS_RR_TYPE_A)).rcode, int(LDNS_RCODE_NXDOMAIN));
    }

    void tcpConnectionsAreCapped()
    {
        Served served({std::nullopt, policy(Action::Deny)});
        std::vector<std::unique_ptr<TcpClient>> clients;
        for (int i = 0; i < SandboxResolver::MaximumTcpConnections; ++i) {
            clients.push_back(std::make_unique<TcpClient>(served.tcpPort));
            QCOMPARE(clients.back()->ask(query(quint16(i), "x.test", LDNS_RR_TYPE_A)).rcode, int(LDNS_RCODE_NXDOMAIN));
        }
        TcpClient oneTooMany(served.tcpPort);
        oneTooMany.send(query(1000, "x.test", LDNS_RR_TYPE_A));
        QVERIFY(oneTooMany.next().isEmpty());
        QCOMPARE(oneTooMany.socket().state(), QAbstractSocket::UnconnectedState);
        // Once one closes, a new one is served.
        clients.front()->socket().disconnectFromHost();
        clients.erase(clients.begin());
        QVERIFY(QTest::qWaitFor([&] {
            TcpClient another(served.tcpPort);
            return another.ask(query(1001, "x.test", LDNS_RR_TYPE_A)).rcode == LDNS_RCODE_NXDOMAIN;
        }, AnswerWaitMs));
    }

    void setPolicyDecidesTheNextQuery()
    {
        Served served({std::nullopt, policy(Action::Deny)});
        UdpClient client(served.udpPort);
        QCOMPARE(client.ask(query(1, "localhost", LDNS_RR_TYPE_A)).rcode, int(LDNS_RCODE_NXDOMAIN));
        served.resolver->setPolicy(policy(Action::Deny, {u"localhost"_s}));
        const Response allowed = client.ask(query(2, "localhost", LDNS_RR_TYPE_A));
        QCOMPARE(allowed.rcode, int(LDNS_RCODE_NOERROR));
        QVERIFY(allowed.addresses.contains(QHostAddress(QHostAddress::LocalHost)));
        served.resolver->setPolicy([] {
            SandboxNetworkPolicy denying = policy(Action::Allow);
            denying.egress.append({Action::Deny, u"*.localhost"_s});
            return denying;
        }());
        QCOMPARE(client.ask(query(3, "a.localhost", LDNS_RR_TYPE_A)).rcode, int(LDNS_RCODE_NXDOMAIN));
    }

private:
    static quint16 messageIdOf(const QByteArray &message) { return qFromBigEndian<quint16>(message.constData()); }
};

QTEST_GUILESS_MAIN(TestSandboxResolver)
#include "tst_sandboxresolver.moc"
