// Feeds arbitrary bytes, as one client connection would send them, to serve's HTTP layer:
// the connection's own checks (head size, framing that two parsers could read differently,
// WebSocket handshakes, pipelining) in front of Qt's request parser, over a real loopback
// socket. Whatever a client sends, the server must not crash, leak or hang; what it sends
// back is HTTP responses; and no request whose framing could be read two ways reaches a
// handler. The first input byte says where the bytes are cut as they are sent.
#include "fuzzrequire.h"
#include "httpframing_p.h"
#include "httpserver_p.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QTcpSocket>
#include <QTimer>
#include <QWebSocket>

#include <cstddef>
#include <cstdint>
#include <memory>

#include <sys/socket.h>

namespace {

using namespace Sandflow::Internal;

// Small limits, so that inputs of a few kilobytes reach them.
HttpLimits fuzzLimits()
{
    HttpLimits limits;
    limits.maxBodyBytes = 4096;
    limits.maxHeaderBytes = 2048;
    limits.maxQueuedRequests = 4;
    limits.idleTimeoutMs = 60'000;
    return limits;
}

struct Harness
{
    int argc = 1;
    char name[16] = "fuzz_http";
    char *argv[2] = {name, nullptr};
    QCoreApplication application{argc, argv};
    std::unique_ptr<HttpServer> server;

    Harness()
    {
        server = std::make_unique<HttpServer>(fuzzLimits(), [](HttpExchange *exchange) {
            // A request whose framing is in doubt must have been refused before this.
            require(!framingProblem(exchange->request().headers));
            exchange->respond(200, "text/plain", exchange->request().method + ' ' + exchange->request().body);
        });
        // As serve does: handshakes checked as their head arrives, one path let through, and
        // what comes through closed at once. Without a taker, Qt would hold every upgraded
        // socket for ever.
        server->acceptWebSockets(
            [](const HttpRequest &request) -> std::optional<HttpRefusal> {
                if (request.path == QLatin1StringView("/ws"))
                    return std::nullopt;
                return HttpRefusal{400, QStringLiteral("GENERAL::UNSUPPORTED"), "no WebSocket here"};
            },
            [](QWebSocket *socket, const HttpRequest &) {
                socket->close();
                socket->deleteLater();
            });
        QString error;
        require(server->start(QHostAddress::LocalHost, 0, &error));
    }
};

Harness &harness()
{
    static Harness instance;
    return instance;
}

/// Sends `bytes` and runs the event loop (the server lives in this thread) until the server
/// closes the connection or, unless `last`, stays quiet for a moment; returns what it sent
/// back. The last piece ends the client's side of the connection, as a client that is done
/// sending does, so that the server answers what it has and closes.
QByteArray exchange(QTcpSocket &socket, QByteArrayView bytes, bool last)
{
    QEventLoop loop;
    QTimer quiet;
    quiet.setSingleShot(true);
    quiet.setInterval(3);
    QObject::connect(&socket, &QTcpSocket::disconnected, &loop, &QEventLoop::quit);
    if (!last) {
        QObject::connect(&quiet, &QTimer::timeout, &loop, &QEventLoop::quit);
        QObject::connect(&socket, &QTcpSocket::readyRead, &quiet, qOverload<>(&QTimer::start));
    }
    QTimer::singleShot(2000, &loop, &QEventLoop::quit);   // a server that does not close
    if (socket.state() != QAbstractSocket::ConnectedState)
        return socket.readAll();
    socket.write(bytes.data(), bytes.size());
    if (last) {
        socket.waitForBytesWritten(1000);
        ::shutdown(int(socket.socketDescriptor()), SHUT_WR);
    } else {
        quiet.start();
    }
    loop.exec();
    return socket.readAll();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Harness &h = harness();
    if (size == 0)
        return 0;
    const QByteArray input(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    const qsizetype cut = input.isEmpty() ? 0 : data[0] % (input.size() + 1);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, h.server->port());
    require(socket.waitForConnected(2000));
    QByteArray answer = exchange(socket, QByteArrayView(input).first(cut), false);
    answer += exchange(socket, QByteArrayView(input).sliced(cut), true);
    socket.abort();
    // Lets the server see the client go and free the connection before the next input.
    QCoreApplication::processEvents();
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    require(answer.isEmpty() || answer.startsWith("HTTP/1.1 "));
    return 0;
}
