#include "registryauth_p.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QUrlQuery>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// Reads RFC 9110's grammar from a header value, one piece at a time.
class HeaderCursor
{
public:
    explicit HeaderCursor(const QByteArray &text) : m_text(text) {}

    bool atEnd()
    {
        skipSpace();
        return m_at >= m_text.size();
    }
    bool take(char c)
    {
        skipSpace();
        if (m_at < m_text.size() && m_text.at(m_at) == c) {
            ++m_at;
            return true;
        }
        return false;
    }
    /// A token (RFC 9110's tchar run); empty when there is none here.
    QByteArray token()
    {
        skipSpace();
        const qsizetype start = m_at;
        while (m_at < m_text.size() && isTokenChar(m_text.at(m_at)))
            ++m_at;
        return m_text.mid(start, m_at - start);
    }
    /// A quoted string, unescaped; std::nullopt when unterminated.
    std::optional<QByteArray> quoted()
    {
        QByteArray value;
        for (++m_at; m_at < m_text.size(); ++m_at) {
            const char c = m_text.at(m_at);
            if (c == '"') {
                ++m_at;
                return value;
            }
            if (c == '\\' && m_at + 1 < m_text.size())
                ++m_at;
            value += m_text.at(m_at);
        }
        return std::nullopt;
    }
    bool atQuote()
    {
        skipSpace();
        return m_at < m_text.size() && m_text.at(m_at) == '"';
    }
    qsizetype position() const { return m_at; }
    void rewind(qsizetype to) { m_at = to; }

private:
    static bool isTokenChar(char c)
    {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
               || QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
    }
    void skipSpace()
    {
        while (m_at < m_text.size() && (m_text.at(m_at) == ' ' || m_text.at(m_at) == '\t'))
            ++m_at;
    }

    QByteArray m_text;
    qsizetype m_at = 0;
};

/// One `name=value` parameter; false (and the cursor where it was) when the next thing is
/// not one, which is where the next challenge starts.
bool readParameter(HeaderCursor &cursor, AuthChallenge *challenge, bool *malformed)
{
    const qsizetype start = cursor.position();
    const QByteArray name = cursor.token();
    if (name.isEmpty() || !cursor.take('=')) {
        cursor.rewind(start);
        return false;
    }
    QByteArray value;
    if (cursor.atQuote()) {
        const std::optional<QByteArray> quoted = cursor.quoted();
        if (!quoted) {
            *malformed = true;
            return false;
        }
        value = *quoted;
    } else {
        value = cursor.token();
    }
    challenge->params.insert(QString::fromLatin1(name).toLower(), QString::fromUtf8(value));
    return true;
}

} // namespace

QList<AuthChallenge> parseChallenges(const QByteArray &header)
{
    QList<AuthChallenge> challenges;
    HeaderCursor cursor(header);
    bool malformed = false;
    while (!malformed && !cursor.atEnd()) {
        if (cursor.take(','))
            continue;
        const QByteArray scheme = cursor.token();
        if (scheme.isEmpty())
            break;
        AuthChallenge challenge;
        challenge.scheme = QString::fromLatin1(scheme).toLower();
        while (readParameter(cursor, &challenge, &malformed)) {
            if (!cursor.take(','))
                break;
        }
        if (!malformed)
            challenges.append(challenge);
    }
    return challenges;
}

QUrl tokenUrl(const AuthChallenge &challenge, const QString &repository, QString *error)
{
    QUrl url(challenge.params.value(u"realm"_s), QUrl::StrictMode);
    if (!url.isValid() || (url.scheme() != u"https"_s && url.scheme() != u"http"_s) || url.host().isEmpty()) {
        *error = u"the registry's token service `%1` is not an http(s) URL"_s.arg(challenge.params.value(u"realm"_s).left(200));
        return {};
    }
    QUrlQuery query(url);
    if (const QString service = challenge.params.value(u"service"_s); !service.isEmpty())
        query.addQueryItem(u"service"_s, service);
    // The challenge's own scope when it names one; a pull of the repository otherwise.
    const QString scope = challenge.params.value(u"scope"_s);
    query.addQueryItem(u"scope"_s, scope.isEmpty() ? u"repository:%1:pull"_s.arg(repository) : scope);
    url.setQuery(query);
    return url;
}

std::optional<RegistryToken> parseTokenResponse(const QByteArray &body, QString *error)
{
    const QJsonObject answer = QJsonDocument::fromJson(body).object();
    RegistryToken token;
    token.token = answer.value(u"token"_s).toString();
    if (token.token.isEmpty())
        token.token = answer.value(u"access_token"_s).toString();
    if (token.token.isEmpty()) {
        *error = u"the registry's token service answered without a token"_s;
        return std::nullopt;
    }
    // A token of under a minute is taken for a minute, as the spec says clients should.
    token.expiresInSeconds = std::max(60, answer.value(u"expires_in"_s).toInt(60));
    return token;
}

std::optional<RegistryCredentials> dockerConfigCredentials(const QByteArray &configJson, const QString &registry)
{
    const QJsonObject auths = QJsonDocument::fromJson(configJson).object().value(u"auths"_s).toObject();
    // Docker Hub's key is the old index's URL; others are the host, or it with a scheme.
    const QStringList keys = registry == u"docker.io"_s
                                 ? QStringList{u"https://index.docker.io/v1/"_s, u"index.docker.io"_s, u"docker.io"_s}
                                 : QStringList{registry, u"https://"_s + registry, u"http://"_s + registry};
    for (const QString &key : keys) {
        const QJsonObject entry = auths.value(key).toObject();
        if (entry.isEmpty())
            continue;
        if (const QString encoded = entry.value(u"auth"_s).toString(); !encoded.isEmpty()) {
            const QByteArray decoded = QByteArray::fromBase64(encoded.toLatin1());
            const qsizetype colon = decoded.indexOf(':');
            if (colon > 0)
                return RegistryCredentials{QString::fromUtf8(decoded.left(colon)), QString::fromUtf8(decoded.mid(colon + 1))};
        }
        const QString username = entry.value(u"username"_s).toString();
        if (!username.isEmpty())
            return RegistryCredentials{username, entry.value(u"password"_s).toString()};
    }
    return std::nullopt;
}

} // namespace Sandflow::Internal
