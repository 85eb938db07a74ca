// CurlNetworkAccessManager against a raw keep-alive HTTP/1.1 server on a loopback port: the
// replies it gives must behave as Qt's own, and its connections must be kept and shared.
#include "curlnetworkaccessmanager_p.h"
#include "curlreply_p.h"
#include "httprequesthead.h"
#include "warnings.h"

#include <QBuffer>
#include <QHttpMultiPart>
#include <QNetworkReply>
#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <functional>

using namespace Qt::StringLiterals;
using namespace Sandflow::Internal;

namespace {

struct Request : HttpRequestHead
{
    QByteArray body;
    int connection = 0;                     ///< which connection brought it, from 1
};

/// Reads requests (sized or chunked bodies) from kept-alive connections and answers each
/// with the raw bytes `handler` gives; an empty answer leaves the request unanswered.
class KeepAliveServer : public QObject
{
public:
    std::function<QByteArray(const Request &, QTcpSocket *)> handler;
    QList<Request> requests;
    int connections = 0;
    int mostOpenAtOnce = 0;

    KeepAliveServer()
    {
        m_server.listen(QHostAddress::LocalHost, 0);
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                socket->setParent(this);
                socket->setProperty("connection", ++connections);
                mostOpenAtOnce = std::max(mostOpenAtOnce, ++m_open);
                connect(socket, &QTcpSocket::disconnected, this, [this] { --m_open; });
                connect(socket, &QTcpSocket::readyRead, this, [this, socket] { read(socket); });
            }
        });
    }

    QUrl url(const QString &path) const { return QUrl(u"http://127.0.0.1:%1%2"_s.arg(m_server.serverPort()).arg(path)); }

private:
    void read(QTcpSocket *socket)
    {
        QByteArray &buffer = m_buffers[socket];
        buffer += socket->readAll();
        while (std::optional<Request> request = take(buffer)) {
            request->connection = socket->property("connection").toInt();
            requests.append(*request);
            if (const QByteArray answer = handler(*request, socket); !answer.isEmpty())
                socket->write(answer);
        }
    }

    /// The first whole request in `buffer`, taken out of it.
    static std::optional<Request> take(QByteArray &buffer)
    {
        const std::optional<HttpRequestHead> head = HttpRequestHead::read(buffer);
        if (!head)
            return std::nullopt;
        Request request;
        static_cast<HttpRequestHead &>(request) = *head;
        qsizetype at = head->size;
        if (request.headers.value("transfer-encoding") == "chunked") {
            for (;;) {
                const qsizetype lineEnd = buffer.indexOf("\r\n", at);
                if (lineEnd < 0)
                    return std::nullopt;
                const qsizetype size = buffer.mid(at, lineEnd - at).toLongLong(nullptr, 16);
                if (buffer.size() < lineEnd + 2 + size + 2)
                    return std::nullopt;
                request.body += buffer.mid(lineEnd + 2, size);
                at = lineEnd + 2 + size + 2;
                if (size == 0)
                    break;
            }
        } else {
            const qsizetype length = request.headers.value("content-length", "0").toLongLong();
            if (buffer.size() < at + length)
                return std::nullopt;
            request.body = buffer.mid(at, length);
            at += length;
        }
        buffer.remove(0, at);
        return request;
    }

    QTcpServer m_server;
    QHash<QTcpSocket *, QByteArray> m_buffers;
    int m_open = 0;
};

QByteArray answer(int status, const QByteArray &body, const QByteArray &moreHeaders = {})
{
    return "HTTP/1.1 " + QByteArray::number(status) + " Reason " + QByteArray::number(status) + "\r\n"
           + "Content-Length: " + QByteArray::number(body.size()) + "\r\n" + moreHeaders + "\r\n" + body;
}

