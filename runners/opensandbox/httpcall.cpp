#include "httpcall_p.h"

#include "httperror_p.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// REST answers are small JSON documents; anything past this is not read.
constexpr qsizetype MaxBodyBytes = 64 * 1024 * 1024;

} // namespace

bool brokeOff(const QNetworkReply *reply, bool timedOut)
{
    // Qt reports HTTP error statuses as errors too (201 and up); those are answers.
    const int error = reply->error();
    return timedOut || reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 0
           || (error > 0 && error < 200);
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
}

HttpCall::~HttpCall()
{
    abort();
}

void HttpCall::start(Done done)
{
    m_done = std::move(done);
    const QNetworkRequest request = m_transport.networkRequest(m_spec);
    m_requestId = Transport::requestId(request);
    QNetworkAccessManager *manager = m_transport.restManager();
    m_reply = m_spec.body.isEmpty() && m_spec.method != "POST"
                  ? manager->sendCustomRequest(request, m_spec.method)
                  : manager->sendCustomRequest(request, m_spec.method, m_spec.body);
    connect(m_reply, &QNetworkReply::finished, this, &HttpCall::finished);
    // The SDKs bound a whole call, not just silences: a server stuck in a create is
    // reported instead of waited for.
    m_deadline.start(m_transport.config().requestTimeout);
}

void HttpCall::abort()
{
    m_done = nullptr;
    m_deadline.stop();
    if (QNetworkReply *reply = m_reply) {
        m_reply = nullptr;
        reply->disconnect(this);
        reply->abort();
        reply->deleteLater();
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
    HttpResult result;
    result.requestId = m_requestId;
    result.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (brokeOff(reply, m_timedOut)) {
        result.error = transportError(m_spec, m_requestId, reply->error(), reply->errorString(), m_timedOut,
                                      m_transport.config().requestTimeout);
    } else {
        result.body = reply->read(MaxBodyBytes);
        result.headers = reply->rawHeaderPairs();
        if (result.status < 200 || result.status > 299)
            result.error = statusError(m_spec, m_requestId, result.status, result.body,
                                       reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray());
    }
    if (Done done = std::exchange(m_done, nullptr))
        done(result);
}

std::optional<QJsonObject> jsonObjectBody(const QByteArray &body, QString *problem)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError) {
        *problem = u"the body is not JSON (%1): %2"_s.arg(error.errorString(), shortened(QString::fromUtf8(body), 80));
        return std::nullopt;
    }
    if (!document.isObject()) {
        *problem = u"the body is not a JSON object"_s;
        return std::nullopt;
    }
    return document.object();
}

} // namespace Sandflow::Internal
