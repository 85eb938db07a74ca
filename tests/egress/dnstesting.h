// What the resolver's tests need around it: sockets bound on loopback as the enforcement
// binds them, DNS queries built and responses read with ldns, a UDP and a TCP client, and a
// dnsmasq of the test's own as upstream server.
#pragma once

#include <QHostAddress>
#include <QNetworkDatagram>
#include <QProcess>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QUdpSocket>
#include <QtEndian>

#include <ldns/ldns.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace DnsTesting {

using namespace Qt::StringLiterals;

constexpr int AnswerWaitMs = 10000;

/// A socket of `type` bound on 127.0.0.1 at a port of the kernel's choice (listening, for
/// TCP), and that port.
inline std::pair<int, quint16> boundSocket(int type)
{
    const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr *>(&address), size) != 0
        || (type == SOCK_STREAM && ::listen(fd, 16) != 0)
        || ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &size) != 0)
        qFatal("cannot bind a loopback socket");
    return {fd, ntohs(address.sin_port)};
}

/// A free UDP port on 127.0.0.1 (free when this returns; the test's servers take it next).
inline quint16 freeUdpPort()
{
    const auto [fd, port] = boundSocket(SOCK_DGRAM);
    ::close(fd);
    return port;
}

inline QByteArray query(quint16 id, const char *name, ldns_rr_type type, ldns_rr_class recordClass = LDNS_RR_CLASS_IN)
{
    ldns_pkt *packet = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type, recordClass, LDNS_RD);
    ldns_pkt_set_id(packet, id);
    uint8_t *data = nullptr;
    size_t size = 0;
    ldns_pkt2wire(&data, packet, &size);
    const QByteArray result(reinterpret_cast<const char *>(data), qsizetype(size));
    free(data);
    ldns_pkt_free(packet);
    return result;
}

/// A response as the tests check it.
struct Response
{
    bool parsed = false;
    quint16 id = 0;
    int rcode = -1;
    bool recursionAvailable = false;
    int questions = 0;
    QList<int> answerTypes;
    QList<QHostAddress> addresses;
};

inline Response response(const QByteArray &message)
{
    Response result;
    ldns_pkt *packet = nullptr;
    if (ldns_wire2pkt(&packet, reinterpret_cast<const uint8_t *>(message.constData()), size_t(message.size()))
        != LDNS_STATUS_OK)
        return result;
    result.parsed = true;
    result.id = ldns_pkt_id(packet);
    result.rcode = ldns_pkt_get_rcode(packet);
    result.recursionAvailable = ldns_pkt_ra(packet);
    result.questions = ldns_pkt_qdcount(packet);
    const ldns_rr_list *answers = ldns_pkt_answer(packet);
    for (size_t i = 0; i < ldns_rr_list_rr_count(answers); ++i) {
        const ldns_rr *record = ldns_rr_list_rr(answers, i);
        result.answerTypes.append(ldns_rr_get_type(record));
        const ldns_rdf *rdata = ldns_rr_rdf(record, 0);
        if (ldns_rr_get_type(record) == LDNS_RR_TYPE_A)
            result.addresses.append(QHostAddress(qFromBigEndian<quint32>(ldns_rdf_data(rdata))));
        else if (ldns_rr_get_type(record) == LDNS_RR_TYPE_AAAA)
            result.addresses.append(QHostAddress(ldns_rdf_data(rdata)));
    }
    ldns_pkt_free(packet);
    return result;
}

/// A sandbox's process asking over UDP, from a port of its own.
class UdpClient
{
public:
    explicit UdpClient(quint16 serverPort) : m_serverPort(serverPort) { m_socket.bind(QHostAddress::LocalHost, 0); }

    void send(const QByteArray &message) { m_socket.writeDatagram(message, QHostAddress::LocalHost, m_serverPort); }

    /// The next datagram that comes back; empty when none came.
    QByteArray next()
    {
        if (!QTest::qWaitFor([this] { return m_socket.hasPendingDatagrams(); }, AnswerWaitMs))
            return QByteArray();
        return m_socket.receiveDatagram().data();
    }

    Response ask(const QByteArray &message)
    {
        send(message);
        return response(next());
    }