/// Waits for `reply` to finish.
void finish(QNetworkReply *reply, int timeoutMs = 10'000)
{
    if (reply->isFinished())
        return;
    QSignalSpy finished(reply, &QNetworkReply::finished);
    QVERIFY(finished.wait(timeoutMs));
}

/// A sequential device that has its bytes only after a while, as a pipe would.
class LateDevice : public QIODevice
{
public:
    explicit LateDevice(QByteArray bytes)
        : m_later(std::move(bytes))
    {
        open(QIODevice::ReadOnly);
        QTimer::singleShot(100, this, [this] {
            m_ready = std::exchange(m_later, {});
            emit readyRead();
        });
    }
    bool isSequential() const override { return true; }
    bool atEnd() const override { return m_ready.isEmpty() && m_later.isEmpty(); }
    qint64 bytesAvailable() const override { return m_ready.size() + QIODevice::bytesAvailable(); }

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        const qint64 count = std::min<qint64>(maxSize, m_ready.size());
        std::memcpy(data, m_ready.constData(), size_t(count));
        m_ready.remove(0, count);
        return count;
    }
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    QByteArray m_later;
    QByteArray m_ready;
};

} // namespace

class TestCurlNetworkAccess : public QObject
{
    Q_OBJECT

private slots:
    void init()
    {
        TestWarnings::failOnAnyWarning();
        m_server = std::make_unique<KeepAliveServer>();
    }

    void answerAsQtGivesIt();
    void errorStatusKeepsItsBody();
    void connectionsAreKeptAndShared();
    void aConnectionClosedWhileIdleIsNotUsedAgain();
    void aRequestLostWithItsKeptAliveConnectionIsSentAgainWhole();
    void aSendOnceRequestIsNeverSentAgain();
    void anAnswerCutAfterItsHeadersIsAnError();
    void manyRequestsAtOnceEachGetAConnection();
    void bodiesOfEveryKind();
    void readInPiecesOfAnySize();
    void silenceEndsTheReply();
    void abortEndsOnce();
    void refusedConnection();

private:
    std::unique_ptr<KeepAliveServer> m_server;
};

void TestCurlNetworkAccess::answerAsQtGivesIt()
{
    m_server->handler = [](const Request &, QTcpSocket *) {
        return answer(200, "hello", "X-Twice: a\r\nX-Twice: b\r\nContent-Type: text/plain\r\n");
    };
    CurlNetworkAccessManager manager;
    QNetworkRequest request(m_server->url(u"/path?q=1"_s));
    request.setRawHeader("X-Mine", "mine");
    std::unique_ptr<QNetworkReply> reply(manager.get(request));
    QSignalSpy readyRead(reply.get(), &QNetworkReply::readyRead);
    QSignalSpy metaData(reply.get(), &QNetworkReply::metaDataChanged);
    finish(reply.get());
    QCOMPARE(reply->error(), QNetworkReply::NoError);
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QCOMPARE(reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray(), "Reason 200");
    QCOMPARE(reply->rawHeader("x-twice"), "a, b");
    QCOMPARE(reply->header(QNetworkRequest::ContentLengthHeader).toLongLong(), 5);
    QCOMPARE(reply->header(QNetworkRequest::ContentTypeHeader).toString(), u"text/plain"_s);
    QCOMPARE(metaData.size(), 1);
    QVERIFY(readyRead.size() >= 1);
    QCOMPARE(reply->readAll(), "hello");
    const Request &sent = m_server->requests.first();
    QCOMPARE(sent.method, "GET");
    QCOMPARE(sent.target, "/path?q=1");
    QCOMPARE(sent.headers.value("x-mine"), "mine");
}

void TestCurlNetworkAccess::errorStatusKeepsItsBody()
{
    m_server->handler = [](const Request &, QTcpSocket *) { return answer(404, R"({"message":"gone"})"); };
    CurlNetworkAccessManager manager;
    std::unique_ptr<QNetworkReply> reply(manager.get(QNetworkRequest(m_server->url(u"/x"_s))));
    QSignalSpy errors(reply.get(), &QNetworkReply::errorOccurred);
    finish(reply.get());
    QCOMPARE(reply->error(), QNetworkReply::ContentNotFoundError);
    QCOMPARE(errors.size(), 1);
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 404);
    QCOMPARE(reply->readAll(), R"({"message":"gone"})");
}

