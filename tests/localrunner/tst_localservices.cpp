// Relaying to services inside local sandboxes through the Runner interface: real services
// (Python's http.server and small socket servers) started as background commands in real
// sandboxes, with the host's network and in a network namespace of their own.
#include "localrunnertesting.h"

#include <QDeadlineTimer>
#include <QTcpServer>

using namespace Sandflow;
using namespace RunnerTesting;
using namespace Qt::StringLiterals;

namespace {

/// Small services for the tests; `python3 service.py MODE PORT`. Each connection is served
/// in its own thread, so a probe never waits behind a connection that is held open.
/// - echo: reads the request to its end (the relay half-closes), answers its body over HTTP.
/// - hold: sends "ready", reads the request to its end and, when it is "hold", never answers
///   more nor closes.
constexpr char ServiceScript[] = R"(import socket, sys, threading, time

def read_all(conn):
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data

def echo(conn):
    head, _, body = read_all(conn).partition(b"\r\n\r\n")
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)

def hold(conn):
    conn.sendall(b"ready\n")
    if read_all(conn) == b"hold":
        time.sleep(3600)

def serve(conn):
    with conn:
        {"echo": echo, "hold": hold}[sys.argv[1]](conn)

server = socket.create_server(("127.0.0.1", int(sys.argv[2])))
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
)";

/// Ample for a service to start on a loaded machine; only a broken test waits that long.
constexpr int StartupMs = 30'000;

Read relay(LocalRunner *runner, const QString &id, quint16 port, const QByteArray &request)
{
    return readAll(runner->relayToPort(id, port, bytes(request)), 60'000);
}

QByteArray httpGet(const QByteArray &path)
{
    return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
}

/// The head and the body of an HTTP answer.
std::pair<QByteArray, QByteArray> splitAnswer(const QByteArray &answer)
{
    const qsizetype end = answer.indexOf("\r\n\r\n");
    if (end < 0)
        return {answer, {}};
    return {answer.left(end), answer.mid(end + 4)};
}

/// A port nothing on this machine listens on right now, for a service on the host's network.
quint16 freeHostPort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

SandboxRequest offline()
{
    return sandbox([](SandboxRequest &r) { r.network = SandboxNetworkPolicy{SandboxNetworkPolicy::Action::Deny, {}}; });
}

} // namespace

class TestLocalServices : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void reachesAServiceWithoutNetwork();
    void largeAnswerArrivesWholeAndInOrder();
    void requestBodyReachesTheService();
    void closedPortIsUnreachable();
    void cancelEndsTheRelay();

private:
    /// Starts `command` in the background and waits until something accepts on `port`: until
    /// a relay no longer fails with PORT_UNREACHABLE.
    bool startService(const QString &id, const QString &command, quint16 port);
    /// The sandbox's processes, one command line a line.
    QByteArray processes(const QString &id, SourceLocation where = SourceLocation::current());

    std::unique_ptr<LocalRunner> m_runner;
};

void TestLocalServices::init()
{
    TestWarnings::failOnAnyWarning();
    m_runner = std::make_unique<LocalRunner>(runnerOptions());
}

void TestLocalServices::cleanup()
{
    m_runner.reset();
}

bool TestLocalServices::startService(const QString &id, const QString &command, quint16 port)
{
    std::unique_ptr<CommandJob> started(run(m_runner->runCommand(id, RunnerTesting::command(command, [](CommandRequest &r) {
        r.background = true;
    }))));
    if (started->error()) {
        qWarning("cannot start the service: %s", qPrintable(started->error()->message));
        return false;
    }
    const QDeadlineTimer deadline(StartupMs);
    for (;;) {
        const Read probe = relay(m_runner.get(), id, port, {});
        if (!probe.error)
            return true;
        if (probe.error->code != u"PORT_UNREACHABLE"_s || deadline.hasExpired()) {
            const CommandLogs logs = resultOf(m_runner->commandLogs(id, started->commandId(), 0));
            qWarning("the service does not accept on port %u: %s\n%s", port, qPrintable(probe.error->message),
                     logs.data.constData());
            return false;
        }
        QTest::qWait(100);
    }
}

QByteArray TestLocalServices::processes(const QString &id, SourceLocation where)
{
    return shellOutput(m_runner.get(), id,
                       u"for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done"_s, where);
}

void TestLocalServices::reachesAServiceWithoutNetwork()
{
    const QString id = create(m_runner.get(), offline());
    QVERIFY(!id.isEmpty());
    resultOf(m_runner->uploadFile(id, u"/workspace/site/hello.txt"_s, {}, bytes("hello from inside\n")));
    QVERIFY(startService(id, u"exec python3 -m http.server 8080 --bind 127.0.0.1 --directory /workspace/site"_s, 8080));

    const Read answer = relay(m_runner.get(), id, 8080, httpGet("/hello.txt"));
    QVERIFY2(!answer.error, qPrintable(answer.error ? answer.error->message : QString()));
    const auto [head, body] = splitAnswer(answer.data);
    QVERIFY2(head.startsWith("HTTP/1.0 200 OK\r\n"), head.constData());
    QVERIFY2(head.contains("\r\nContent-Length: 18"), head.constData());
    QCOMPARE(body, QByteArray("hello from inside\n"));

    // Every relay is a connection of its own; the service keeps answering.
    const Read missing = relay(m_runner.get(), id, 8080, httpGet("/missing.txt"));
    QVERIFY(!missing.error);
    QVERIFY2(missing.data.startsWith("HTTP/1.0 404 "), missing.data.left(100).constData());
}

