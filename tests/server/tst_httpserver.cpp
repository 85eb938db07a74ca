// The HTTP layer of `sandflow serve` on a real socket: framing, order, limits, and clients
// that leave in the middle of a response.
#include "httpserver_p.h"
#include "rawhttpclient.h"
#include "warnings.h"

#include <QSignalSpy>
#include <QTest>
#include <QTimer>
#include <QScopeGuard>
#include <QWebSocket>

#include <sys/resource.h>

using namespace Qt::StringLiterals;
using namespace Sandflow::Internal;

class tst_HttpServer : public QObject
{
    Q_OBJECT

private:
    /// A server whose handler is `dispatch`; the port is returned.
    quint16 startServer(HttpConnection::Dispatch dispatch, HttpLimits limits = {})
    {
        m_server = std::make_unique<HttpServer>(limits, std::move(dispatch));
        QString error;
        if (!m_server->start(QHostAddress::LocalHost, 0, &error))
            qFatal("cannot listen: %s", qPrintable(error));
        return m_server->port();
    }

    /// A server that takes WebSockets on /ws/open only, and echoes what they send back,
    /// prefixed with the path and a header of the handshake; the port is returned.
    quint16 startWebSocketServer()
    {
        m_server = std::make_unique<HttpServer>(HttpLimits{}, [](HttpExchange *exchange) { exchange->respondEmpty(204); });
        m_server->acceptWebSockets(
            [](const HttpRequest &request) -> std::optional<HttpRefusal> {
                if (request.path != u"/ws/open"_s)
                    return HttpRefusal{404, u"NOT_FOUND"_s, "No WebSocket here."};
                return std::nullopt;
            },
            [this](QWebSocket *socket, const HttpRequest &request) {
                m_webSockets.emplace_back(socket);
                const QByteArray prefix = request.path.toUtf8() + '?' + request.encodedQuery + ' ' + request.header("x-test") + ' ';
                connect(socket, &QWebSocket::textMessageReceived, socket,
                        [socket, prefix](const QString &text) { socket->sendTextMessage(QString::fromUtf8(prefix) + text); });
                connect(socket, &QWebSocket::binaryMessageReceived, socket,
                        [socket, prefix](const QByteArray &bytes) { socket->sendBinaryMessage(prefix + bytes); });
            });
        QString error;
        if (!m_server->start(QHostAddress::LocalHost, 0, &error))
            qFatal("cannot listen: %s", qPrintable(error));
        return m_server->port();
    }

    std::unique_ptr<HttpServer> m_server;
    std::vector<std::unique_ptr<QWebSocket>> m_webSockets;

private slots:
    // A warning from Qt is a mistake here: a connection Qt refused to make once left every
    // socket counted for ever.
    void init() { TestWarnings::failOnAnyWarning(); }

    void cleanup()
    {
        m_webSockets.clear();
        m_server.reset();
    }

