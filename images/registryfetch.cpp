#include "registryfetch_p.h"

#include <QTimer>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

// Registries redirect a blob once, to its storage; a chain longer than this is a loop.
constexpr int MaxRedirects = 5;
// A challenge answered twice and met again is a refusal, whatever the server says.
constexpr int MaxChallenges = 2;
// An error body says what went wrong in a sentence or two.
constexpr qsizetype MaxErrorBodyBytes = 16 * 1024;

int statusOf(const QNetworkReply *reply)
{
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

bool isRedirect(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

} // namespace

RegistryFetch::RegistryFetch(RegistrySession *session, const QString &path, QByteArray accept, QObject *parent)
    : QObject(parent)
    , m_session(session)
    , m_accept(std::move(accept))
    , m_url(session->url(path))
{
    send();
}

RegistryFetch::~RegistryFetch()
{
    abort();
}

QString RegistryFetch::contentType() const
{
    return m_contentType;
}

void RegistryFetch::send()
{
    QNetworkRequest request(m_url);
    request.setTransferTimeout(m_session->silenceLimitMs());
    if (!m_accept.isEmpty())
        request.setRawHeader("Accept", m_accept);
    m_sentAuthorization = m_session->authorizationFor(m_url);
    if (!m_sentAuthorization.isEmpty())
        request.setRawHeader("Authorization", m_sentAuthorization);
    m_errorBody.clear();
    m_reply = m_session->network()->get(request);
    m_reply->setParent(this);
    connect(m_reply, &QNetworkReply::readyRead, this, &RegistryFetch::readBody);
    connect(m_reply, &QNetworkReply::finished, this, &RegistryFetch::replied);
}

void RegistryFetch::readBody()
{
    const int status = statusOf(m_reply);
    if (status >= 200 && status < 300) {
        m_contentType = QString::fromLatin1(m_reply->rawHeader("Content-Type"));
        m_contentDigest = QString::fromLatin1(m_reply->rawHeader("Docker-Content-Digest"));
        // Drained as it comes: the reply keeps nothing the blob store has not taken.
        while (m_reply && m_reply->bytesAvailable() > 0) {
            const QPointer<RegistryFetch> alive(this);
            const QByteArray piece = m_reply->read(256 * 1024);
            emit data(piece);
            if (!alive || m_ended)
                return;
        }
        return;
    }
    m_errorBody += m_reply->read(std::max<qint64>(0, MaxErrorBodyBytes - m_errorBody.size()));
    m_reply->readAll();
}

void RegistryFetch::replied()
{
    if (m_ended)
        return;
    readBody();
    if (m_ended)
        return;
    const int status = statusOf(m_reply);
    QNetworkReply *reply = std::exchange(m_reply, nullptr);
    reply->deleteLater();
    if (status >= 200 && status < 300 && reply->error() == QNetworkReply::NoError) {
        m_ended = true;
        emit done(std::nullopt);
        return;
    }
    // Never answered, or cut off in the middle of a 2xx body.
    if (status == 0 || (status >= 200 && status < 300))
        return fail(registryErrorFor(m_url, 0, reply->errorString(), {}));
    if (isRedirect(status)) {
        const QUrl location = m_url.resolved(QUrl::fromEncoded(reply->rawHeader("Location")));
        if (++m_redirects > MaxRedirects || !location.isValid()
            || (location.scheme() != u"https"_s && location.scheme() != u"http"_s)) {
            return fail({RegistryError::Reason::Unexpected,
                         u"%1 redirects too often or to no http(s) URL"_s.arg(m_url.toString(QUrl::RemoveQuery))});
        }
        m_url = location;
        return send();
    }
    if (status == 401 && m_session && ++m_challenges <= MaxChallenges) {
        m_session->authenticate(reply->rawHeader("WWW-Authenticate"), m_sentAuthorization, this,
                                [this](const std::optional<RegistryError> &error) {
                                    if (m_ended)
                                        return;
                                    if (error)
                                        return fail(*error);
                                    send();
                                });
        return;
    }
    RegistryError error = registryErrorFor(m_url, status, reply->errorString(), m_errorBody);
    if (error.reason == RegistryError::Reason::AuthRequired && m_session && m_session->hasCredentials())
        error.reason = RegistryError::Reason::AuthFailed;
    fail(error);
}

void RegistryFetch::fail(RegistryError error)
{
    if (m_ended)
        return;
    abort();
    emit done(error);
}

void RegistryFetch::abort()
{
    m_ended = true;
    if (QNetworkReply *reply = std::exchange(m_reply, nullptr)) {
        reply->disconnect(this);
        reply->abort();
        reply->deleteLater();
    }
}

} // namespace Sandflow::Internal
