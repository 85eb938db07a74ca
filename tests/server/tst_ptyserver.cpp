// execd's PTY sessions through a real `sandflow serve` on the local runner: POST /pty, then
// a WebSocket as upstream's execd speaks it (tests/server/tst_execdwire.cpp checks the
// frames byte for byte), with a real shell in a real sandbox.
#include "serveprocess.h"

#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

using namespace Qt::StringLiterals;

namespace {

constexpr int WaitMs = 60'000;
const QString ApiKey = u"tst-ptyserver-key"_s;

struct Answer
{
    int status = 0;
    QByteArray body;
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
};

/// One WebSocket client of a session, keeping every frame it gets in order.
class Client : public QObject
{
public:
    explicit Client(const QString &url)
    {
        QNetworkRequest request{QUrl(url)};
        request.setRawHeader("OPEN-SANDBOX-API-KEY", ApiKey.toUtf8());
        connect(&socket, &QWebSocket::binaryMessageReceived, this, [this](const QByteArray &frame) {
            binary.append(frame);
            if (!frame.isEmpty() && (frame.at(0) == 0x01 || frame.at(0) == 0x02))
                (frame.at(0) == 0x01 ? out : err) += frame.mid(1);
        });
        connect(&socket, &QWebSocket::textMessageReceived, this, [this](const QString &frame) { text.append(frame); });
        connect(&socket, &QWebSocket::disconnected, this, [this] {
            closeCode = socket.closeCode();
            closeReason = socket.closeReason();
            closed = true;
        });
        socket.open(request);
    }

    /// What the client saw, for a failure's message.
    QByteArray describe() const
    {
        return (u"frames: %1; closed: %2 (%3 %4); error: %5"_s.arg(text.join(u" | "_s)).arg(closed).arg(closeCode)
                    .arg(closeReason, socket.errorString()))
            .toUtf8();
    }
    bool waitConnected()
    {
        return QTest::qWaitFor([this] { return !frames(u"connected"_s).isEmpty() || closed; }, WaitMs) && !closed;
    }
    bool waitOutput(const QByteArray &needle) { return QTest::qWaitFor([&] { return out.contains(needle) || closed; }, WaitMs) && out.contains(needle); }
    bool waitClosed() { return QTest::qWaitFor([this] { return closed; }, WaitMs); }
    void input(const QByteArray &bytes) { socket.sendBinaryMessage('\0' + bytes); }
    void control(const QJsonObject &frame) { socket.sendTextMessage(QString::fromUtf8(QJsonDocument(frame).toJson(QJsonDocument::Compact))); }
    /// The text frames of `type`, parsed.
    QList<QJsonObject> frames(const QString &type) const
    {
        QList<QJsonObject> found;
        for (const QString &frame : text) {
            const QJsonObject object = QJsonDocument::fromJson(frame.toUtf8()).object();
            if (object.value(u"type"_s).toString() == type)
                found.append(object);
        }
        return found;
    }

    QWebSocket socket;
    QList<QByteArray> binary;
    QStringList text;
    QByteArray out;
    QByteArray err;
    bool closed = false;
    int closeCode = 0;
    QString closeReason;
};

} // namespace

class TestPtyServer : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void interactiveShellWithResizeAndExit();
    void outputIsReplayedToTheNextClient();
    void pipesWithEndOfInput();
    void oneClientAtATimeUnlessTakenOver();
    void framesUpstreamAnswers();
    void deleteEndsTheProcess();
    void oversizedMessagesAreRefused();
    void refusedHandshakes();
    void sessionsGoWithTheirSandbox();

private:
    Answer request(const QByteArray &method, const QString &path, const QByteArray &body = {}, bool withKey = true);
    QString createSandbox();
    /// POST /pty with `body`: the new session's id.
    QString createSession(const QByteArray &body = {});
    QString socketUrl(const QString &session, const QString &query = {}) const;

    QTemporaryDir m_state;
    ServeProcess m_server;
    QNetworkAccessManager m_network;
    QString m_sandbox;
};

void TestPtyServer::initTestCase()
{
    QVERIFY(m_state.isValid());
    QVERIFY2(m_server.start(QStringLiteral(SANDFLOW_BINARY), m_state.path(), ApiKey), qPrintable(m_server.failure()));
    m_sandbox = createSandbox();
    QVERIFY(!m_sandbox.isEmpty());
}

