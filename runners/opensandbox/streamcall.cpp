#include "streamcall_p.h"

#include "httperror_p.h"

#include <QHttpMultiPart>
#include <QNetworkReply>
#include <QTimer>

namespace Sandflow::Internal {

namespace {

/// An error is explained by a small JSON body; more is not kept.
constexpr qsizetype MaxErrorBodyBytes = 64 * 1024;
/// The most handed to the body callback at once; below glibc's threshold for mapping an
/// allocation afresh (128 KiB).
constexpr qint64 PieceBytes = 64 * 1024;

bool successful(int status)
{
    return status >= 200 && status <= 299;
}

} // namespace

StreamCall::StreamCall(Transport &transport, RequestSpec spec, QObject *parent)
    : QObject(parent)
    , m_transport(transport)
    , m_spec(std::move(spec))
{
}

StreamCall::~StreamCall()
{
    abort();
}

qint64 StreamCall::contentLength() const
{
    return m_contentLength;
}

void StreamCall::start(Body body, Done done, QHttpMultiPart *multipart)
{
    m_body = std::move(body);
    m_done = std::move(done);
    QNetworkRequest request = m_transport.networkRequest(m_spec);
    // No limit on the whole transfer, only on silence; execd pings command streams every 3 s.
    request.setTransferTimeout(int(m_transport.config().requestTimeout.count()));
    m_requestId = Transport::requestId(request);
    m_reply = m_transport.send(request, m_spec, multipart);
    if (multipart)
        multipart->setParent(m_reply);
    connect(m_reply, &QNetworkReply::readyRead, this, &StreamCall::received);
    connect(m_reply, &QNetworkReply::finished, this, &StreamCall::ended);
}

void StreamCall::abort()
{
    m_body = nullptr;
    m_done = nullptr;
    if (QNetworkReply *reply = m_reply) {
        m_reply = nullptr;
        reply->disconnect(this);
        // A finished answer has handed its connection back to the manager: aborting it
        // could close that connection under the request it serves next.
        if (!reply->isFinished())
            reply->abort();
        reply->deleteLater();
    }
}

void StreamCall::letEnd()
{
    m_body = nullptr;
    m_done = nullptr;
    QNetworkReply *reply = std::exchange(m_reply, nullptr);
    if (!reply)
        return;
    reply->disconnect(this);
    if (reply->isFinished())
        return reply->deleteLater();
    // The reply lives on by itself (its manager owns it); the rest is read and dropped.
    connect(reply, &QNetworkReply::readyRead, reply, [reply] { reply->skip(reply->bytesAvailable()); });
    connect(reply, &QNetworkReply::finished, reply, &QObject::deleteLater);
    // execd's grace is a second or so; a server that streams on (pings, say) never lets the
    // answer end, and would keep its connection and this reply for ever. After the request
    // timeout the connection is given up instead.
    QTimer::singleShot(m_transport.config().requestTimeout, reply, [reply] { reply->abort(); });
}

void StreamCall::received()
{
    if (!m_reply)
        return;
    if (m_status == 0) {
        m_status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QVariant length = m_reply->header(QNetworkRequest::ContentLengthHeader);
        m_contentLength = length.isValid() ? length.toLongLong() : -1;
    }
    // In pieces small enough for malloc to serve from memory it reuses: larger buffers are
    // newly mapped pages, and faulting them in cost more than the copying itself. A reply
    // that was aborted is closed; nothing is left to read.
    while (m_reply && m_reply->isOpen() && m_reply->bytesAvailable() > 0) {
        const QByteArray bytes = m_reply->read(std::min<qint64>(m_reply->bytesAvailable(), PieceBytes));
        if (!successful(m_status))
            m_errorBody += bytes.left(MaxErrorBodyBytes - m_errorBody.size());
        // A copy: the callback may abort the call, which drops m_body and m_reply.
        else if (const Body body = m_body)
            body(bytes);
    }
}

void StreamCall::ended()
{
    received();
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;   // a body callback aborted the call
    HttpResult result;
    result.status = m_status;
    result.requestId = m_requestId;
    // The reply ends with TimeoutError a call that stayed silent past its transfer timeout;
    // an abort is this call's own and disconnects first.
    const QNetworkReply::NetworkError error = reply->error();
    const bool timedOut = error == QNetworkReply::TimeoutError;
    if (brokeOff(reply, timedOut)) {
        result.error = transportError(m_spec, m_requestId, error, reply->errorString(), timedOut,
                                      m_transport.config().requestTimeout);
        // The limit is on silence, not on the whole transfer: a stream that says nothing for
        // that long has a dead connection, the infrastructure's failure (which `retry: {on:
        // [infra]}` retries), not a time limit that ran out.
        if (timedOut)
            result.error->kind = JobError::Kind::Infra;
        result.failure = classifyFailure(0, error, timedOut);
    } else if (!successful(m_status)) {
        result.body = m_errorBody;
        result.error = statusError(m_spec, m_requestId, m_status, m_errorBody,
                                   reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray());
        result.failure = classifyFailure(m_status, error, false);
    }
    // A stream is never sent again (its body may already have been used), but people
    // should not have to guess whether a command ran twice.
    if (result.error && result.failure != Failure::Final && !m_spec.isIdempotent())
        noteNotRetried(*result.error, m_spec);
    Done done = std::exchange(m_done, nullptr);
    abort();
    if (done)
        done(result);
}

} // namespace Sandflow::Internal
