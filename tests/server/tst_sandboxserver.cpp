// The real `sandflow serve` program over HTTP: what the official SDK scenario cannot reach
// (restarts, relays to other ports, clients that hang up, upstream's error shapes).
#include "rawhttpclient.h"

#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace {

constexpr auto ApiKey = "test-key";

/// A service for inside a sandbox: it answers every GET on port 8000 with the request line
/// and the header lines exactly as it received them.
const QString EchoService = QString::fromLatin1(R"(python3 -c '
import http.server
class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (self.requestline + "\n" + str(self.headers)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", 8000), Echo).serve_forever()
')");

struct Answer
{
    int status = 0;
    QByteArray body;
    QByteArray requestId;
    QByteArray connection;
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
};

/// One `sandflow serve` process on a free port.
class Server
{
public:
    /// `options` follow --listen and --state-dir. `inChild` runs in the server's process
    /// before it starts (async-signal-safe calls only).
    explicit Server(const QString &stateDir, const QStringList &options = {u"--api-key"_s, QString::fromLatin1(ApiKey)},
                    const std::function<void()> &inChild = {})
    {
        if (inChild)
            m_process.setChildProcessModifier(inChild);
        m_process.setProgram(QStringLiteral(SANDFLOW_BINARY));
        m_process.setArguments(QStringList{u"serve"_s, u"--listen"_s, u"127.0.0.1:0"_s, u"--state-dir"_s, stateDir} + options);
        m_process.start();
        QVERIFY(m_process.waitForStarted());
        QElapsedTimer clock;
        clock.start();
        while (!m_process.canReadLine() && clock.elapsed() < 30'000)
            m_process.waitForReadyRead(100);
        const QString line = QString::fromUtf8(m_process.readLine());
        static const QRegularExpression listening(u"^sandflow serve: listening on http://127\\.0\\.0\\.1:(\\d+)\n$"_s);
        const QRegularExpressionMatch match = listening.match(line);
        if (!match.hasMatch())
            QFAIL(qPrintable(line + QString::fromUtf8(m_process.readAllStandardError())));
        m_base = u"http://127.0.0.1:"_s + match.captured(1);
    }

    ~Server()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished();
        }
    }

    /// SIGTERM, and the exit status once it has stopped.
    int stop()
    {
        ::kill(pid_t(m_process.processId()), SIGTERM);
        if (!m_process.waitForFinished(30'000))
            return -1;
        return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
    }

    void crash()
    {
        m_process.kill();
        m_process.waitForFinished();
    }

    QByteArray standardError() { return m_process.readAllStandardError(); }
    const QString &base() const { return m_base; }
    quint16 port() const { return quint16(QUrl(m_base).port()); }

    Answer request(const QByteArray &method, const QString &path, const QByteArray &body = {},
                   const QList<QPair<QByteArray, QByteArray>> &headers = {{"OPEN-SANDBOX-API-KEY", ApiKey}})
    {
        QNetworkRequest request(QUrl(m_base + path));
        request.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
        for (const auto &[name, value] : headers)
            request.setRawHeader(name, value);
        QNetworkReply *reply = m_network.sendCustomRequest(request, method, body);
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        loop.exec();
        Answer answer{reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), reply->readAll(),
                      reply->rawHeader("X-Request-ID"), reply->rawHeader("Connection")};
        reply->deleteLater();
        return answer;
    }

    /// Creates a sandbox as the SDKs do, with `networkPolicy` (JSON) when given; returns its id.
    QString createSandbox(const QByteArray &networkPolicy = {})
    {
        const QByteArray policy = networkPolicy.isEmpty() ? QByteArray() : R"("networkPolicy":)" + networkPolicy + ',';
        const Answer answer = request("POST", u"/v1/sandboxes"_s,
                                      R"({"image":{"uri":"ubuntu"},"entrypoint":["tail","-f","/dev/null"],)" + policy
                                      + R"("resourceLimits":{"cpu":"1","memory":"2Gi"},"timeout":600})");
        if (answer.status != 202)
            qWarning("create: %d %s", answer.status, answer.body.constData());
        return answer.json().value(u"id"_s).toString();
    }

    /// Starts `command` in the background in sandbox `id`, and waits until the service it
    /// starts on `port` answers through the relay: its first answer to `path`.
    Answer startService(const QString &id, const QString &command, quint16 port, const QString &path)
    {
        const QByteArray body = QJsonDocument(QJsonObject{{u"command"_s, command}, {u"background"_s, true}})
                                    .toJson(QJsonDocument::Compact);
        Answer answer = request("POST", u"/sandboxes/%1/proxy/44772/command"_s.arg(id), body);
        if (answer.status != 200)
            return answer;
        // Nothing listens on the port until the service is up: the relay answers 502.
        QElapsedTimer clock;
        clock.start();
        do {
            answer = request("GET", u"/sandboxes/%1/proxy/%2%3"_s.arg(id).arg(port).arg(path));
        } while (answer.status == 502 && clock.elapsed() < 60'000 && (QTest::qWait(100), true));
        return answer;
    }

    qint64 pid() const { return m_process.processId(); }

private:
    QProcess m_process;
    QNetworkAccessManager m_network;
    QString m_base;
};

/// Processes whose parent is `pid`.
QList<qint64> childrenOf(qint64 pid)
{
    QList<qint64> children;
    for (const QString &entry : QDir(u"/proc"_s).entryList(QDir::Dirs)) {
        QFile stat(u"/proc/"_s + entry + u"/stat"_s);
        if (!stat.open(QIODevice::ReadOnly))
            continue;
        const QByteArray text = stat.readAll();
        const QList<QByteArray> fields = text.mid(text.lastIndexOf(')') + 2).split(' ');
        if (fields.size() > 1 && fields.at(1).toLongLong() == pid)
            children.append(entry.toLongLong());
    }
    return children;
}

/// The most memory `pid` has held at once, in KiB, since it started or since
/// resetPeakResident(): what it held at any moment, not only when it is looked at.
qint64 peakResidentKiB(qint64 pid)
{
    QFile status(u"/proc/%1/status"_s.arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong();
    }
    return 0;
}

/// Starts the peak of peakResidentKiB() over, from what `pid` holds now.
bool resetPeakResident(qint64 pid)
{
    QFile refs(u"/proc/%1/clear_refs"_s.arg(pid));
    return refs.open(QIODevice::WriteOnly) && refs.write("5") == 1;
}

/// Bytes `pid` has read so far, from files, pipes and sockets alike.
qint64 bytesRead(qint64 pid)
{
    QFile io(u"/proc/%1/io"_s.arg(pid));
    if (!io.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : io.readAll().split('\n')) {
        if (line.startsWith("rchar:"))
            return line.mid(6).trimmed().toLongLong();
    }
    return -1;
}

/// Waits until `pid` has read `atLeast` bytes, and then nothing more for a second; false if
/// that does not happen within a minute. It runs no event loop meanwhile.
bool waitUntilReadingStops(qint64 pid, qint64 atLeast)
{
    QElapsedTimer clock;
    clock.start();
    qint64 last = -1;
    for (int still = 0; clock.elapsed() < 60'000;) {
        QThread::msleep(100);
        const qint64 now = bytesRead(pid);
        still = now >= atLeast && now == last ? still + 1 : 0;
        if (still == 10)
            return true;
        last = now;
    }
    return false;
}

bool alive(qint64 pid)
{
    return QFile::exists(u"/proc/%1"_s.arg(pid));
}

QStringList records(const QString &stateDir)
{
    return QDir(stateDir + u"/sandboxes"_s).entryList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot);
}

/// Plain blocking client sockets to the server, closed with it: an event loop watching
/// thousands of them would be the test's own bottleneck. Every wait is bounded, so that a
/// test fails rather than waits.
class RawClients
{
public:
    explicit RawClients(const QString &base)
    {
        m_address.sin_family = AF_INET;
        m_address.sin_port = htons(quint16(QUrl(base).port()));
        m_address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    ~RawClients()
    {
        for (const int fd : m_fds)
            closeOne(fd);
    }

    /// A new connection's descriptor, or -1. A connect is given less than TCP's first retry
    /// of a lost SYN (1 s): on loopback it takes that long only when the server's backlog
    /// overflowed and the kernel dropped the SYN.
    int connectOne()
    {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
        const timeval connectLimit{0, 900'000};
        const timeval answerLimit{10, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &connectLimit, sizeof connectLimit);
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &answerLimit, sizeof answerLimit);
        if (::connect(fd, reinterpret_cast<const sockaddr *>(&m_address), sizeof m_address) != 0) {
            ::close(fd);
            return -1;
        }
        m_fds.push_back(fd);
        return fd;
    }

    /// Asks for the sandbox list on `fd`; the first bytes of the answer, or why none came.
    static QByteArray answerTo(int fd)
    {
        const QByteArray request = "GET /v1/sandboxes HTTP/1.1\r\nHost: h\r\nOPEN-SANDBOX-API-KEY: " + QByteArray(ApiKey)
                                   + "\r\n\r\n";
        char answer[64] = {};
        if (::send(fd, request.constData(), size_t(request.size()), MSG_NOSIGNAL) != ssize_t(request.size()))
            return QByteArray("cannot send: ") + strerror(errno);
        if (::read(fd, answer, sizeof answer - 1) <= 0)
            return QByteArray("no answer: ") + strerror(errno);
        return QByteArray(answer);
    }

    /// Reads what the server sent on `fd` without asking (it turned the connection away).
    static QByteArray unasked(int fd)
    {
        char answer[160] = {};
        return ::read(fd, answer, sizeof answer - 1) > 0 ? QByteArray(answer) : QByteArray("nothing");
    }

    void closeOne(int fd)
    {
        ::close(fd);
        m_fds.erase(std::remove(m_fds.begin(), m_fds.end(), fd), m_fds.end());
    }

    const std::vector<int> &all() const { return m_fds; }

private:
    sockaddr_in m_address{};
    std::vector<int> m_fds;
};

/// CPU time `pid` has used, in clock ticks.
qint64 cpuTicks(qint64 pid)
{
    QFile stat(u"/proc/%1/stat"_s.arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return 0;
    const QByteArray text = stat.readAll();
    const QList<QByteArray> fields = text.mid(text.lastIndexOf(')') + 2).split(' ');
    return fields.size() > 12 ? fields.at(11).toLongLong() + fields.at(12).toLongLong() : 0;
}

/// In a child before exec: the limit of open files, soft and hard.
void limitOpenFiles(rlim_t soft, rlim_t hard)
{
    const rlimit files{soft, hard};
    ::setrlimit(RLIMIT_NOFILE, &files);
}

} // namespace

class tst_SandboxServer : public QObject
{
    Q_OBJECT

private slots:
    void answersWithUpstreamErrorShapes()
    {
        QTemporaryDir state;
        Server server(state.path());
        // Unknown sandbox: {code, message} and the request id, the client's when it sent one.
        Answer answer = server.request("GET", u"/v1/sandboxes/nope"_s, {},
                                       {{"OPEN-SANDBOX-API-KEY", ApiKey}, {"X-Request-ID", "my-request-7"}});
        QCOMPARE(answer.status, 404);
        QCOMPARE(answer.json().value(u"code"_s).toString(), u"DOCKER::SANDBOX_NOT_FOUND"_s);
        QCOMPARE(answer.requestId, "my-request-7");
        // Routes and methods that do not exist, as Starlette answers them.
        answer = server.request("GET", u"/v1/nothing-here"_s);
        QCOMPARE(answer.status, 404);
        QCOMPARE(answer.body, R"({"detail":"Not Found"})");
        answer = server.request("PUT", u"/v1/sandboxes"_s);
        QCOMPARE(answer.status, 405);
        // Validation failures are FastAPI's 422.
        answer = server.request("POST", u"/v1/sandboxes"_s, R"({"image":{"uri":"x"},"entrypoint":["sh"],"resourceLimits":{},"timeout":5})");
        QCOMPARE(answer.status, 422);
        QVERIFY(answer.json().value(u"detail"_s).isArray());
        // Keys.
        answer = server.request("GET", u"/v1/sandboxes"_s, {}, {});
        QCOMPARE(answer.status, 401);
        QCOMPARE(answer.json().value(u"code"_s).toString(), u"MISSING_API_KEY"_s);
        QVERIFY(!answer.requestId.isEmpty());
        answer = server.request("GET", u"/v1/sandboxes"_s, {}, {{"OPEN-SANDBOX-API-KEY", "wrong"}});
        QCOMPARE(answer.status, 401);
        QCOMPARE(answer.json().value(u"code"_s).toString(), u"INVALID_API_KEY"_s);
        QCOMPARE(server.stop(), 0);
    }

    // Every route of both APIs and the relay to other ports, with no key and with a wrong
    // one: 401 each time, and nothing done (the sandbox is still there, untouched).
    void everyRouteRefusesAMissingOrWrongKey()
    {
        QTemporaryDir state;
        Server server(state.path());
        const QString id = server.createSandbox();
        QVERIFY(!id.isEmpty());
        const QString execd = u"/sandboxes/%1/proxy/44772"_s.arg(id);
        const QList<QPair<QByteArray, QString>> routes{
            {"GET", u"/v1/sandboxes"_s},
            {"POST", u"/v1/sandboxes"_s},
            {"GET", u"/v1/sandboxes/"_s + id},
            {"DELETE", u"/v1/sandboxes/"_s + id},
            {"POST", u"/v1/sandboxes/%1/pause"_s.arg(id)},
            {"POST", u"/v1/sandboxes/%1/resume"_s.arg(id)},
            {"POST", u"/v1/sandboxes/%1/renew-expiration"_s.arg(id)},
            {"PATCH", u"/v1/sandboxes/%1/metadata"_s.arg(id)},
            {"GET", u"/v1/sandboxes/%1/endpoints/44772"_s.arg(id)},
            {"GET", u"/sandboxes/"_s + id},   // the lifecycle API at the root too
            {"GET", execd + u"/ping"_s},
            {"POST", execd + u"/command"_s},
            {"DELETE", execd + u"/command?id=x"_s},
            {"GET", execd + u"/command/status/x"_s},
            {"GET", execd + u"/command/x/logs"_s},
            {"POST", execd + u"/session"_s},
            {"GET", execd + u"/files/info?path=/etc/hostname"_s},
            {"GET", execd + u"/files/download?path=/etc/hostname"_s},
            {"POST", execd + u"/files/upload"_s},
            {"DELETE", execd + u"/files?path=/workspace"_s},
            {"POST", execd + u"/files/mv"_s},
            {"POST", execd + u"/files/permissions"_s},
            {"POST", execd + u"/files/replace"_s},
            {"GET", execd + u"/files/search?path=/"_s},
            {"GET", execd + u"/directories/list?path=/"_s},
            {"POST", execd + u"/directories"_s},
            {"DELETE", execd + u"/directories?path=/workspace"_s},
            {"GET", execd + u"/metrics"_s},
            {"GET", u"/sandboxes/%1/proxy/8080/anything"_s.arg(id)},
            {"GET", u"/sandboxes/%1/proxy/18080/policy"_s.arg(id)},
            {"PATCH", u"/sandboxes/%1/proxy/18080/policy"_s.arg(id)},
            {"DELETE", u"/sandboxes/%1/proxy/18080/policy"_s.arg(id)},
            {"GET", u"/v1/sandboxes/%1/proxy/44772/ping"_s.arg(id)},
        };
        const QList<QPair<QByteArray, QList<QPair<QByteArray, QByteArray>>>> credentials{
            {"MISSING_API_KEY", {}},
            {"INVALID_API_KEY", {{"OPEN-SANDBOX-API-KEY", "wrong-key"}}},
            // A key anywhere but in its own header is no key.
            {"MISSING_API_KEY", {{"Authorization", "Bearer " + QByteArray(ApiKey)}}},
        };
        for (const auto &[method, path] : routes) {
            for (const auto &[code, headers] : credentials) {
                const Answer answer = server.request(method, path, "{}", headers);
                QVERIFY2(answer.status == 401 && answer.json().value(u"code"_s).toString() == QLatin1StringView(code),
                         qPrintable(u"%1 %2 with %3: %4 %5"_s.arg(QString::fromLatin1(method), path,
                                                                   QString::fromLatin1(code))
                                        .arg(answer.status)
                                        .arg(QString::fromUtf8(answer.body))));
            }
        }
        // Nothing was done: the one sandbox is there, running, as it was made.
        const Answer list = server.request("GET", u"/v1/sandboxes"_s);
        const QJsonArray items = list.json().value(u"items"_s).toArray();
        QCOMPARE(items.size(), 1);
        QCOMPARE(items.first().toObject().value(u"status"_s).toObject().value(u"state"_s).toString(), u"Running"_s);
        QCOMPARE(server.stop(), 0);
    }

    // Thousands of idle connections, opened at once: the server takes them all in and goes on
    // answering, on them and on new ones. It was started with a low soft limit of open files
    // (1024 is the common default), which it raises to the hard limit.
    void manyIdleConnectionsLeaveTheServerAnswering()
    {
        constexpr int Idle = 5000;
        rlimit own{};
        QVERIFY(::getrlimit(RLIMIT_NOFILE, &own) == 0);
        if (own.rlim_max < rlim_t(Idle + 1000))
            QSKIP("the hard limit of open files is too low for this test");
        const rlimit raised{own.rlim_max, own.rlim_max};
        QVERIFY(::setrlimit(RLIMIT_NOFILE, &raised) == 0);
        const auto restore = qScopeGuard([&own] { ::setrlimit(RLIMIT_NOFILE, &own); });

        QTemporaryDir state;
        const rlim_t hard = own.rlim_max;
        Server server(state.path(), {u"--api-key"_s, QString::fromLatin1(ApiKey)}, [hard] { limitOpenFiles(1024, hard); });
        RawClients clients(server.base());
        for (int i = 0; i < Idle; ++i)
            QVERIFY2(clients.connectOne() >= 0, qPrintable(u"connection %1: %2"_s.arg(i).arg(QString::fromLocal8Bit(strerror(errno)))));
        const int lastIdle = clients.all().back();

        // A new client is answered, and so is one of the idle ones, the last to connect.
        const int fresh = clients.connectOne();
        QVERIFY(fresh >= 0);
        QByteArray answer = RawClients::answerTo(fresh);
        QVERIFY2(answer.startsWith("HTTP/1.1 200 OK\r\n"), answer.constData());
        answer = RawClients::answerTo(lastIdle);
        QVERIFY2(answer.startsWith("HTTP/1.1 200 OK\r\n"), answer.constData());
        QCOMPARE(server.stop(), 0);
    }

    // At the limit of open files, the server turns new clients away with 503 rather than spin
    // on accept() failing, goes on answering the clients it has, and takes new ones again once
    // connections close.
    void atItsLimitOfOpenFilesTheServerTurnsClientsAway()
    {
        QTemporaryDir state;
        Server server(state.path(), {u"--api-key"_s, QString::fromLatin1(ApiKey)}, [] { limitOpenFiles(512, 512); });
        RawClients clients(server.base());
        for (int i = 0; i < 800; ++i)
            QVERIFY2(clients.connectOne() >= 0, qPrintable(u"connection %1: %2"_s.arg(i).arg(QString::fromLocal8Bit(strerror(errno)))));
        const QByteArray turnedAway = RawClients::unasked(clients.all().back());
        QVERIFY2(turnedAway.startsWith("HTTP/1.1 503 Service Unavailable\r\n") && turnedAway.contains("TOO_MANY_CONNECTIONS"),
                 turnedAway.constData());

        // Idle, not spinning: a busy loop would take about a whole core in this second.
        const qint64 before = cpuTicks(server.pid());
        QTest::qWait(1000);
        const qint64 used = cpuTicks(server.pid()) - before;
        QVERIFY2(used < sysconf(_SC_CLK_TCK) / 4, qPrintable(u"%1 ticks in a second"_s.arg(used)));

        QByteArray answer = RawClients::answerTo(clients.all().front());
        QVERIFY2(answer.startsWith("HTTP/1.1 200 OK\r\n"), answer.constData());
        for (int i = 0; i < 100; ++i)
            clients.closeOne(clients.all().front());
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                const int fresh = clients.connectOne();
                return fresh >= 0 && RawClients::answerTo(fresh).startsWith("HTTP/1.1 200 OK\r\n");
            }(),
            10'000);
        QCOMPARE(server.stop(), 0);
    }

    void withoutAKeyAnswersOnlyProgramsOnThisMachine()
    {
        QTemporaryDir state;
        Server server(state.path(), {u"--no-auth"_s});
        QCOMPARE(server.request("GET", u"/v1/sandboxes"_s, {}, {}).status, 200);
        // A web page's request carries an Origin; a rebound name carries its own Host.
        QCOMPARE(server.request("GET", u"/v1/sandboxes"_s, {}, {{"Origin", "http://evil.example"}}).status, 403);
        QCOMPARE(server.request("GET", u"/v1/sandboxes"_s, {}, {{"Host", "evil.example:8080"}}).status, 403);
        QCOMPARE(server.stop(), 0);
        // And not at all on an address others reach.
        QProcess refused;
        refused.start(QStringLiteral(SANDFLOW_BINARY), {u"serve"_s, u"--listen"_s, u"0.0.0.0:0"_s, u"--no-auth"_s});
        QVERIFY(refused.waitForFinished());
        QCOMPARE(refused.exitCode(), 2);
        QVERIFY(refused.readAllStandardError().contains("--no-auth is allowed on a loopback address only"));
    }

    void relaysOtherPortsToServicesInside()
    {
        QTemporaryDir state;
        Server server(state.path());
        const QString id = server.createSandbox();
        QVERIFY(!id.isEmpty());
        Answer answer = server.startService(id,
                                            u"mkdir -p /tmp/site/sub && echo served > /tmp/site/sub/page.txt && "
                                            u"cd /tmp/site && python3 -m http.server 8000 --bind 127.0.0.1"_s,
                                            8000, u"/sub/page.txt?x=1"_s);
        QCOMPARE(answer.status, 200);
        QCOMPARE(answer.body, "served\n");
        QCOMPARE(answer.connection, "close");
        answer = server.request("GET", u"/sandboxes/"_s + id + u"/proxy/8000/missing"_s);
        QCOMPARE(answer.status, 404);
        answer = server.request("GET", u"/sandboxes/"_s + id + u"/proxy/8001/"_s);
        QCOMPARE(answer.status, 502);
        QCOMPARE(answer.json().value(u"code"_s).toString(), u"GENERAL::UNKNOWN_ERROR"_s);
        QCOMPARE(server.stop(), 0);
    }

    // Port 18080 is the egress API, as upstream's egress sidecar serves it: the endpoint
    // leads there, in both of its forms; the bodies and errors are the sidecar's.
    void servesTheEgressApiOnPort18080()
    {
        QTemporaryDir state;
        Server server(state.path());
        const QString id = server.createSandbox(R"({"defaultAction":"deny"})");
        QVERIFY(!id.isEmpty());
        for (const QString &proxy : {u"true"_s, u"false"_s}) {
            const Answer endpoint = server.request("GET", u"/v1/sandboxes/%1/endpoints/18080?use_server_proxy=%2"_s.arg(id, proxy));
            QCOMPARE(endpoint.status, 200);
            QCOMPARE(endpoint.json().value(u"endpoint"_s).toString(),
                     u"127.0.0.1:%1/sandboxes/%2/proxy/18080"_s.arg(server.port()).arg(id));
            // No egress token: the API key guards the egress API as every other route.
            QVERIFY(endpoint.json().value(u"headers"_s).toObject().isEmpty());
        }
        const QString policy = u"/sandboxes/%1/proxy/18080/policy"_s.arg(id);
        Answer answer = server.request("GET", policy);
        QCOMPARE(answer.status, 200);
        QCOMPARE(answer.body, R"({"enforcementMode":"dns","mode":"deny_all","policy":{"defaultAction":"deny","egress":[]},"status":"ok"})");
        answer = server.request("PATCH", policy, R"([{"action":"allow","target":"api.example.com"},)"
                                                 R"({"action":"allow","target":"*.pypi.org"},{"action":"deny","target":"api.example.com"}])");
        QCOMPARE(answer.status, 200);
        QCOMPARE(answer.body, R"({"enforcementMode":"dns","mode":"enforcing","status":"ok"})");
        answer = server.request("PATCH", u"/v1"_s + policy, R"([{"action":"deny","target":"*.pypi.org"}])");
        QCOMPARE(answer.status, 200);
        answer = server.request("GET", policy);
        QCOMPARE(answer.json().value(u"policy"_s).toObject().value(u"egress"_s).toArray(),
                 QJsonDocument::fromJson(R"([{"action":"deny","target":"*.pypi.org"},{"action":"allow","target":"api.example.com"}])").array());
        QCOMPARE(answer.json().value(u"mode"_s).toString(), u"enforcing"_s);
        answer = server.request("DELETE", policy, R"(["*.PYPI.org","not-there.org"])");
        QCOMPARE(answer.status, 200);
        QCOMPARE(answer.json().value(u"mode"_s).toString(), u"enforcing"_s);
        answer = server.request("DELETE", policy, R"(["api.example.com"])");
        QCOMPARE(answer.body, R"({"enforcementMode":"dns","mode":"deny_all","status":"ok"})");

        // Refusals are plain text, as Go's http.Error writes them.
        for (const QByteArray &body : {QByteArray(), QByteArray("[]"), QByteArray("{"), QByteArray(R"([{"action":"block","target":"a.org"}])"),
                                       QByteArray(R"([{"action":"allow","target":"a b"}])")}) {
            answer = server.request("PATCH", policy, body);
            QVERIFY2(answer.status == 400 && answer.body.startsWith("invalid policy: "), (body + " -> " + answer.body).constData());
        }
        answer = server.request("DELETE", policy, "[]");
        QCOMPARE(answer.status, 400);
        QVERIFY(answer.body.startsWith("invalid policy: "));
        answer = server.request("GET", policy);
        QCOMPARE(answer.json().value(u"mode"_s).toString(), u"deny_all"_s);   // nothing refused was applied
        QCOMPARE(server.request("POST", policy, "{}").status, 405);
        answer = server.request("GET", u"/sandboxes/%1/proxy/18080/healthz"_s.arg(id));
        QCOMPARE(answer.status, 404);
        QCOMPARE(answer.body, "404 page not found\n");

        // A sandbox without a policy has no egress API: its endpoint is handed out (the SDKs
        // ask for it at create), and its calls answer 404.
        const QString open = server.createSandbox();
        answer = server.request("GET", u"/sandboxes/%1/proxy/18080/policy"_s.arg(open));
        QCOMPARE(answer.status, 404);
        QVERIFY2(answer.body.startsWith("no egress policy: "), answer.body.constData());
        answer = server.request("GET", u"/sandboxes/nope/proxy/18080/policy"_s);
        QCOMPARE(answer.status, 404);
        QCOMPARE(answer.json().value(u"code"_s).toString(), u"DOCKER::SANDBOX_NOT_FOUND"_s);
        QCOMPARE(server.stop(), 0);
    }

    // What a service behind the relay is told: nothing of the credentials meant for this
    // server or of the client's connection, and where the request came from, which a client
    // cannot forge.
    void relaysNeitherCredentialsNorHopByHopHeaders()
    {
        QTemporaryDir state;
        Server server(state.path());
        const QString id = server.createSandbox();
        QVERIFY(!id.isEmpty());
        QCOMPARE(server.startService(id, EchoService, 8000, u"/"_s).status, 200);

        RawHttpClient client(server.port());
        client.send("GET /sandboxes/" + id.toLatin1() + "/proxy/8000/echo?x=1 HTTP/1.1\r\n"
                    "Host: serve.test:8080\r\n"
                    "OPEN-SANDBOX-API-KEY: " + QByteArray(ApiKey) + "\r\n"
                    "Authorization: Bearer for-this-server\r\n"
                    "Cookie: session=for-this-server\r\n"
                    "Proxy-Authorization: Basic Zm9yOnByb3h5\r\n"
                    "Connection: keep-alive, X-Named-By-Connection\r\n"
                    "X-Named-By-Connection: this hop only\r\n"
                    "Keep-Alive: timeout=5\r\n"
                    "TE: trailers\r\n"
                    "Trailer: X-Checksum\r\n"
                    "Upgrade: h2c\r\n"
                    "X-Passed-On: yes\r\n"
                    "X-Forwarded-For: 10.9.9.9\r\n"
                    "X-Forwarded-Host: spoofed.test\r\n"
                    "X-Forwarded-Proto: https\r\n"
                    "Forwarded: for=10.9.9.9;proto=https\r\n"
                    "\r\n");
        // The relay ends with the service's connection, and says so.
        QVERIFY(client.waitClosed(30'000));
        const QByteArray answer = client.received();
        const qsizetype headEnd = answer.indexOf("\r\n\r\n");
        QVERIFY2(answer.startsWith("HTTP/1.0 200 OK\r\n") && headEnd > 0, answer.constData());
        QVERIFY2(answer.left(headEnd).contains("\r\nConnection: close"), answer.constData());

        QList<QByteArray> echoed = answer.mid(headEnd + 4).trimmed().split('\n');
        QCOMPARE(echoed.takeFirst(), "GET /echo?x=1 HTTP/1.1");
        QList<QByteArray> headers;
        for (const QByteArray &line : std::as_const(echoed)) {
            const qsizetype colon = line.indexOf(':');
            headers.append(line.left(colon).toLower() + ':' + line.mid(colon + 1).trimmed());
        }
        std::sort(headers.begin(), headers.end());
        const QList<QByteArray> expected{"connection:close",
                                         "content-length:0",
                                         "host:127.0.0.1:8000",
                                         // What the client claims comes first; this server
                                         // adds what it saw, and states host and scheme itself.
                                         "x-forwarded-for:10.9.9.9, 127.0.0.1",
                                         "x-forwarded-host:serve.test:8080",
                                         "x-forwarded-proto:http",
                                         "x-passed-on:yes"};
        QCOMPARE(headers.join('\n'), expected.join('\n'));
        QCOMPARE(server.stop(), 0);
    }

    // A WebSocket handshake is refused with an answer, not left to the HTTP library, which
    // would close the connection without one.
    void refusesWebSocketUpgrades()
    {
        QTemporaryDir state;
        Server server(state.path());
        const QString id = server.createSandbox();
        QVERIFY(!id.isEmpty());
        RawHttpClient client(server.port());
        client.send("GET /sandboxes/" + id.toLatin1() + "/proxy/8000/socket HTTP/1.1\r\nHost: h\r\n"
                    "OPEN-SANDBOX-API-KEY: " + QByteArray(ApiKey) + "\r\n"
                    "Connection: Upgrade\r\nUpgrade: websocket\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        QVERIFY(client.waitClosed(30'000));
        const QByteArray answer = client.received();
        QVERIFY2(answer.startsWith("HTTP/1.1 400 Bad Request\r\n"), answer.constData());
        const QJsonObject error = QJsonDocument::fromJson(answer.mid(answer.indexOf("\r\n\r\n") + 4)).object();
        QCOMPARE(error.value(u"code"_s).toString(), u"GENERAL::UNSUPPORTED"_s);
        QCOMPARE(server.stop(), 0);
    }

    // --max-body: a body announced as larger is refused before a byte of it is sent; a body
    // of exactly that size is read and served.
    void refusesABodyOverMaxBodyBeforeItIsSent()
    {
        QTemporaryDir state;
        Server server(state.path(), {u"--api-key"_s, QString::fromLatin1(ApiKey), u"--max-body"_s, u"1Ki"_s});
        QByteArray create = R"({"image":{"uri":"ubuntu"},"entrypoint":["tail","-f","/dev/null"],)"
                            R"("resourceLimits":{"cpu":"1","memory":"2Gi"},"timeout":600})";
        create += QByteArray(1024 - create.size(), ' ');
        const QByteArray head = "POST /v1/sandboxes HTTP/1.1\r\nHost: h\r\nOPEN-SANDBOX-API-KEY: " + QByteArray(ApiKey)
                                + "\r\nContent-Type: application/json\r\nContent-Length: ";
        {
            RawHttpClient client(server.port());
            client.send(head + "1025\r\n\r\n");
            QVERIFY(client.waitClosed(30'000));
            const QByteArray answer = client.received();
            QVERIFY2(answer.startsWith("HTTP/1.1 413 Payload Too Large\r\n"), answer.constData());
            const QJsonObject error = QJsonDocument::fromJson(answer.mid(answer.indexOf("\r\n\r\n") + 4)).object();
            QCOMPARE(error.value(u"code"_s).toString(), u"REQUEST_TOO_LARGE"_s);
            QVERIFY2(error.value(u"message"_s).toString().contains(u"at most 1024"_s), answer.constData());
        }
        {
            RawHttpClient client(server.port());
            client.send(head + "1024\r\nConnection: close\r\n\r\n" + create);
            QVERIFY(client.waitClosed(60'000));
            QVERIFY2(client.received().startsWith("HTTP/1.1 202 Accepted\r\n"), client.received().constData());
        }
        QCOMPARE(server.request("GET", u"/v1/sandboxes"_s).json().value(u"items"_s).toArray().size(), 1);
        QCOMPARE(server.stop(), 0);
    }

    // Requests sent ahead of their answers wait while the one before them is answered: 32 of
    // them are answered in turn; with a 33rd the connection is closed, none of them answered.
    void holdsUpTo32RequestsBehindTheOneBeingAnswered()
    {
        QTemporaryDir state;
        Server server(state.path());
        const QString id = server.createSandbox();
        QVERIFY(!id.isEmpty());
        // A command that takes a while, then `waiting` requests in the same write; the last
        // asks to close the connection, so that its end is the end of the answers.
        const auto pipelined = [&id](const QString &command, int waiting) {
            const QByteArray body = QJsonDocument(QJsonObject{{u"command"_s, command}}).toJson(QJsonDocument::Compact);
            QByteArray bytes = "POST /sandboxes/" + id.toLatin1() + "/proxy/44772/command HTTP/1.1\r\nHost: h\r\n"
                               "OPEN-SANDBOX-API-KEY: " + QByteArray(ApiKey) + "\r\nContent-Length: "
                               + QByteArray::number(body.size()) + "\r\n\r\n" + body;
            for (int i = 1; i < waiting; ++i)
                bytes += "GET /health HTTP/1.1\r\nHost: h\r\n\r\n";
            return bytes + "GET /health HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
        };
        {
            RawHttpClient client(server.port());
            client.send(pipelined(u"sleep 2; echo slept"_s, 32));
            QVERIFY(client.waitClosed(60'000));
            QVERIFY2(client.received().contains(R"("text":"slept")"), client.received().constData());
            QCOMPARE(client.received().count(R"({"status":"healthy"})"), 32);
        }
        {
            // The command would go on for a minute: the connection ends long before.
            RawHttpClient client(server.port());
            client.send(pipelined(u"sleep 60"_s, 33));
            QVERIFY(client.waitClosed(30'000));
            QVERIFY2(!client.received().contains("healthy"), client.received().constData());
        }
        QCOMPARE(server.request("GET", u"/health"_s).status, 200);
        QCOMPARE(server.stop(), 0);
    }

    void keepsTheCommandWhenItsClientHangsUp()
    {
        QTemporaryDir state;
        Server server(state.path());
        const QString id = server.createSandbox();
        const QUrl base(server.base());
        QByteArray received;
        {
            QTcpSocket client;
            client.connectToHost(u"127.0.0.1"_s, quint16(base.port()));
            QVERIFY(client.waitForConnected());
            const QByteArray body = R"({"command":"echo first; sleep 2; echo done > /tmp/finished"})";
            client.write("POST /sandboxes/" + id.toLatin1() + "/proxy/44772/command HTTP/1.1\r\nHost: x\r\n"
                         "OPEN-SANDBOX-API-KEY: " + QByteArray(ApiKey) + "\r\nContent-Length: "
                         + QByteArray::number(body.size()) + "\r\n\r\n" + body);
            while (!received.contains("first") && client.waitForReadyRead(10'000))
                received += client.readAll();
            client.abort();
        }
        QVERIFY(received.contains(R"({"type":"init")"));
        // The server is still there, and the command ran to its end, as with execd.
        QCOMPARE(server.request("GET", u"/health"_s).status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(server.request("GET", u"/sandboxes/"_s + id + u"/proxy/44772/files/download?path=/tmp/finished"_s).body,
                                  "done\n", 10'000);
        QCOMPARE(server.stop(), 0);
    }

    // As execd: an interrupt is answered once the command has ended (SIGTERM, and SIGKILL
    // three seconds later for one that ignores it), so that a client that goes on after the
    // answer finds nothing of it still running.
    void answersAnInterruptOnceTheCommandEnded()
    {
        QTemporaryDir state;
        Server server(state.path());
        const QString id = server.createSandbox();
        const QString execd = u"/sandboxes/"_s + id + u"/proxy/44772"_s;
        const Answer started = server.request("POST", execd + u"/command"_s,
                                              R"({"command":"trap '' TERM; while :; do sleep 0.2; done","background":true})");
        QCOMPARE(started.status, 200);
        QString command;
        for (const QByteArray &line : started.body.split('\n')) {
            const QJsonObject event = QJsonDocument::fromJson(line).object();
            if (event.value(u"type"_s).toString() == u"init"_s)
                command = event.value(u"text"_s).toString();
        }
        QVERIFY2(!command.isEmpty(), started.body.constData());
        QCOMPARE(server.request("GET", execd + u"/command/status/"_s + command).json().value(u"running"_s).toBool(), true);

        QCOMPARE(server.request("DELETE", execd + u"/command?id="_s + command).status, 200);
        const QJsonObject status = server.request("GET", execd + u"/command/status/"_s + command).json();
        QCOMPARE(status.value(u"running"_s).toBool(), false);
        QCOMPARE(server.stop(), 0);
    }

    void sendsDownloadsAtTheClientsPace()
    {
        QTemporaryDir state;
        Server server(state.path());
        const QString id = server.createSandbox();
        const QString execd = u"/sandboxes/"_s + id + u"/proxy/44772"_s;
        constexpr qint64 size = 96LL * 1024 * 1024;
        QCOMPARE(server.request("POST", execd + u"/command"_s, R"({"command":"head -c 96M /dev/zero > /workspace/big"})").status, 200);
        QVERIFY(resetPeakResident(server.pid()));
        const qint64 before = peakResidentKiB(server.pid());
        const qint64 readBefore = bytesRead(server.pid());

        // A client that asks and then does not read: the server must not read the whole
        // file into its memory meanwhile.
        QTcpSocket client;
        client.connectToHost(u"127.0.0.1"_s, server.port());
        QVERIFY(client.waitForConnected());
        client.write("GET " + execd.toLatin1() + "/files/download?path=/workspace/big HTTP/1.1\r\nHost: x\r\n"
                     "OPEN-SANDBOX-API-KEY: " + QByteArray(ApiKey) + "\r\n\r\n");
        client.flush();
        // Until the server has read all it will for a client that reads nothing: the file
        // flows, then stops. A server that reads it all comes to rest too, with all of it in
        // its memory. No event loop meanwhile, so the client really reads nothing.
        QVERIFY2(waitUntilReadingStops(server.pid(), readBefore + 1024 * 1024), "the server never stopped reading the file");
        const qint64 stalled = peakResidentKiB(server.pid()) - before;
        QVERIFY2(stalled < 32 * 1024, qPrintable(u"the server grew by %1 KiB for a client that does not read"_s.arg(stalled)));

        // Then it reads: every byte arrives.
        QByteArray head;
        bool headDone = false;
        qint64 body = 0;
        QElapsedTimer clock;
        clock.start();
        while (body < size && clock.elapsed() < 60'000) {
            if (client.bytesAvailable() == 0 && !client.waitForReadyRead(5000))
                break;
            const QByteArray bytes = client.readAll();
            if (headDone) {
                body += bytes.size();
                continue;
            }
            head += bytes;
            const qsizetype end = head.indexOf("\r\n\r\n");
            if (end >= 0) {
                headDone = true;
                body += head.size() - end - 4;
                head.truncate(end);
            }
        }
        QVERIFY2(head.contains("Content-Length: 100663296"), head.constData());
        QCOMPARE(body, size);
        // Nor while the client took it.
        const qint64 peak = peakResidentKiB(server.pid()) - before;
        QVERIFY2(peak < 32 * 1024, qPrintable(u"the server grew by %1 KiB while it sent the file"_s.arg(peak)));
        QCOMPARE(server.stop(), 0);
    }

    void stopDeletesEverySandbox()
    {
        QTemporaryDir state;
        Server server(state.path());
        QVERIFY(!server.createSandbox().isEmpty());
        QVERIFY(!server.createSandbox().isEmpty());
        QCOMPARE(records(state.path()).size(), 2);
        const QList<qint64> sandboxes = childrenOf(server.pid());
        QVERIFY(!sandboxes.isEmpty());
        QCOMPARE(server.stop(), 0);
        QCOMPARE(records(state.path()), QStringList());
        for (qint64 pid : sandboxes)
            QVERIFY2(!alive(pid), qPrintable(u"process %1 outlived the server"_s.arg(pid)));
    }

    void aRestartRemovesWhatACrashedServerLeft()
    {
        QTemporaryDir state;
        QString id;
        QList<qint64> sandboxes;
        {
            Server crashing(state.path());
            id = crashing.createSandbox();
            QVERIFY(!id.isEmpty());
            sandboxes = childrenOf(crashing.pid());
            crashing.crash();
        }
        for (qint64 pid : sandboxes)
            QTRY_VERIFY2(!alive(pid), qPrintable(u"sandbox process %1 outlived its server"_s.arg(pid)));
        QCOMPARE(records(state.path()).size(), 1);

        Server next(state.path());
        QCOMPARE(records(state.path()), QStringList());
        QCOMPARE(next.request("GET", u"/v1/sandboxes/"_s + id).status, 404);
        QCOMPARE(next.request("GET", u"/v1/sandboxes"_s).json().value(u"items"_s).toArray().size(), 0);
        QCOMPARE(next.stop(), 0);
        const QByteArray log = next.standardError();
        QVERIFY2(log.contains("removed 1 sandbox(es) left by a server or run that ended abnormally"), log.constData());
    }
};

QTEST_GUILESS_MAIN(tst_SandboxServer)
#include "tst_sandboxserver.moc"