void TestPtyServer::cleanupTestCase()
{
    QVERIFY2(m_server.stop(), qPrintable(m_server.failure()));
}

Answer TestPtyServer::request(const QByteArray &method, const QString &path, const QByteArray &body, bool withKey)
{
    QNetworkRequest request(QUrl(m_server.url() + path));
    request.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
    if (withKey)
        request.setRawHeader("OPEN-SANDBOX-API-KEY", ApiKey.toUtf8());
    QNetworkReply *reply = m_network.sendCustomRequest(request, method, body);
    QEventLoop loop;
    connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    const Answer answer{reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), reply->readAll()};
    reply->deleteLater();
    return answer;
}

QString TestPtyServer::createSandbox()
{
    const Answer answer = request("POST", u"/v1/sandboxes"_s,
                                  R"({"image":{"uri":"debian:12"},"entrypoint":["tail","-f","/dev/null"],)"
                                  R"("resourceLimits":{"cpu":"1","memory":"1Gi"},"timeout":600})");
    return answer.status == 202 ? answer.json().value(u"id"_s).toString() : QString();
}

QString TestPtyServer::createSession(const QByteArray &body)
{
    const Answer answer = request("POST", u"/sandboxes/%1/proxy/44772/pty"_s.arg(m_sandbox), body);
    if (answer.status != 201)
        qWarning("POST /pty: %d %s", answer.status, answer.body.constData());
    return answer.json().value(u"session_id"_s).toString();
}

QString TestPtyServer::socketUrl(const QString &session, const QString &query) const
{
    QString url = m_server.url();
    url.replace(u"http://"_s, u"ws://"_s);
    return url + u"/sandboxes/%1/proxy/44772/pty/%2/ws"_s.arg(m_sandbox, session) + (query.isEmpty() ? QString() : u'?' + query);
}

// The shell starts with the first client, at the size the client asks for once resized,
// runs what is typed, and its exit ends the session's process with its status.
void TestPtyServer::interactiveShellWithResizeAndExit()
{
    const QString session = createSession(R"({"envs":{"TERM":"xterm-256color"}})");
    QVERIFY(!session.isEmpty());
    QCOMPARE(request("GET", u"/sandboxes/%1/proxy/44772/pty/%2"_s.arg(m_sandbox, session)).json(),
             (QJsonObject{{u"session_id"_s, session}, {u"running"_s, false}, {u"output_offset"_s, 0}}));

    Client client(socketUrl(session));
    QVERIFY2(client.waitConnected(), client.describe().constData());
    const QList<QJsonObject> connected = client.frames(u"connected"_s);
    QCOMPARE(connected.size(), 1);
    QCOMPARE(connected.first(), (QJsonObject{{u"type"_s, u"connected"_s}, {u"session_id"_s, session}, {u"mode"_s, u"pty"_s}}));
    client.control({{u"type"_s, u"resize"_s}, {u"cols"_s, 123}, {u"rows"_s, 45}});
    client.input("echo \"term=$TERM size=$(stty size)\"; tty\n");
    QVERIFY2(client.waitOutput("term=xterm-256color size=45 123"), client.out.constData());
    QVERIFY2(client.waitOutput("/dev/pts/"), client.out.constData());
    QCOMPARE(request("GET", u"/sandboxes/%1/proxy/44772/pty/%2"_s.arg(m_sandbox, session)).json().value(u"running"_s), true);

    client.input("exit 3\n");
    QVERIFY(client.waitClosed());
    QCOMPARE(client.frames(u"exit"_s), (QList<QJsonObject>{{{u"type"_s, u"exit"_s}, {u"exit_code"_s, 3}}}));
    QCOMPARE(client.closeCode, 1000);
    QCOMPARE(client.closeReason, u"process exited"_s);
    const QJsonObject status = request("GET", u"/sandboxes/%1/proxy/44772/pty/%2"_s.arg(m_sandbox, session)).json();
    QCOMPARE(status.value(u"running"_s), false);
    QVERIFY(status.value(u"output_offset"_s).toInteger() > 0);
}

