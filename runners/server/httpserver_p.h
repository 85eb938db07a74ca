// The HTTP layer of `sandflow serve`: QAbstractHttpServer parses requests, HttpConnection
// and HttpExchange write the responses. Kept thin and private: the parser's API changed in
// Qt 6.5, and only this file pair knows it.
#pragma once

#include "httpconnection_p.h"

#include <QAbstractHttpServer>
#include <QHostAddress>

namespace Sandflow::Internal {

class HttpServer final : public QAbstractHttpServer
{
public:
    HttpServer(const HttpLimits &limits, HttpConnection::Dispatch dispatch, QObject *parent = nullptr);

    /// Starts listening; port 0 picks a free one. On failure returns false with `error` set.
    bool start(const QHostAddress &address, quint16 port, QString *error);
    quint16 port() const { return m_port; }

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    HttpLimits m_limits;
    HttpConnection::Dispatch m_dispatch;
    quint16 m_port = 0;
};

} // namespace Sandflow::Internal
