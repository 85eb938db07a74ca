// One registry (or one of its mirrors) as a pull talks to it: where its distribution API is,
// and the authorization its requests carry. A 401 hands its challenge here; a Bearer one is
// answered by asking the token service for a token (anonymously, or with the user's
// credentials), a Basic one with the credentials themselves. Requests made after that carry
// the answer up front, so that only the first request of a pull meets the challenge.
#pragma once

#include "imagereference.h"
#include "registryauth_p.h"

#include <QByteArray>
#include <QDeadlineTimer>
#include <QList>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrl>

#include <functional>
#include <optional>

namespace Sandflow::Internal {

/// Why a request to a registry failed, in the classes a pull reports.
struct RegistryError
{
    enum class Reason {
        Unreachable,       ///< no connection, a cut one, or silence for too long
        ServerError,       ///< 5xx or 429: the registry is there but failing
        NotFound,          ///< 404: no such manifest, blob or repository
        AuthRequired,      ///< 401 and no credentials to answer it with
        AuthFailed,        ///< 401 or 403 although credentials were sent
        AuthUnavailable,   ///< the token service is unreachable, failing, or answered nonsense
        Unexpected,        ///< any other answer
    };
    Reason reason = Reason::Unexpected;
    QString message;   ///< one sentence, naming the URL where that helps
};

class RegistrySession final : public QObject
{
    Q_OBJECT

public:
    /// `base` is the scheme and authority the API is under ("https://registry-1.docker.io",
    /// a mirror's URL with its path); `repository` the one pulled from.
    RegistrySession(QNetworkAccessManager *network, QUrl base, QString repository,
                    std::optional<RegistryCredentials> credentials, QObject *parent = nullptr);

    const QUrl &base() const { return m_base; }
    /// The longest a request may stay silent before it counts as unreachable.
    int silenceLimitMs() const { return m_silenceLimitMs; }
    void setSilenceLimitMs(int limitMs) { m_silenceLimitMs = limitMs; }
    /// The URL of `path` under the repository ("manifests/v1", "blobs/sha256:...").
    QUrl url(const QString &path) const;
    QNetworkAccessManager *network() const { return m_network; }
    bool hasCredentials() const { return m_credentials.has_value(); }

    /// The Authorization header value for a request to `url`, empty when there is none yet,
    /// or when `url` is another server (a blob redirected to storage must not get it).
    QByteArray authorizationFor(const QUrl &url) const;

    using AuthDone = std::function<void(std::optional<RegistryError>)>;
    /// Answers the WWW-Authenticate header of a 401 that a request carrying `sent` got;
    /// `done` is called (never from inside this call) once the request may be sent again,
    /// or with why not. Requests that meet the challenge together share one token request.
    void authenticate(const QByteArray &challenge, const QByteArray &sent, QObject *context, AuthDone done);

private:
    void requestToken(const AuthChallenge &challenge);
    void tokenReplied(QNetworkReply *reply);
    void settle(std::optional<RegistryError> error);

    QPointer<QNetworkAccessManager> m_network;
    QUrl m_base;
    QString m_repository;
    std::optional<RegistryCredentials> m_credentials;
    int m_silenceLimitMs = 30'000;
    QByteArray m_authorization;
    QDeadlineTimer m_tokenExpiry;
    bool m_tokenPending = false;
    struct Waiter
    {
        QPointer<QObject> context;
        AuthDone done;
    };
    QList<Waiter> m_waiters;
};

/// Where the distribution API of `reference`'s registry is: plain HTTP, as Docker allows,
/// for loopback registries and those `insecure` lists ("host" or "host:port", matched as the
/// reference names the registry); HTTPS for every other.
QUrl registryApiBase(const ImageReference &reference, const QStringList &insecure);

/// The error for an answer of HTTP `status` (0: none) from `url` that broke the exchange,
/// with the body the server sent (its first kilobytes) for the registry's own words.
RegistryError registryErrorFor(const QUrl &url, int status, const QString &networkError, const QByteArray &body);

} // namespace Sandflow::Internal