// A client that comes later gets what was written before, from the offset it asks for,
// first, then `connected`.
void TestPtyServer::outputIsReplayedToTheNextClient()
{
    const QString session = createSession(R"({"command":"echo first; read line; echo \"got $line\"; sleep 600"})");
    QByteArray firstOutput;
    {
        Client first(socketUrl(session));
        QVERIFY2(first.waitConnected(), first.describe().constData());
        QVERIFY(first.waitOutput("first"));
        first.input("hello\n");
        QVERIFY(first.waitOutput("got hello"));
        firstOutput = first.out;
        first.socket.close();
        QVERIFY(first.waitClosed());
    }
    // The process runs on without a client.
    QCOMPARE(request("GET", u"/sandboxes/%1/proxy/44772/pty/%2"_s.arg(m_sandbox, session)).json().value(u"running"_s), true);

    Client again(socketUrl(session));
    QVERIFY2(again.waitConnected(), again.describe().constData());
    QVERIFY(!again.binary.isEmpty());
    const QByteArray replay = again.binary.first();
    QCOMPARE(replay.at(0), char(0x03));
    QCOMPARE(replay.mid(1, 8), QByteArray(8, '\0'));   // from the start: `since` is 0 when not given
    QCOMPARE(replay.mid(9), firstOutput);
    QVERIFY(again.text.first().contains(u"\"connected\""_s));

    Client later(socketUrl(session, u"since=6&takeover=1"_s));
    QVERIFY2(later.waitConnected(), later.describe().constData());
    QCOMPARE(later.binary.first().mid(1, 8), QByteArray("\0\0\0\0\0\0\0\x06", 8));
    QCOMPARE(later.binary.first().mid(9), firstOutput.mid(6));
    QCOMPARE(request("DELETE", u"/sandboxes/%1/proxy/44772/pty/%2"_s.arg(m_sandbox, session)).status, 200);
}