    bool hasMore() const { return m_socket.hasPendingDatagrams(); }

private:
    QUdpSocket m_socket;
    const quint16 m_serverPort;
};

/// A sandbox's process asking over one TCP connection. It waits in the event loop, which
/// the resolver shares.
class TcpClient
{
public:
    explicit TcpClient(quint16 serverPort)
    {
        m_socket.connectToHost(QHostAddress::LocalHost, serverPort);
        const bool settled = QTest::qWaitFor([this] { return m_socket.state() != QAbstractSocket::ConnectingState
                                                          && m_socket.state() != QAbstractSocket::HostLookupState; },
                                             AnswerWaitMs);
        Q_UNUSED(settled);  // next() finds out whether it connected
    }

    void send(const QByteArray &message)
    {
        uchar length[2];
        qToBigEndian(quint16(message.size()), length);
        m_socket.write(reinterpret_cast<const char *>(length), 2);
        m_socket.write(message);
    }

    /// The next framed message; empty when none came or the server closed the connection.
    QByteArray next()
    {
        const bool settled = QTest::qWaitFor(
            [this] { return hasMessage() || m_socket.state() == QAbstractSocket::UnconnectedState; }, AnswerWaitMs);
        Q_UNUSED(settled);  // whichever came, a message is there or not
        if (!hasMessage())
            return QByteArray();
        uchar length[2];
        m_socket.read(reinterpret_cast<char *>(length), 2);
        return m_socket.read(qFromBigEndian<quint16>(length));
    }

    Response ask(const QByteArray &message)
    {
        send(message);
        return response(next());
    }

    QTcpSocket &socket() { return m_socket; }

private:
    bool hasMessage()
    {
        uchar length[2];
        return m_socket.peek(reinterpret_cast<char *>(length), 2) == 2
            && m_socket.bytesAvailable() >= 2 + qFromBigEndian<quint16>(length);
    }

    QTcpSocket m_socket;
};

/// Debian's dnsmasq on a free loopback port, answering for `svc.test` (127.0.0.2), its alias
/// `alias.test`, an MX record at `mail.test` and a TXT record at `txt.test`; stopped when
/// this goes.
class Dnsmasq
{
public:
    static constexpr int RecordTtl = 60;

    Dnsmasq() { start(); }
    ~Dnsmasq()
    {
        m_process.terminate();
        m_process.waitForFinished(AnswerWaitMs);
    }

    /// Whether it answers, asked until it does (it binds its port shortly after it starts).
    /// A port free for UDP may be taken for TCP, which dnsmasq binds too: it is started
    /// again on another one then.
    bool waitUntilAnswering()
    {
        for (int start = 0; start < 5; ++start) {
            if (start > 0)
                this->start();
            if (!m_process.waitForStarted(AnswerWaitMs))
                return false;
            QUdpSocket socket;
            socket.bind(QHostAddress::LocalHost, 0);
            for (int attempt = 0; attempt < 100 && m_process.state() == QProcess::Running; ++attempt) {
                socket.writeDatagram(query(1, "svc.test", LDNS_RR_TYPE_A), QHostAddress::LocalHost, m_port);
                if (socket.waitForReadyRead(100))
                    return true;
            }
            m_process.waitForFinished(AnswerWaitMs);
        }
        return false;
    }

    quint16 port() const { return m_port; }

private:
    void start()
    {
        m_port = freeUdpPort();
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_process.start(u"/usr/sbin/dnsmasq"_s,
                        {u"--keep-in-foreground"_s, u"--no-resolv"_s, u"--no-hosts"_s, u"--bind-interfaces"_s,
                         u"--listen-address=127.0.0.1"_s, u"--port=%1"_s.arg(m_port), u"--conf-file=/dev/null"_s,
                         u"--pid-file="_s, u"--user=%1"_s.arg(qEnvironmentVariable("USER", u"root"_s)),
                         u"--local-ttl=%1"_s.arg(RecordTtl), u"--host-record=svc.test,127.0.0.2"_s,
                         u"--cname=alias.test,svc.test"_s, u"--mx-host=mail.test,svc.test,10"_s,
                         u"--txt-record=txt.test,hello"_s});
    }

    QProcess m_process;
    quint16 m_port = 0;
};

} // namespace DnsTesting
