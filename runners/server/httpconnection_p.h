// One client connection of the HTTP layer: it answers requests strictly in order, closes
// the connection when it sits idle, refuses bodies over the size limit before they are
// buffered and WebSocket handshakes before the parser takes them (unless the server takes
// WebSockets), and is the only place that writes to the socket until a WebSocket takes it
// over, so that nothing is written to a socket whose client has gone.
#pragma once

#include "httpexchange_p.h"

#include <QPointer>
#include <QTimer>

#include <functional>
#include <optional>

class QTcpSocket;

namespace Sandflow::Internal {

struct HttpLimits
{
    qint64 maxBodyBytes = 1024LL * 1024 * 1024;   ///< the parser holds a whole body in memory
    int idleTimeoutMs = 60'000;                   ///< with no request in progress
    int maxHeaderBytes = 64 * 1024;
    /// Requests a client may send ahead of their answers (pipelining) before it is cut off.
    int maxQueuedRequests = 32;
};

/// Why a WebSocket handshake is refused: answered as `status` with `{code, message}`.
struct HttpRefusal
{
    int status = 400;
    QString code;
    QByteArray message;
};

/// Decides on a WebSocket handshake from its head, before Qt upgrades it: std::nullopt lets
/// it go on.
using UpgradeCheck = std::function<std::optional<HttpRefusal>(const HttpRequest &)>;

class HttpConnection final : public QObject
{
    Q_OBJECT

public:
    using Dispatch = std::function<void(HttpExchange *)>;

    /// Lives as long as `socket` (its parent). Must see the socket's data before the parser
    /// does, so it is made before the socket is handed to QAbstractHttpServer.
    /// `upgradeCheck` decides on WebSocket handshakes; without one they are refused.
    HttpConnection(QTcpSocket *socket, const HttpLimits &limits, Dispatch dispatch, UpgradeCheck upgradeCheck = {});

    static HttpConnection *of(QTcpSocket *socket);

    /// A parsed request: answered after the ones before it on this connection.
    void enqueue(HttpExchange *exchange);
    /// Answers `status` with `{code, message}` and closes the connection, serving nothing
    /// more of it (at once, if an answer is under way).
    void refuse(int status, const QString &code, const QByteArray &message);
    /// Whether the request being parsed is a WebSocket handshake the check let through.
    bool upgradeAccepted() const { return m_upgradeAccepted; }
    /// The socket is a WebSocket's from now on: this stops serving it, and goes.
    void handOver();

    // For HttpExchange.
    void write(QByteArrayView bytes);
    qint64 unsentBytes() const;
    void exchangeDone(HttpExchange *exchange, bool closeConnection);

private:
    void countIncoming();
    void decideHandshake(const QByteArray &head, bool connectionUpgrade);
    void dispatchNext();
    void clientLeft();
    void updateIdleTimer();

    QPointer<QTcpSocket> m_socket;
    HttpLimits m_limits;
    Dispatch m_dispatch;
    UpgradeCheck m_upgradeCheck;
    bool m_upgradeAccepted = false;
    QTimer m_idleTimer;
    QList<QPointer<HttpExchange>> m_queue;
    QPointer<HttpExchange> m_active;
    // The request being received: its head so far, and every byte of it. The parser reads all
    // that arrives, so each readyRead brings only new bytes, and a request ends when the
    // parser hands it over.
    QByteArray m_head;
    bool m_headComplete = false;
    qint64 m_requestBytes = 0;
    bool m_closing = false;
};

} // namespace Sandflow::Internal
