#include "httpcall_p.h"

#include "curlreply_p.h"
#include "httperror_p.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// REST answers are small JSON documents; a larger one is refused as it arrives.
constexpr qsizetype MaxBodyBytes = 64 * 1024 * 1024;

} // namespace

bool brokeOff(const QNetworkReply *reply, bool timedOut)
{
    // HTTP error statuses come as errors too (ContentNotFoundError for 404); those are
    // answers. Any other error, even after the status line, broke the answer off.
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    return timedOut || status == 0 || reply->error() != errorForHttpStatus(status);
}

HttpCall::HttpCall(Transport &transport, RequestSpec spec, QObject *parent)
    : QObject(parent)
    , m_transport(transport)
    , m_spec(std::move(spec))
{
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        m_timedOut = true;
        if (m_reply)
            m_reply->abort();
    });
    m_nextAttempt.setSingleShot(true);
    connect(&m_nextAttempt, &QTimer::timeout, this, &HttpCall::send);
}

HttpCall::~HttpCall()
{
    abort();
}

void HttpCall::start(Done done)
{
    m_done = std::move(done);
    // One id for every attempt: the server logs the retries of a call under the id that
    // the error reports.
    if (m_requestId.isEmpty())
        m_requestId = Transport::newRequestId();
    m_attempts = 0;
    send();
}

void HttpCall::send()
{
    ++m_attempts;
    m_timedOut = false;
    m_tooLarge = false;
    m_reply = m_transport.send(m_transport.networkRequest(m_spec, m_requestId), m_spec);
    connect(m_reply, &QNetworkReply::readyRead, this, &HttpCall::received);
    connect(m_reply, &QNetworkReply::finished, this, &HttpCall::finished);
    // The SDKs bound a whole call, not just silences: a server stuck in a create is
    // reported instead of waited for.
    m_deadline.start(attemptTimeout());
}

std::chrono::milliseconds HttpCall::attemptTimeout() const
{
    return m_attemptTimeout.value_or(m_transport.config().requestTimeout);
}

void HttpCall::abort()
{
    m_done = nullptr;
    m_deadline.stop();
    m_nextAttempt.stop();
    if (QNetworkReply *reply = m_reply) {
        m_reply = nullptr;
        reply->disconnect(this);
        reply->abort();
        reply->deleteLater();
    }
}

void HttpCall::received()
{
    if (m_reply && m_reply->bytesAvailable() > MaxBodyBytes) {
        m_tooLarge = true;
        m_reply->abort();
    }
}

void HttpCall::finished()
{
    m_deadline.stop();
    QNetworkReply *reply = m_reply;
    m_reply = nullptr;
    if (!reply)
        return;
    reply->deleteLater();
    HttpResult result = read(reply);
    if (result.error && result.status == 404 && m_attempts > 1 && m_spec.notFoundWhenRepeatedIsDone) {
        // An earlier attempt removed it; only its answer was lost.
        result.error.reset();
        result.body.clear();
    }
    if (result.error && sendsAgain(result))
        return m_nextAttempt.start(retryDelay(m_transport.config().retry, m_attempts, result.retryAfter));
    if (result.error && m_retries == Retries::ByPolicy) {
        if (result.failure != Failure::Final && !m_spec.isIdempotent())
            noteNotRetried(*result.error, m_spec);
        noteAttempts(*result.error, m_attempts);
    }
    if (Done done = std::exchange(m_done, nullptr))
        done(result);
}

HttpResult HttpCall::read(QNetworkReply *reply) const
{
    HttpResult result;
    result.requestId = m_requestId;
    result.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (m_tooLarge) {
        result.error = unexpectedResponse(m_spec, m_requestId, result.status,
                                          u"the answer is larger than %1 MiB"_s.arg(MaxBodyBytes >> 20));
        return result;
    }
    if (brokeOff(reply, m_timedOut)) {
        result.error = transportError(m_spec, m_requestId, reply->error(), reply->errorString(), m_timedOut,
                                      attemptTimeout());
        result.failure = classifyFailure(0, reply->error(), m_timedOut);
        return result;
    }
    // Asked for by its size: QIODevice::read(max) sets aside `max` bytes before reading.
    result.body = reply->read(std::min<qint64>(reply->bytesAvailable(), MaxBodyBytes));
    result.headers = reply->rawHeaderPairs();
    if (result.status < 200 || result.status > 299) {
        result.error = statusError(m_spec, m_requestId, result.status, result.body,
                                   reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray());
        result.failure = classifyFailure(result.status, reply->error(), false);
        result.retryAfter = retryAfter(reply->rawHeader("Retry-After"), QDateTime::currentDateTimeUtc());
    }
    return result;
}

bool HttpCall::sendsAgain(const HttpResult &result) const
{
    return m_retries == Retries::ByPolicy && m_spec.isIdempotent() && result.failure != Failure::Final
           && m_attempts < m_transport.config().retry.maxAttempts;
}

HttpCall *nextStep(HttpCall *&step, Transport &transport, RequestSpec spec, QObject *parent)
{
    if (step) {
        step->abort();
        step->deleteLater();
    }
    step = new HttpCall(transport, std::move(spec), parent);
    return step;
}

namespace {

/// The body as a JSON document of the shape asked for; std::nullopt (and `problem`) when it
/// is not JSON, or JSON of another shape.
std::optional<QJsonDocument> jsonDocumentBody(const QByteArray &body, bool array, QString *problem)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError) {
        *problem = u"the body is not JSON (%1): %2"_s.arg(error.errorString(), shortened(QString::fromUtf8(body), 80));
        return std::nullopt;
    }
    if (document.isArray() != array) {
        *problem = array ? u"the body is not a JSON array"_s : u"the body is not a JSON object"_s;
        return std::nullopt;
    }
    return document;
}

} // namespace

std::optional<QJsonObject> jsonObjectBody(const QByteArray &body, QString *problem)
{
    const std::optional<QJsonDocument> document = jsonDocumentBody(body, false, problem);
    return document ? std::optional(document->object()) : std::nullopt;
}

std::optional<QJsonArray> jsonArrayBody(const QByteArray &body, QString *problem)
{
    const std::optional<QJsonDocument> document = jsonDocumentBody(body, true, problem);
    return document ? std::optional(document->array()) : std::nullopt;
}

} // namespace Sandflow::Internal