    void answersWithLengthAndRequestId()
    {
        QByteArray seenBody;
        QByteArray seenPath;
        const quint16 port = startServer([&](HttpExchange *exchange) {
            seenBody = exchange->request().body;
            seenPath = exchange->request().path.toUtf8() + '?' + exchange->request().encodedQuery;
            exchange->respond(200, "text/plain", "hello");
        });
        RawHttpClient client(port);
        client.send("POST /a%20b?x=1&y=%2F HTTP/1.1\r\nHost: h\r\nX-Request-ID: abc123\r\nContent-Length: 4\r\n\r\nbody");
        const QByteArray answer = client.readUntil("hello");
        QCOMPARE(answer, "HTTP/1.1 200 OK\r\nX-Request-ID: abc123\r\nAccess-Control-Allow-Origin: *\r\n"
                         "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
        QCOMPARE(seenBody, "body");
        QCOMPARE(seenPath, "/a b?x=1&y=%2F");
    }

    void makesUpARequestIdWhenNoneIsGiven()
    {
        const quint16 port = startServer([](HttpExchange *exchange) { exchange->respondEmpty(204); });
        RawHttpClient client(port);
        client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        const QByteArray answer = client.readUntil("\r\n\r\n");
        // The lifecycle spec declares the header `format: uuid`: RFC 4122's dashed form.
        static const QRegularExpression id(u"X-Request-ID: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\r\n"_s);
        QVERIFY2(id.match(QString::fromLatin1(answer)).hasMatch(), answer.constData());
    }

    void answersInOrderOnOneConnection()
    {
        // The first request is answered late; the second must still come second.
        const quint16 port = startServer([](HttpExchange *exchange) {
            const QByteArray path = exchange->request().path.toUtf8();
            if (path == "/slow") {
                QPointer<HttpExchange> guard(exchange);
                QTimer::singleShot(100, exchange, [guard] { guard->respond(200, "text/plain", "slow"); });
            } else {
                exchange->respond(200, "text/plain", "fast");
            }
        });
        RawHttpClient client(port);
        client.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\nGET /fast HTTP/1.1\r\nHost: h\r\n\r\n");
        const QByteArray answer = client.readUntil("fast");
        QVERIFY(answer.indexOf("slow") >= 0);
        QVERIFY(answer.indexOf("slow") < answer.indexOf("fast"));
    }

    void streamsChunks()
    {
        const quint16 port = startServer([](HttpExchange *exchange) {
            exchange->beginStream(200, "text/event-stream");
            exchange->writeChunk("{\"a\":1}\n\n");
            exchange->writeChunk("");   // nothing: an empty chunk would end the stream
            exchange->writeChunk("0123456789abcdef!");
            exchange->endStream();
        });
        RawHttpClient client(port);
        client.send("POST /command HTTP/1.1\r\nHost: h\r\nX-Request-ID: r\r\nContent-Length: 0\r\n\r\n");
        const QByteArray answer = client.readUntil("0\r\n\r\n");
        QCOMPARE(answer, "HTTP/1.1 200 OK\r\nX-Request-ID: r\r\nAccess-Control-Allow-Origin: *\r\n"
                         "Content-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "9\r\n{\"a\":1}\n\n\r\n11\r\n0123456789abcdef!\r\n0\r\n\r\n");
    }

    void streamsABodyOfKnownLength()
    {
        int completedWith = 0;
        const quint16 port = startServer([&](HttpExchange *exchange) {
            QObject::connect(exchange, &HttpExchange::completed, [&](int status) { completedWith = status; });
            exchange->beginStream(206, "application/octet-stream", {{"Content-Range", "bytes 0-5/10"}}, 6);
            exchange->writeChunk("abc");
            exchange->writeChunk("def");
            exchange->endStream();
        });
        RawHttpClient client(port);
        client.send("GET /files/download HTTP/1.1\r\nHost: h\r\nX-Request-ID: r\r\n\r\n");
        QCOMPARE(client.readUntil("abcdef"), "HTTP/1.1 206 Partial Content\r\nX-Request-ID: r\r\n"
                                             "Access-Control-Allow-Origin: *\r\nContent-Type: application/octet-stream\r\n"
                                             "Content-Length: 6\r\nContent-Range: bytes 0-5/10\r\n\r\nabcdef");
        QCOMPARE(completedWith, 206);
    }

    void neverSendsMoreThanAnnounced()
    {
        const quint16 port = startServer([](HttpExchange *exchange) {
            exchange->beginStream(200, "application/octet-stream", {}, 4);
            exchange->writeChunk("abcdef");
            exchange->endStream();
        });
        RawHttpClient client(port);
        client.send("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
        const QByteArray answer = client.readUntil("abcdHTTP");
        QVERIFY2(answer.contains("Content-Length: 4\r\n\r\nabcdHTTP/1.1 200"), answer.constData());
    }

    void closesAfterABodyCutShort()
    {
        // A body shorter than its Content-Length, or one that failed half-way: the client can
        // only tell by the connection closing.
        const quint16 port = startServer([](HttpExchange *exchange) {
            exchange->beginStream(200, "application/octet-stream", {}, 10);
            exchange->writeChunk("abc");
            exchange->request().path == u"/abort"_s ? exchange->abort() : exchange->endStream();
        });
        for (const QByteArray path : {"/short", "/abort"}) {
            RawHttpClient client(port);
            client.send("GET " + path + " HTTP/1.1\r\nHost: h\r\n\r\n");
            QVERIFY(client.waitClosed());
            QVERIFY(client.readUntil("abc").endsWith("\r\n\r\nabc"));
        }
    }

    void answersPipelinedRequestsWithoutNesting()
    {
        int depth = 0;
        int deepest = 0;
        const quint16 port = startServer([&](HttpExchange *exchange) {
            ++depth;
            deepest = qMax(deepest, depth);
            exchange->respond(200, "text/plain", exchange->request().path.toUtf8());
            --depth;
        });
        RawHttpClient client(port);
        QByteArray requests;
        for (int i = 0; i < 20; ++i)
            requests += "GET /" + QByteArray::number(i) + " HTTP/1.1\r\nHost: h\r\n\r\n";
        client.send(requests);
        const QByteArray answer = client.readUntil("\r\n\r\n/19");
        QVERIFY(answer.endsWith("/19"));
        QVERIFY(answer.indexOf("/9") < answer.indexOf("/10"));
        QCOMPARE(deepest, 1);
    }

    void answersHeadWithoutABody()
    {
        const quint16 port = startServer([](HttpExchange *exchange) { exchange->respond(404, "text/plain", "missing"); });
        RawHttpClient client(port);
        client.send("HEAD /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n");
        const QByteArray answer = client.readUntil("missing");
        QCOMPARE(answer.count("Content-Length: 7\r\n"), 2);
        QCOMPARE(answer.count("missing"), 1);
    }

    void survivesAClientThatLeavesMidStream()
    {
        QPointer<HttpExchange> streaming;
        bool gone = false;
        const quint16 port = startServer([&](HttpExchange *exchange) {
            streaming = exchange;
            QObject::connect(exchange, &HttpExchange::clientGone, [&] { gone = true; });
            exchange->beginStream(200, "text/event-stream");
            exchange->writeChunk("first\n\n");
        });
        {
            RawHttpClient client(port);
            client.send("POST /command HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
            client.readUntil("first");
            client.abort();
        }
        QTRY_VERIFY(gone);
        // The producer may still write once before it hears of it: nothing must happen.
        if (streaming)
            streaming->writeChunk("late\n\n");
        QTRY_VERIFY(streaming.isNull());
    }

    void refusesAnOversizedBodyBeforeReadingIt()
    {
        int dispatched = 0;
        HttpLimits limits;
        limits.maxBodyBytes = 1000;
        const quint16 port = startServer([&](HttpExchange *exchange) {
            ++dispatched;
            exchange->respondEmpty(200);
        }, limits);
        RawHttpClient client(port);
        client.send("POST /files/upload HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n" + QByteArray(100, 'x'));
        const QByteArray answer = client.readUntil("}");
        QVERIFY2(answer.startsWith("HTTP/1.1 413 Payload Too Large\r\n"), answer.constData());
        QVERIFY(answer.contains("\"code\":\"REQUEST_TOO_LARGE\""));
        QVERIFY(client.waitClosed());
        QCOMPARE(dispatched, 0);
    }

    // Framings two HTTP parsers may read differently are how requests are smuggled past a
    // proxy (RFC 9112 6.1, 6.3, 5.1, 5.2): refused, the connection closed, nothing dispatched
    // (the GET that follows in the same bytes included).
    void refusesAmbiguousFraming_data()
    {
        QTest::addColumn<QByteArray>("head");
        QTest::addColumn<int>("status");
        QTest::newRow("length and chunked") << QByteArray("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n") << 400;
        QTest::newRow("chunked and length") << QByteArray("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n") << 400;
        QTest::newRow("two lengths") << QByteArray("Content-Length: 4\r\nContent-Length: 40\r\n") << 400;
        QTest::newRow("a list of lengths") << QByteArray("Content-Length: 4, 40\r\n") << 400;
        QTest::newRow("a signed length") << QByteArray("Content-Length: +4\r\n") << 400;
        QTest::newRow("space before the colon") << QByteArray("Transfer-Encoding : chunked\r\n") << 400;
        QTest::newRow("a folded line") << QByteArray("X-A: a\r\n b\r\nContent-Length: 4\r\n") << 400;
        QTest::newRow("a coding besides chunked") << QByteArray("Transfer-Encoding: gzip, chunked\r\n") << 501;
        QTest::newRow("chunked twice") << QByteArray("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n") << 501;
    }

    void refusesAmbiguousFraming()
    {
        QFETCH(QByteArray, head);
        QFETCH(int, status);
        int dispatched = 0;
        const quint16 port = startServer([&dispatched](HttpExchange *exchange) {
            ++dispatched;
            exchange->respondEmpty(204);
        });
        RawHttpClient client(port);
        client.send("POST /a HTTP/1.1\r\nHost: h\r\n" + head + "\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
        QVERIFY(client.waitClosed());
        const QByteArray answer = client.readUntil("}");
        QVERIFY2(answer.startsWith("HTTP/1.1 " + QByteArray::number(status) + ' '), answer.constData());
        QVERIFY2(answer.contains("Connection: close\r\n"), answer.constData());
        QVERIFY2(answer.count("HTTP/1.1") == 1, answer.constData());
        QCOMPARE(dispatched, 0);
    }

    // A request behind a well-framed one in the same bytes is checked too.
    void refusesAmbiguousFramingWhenPipelined()
    {
        QList<QByteArray> served;
        const quint16 port = startServer([&served](HttpExchange *exchange) {
            served.append(exchange->request().path.toLatin1());
            exchange->respondEmpty(204);
        });
        RawHttpClient client(port);
        client.send("GET /first HTTP/1.1\r\nHost: h\r\n\r\n"
                    "POST /second HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "0\r\n\r\nGET /third HTTP/1.1\r\nHost: h\r\n\r\n");
        QVERIFY(client.waitClosed());
        const QByteArray answer = client.readUntil("}");
        QVERIFY2(answer.startsWith("HTTP/1.1 204 No Content\r\n"), answer.constData());
        QVERIFY2(answer.contains("HTTP/1.1 400 Bad Request\r\n"), answer.constData());
        QCOMPARE(served, QList<QByteArray>{"/first"});
    }

    void countsBodiesWithoutALength()
    {
        int dispatched = 0;
        HttpLimits limits;
        limits.maxBodyBytes = 1000;
        limits.maxHeaderBytes = 1000;
        const quint16 port = startServer([&](HttpExchange *exchange) {
            ++dispatched;
            exchange->respondEmpty(200);
        }, limits);
        RawHttpClient client(port);
        client.send("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 30 && client.readUntil("}", 1).isEmpty(); ++i)
            client.send("64\r\n" + QByteArray(100, 'z') + "\r\n");
        QVERIFY(client.readUntil("}").startsWith("HTTP/1.1 413"));
        QCOMPARE(dispatched, 0);
    }

    void readsAHeadThatArrivesInPieces()
    {
        HttpLimits limits;
        limits.maxBodyBytes = 1000;
        const quint16 port = startServer([](HttpExchange *exchange) { exchange->respondEmpty(200); }, limits);
        RawHttpClient client(port);
        client.send("POST /x HTTP/1.1\r\nContent-Length: 5000\r\n");
        QTest::qWait(50);
        client.send("Host: h\r\n\r\n");
        QVERIFY(client.readUntil("}").startsWith("HTTP/1.1 413"));
    }

    void acceptsABodyAtTheLimit()
    {
        HttpLimits limits;
        limits.maxBodyBytes = 1000;
        const quint16 port = startServer([](HttpExchange *exchange) {
            exchange->respond(200, "text/plain", QByteArray::number(exchange->request().body.size()));
        }, limits);
        RawHttpClient client(port);
        client.send("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n");
        for (int i = 0; i < 10; ++i) {
            client.send(QByteArray(100, 'y'));
            QTest::qWait(5);
        }
        QVERIFY(client.readUntil("\r\n\r\n1000").endsWith("1000"));
    }

    void closesIdleConnections()
    {
        HttpLimits limits;
        limits.idleTimeoutMs = 200;
        const quint16 port = startServer([](HttpExchange *exchange) { exchange->respondEmpty(204); }, limits);
        RawHttpClient client(port);
        client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        QVERIFY(client.readUntil("\r\n\r\n").startsWith("HTTP/1.1 204"));
        QVERIFY(client.waitClosed(3000));
    }

    void keepsBusyConnectionsOpen()
    {
        // A response in progress is not idleness, however long it takes.
        HttpLimits limits;
        limits.idleTimeoutMs = 100;
        const quint16 port = startServer([](HttpExchange *exchange) {
            QPointer<HttpExchange> guard(exchange);
            QTimer::singleShot(400, exchange, [guard] { guard->respond(200, "text/plain", "late"); });
        }, limits);
        RawHttpClient client(port);
        client.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        QVERIFY(client.readUntil("late").endsWith("late"));
    }

    // A handshake the check lets through becomes a WebSocket, with the request that opened it.
    void upgradesACheckedHandshake()
    {
        const quint16 port = startWebSocketServer();
        QWebSocket client;
        QNetworkRequest request(QUrl(u"ws://127.0.0.1:%1/ws/open?pty=0"_s.arg(port)));
        request.setRawHeader("X-Test", "seen");
        QSignalSpy text(&client, &QWebSocket::textMessageReceived);
        QSignalSpy binary(&client, &QWebSocket::binaryMessageReceived);
        client.open(request);
        QTRY_COMPARE_WITH_TIMEOUT(client.state(), QAbstractSocket::ConnectedState, 30'000);
        client.sendTextMessage(u"hello"_s);
        client.sendBinaryMessage(QByteArray("\x00\x01", 2));
        QTRY_COMPARE_WITH_TIMEOUT(text.size(), 1, 30'000);
        QCOMPARE(text.first().first().toString(), u"/ws/open?pty=0 seen hello"_s);
        QTRY_COMPARE_WITH_TIMEOUT(binary.size(), 1, 30'000);
        QCOMPARE(binary.first().first().toByteArray(), QByteArray("/ws/open?pty=0 seen \x00\x01", 22));
        // The HTTP layer let the socket go: no idle timeout of HTTP closes a WebSocket.
        QCOMPARE(m_webSockets.size(), size_t(1));
    }

    // A refused handshake gets an HTTP answer that says why, and no WebSocket.
    void refusesAHandshakeTheCheckRefuses()
    {
        const quint16 port = startWebSocketServer();
        RawHttpClient client(port);
        client.send("GET /ws/closed HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        QVERIFY(client.waitClosed(30'000));
        QVERIFY2(client.received().startsWith("HTTP/1.1 404 Not Found\r\n"), client.received().constData());
        QVERIFY2(client.received().endsWith(R"({"code":"NOT_FOUND","message":"No WebSocket here."})"),
                 client.received().constData());
        QVERIFY(m_webSockets.empty());
    }

    // Handshakes that Qt would close without a word are answered.
    void answersMalformedHandshakes_data()
    {
        QTest::addColumn<QByteArray>("headers");
        QTest::addColumn<QByteArray>("status");
        QTest::newRow("no key") << QByteArray("Sec-WebSocket-Version: 13\r\n") << QByteArray("400");
        QTest::newRow("short key") << QByteArray("Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n")
                                   << QByteArray("400");
        QTest::newRow("old version") << QByteArray("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n")
                                     << QByteArray("426");
    }

    void answersMalformedHandshakes()
    {
        QFETCH(QByteArray, headers);
        QFETCH(QByteArray, status);
        const quint16 port = startWebSocketServer();
        RawHttpClient client(port);
        client.send("GET /ws/open HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + headers + "\r\n");
        QVERIFY(client.waitClosed(30'000));
        QVERIFY2(client.received().startsWith("HTTP/1.1 " + status), client.received().constData());
        QVERIFY2(client.received().contains(R"("code":"INVALID_HANDSHAKE")"), client.received().constData());
        QVERIFY(m_webSockets.empty());
    }

    // Without `Connection: Upgrade` Qt would serve the handshake as a plain request, on a
    // socket handed to a WebSocket that never comes: it is refused.
    void refusesAnUpgradeQtWouldNotTake()
    {
        const quint16 port = startWebSocketServer();
        RawHttpClient client(port);
        client.send("GET /ws/open HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        QVERIFY(client.waitClosed(30'000));
        QVERIFY2(client.received().startsWith("HTTP/1.1 400 "), client.received().constData());
        QVERIFY2(client.received().contains(R"("code":"INVALID_HANDSHAKE")"), client.received().constData());
        QVERIFY(m_webSockets.empty());
    }

    // A WebSocket counts as a connection while it lives, and no longer: many opened and
    // closed in turn leave room for the next client (the budget follows the limit of open
    // files, set low here).
    void webSocketsGiveTheirConnectionBack()
    {
        rlimit saved{};
        QCOMPARE(::getrlimit(RLIMIT_NOFILE, &saved), 0);
        rlimit low = saved;
        low.rlim_cur = 160;   // a budget of 96 connections
        QCOMPARE(::setrlimit(RLIMIT_NOFILE, &low), 0);
        const auto restore = qScopeGuard([&] { ::setrlimit(RLIMIT_NOFILE, &saved); });
        const quint16 port = startWebSocketServer();
        for (int i = 0; i < 120; ++i) {
            QWebSocket client;
            client.open(QUrl(u"ws://127.0.0.1:%1/ws/open"_s.arg(port)));
            QTRY_COMPARE_WITH_TIMEOUT(client.state(), QAbstractSocket::ConnectedState, 30'000);
            client.close();
            QTRY_COMPARE_WITH_TIMEOUT(client.state(), QAbstractSocket::UnconnectedState, 30'000);
            m_webSockets.clear();
        }
        RawHttpClient plain(port);
        plain.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        const QByteArray answer = plain.readUntil("\r\n\r\n", 30'000);
        QVERIFY2(answer.startsWith("HTTP/1.1 204 "), answer.constData());
    }

    void honoursConnectionClose()
    {
        const quint16 port = startServer([](HttpExchange *exchange) { exchange->respond(200, "text/plain", "x"); });
        RawHttpClient client(port);
        client.send("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        QVERIFY(client.readUntil("x").contains("Connection: close\r\n"));
        QVERIFY(client.waitClosed());
    }
};

QTEST_GUILESS_MAIN(tst_HttpServer)
#include "tst_httpserver.moc"