void TestLocalServices::largeAnswerArrivesWholeAndInOrder()
{
    // The host's network: the service shares the host's loopback, hence a free port.
    const QString id = create(m_runner.get());
    QVERIFY(!id.isEmpty());
    const quint16 port = freeHostPort();
    QVERIFY(port != 0);
    // Numbered lines, so that a lost, repeated or reordered chunk cannot go unnoticed.
    QByteArray content;
    for (int line = 0; line < 500'000; ++line)
        content += QByteArray::number(line).rightJustified(7, '0') + '\n';
    QCOMPARE(content.size(), 4'000'000);
    resultOf(m_runner->uploadFile(id, u"/workspace/site/big.txt"_s, {}, bytes(content)));
    QVERIFY(startService(id,
                         u"exec python3 -m http.server %1 --bind 127.0.0.1 --directory /workspace/site"_s.arg(port),
                         port));

    const Read answer = relay(m_runner.get(), id, port, httpGet("/big.txt"));
    QVERIFY2(!answer.error, qPrintable(answer.error ? answer.error->message : QString()));
    const auto [head, body] = splitAnswer(answer.data);
    QVERIFY2(head.startsWith("HTTP/1.0 200 OK\r\n"), head.constData());
    QVERIFY2(head.contains("\r\nContent-Length: 4000000"), head.constData());
    QCOMPARE(body.size(), content.size());
    QVERIFY(body == content);
    // Streamed as it came, not gathered into one piece.
    QVERIFY2(answer.chunks > 1, qPrintable(QString::number(answer.chunks)));
}

void TestLocalServices::requestBodyReachesTheService()
{
    const QString id = create(m_runner.get(), offline());
    QVERIFY(!id.isEmpty());
    resultOf(m_runner->uploadFile(id, u"/workspace/service.py"_s, {}, bytes(ServiceScript)));
    QVERIFY(startService(id, u"exec python3 /workspace/service.py echo 9000"_s, 9000));

    // Larger than every buffer on the way; the service answers only once the relay has
    // half-closed the connection, so the answer also shows the request's end arrived.
    QByteArray body;
    for (int line = 0; body.size() < 3 * 1024 * 1024; ++line)
        body += "line " + QByteArray::number(line) + '\n';
    const QByteArray request = "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
        + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    const Read answer = relay(m_runner.get(), id, 9000, request);
    QVERIFY2(!answer.error, qPrintable(answer.error ? answer.error->message : QString()));
    const auto [head, echoed] = splitAnswer(answer.data);
    QCOMPARE(head, "HTTP/1.1 200 OK\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\nConnection: close");
    QVERIFY(echoed == body);

    // An empty request is the request's end at once.
    QCOMPARE(relay(m_runner.get(), id, 9000, {}).data,
             QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
}

void TestLocalServices::closedPortIsUnreachable()
{
    const QString id = create(m_runner.get(), offline());
    QVERIFY(!id.isEmpty());
    const Read answer = relay(m_runner.get(), id, 8080, httpGet("/"));
    QVERIFY(answer.error);
    QCOMPARE(answer.error->code, u"PORT_UNREACHABLE"_s);
    QCOMPARE(answer.error->kind, JobError::Kind::Task);
    QCOMPARE(answer.error->message, u"nothing listens on port 8080 in sandbox %1"_s.arg(id));
    QVERIFY(answer.data.isEmpty());

    const Read nowhere = relay(m_runner.get(), u"no-such-sandbox"_s, 8080, httpGet("/"));
    QVERIFY(nowhere.error);
    QCOMPARE(nowhere.error->code, u"SANDBOX_NOT_FOUND"_s);
}

void TestLocalServices::cancelEndsTheRelay()
{
    const QString id = create(m_runner.get(), offline());
    QVERIFY(!id.isEmpty());
    resultOf(m_runner->uploadFile(id, u"/workspace/service.py"_s, {}, bytes(ServiceScript)));
    QVERIFY(startService(id, u"exec python3 /workspace/service.py hold 9000"_s, 9000));
    const auto relaying = [this, &id] { return processes(id).contains("/.sandflow/agent relay 9000"); };
    QVERIFY(!relaying());

    // The service takes the request and never closes: the relay would wait for ever.
    OwnedJob<FileReadJob> job(m_runner->relayToPort(id, 9000, bytes("hold")));
    job->setAutoDelete(false);
    QByteArray received;
    connect(job.get(), &FileReadJob::data, job.get(), [&received](const QByteArray &chunk) { received += chunk; });
    QSignalSpy finished(job.get(), &AsyncJob::finished);
    job->start();
    QTRY_COMPARE_WITH_TIMEOUT(received, QByteArray("ready\n"), StartupMs);
    QVERIFY(relaying());
    QVERIFY(finished.isEmpty());

    job->cancel();
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 10'000);
    QVERIFY(job->error());
    QCOMPARE(job->error()->code, u"CANCELLED"_s);
    // The job ends only once the tool has exited.
    QVERIFY2(!relaying(), processes(id).constData());
    // The service is still there for the next relay.
    QCOMPARE(relay(m_runner.get(), id, 9000, {}).data, QByteArray("ready\n"));
}

QTEST_GUILESS_MAIN(TestLocalServices)
#include "tst_localservices.moc"
