#include "registrysession_p.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>
#include <QTimer>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

// A token answer is a few kilobytes; more is a server's flood.
constexpr qint64 MaxTokenBytes = 1 << 20;

QByteArray basicAuthorization(const RegistryCredentials &credentials)
{
    return "Basic " + (credentials.username + u':' + credentials.password).toUtf8().toBase64();
}

/// The distribution spec's error body: {"errors": [{"code": ..., "message": ...}]}.
QString registrySays(const QByteArray &body)
{
    const QJsonObject first = QJsonDocument::fromJson(body).object().value(u"errors"_s).toArray().at(0).toObject();
    const QString code = first.value(u"code"_s).toString();
    const QString message = first.value(u"message"_s).toString();
    if (code.isEmpty() && message.isEmpty())
        return {};
    return u" (%1: %2)"_s.arg(code.left(80), message.left(200));
}

bool sameServer(const QUrl &a, const QUrl &b)
{
    // "https://host" and "https://host:443" are one server.
    const auto port = [](const QUrl &url) { return url.port(url.scheme() == u"https"_s ? 443 : 80); };
    return a.scheme() == b.scheme() && a.host() == b.host() && port(a) == port(b);
}

} // namespace

QUrl registryApiBase(const ImageReference &reference, const QStringList &insecure)
{
    const bool plain = reference.isLoopbackRegistry() || insecure.contains(reference.registry);
    return QUrl((plain ? u"http://"_s : u"https://"_s) + reference.apiHost());
}

RegistryError registryErrorFor(const QUrl &url, int status, const QString &networkError, const QByteArray &body)
{
    const QString where = url.toString(QUrl::RemoveUserInfo | QUrl::RemoveQuery);
    if (status == 0)
        return {RegistryError::Reason::Unreachable, u"cannot reach %1: %2"_s.arg(where, networkError)};
    const QString answer = u"%1 answered HTTP %2%3"_s.arg(where).arg(status).arg(registrySays(body));
    if (status == 404)
        return {RegistryError::Reason::NotFound, answer};
    if (status == 401)
        return {RegistryError::Reason::AuthRequired, answer};
    if (status == 403)
        return {RegistryError::Reason::AuthFailed, answer};
    if (status >= 500 || status == 429)
        return {RegistryError::Reason::ServerError, answer};
    return {RegistryError::Reason::Unexpected, answer};
}

RegistrySession::RegistrySession(QNetworkAccessManager *network, QUrl base, QString repository,
                                 std::optional<RegistryCredentials> credentials, QObject *parent)
    : QObject(parent)
    , m_network(network)
    , m_base(std::move(base))
    , m_repository(std::move(repository))
    , m_credentials(std::move(credentials))
{
}

QUrl RegistrySession::url(const QString &path) const
{
    QUrl url = m_base;
    QString basePath = url.path();
    if (basePath.endsWith(u'/'))
        basePath.chop(1);
    url.setPath(basePath + u"/v2/"_s + m_repository + u'/' + path);
    return url;
}

QByteArray RegistrySession::authorizationFor(const QUrl &url) const
{
    return sameServer(url, m_base) ? m_authorization : QByteArray();
}

