// `sandflow serve`: the OpenSandbox lifecycle API and, through its server-proxy route, the
// execd and egress APIs of every sandbox, over any Runner. Official OpenSandbox SDKs work against it
// unchanged (docs/serve.md lists where it differs from an upstream server, and why).
#pragma once

#include <QHostAddress>
#include <QObject>
#include <QString>

#include <memory>
#include <optional>

class QWebSocket;

namespace Sandflow {

class Runner;

namespace Internal {
struct ApiError;
class HttpExchange;
struct HttpRefusal;
struct HttpRequest;
class HttpServer;
class PtySessions;
}

class SandboxServer final : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        QHostAddress address = QHostAddress::LocalHost;
        quint16 port = 8080;             ///< 0: any free port
        /// Clients must send it as OPEN-SANDBOX-API-KEY; empty: no authentication.
        QString apiKey;
        /// Request bodies are held in memory whole (uploads included), so they are capped.
        qint64 maxBodyBytes = 1024LL * 1024 * 1024;
        /// A connection with no request in progress for this long is closed.
        int idleTimeoutMs = 60'000;
        /// The longest `timeout` a create may ask for; std::nullopt: no limit.
        std::optional<qint64> maxTimeoutSeconds;
    };

    /// Serves sandboxes of `runner`, which must outlive the server.
    SandboxServer(Runner *runner, Options options, QObject *parent = nullptr);
    ~SandboxServer() override;

    /// Starts listening. On failure returns false with `error` saying why.
    bool start(QString *error);
    /// The port it listens on, once started.
    quint16 port() const;

    /// Stops accepting requests and deletes every sandbox of the runner; `stopped` follows.
    void stop();

signals:
    void stopped();
    /// One line per request, for the server's log: method, path, status and duration.
    void requestServed(const QString &line);

private:
    void dispatch(Internal::HttpExchange *exchange);
    /// Whether the request may be served; else the answer to give (401, 403).
    std::optional<Internal::ApiError> accessRefusal(const Internal::HttpRequest &request) const;
    bool authorized(Internal::HttpExchange *exchange) const;
    /// A WebSocket handshake goes on only to a PTY session that is there and free.
    std::optional<Internal::HttpRefusal> checkWebSocket(const Internal::HttpRequest &request) const;
    void webSocketAccepted(QWebSocket *socket, const Internal::HttpRequest &request);

    Runner *m_runner;
    Options m_options;
    std::unique_ptr<Internal::HttpServer> m_http;
    std::unique_ptr<Internal::PtySessions> m_ptySessions;
    bool m_stopping = false;
};

} // namespace Sandflow
