#include "portrelayjob_p.h"

#include "sandboxendpoints_p.h"

#include <QSslSocket>
#include <QTcpSocket>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

constexpr qint64 Chunk = 256 * 1024;
/// An HTTP head larger than this is not a request any service expects.
constexpr qsizetype MaxHeadBytes = 64 * 1024;

/// Headers the relay sets itself: the endpoint's host, and one request per connection.
bool replacedHeader(QByteArrayView name)
{
    return name.compare("host", Qt::CaseInsensitive) == 0 || name.compare("connection", Qt::CaseInsensitive) == 0;
}

} // namespace

PortRelayJob::PortRelayJob(OpenSandboxClient &client, SandboxEndpoints &endpoints, QString sandboxId, quint16 port,
                           QIODevice *request)
    : m_client(client)
    , m_endpoints(&endpoints)
    , m_sandboxId(std::move(sandboxId))
    , m_port(port)
    , m_request(request)
{
    m_request->setParent(this);
}

PortRelayJob::~PortRelayJob()
{
    if (m_ticket && m_endpoints)
        m_endpoints->cancel(m_ticket);
}

void PortRelayJob::doStart()
{
    m_ticket = m_endpoints->resolve(
        m_sandboxId,
        [this](const std::optional<JobError> &error, const OpenSandboxEndpoint &endpoint) {
            m_ticket = 0;
            if (error)
                return end(error);
            resolved(endpoint);
        },
        m_port);
}

JobError PortRelayJob::relayError(const QString &code, const QString &message, JobError::Kind kind) const
{
    return {kind, code, message, {{u"id"_s, m_sandboxId}, {u"port"_s, m_port}, {u"endpoint"_s, m_endpoint.endpoint}}};
}

void PortRelayJob::resolved(const OpenSandboxEndpoint &endpoint)
{
    m_endpoint = endpoint;
    m_url = endpoint.url(m_client.config().effectiveProtocol());
    const bool tls = m_url.scheme() == u"https"_s;
    m_socket = tls ? new QSslSocket(this) : new QTcpSocket(this);
    connect(m_socket, &QTcpSocket::errorOccurred, this, &PortRelayJob::socketError);
    connect(m_socket, &QTcpSocket::bytesWritten, this, &PortRelayJob::pump);
    connect(m_socket, &QTcpSocket::readyRead, this, [this] {
        m_answered = true;
        emit data(m_socket->readAll());
    });
    connect(m_socket, &QTcpSocket::disconnected, this, [this] {
        if (const QByteArray rest = m_socket->readAll(); !rest.isEmpty())
            emit data(rest);
        end(std::nullopt);
    });
    connect(m_request, &QIODevice::readyRead, this, &PortRelayJob::pump);
    const quint16 port = quint16(m_url.port(tls ? 443 : 80));
    if (tls) {
        auto *ssl = static_cast<QSslSocket *>(m_socket);
        connect(ssl, &QSslSocket::encrypted, this, &PortRelayJob::pump);
        ssl->connectToHostEncrypted(m_url.host(), port);
    } else {
        connect(m_socket, &QTcpSocket::connected, this, &PortRelayJob::pump);
        m_socket->connectToHost(m_url.host(), port);
    }
}

bool PortRelayJob::rewriteHead()
{
    const qsizetype headEnd = m_head.indexOf("\r\n\r\n");
    const qsizetype lineEnd = m_head.indexOf("\r\n");
    const QList<QByteArray> requestLine = m_head.first(lineEnd).split(' ');
    if (requestLine.size() != 3 || !requestLine[1].startsWith('/') || !requestLine[2].startsWith("HTTP/1.")) {
        end(relayError(u"RELAY_FAILED"_s, u"the request to relay is not an HTTP/1 request"_s, JobError::Kind::Invalid));
        return false;
    }
    QByteArray head = requestLine[0] + ' ' + m_url.path(QUrl::FullyEncoded).toUtf8() + requestLine[1] + ' '
                      + requestLine[2] + "\r\n";
    // Without headers, the head's end is the request line's.
    const QByteArray headers = headEnd > lineEnd ? m_head.sliced(lineEnd + 2, headEnd - lineEnd - 2) : QByteArray();
    for (const QByteArray &line : headers.split('\n')) {
        const QByteArray header = line.trimmed();
        const qsizetype colon = header.indexOf(':');
        if (colon > 0 && !replacedHeader(QByteArrayView(header).first(colon).trimmed()))
            head += header + "\r\n";
    }
    head += "Host: " + m_url.authority(QUrl::FullyEncoded).toUtf8() + "\r\nConnection: close\r\n";
    // What every request to an endpoint carries, as the client's own calls do.
    if (!m_client.config().apiKey.isEmpty())
        head += "OPEN-SANDBOX-API-KEY: " + m_client.config().apiKey.toUtf8() + "\r\n";
    for (const auto &[name, value] : m_endpoint.headers)
        head += name + ": " + value + "\r\n";
    head += "\r\n";
    const QByteArray body = m_head.sliced(headEnd + 4);
    m_head = head + body;
    return true;
}

void PortRelayJob::pump()
{
    if (!m_socket || m_requestEnded || isFinished())
        return;
    const bool connected = m_socket->state() == QAbstractSocket::ConnectedState
                           && (!qobject_cast<QSslSocket *>(m_socket) || static_cast<QSslSocket *>(m_socket)->isEncrypted());
    if (!connected)
        return;
    while (m_socket->bytesToWrite() < Chunk) {
        const QByteArray chunk = m_request->read(Chunk);
        if (chunk.isEmpty()) {
            if (!m_request->atEnd())
                return;   // a sequential request may have nothing yet
            if (!m_headSent) {
                end(relayError(u"RELAY_FAILED"_s, u"the request to relay ended inside its head"_s, JobError::Kind::Invalid));
                return;
            }
            m_requestEnded = true;
            return;
        }
        if (m_headSent) {
            m_socket->write(chunk);
            continue;
        }
        m_head += chunk;
        if (!m_head.contains("\r\n\r\n")) {
            if (m_head.size() > MaxHeadBytes)
                return end(relayError(u"RELAY_FAILED"_s, u"the request to relay has a head over 64 KiB"_s,
                                      JobError::Kind::Invalid));
            continue;
        }
        if (!rewriteHead())
            return;
        m_headSent = true;
        m_socket->write(std::exchange(m_head, {}));
    }
}

void PortRelayJob::socketError()
{
    if (m_socket->error() == QAbstractSocket::RemoteHostClosedError)
        return;   // the end of the answer: `disconnected` follows
    if (m_socket->error() == QAbstractSocket::ConnectionRefusedError && !m_answered)
        return end(relayError(u"PORT_UNREACHABLE"_s, u"nothing accepts connections for port %1 of sandbox %2 at %3"_s
                                                         .arg(m_port)
                                                         .arg(m_sandboxId, m_endpoint.endpoint)));
    // The sandbox may have moved: the next relay asks for its endpoints again.
    if (!m_answered && m_endpoints)
        m_endpoints->forget(m_sandboxId);
    end(relayError(u"RELAY_FAILED"_s, u"relaying to port %1 of sandbox %2 failed: %3"_s.arg(m_port).arg(
                                          m_sandboxId, m_socket->errorString())));
}

void PortRelayJob::end(std::optional<JobError> error)
{
    if (isFinished())
        return;
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
    finish(std::move(error));
}

void PortRelayJob::doCancel()
{
    if (m_ticket && m_endpoints)
        m_endpoints->cancel(std::exchange(m_ticket, 0));
    end(cancelledError());
}

} // namespace Sandflow::Internal