void TestCurlNetworkAccess::connectionsAreKeptAndShared()
{
    m_server->handler = [](const Request &request, QTcpSocket *) { return answer(200, request.target); };
    CurlNetworkAccessManager manager;
    for (int i = 0; i < 5; ++i) {
        std::unique_ptr<QNetworkReply> reply(manager.get(QNetworkRequest(m_server->url(u"/%1"_s.arg(i)))));
        finish(reply.get());
        QCOMPARE(reply->readAll(), u"/%1"_s.arg(i).toLatin1());
    }
    QCOMPARE(m_server->requests.size(), 5);
    QCOMPARE(m_server->connections, 1);
}

void TestCurlNetworkAccess::aConnectionClosedWhileIdleIsNotUsedAgain()
{
    // The server answers, then closes the kept-alive connection (an idle timeout); the next
    // request, a POST, goes out whole on a new connection and is answered.
    m_server->handler = [](const Request &request, QTcpSocket *socket) {
        QTimer::singleShot(0, socket, [socket] { socket->disconnectFromHost(); });
        return answer(200, request.body);
    };
    CurlNetworkAccessManager manager;
    std::unique_ptr<QNetworkReply> first(manager.post(QNetworkRequest(m_server->url(u"/a"_s)), "one"));
    finish(first.get());
    QTest::qWait(100);
    std::unique_ptr<QNetworkReply> second(manager.post(QNetworkRequest(m_server->url(u"/b"_s)), "two"));
    finish(second.get());
    QCOMPARE(second->error(), QNetworkReply::NoError);
    QCOMPARE(second->readAll(), "two");
    QCOMPARE(m_server->connections, 2);
}

