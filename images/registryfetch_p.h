// One GET from a registry's distribution API as a pull needs it: sent with the session's
// authorization, answered challenges and redirects followed (registries send blobs on to
// their storage, another server that must not see the registry's token), and the body of a
// 2xx answer handed on piece by piece as it arrives, so that a layer is never held whole in
// memory.
#pragma once

#include "registrysession_p.h"

#include <QByteArray>
#include <QNetworkReply>
#include <QObject>
#include <QPointer>
#include <QUrl>

#include <optional>

namespace Sandflow::Internal {

class RegistryFetch final : public QObject
{
    Q_OBJECT

public:
    /// Fetches `path` under the session's repository; `accept` is the Accept header (empty:
    /// none). Starts at once; nothing is signalled before the event loop runs.
    RegistryFetch(RegistrySession *session, const QString &path, QByteArray accept, QObject *parent = nullptr);
    ~RegistryFetch() override;

    /// Stops the transfer; nothing is signalled after it.
    void abort();
    /// The 2xx answer's Content-Type, once its body began.
    QString contentType() const;
    /// The 2xx answer's Docker-Content-Digest (what the registry says the body hashes to),
    /// once its body began; empty when it sent none.
    QString contentDigest() const { return m_contentDigest; }

signals:
    /// The next piece of the body of the 2xx answer.
    void data(const QByteArray &piece);
    /// Once, at the end: no error when the whole body was handed on.
    void done(const std::optional<Sandflow::Internal::RegistryError> &error);

private:
    void send();
    void replied();
    void readBody();
    void fail(RegistryError error);

    QPointer<RegistrySession> m_session;
    QByteArray m_accept;
    QUrl m_url;
    QByteArray m_sentAuthorization;
    QNetworkReply *m_reply = nullptr;
    QString m_contentType;
    QString m_contentDigest;
    QByteArray m_errorBody;   ///< the start of a non-2xx answer's body, for its message
    int m_redirects = 0;
    int m_challenges = 0;
    bool m_ended = false;
};

} // namespace Sandflow::Internal