void RegistrySession::authenticate(const QByteArray &challenge, const QByteArray &sent, QObject *context, AuthDone done)
{
    const auto later = [context = QPointer<QObject>(context), done](std::optional<RegistryError> error) {
        if (context)
            QTimer::singleShot(0, context, [done, error] { done(error); });
    };
    // Another request met the challenge first and has its answer: try again with it.
    if (!m_authorization.isEmpty() && m_authorization != sent)
        return later(std::nullopt);
    if (m_tokenPending) {
        m_waiters.append({context, done});
        return;
    }
    const QList<AuthChallenge> challenges = parseChallenges(challenge);
    const auto bearer = std::find_if(challenges.begin(), challenges.end(),
                                     [](const AuthChallenge &c) { return c.scheme == u"bearer"_s; });
    const auto basic = std::find_if(challenges.begin(), challenges.end(),
                                    [](const AuthChallenge &c) { return c.scheme == u"basic"_s; });
    // The answer sent was turned down: a token the service gave, or the credentials. Only
    // a token that outlived its time (a long pull) is asked for again.
    const bool expired = sent.startsWith("Bearer ") && m_tokenExpiry.hasExpired();
    // Registries (Docker Hub among them) answer so for a repository that does not exist too.
    if (!sent.isEmpty() && !(expired && bearer != challenges.end()) && m_credentials) {
        return later(RegistryError{RegistryError::Reason::AuthFailed,
                                   u"the registry %1 turned the credentials down for %2: wrong user name or "
                                   "password, or no pull access to the repository"_s.arg(m_base.authority(), m_repository)});
    }
    if (!sent.isEmpty() && !(expired && bearer != challenges.end())) {
        return later(RegistryError{RegistryError::Reason::AuthRequired,
                                   u"the registry %1 refuses an anonymous pull of %2: the repository needs "
                                   "credentials, or does not exist"_s.arg(m_base.authority(), m_repository)});
    }
    if (bearer != challenges.end()) {
        m_waiters.append({context, done});
        return requestToken(*bearer);
    }
    if (basic != challenges.end() && m_credentials) {
        m_authorization = basicAuthorization(*m_credentials);
        return later(std::nullopt);
    }
    if (basic != challenges.end())
        return later(RegistryError{RegistryError::Reason::AuthRequired,
                                   u"the registry %1 asks for credentials to pull %2, and none were given"_s.arg(
                                       m_base.authority(), m_repository)});
    later(RegistryError{RegistryError::Reason::Unexpected,
                        u"the registry %1 asks for authentication of a kind that is not supported: `%2`"_s.arg(
                            m_base.authority(), QString::fromLatin1(challenge.left(120)))});
}

void RegistrySession::requestToken(const AuthChallenge &challenge)
{
    QString error;
    const QUrl url = tokenUrl(challenge, m_repository, &error);
    if (!url.isValid())
        return settle(RegistryError{RegistryError::Reason::AuthUnavailable, error});
    QNetworkRequest request(url);
    request.setTransferTimeout(m_silenceLimitMs);
    if (m_credentials)
        request.setRawHeader("Authorization", basicAuthorization(*m_credentials));
    m_tokenPending = true;
    QNetworkReply *reply = m_network->get(request);
    reply->setParent(this);
    connect(reply, &QNetworkReply::finished, this, [this, reply] { tokenReplied(reply); });
}

void RegistrySession::tokenReplied(QNetworkReply *reply)
{
    reply->deleteLater();
    m_tokenPending = false;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (reply->bytesAvailable() > MaxTokenBytes)
        return settle(RegistryError{RegistryError::Reason::AuthUnavailable, u"the token service sent too much"_s});
    const QByteArray body = reply->readAll();
    if (status == 401 || status == 403) {
        return settle(RegistryError{m_credentials ? RegistryError::Reason::AuthFailed : RegistryError::Reason::AuthRequired,
                                    u"the token service %1 turned down %2 (HTTP %3)"_s.arg(
                                        reply->url().authority(),
                                        m_credentials ? u"the credentials"_s : u"an anonymous pull"_s)
                                        .arg(status)});
    }
    if (reply->error() != QNetworkReply::NoError || status != 200) {
        RegistryError error = registryErrorFor(reply->url(), status, reply->errorString(), body);
        error.reason = RegistryError::Reason::AuthUnavailable;
        error.message = u"the registry's token service failed: "_s + error.message;
        return settle(error);
    }
    QString error;
    const std::optional<RegistryToken> token = parseTokenResponse(body, &error);
    if (!token)
        return settle(RegistryError{RegistryError::Reason::AuthUnavailable, error});
    m_authorization = "Bearer " + token->token.toUtf8();
    // Renewed a little before the service's deadline would refuse it.
    m_tokenExpiry.setRemainingTime(std::chrono::seconds(token->expiresInSeconds) * 9 / 10);
    settle(std::nullopt);
}

void RegistrySession::settle(std::optional<RegistryError> error)
{
    const QList<Waiter> waiters = std::exchange(m_waiters, {});
    for (const Waiter &waiter : waiters) {
        if (waiter.context)
            QTimer::singleShot(0, waiter.context, [done = waiter.done, error] { done(error); });
    }
}

} // namespace Sandflow::Internal
