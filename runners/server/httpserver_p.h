// The HTTP layer of `sandflow serve`: QAbstractHttpServer parses requests, HttpConnection
// and HttpExchange write the responses. Kept thin and private: the parser's API changed in
// Qt 6.5, and only this file pair knows it. WebSocket handshakes are checked here, then
// upgraded by Qt's WebSocket server.
#pragma once

#include "httpconnection_p.h"

#include <QAbstractHttpServer>
#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>

#include <functional>
#include <optional>

class QWebSocket;

namespace Sandflow::Internal {

class HttpServer final : public QAbstractHttpServer
{
public:
    /// A WebSocket the check let through, with the request that opened it; the callee owns it.
    using WebSocketAccepted = std::function<void(QWebSocket *, const HttpRequest &)>;

    HttpServer(const HttpLimits &limits, HttpConnection::Dispatch dispatch, QObject *parent = nullptr);

    /// Starts listening; port 0 picks a free one. On failure returns false with `error` set.
    bool start(const QHostAddress &address, quint16 port, QString *error);
    quint16 port() const { return m_port; }
    /// Takes WebSocket handshakes: each is checked (as its head arrives, before Qt parses
    /// it), then upgraded and handed to `accepted`. Call before start().
    void acceptWebSockets(UpgradeCheck check, WebSocketAccepted accepted);

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    struct PendingUpgrade
    {
        HttpRequest request;
        qint64 checkedAtMs = 0;
    };
    bool acceptUpgrade(HttpRequest request, QTcpSocket *socket, HttpConnection *connection);
    void takeWebSockets();

    HttpLimits m_limits;
    HttpConnection::Dispatch m_dispatch;
    quint16 m_port = 0;
    UpgradeCheck m_upgradeCheck;
    WebSocketAccepted m_webSocketAccepted;
    /// Handshakes let through, by the client's address and port, until Qt hands over their
    /// WebSocket: nothing else ties the two together.
    QHash<QString, PendingUpgrade> m_pendingUpgrades;
    QElapsedTimer m_clock;
};

} // namespace Sandflow::Internal