// With pipes, stdout and stderr come apart, and Sandflow's eof frame ends the input.
void TestPtyServer::pipesWithEndOfInput()
{
    const QString session = createSession(R"({"command":"wc -c; echo done >&2"})");
    Client client(socketUrl(session, u"pty=0"_s));
    QVERIFY2(client.waitConnected(), client.describe().constData());
    QCOMPARE(client.frames(u"connected"_s).first().value(u"mode"_s).toString(), u"pipe"_s);
    const QByteArray input(300'000, 'x');
    client.input(input);
    client.control({{u"type"_s, u"eof"_s}});
    QVERIFY(client.waitClosed());
    QCOMPARE(client.out.trimmed(), QByteArray::number(input.size()));
    QCOMPARE(client.err, QByteArray("done\n"));
    QCOMPARE(client.frames(u"exit"_s).value(0).value(u"exit_code"_s).toInt(), 0);
}

// One client at a time: a second gets 409 before the upgrade, unless it takes over; the
// first is then closed with 4001.
void TestPtyServer::oneClientAtATimeUnlessTakenOver()
{
    const QString session = createSession(R"({"command":"sleep 600"})");
    Client first(socketUrl(session));
    QVERIFY2(first.waitConnected(), first.describe().constData());

    Client second(socketUrl(session));
    QVERIFY(second.waitClosed());
    QVERIFY(second.frames(u"connected"_s).isEmpty());
    QVERIFY(!first.closed);

    Client taker(socketUrl(session, u"takeover=1"_s));
    QVERIFY2(taker.waitConnected(), taker.describe().constData());
    QVERIFY(first.waitClosed());
    QCOMPARE(first.closeCode, 4001);
    QCOMPARE(first.closeReason, u"TAKEN_OVER"_s);
    QCOMPARE(request("DELETE", u"/sandboxes/%1/proxy/44772/pty/%2"_s.arg(m_sandbox, session)).status, 200);
}

void TestPtyServer::framesUpstreamAnswers()
{
    const QString session = createSession(R"({"command":"sleep 600"})");
    Client client(socketUrl(session));
    QVERIFY2(client.waitConnected(), client.describe().constData());
    client.control({{u"type"_s, u"ping"_s}});
    client.control({{u"type"_s, u"dance"_s}});
    client.socket.sendTextMessage(u"{broken"_s);
    QVERIFY(QTest::qWaitFor([&] { return !client.frames(u"error"_s).isEmpty(); }, WaitMs));
    QCOMPARE(client.frames(u"pong"_s).size(), 1);
    QCOMPARE(client.frames(u"error"_s),
             (QList<QJsonObject>{{{u"type"_s, u"error"_s}, {u"code"_s, u"INVALID_FRAME"_s}, {u"error"_s, u"unknown frame type \"dance\""_s}}}));
    QVERIFY(!client.closed);
    // A signal frame reaches the command: sleep ends, and with it the session's process.
    client.control({{u"type"_s, u"signal"_s}, {u"signal"_s, u"SIGTERM"_s}});
    QVERIFY(client.waitClosed());
    QCOMPARE(client.frames(u"exit"_s).value(0).value(u"exit_code"_s).toInt(), -1);
}

// DELETE kills the process: the client gets the exit (-1) and the close; the session is gone.
void TestPtyServer::deleteEndsTheProcess()
{
    const QString session = createSession();
    Client client(socketUrl(session));
    QVERIFY2(client.waitConnected(), client.describe().constData());
    QCOMPARE(request("DELETE", u"/sandboxes/%1/proxy/44772/pty/%2"_s.arg(m_sandbox, session)).status, 200);
    QVERIFY(client.waitClosed());
    QCOMPARE(client.frames(u"exit"_s).value(0).value(u"exit_code"_s).toInt(), -1);
    const Answer gone = request("GET", u"/sandboxes/%1/proxy/44772/pty/%2"_s.arg(m_sandbox, session));
    QCOMPARE(gone.status, 404);
    QCOMPARE(gone.json().value(u"code"_s).toString(), u"CONTEXT_NOT_FOUND"_s);
    QCOMPARE(request("DELETE", u"/sandboxes/%1/proxy/44772/pty/%2"_s.arg(m_sandbox, session)).status, 404);
}

// A client message is at most a MiB: a larger one is not buffered, and ends the connection.
void TestPtyServer::oversizedMessagesAreRefused()
{
    const QString session = createSession(R"({"command":"sleep 600"})");
    Client client(socketUrl(session));
    QVERIFY2(client.waitConnected(), client.describe().constData());
    client.input(QByteArray(2 * 1024 * 1024, 'x'));
    QVERIFY(client.waitClosed());
    QCOMPARE(client.closeCode, int(QWebSocketProtocol::CloseCodeTooMuchData));
    QCOMPARE(request("DELETE", u"/sandboxes/%1/proxy/44772/pty/%2"_s.arg(m_sandbox, session)).status, 200);
}

// Handshakes that cannot go on are answered over HTTP, before any upgrade.
void TestPtyServer::refusedHandshakes()
{
    const QString session = createSession(R"({"command":"sleep 600"})");
    const auto handshake = [this](const QString &url, bool withKey) {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_server.port());
        if (!socket.waitForConnected(WaitMs))
            return QByteArray();
        const QUrl parsed(url);
        socket.write("GET " + parsed.path(QUrl::FullyEncoded).toLatin1() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n" + (withKey ? "OPEN-SANDBOX-API-KEY: " + ApiKey.toUtf8() + "\r\n" : QByteArray())
                     + "\r\n");
        QByteArray answer;
        while (socket.waitForReadyRead(WaitMs))
            answer += socket.readAll();
        return answer;
    };
    const QByteArray noKey = handshake(socketUrl(session), false);
    QVERIFY2(noKey.startsWith("HTTP/1.1 401"), noKey.constData());
    const QByteArray unknown = handshake(socketUrl(u"no-such-session"_s), true);
    QVERIFY2(unknown.startsWith("HTTP/1.1 404") && unknown.contains("CONTEXT_NOT_FOUND"), unknown.constData());
    QCOMPARE(request("DELETE", u"/sandboxes/%1/proxy/44772/pty/%2"_s.arg(m_sandbox, session)).status, 200);
}

// Deleting the sandbox deletes its sessions.
void TestPtyServer::sessionsGoWithTheirSandbox()
{
    const QString other = createSandbox();
    const Answer created = request("POST", u"/sandboxes/%1/proxy/44772/pty"_s.arg(other), R"({"command":"sleep 600"})");
    QCOMPARE(created.status, 201);
    const QString session = created.json().value(u"session_id"_s).toString();
    QCOMPARE(request("DELETE", u"/v1/sandboxes/%1"_s.arg(other)).status, 204);
    QCOMPARE(request("GET", u"/sandboxes/%1/proxy/44772/pty/%2"_s.arg(other, session)).status, 404);
    const Answer onGone = request("POST", u"/sandboxes/%1/proxy/44772/pty"_s.arg(other), {});
    QCOMPARE(onGone.status, 404);
}

QTEST_GUILESS_MAIN(TestPtyServer)
#include "tst_ptyserver.moc"