void TestCurlNetworkAccess::aRequestLostWithItsKeptAliveConnectionIsSentAgainWhole()
{
    // The first request is answered; the second, on the same kept-alive connection, is read
    // and then the connection closes without an answer, as when a server times out an idle
    // connection just as a request comes. The stack sends it again on a new connection,
    // body and all: a multipart body rewinds only through reset().
    m_server->handler = [this](const Request &request, QTcpSocket *socket) {
        if (request.connection == 1 && m_server->requests.size() == 2) {
            socket->abort();
            return QByteArray();
        }
        return answer(200, QByteArray::number(request.body.size()));
    };
    CurlNetworkAccessManager manager;
    std::unique_ptr<QNetworkReply> first(manager.get(QNetworkRequest(m_server->url(u"/first"_s))));
    finish(first.get());

    auto *multipart = new QHttpMultiPart(QHttpMultiPart::FormDataType);
    QHttpPart part;
    part.setHeader(QNetworkRequest::ContentDispositionHeader, u"form-data; name=\"file\""_s);
    part.setBody(QByteArray(200'000, 'm'));
    multipart->append(part);
    std::unique_ptr<QNetworkReply> second(manager.post(QNetworkRequest(m_server->url(u"/upload"_s)), multipart));
    multipart->setParent(second.get());
    finish(second.get());
    QCOMPARE(second->error(), QNetworkReply::NoError);
    QCOMPARE(m_server->requests.size(), 3);
    const Request &lost = m_server->requests.at(1);
    const Request &again = m_server->requests.at(2);
    QCOMPARE(again.connection, 2);
    QVERIFY(lost.body.size() > 200'000);
    QCOMPARE(again.body, lost.body);
    QCOMPARE(second->readAll(), QByteArray::number(lost.body.size()));
}

void TestCurlNetworkAccess::aSendOnceRequestIsNeverSentAgain()
{
    // A kept-alive connection is there to take, yet the request goes out on a new one,
    // and when that closes before any answer the reply fails instead of sending it again.
    m_server->handler = [](const Request &request, QTcpSocket *socket) {
        if (request.method == "DELETE") {
            socket->abort();
            return QByteArray();
        }
        return answer(200, "kept");
    };
    CurlNetworkAccessManager manager;
    std::unique_ptr<QNetworkReply> first(manager.get(QNetworkRequest(m_server->url(u"/first"_s))));
    finish(first.get());
    QNetworkRequest once(m_server->url(u"/sandboxes/1"_s));
    once.setAttribute(SendOnceAttribute, true);
    std::unique_ptr<QNetworkReply> reply(manager.deleteResource(once));
    finish(reply.get());
    QCOMPARE(reply->error(), QNetworkReply::RemoteHostClosedError);
    QTest::qWait(100);
    QCOMPARE(m_server->requests.size(), 2);
    QCOMPARE(m_server->requests.at(1).connection, 2);
}

void TestCurlNetworkAccess::anAnswerCutAfterItsHeadersIsAnError()
{
    m_server->handler = [](const Request &, QTcpSocket *socket) {
        QTimer::singleShot(50, socket, [socket] { socket->abort(); });
        return QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial\":");
    };
    CurlNetworkAccessManager manager;
    std::unique_ptr<QNetworkReply> reply(manager.get(QNetworkRequest(m_server->url(u"/cut"_s))));
    finish(reply.get());
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QCOMPARE(reply->error(), QNetworkReply::RemoteHostClosedError);
    QVERIFY(reply->error() != errorForHttpStatus(200));
}

void TestCurlNetworkAccess::manyRequestsAtOnceEachGetAConnection()
{
    // Held unanswered until all have arrived: Qt's own stack would hold back all but six.
    constexpr int Count = 40;
    QList<QPointer<QTcpSocket>> waiting;
    m_server->handler = [&](const Request &, QTcpSocket *socket) {
        waiting.append(socket);
        if (waiting.size() == Count) {
            for (const QPointer<QTcpSocket> &held : std::as_const(waiting))
                if (held)
                    held->write(answer(200, "ok"));
        }
        return QByteArray();
    };
    CurlNetworkAccessManager manager;
    std::vector<std::unique_ptr<QNetworkReply>> replies;
    for (int i = 0; i < Count; ++i)
        replies.emplace_back(manager.get(QNetworkRequest(m_server->url(u"/held"_s))));
    for (const auto &reply : replies) {
        finish(reply.get());
        QCOMPARE(reply->readAll(), "ok");
    }
    QCOMPARE(m_server->mostOpenAtOnce, Count);
}

void TestCurlNetworkAccess::bodiesOfEveryKind()
{
    m_server->handler = [](const Request &request, QTcpSocket *) { return answer(200, request.body); };
    CurlNetworkAccessManager manager;
    const QByteArray large(3 * 1024 * 1024 + 7, 'x');

    // A body of known size, larger than curl's buffers, sent at once: no "Expect:
    // 100-continue" (this server would never say "continue").
    std::unique_ptr<QNetworkReply> sized(manager.put(QNetworkRequest(m_server->url(u"/sized"_s)), large));
    finish(sized.get());
    QCOMPARE(sized->readAll().size(), large.size());
    QCOMPARE(m_server->requests.last().headers.value("content-length").toLongLong(), large.size());
    QVERIFY(!m_server->requests.last().headers.contains("expect"));

    // A sequential body with no size yet goes out chunked once it has its bytes.
    LateDevice late("from a pipe");
    std::unique_ptr<QNetworkReply> chunked(manager.sendCustomRequest(QNetworkRequest(m_server->url(u"/late"_s)), "PATCH", &late));
    finish(chunked.get());
    QCOMPARE(chunked->readAll(), "from a pipe");
    QCOMPARE(m_server->requests.last().method, "PATCH");
    QCOMPARE(m_server->requests.last().headers.value("transfer-encoding"), "chunked");

    // An empty POST still says its length; a HEAD has no body to read.
    std::unique_ptr<QNetworkReply> empty(manager.sendCustomRequest(QNetworkRequest(m_server->url(u"/empty"_s)), "POST"));
    finish(empty.get());
    QCOMPARE(m_server->requests.last().headers.value("content-length"), "0");
    m_server->handler = [](const Request &, QTcpSocket *) {
        return QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
    };
    std::unique_ptr<QNetworkReply> head(manager.head(QNetworkRequest(m_server->url(u"/head"_s))));
    finish(head.get());
    QCOMPARE(head->error(), QNetworkReply::NoError);
    QCOMPARE(m_server->requests.last().method, "HEAD");
    QCOMPARE(head->readAll(), QByteArray());
}

void TestCurlNetworkAccess::readInPiecesOfAnySize()
{
    // Pieces of a size that never lines up with what curl hands over, as data arrives.
    QByteArray large;
    for (int i = 0; large.size() < 300'000; ++i)
        large += QByteArray::number(i) + ',';
    m_server->handler = [&large](const Request &, QTcpSocket *) { return answer(200, large); };
    CurlNetworkAccessManager manager;
    std::unique_ptr<QNetworkReply> reply(manager.get(QNetworkRequest(m_server->url(u"/large"_s))));
    QByteArray received;
    const auto readSome = [&] {
        while (reply->bytesAvailable() > 0) {
            const QByteArray piece = reply->read(std::min<qint64>(reply->bytesAvailable(), 1'000));
            QVERIFY(!piece.isEmpty());
            received += piece;
        }
    };
    connect(reply.get(), &QNetworkReply::readyRead, this, readSome);
    finish(reply.get());
    readSome();
    QCOMPARE(received.size(), large.size());
    QVERIFY(received == large);
    QCOMPARE(reply->bytesAvailable(), 0);
}

void TestCurlNetworkAccess::silenceEndsTheReply()
{
    // Pieces every 100 ms keep a 400 ms limit from striking; then the server goes quiet.
    m_server->handler = [](const Request &, QTcpSocket *socket) {
        for (int i = 1; i <= 6; ++i)
            QTimer::singleShot(100 * i, socket, [socket] { socket->write("2\r\nab\r\n"); });
        return QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    };
    CurlNetworkAccessManager manager;
    QNetworkRequest request(m_server->url(u"/stream"_s));
    request.setTransferTimeout(400);
    std::unique_ptr<QNetworkReply> reply(manager.get(request));
    QByteArray received;
    connect(reply.get(), &QNetworkReply::readyRead, this, [&] { received += reply->readAll(); });
    finish(reply.get());
    QCOMPARE(reply->error(), QNetworkReply::TimeoutError);
    QCOMPARE(received, "abababababab");
}

void TestCurlNetworkAccess::abortEndsOnce()
{
    m_server->handler = [](const Request &, QTcpSocket *) { return QByteArray(); };
    CurlNetworkAccessManager manager;
    std::unique_ptr<QNetworkReply> reply(manager.get(QNetworkRequest(m_server->url(u"/never"_s))));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    QTRY_COMPARE(m_server->requests.size(), 1);
    reply->abort();
    reply->abort();
    QCOMPARE(finished.size(), 1);
    QCOMPARE(reply->error(), QNetworkReply::OperationCanceledError);
    QTest::qWait(100);
    QCOMPARE(finished.size(), 1);
}

void TestCurlNetworkAccess::refusedConnection()
{
    QTcpServer closed;
    QVERIFY(closed.listen(QHostAddress::LocalHost, 0));
    const quint16 port = closed.serverPort();
    closed.close();
    CurlNetworkAccessManager manager;
    std::unique_ptr<QNetworkReply> reply(manager.get(QNetworkRequest(QUrl(u"http://127.0.0.1:%1/"_s.arg(port)))));
    finish(reply.get());
    QCOMPARE(reply->error(), QNetworkReply::ConnectionRefusedError);
    QCOMPARE(reply->errorString(), u"Connection refused"_s);
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute), QVariant());
}

QTEST_GUILESS_MAIN(TestCurlNetworkAccess)
#include "tst_curlnetworkaccess.moc"
