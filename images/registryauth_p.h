// How a client earns a registry's trust (the distribution spec's token flow, as Docker does
// it): a 401 names its scheme in WWW-Authenticate; a Bearer challenge names a token service
// to ask for a token that covers the repository (with the user's credentials, when it has
// any), a Basic one takes the credentials themselves. Credentials come from the request (a
// server's `image.auth`) or from Docker's config.json. All of it parsed here, without the
// network, from what a server sent.
#pragma once

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>
#include <QUrl>

#include <optional>

namespace Sandflow::Internal {

struct AuthChallenge
{
    QString scheme;                  ///< lower case: "bearer", "basic"
    QMap<QString, QString> params;   ///< names lower case: realm, service, scope, error
};

struct RegistryCredentials
{
    QString username;
    QString password;
};

struct RegistryToken
{
    QString token;
    int expiresInSeconds = 60;   ///< the spec's default when a service names none
};

/// The challenges of a WWW-Authenticate header value (RFC 9110 section 11.6.1: several,
/// comma-separated; parameters as tokens or quoted strings). Malformed parts end the list.
QList<AuthChallenge> parseChallenges(const QByteArray &header);

/// Where to ask for a token that lets `repository` be pulled, from a Bearer challenge; an
/// invalid URL with `error` set when its realm is not an http(s) URL.
QUrl tokenUrl(const AuthChallenge &challenge, const QString &repository, QString *error);

/// A token service's answer: `token`, or OAuth's `access_token`.
std::optional<RegistryToken> parseTokenResponse(const QByteArray &body, QString *error);

/// The credentials Docker's config.json (`auths`, base64 `user:password` in `auth`, or
/// `username` and `password`) holds for `registry` as an image reference names it
/// ("docker.io", "127.0.0.1:5000"). Credential helpers are not run.
std::optional<RegistryCredentials> dockerConfigCredentials(const QByteArray &configJson, const QString &registry);

} // namespace Sandflow::Internal
