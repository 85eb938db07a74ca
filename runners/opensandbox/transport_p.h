// The network side of an OpenSandboxClient: its connection pools and how every request is
// addressed and labelled. Jobs send through it and never make managers of their own.
#pragma once

#include "curlnetworkaccessmanager_p.h"
#include "opensandboxclient.h"

#include <QNetworkRequest>

class QHttpMultiPart;

#include <optional>

namespace Sandflow::Internal {

/// Query parameters in order, decoded; a name may repeat (`state=A&state=B`).
using QueryItems = QList<QPair<QString, QString>>;

enum class Api { Lifecycle, Execd };

/// One request to send: a lifecycle call or an execd call.
struct RequestSpec
{
    QByteArray method = "GET";
    QUrl url;
    QList<QPair<QByteArray, QByteArray>> headers;   ///< besides those every request gets
    QByteArray contentType;                         ///< with `body`
    QByteArray body;
    Api api = Api::Lifecycle;
    /// Who answers, for messages: "the server at http://host:8080" or
    /// "the sandbox's execd at http://...".
    QString peer;
    /// Whether sending it twice does no more than sending it once, so that a failed attempt
    /// may be repeated. std::nullopt: as the method says (GET, HEAD, PUT, DELETE and
    /// OPTIONS are). Mark a POST only when it truly is: one that sets an absolute time or
    /// pauses a sandbox is not, since another client may act in between.
    std::optional<bool> idempotent;
    /// A DELETE of a whole resource: a 404 to a repeated attempt means that an earlier
    /// attempt, whose answer was lost, removed it.
    bool notFoundWhenRepeatedIsDone = false;

    bool isIdempotent() const;
    /// Whether it may reach the server twice only when the client chose so: a lifecycle call
    /// that is not idempotent (a create, whose repeat the create job reconciles itself), and
    /// one whose repeat would read differently (notFoundWhenRepeatedIsDone). Other calls are
    /// left to the HTTP stack, which sends a request once more when the kept-alive
    /// connection it went out on closed before any answer, as browsers do.
    bool sentOnlyOnPurpose() const { return (api == Api::Lifecycle && !isIdempotent()) || notFoundWhenRepeatedIsDone; }
};

class Transport final
{
public:
    explicit Transport(const OpenSandboxConfig &config);
    ~Transport();

    const OpenSandboxConfig &config() const { return m_config; }

    /// A lifecycle call to `path` below /v1, e.g. `/sandboxes/ID`.
    RequestSpec lifecycle(const QByteArray &method, const QString &path, const QueryItems &query = {}) const;
    /// An execd call to `path` at `execd`, with the endpoint's headers.
    RequestSpec execd(const OpenSandboxEndpoint &execd, const QByteArray &method, const QString &path,
                      const QueryItems &query = {}) const;

    /// The network request for `spec`, with the API key, a user agent and `requestId`
    /// (a new one when empty; read back with requestId()).
    QNetworkRequest networkRequest(const RequestSpec &spec, const QString &requestId = {}) const;
    static QString requestId(const QNetworkRequest &request);
    /// An RFC 4122 UUID in its dashed form: the lifecycle spec declares X-Request-ID `format: uuid`.
    static QString newRequestId();

    /// Sends `request`, made from `spec`, with `spec.body` or else `multipart` (which the
    /// caller then hands to the reply). Every request of this client goes out on one
    /// manager, which opens as many connections as there are requests at once and keeps
    /// them for the next ones, so neither a long stream nor a crowd of them keeps a short
    /// call waiting. The HTTP stack quietly sends a request again when the kept-alive
    /// connection it went out on closes before any answer, POSTs included; a request that
    /// must not arrive unseen twice (see RequestSpec) goes out with SendOnceAttribute, so
    /// that such a close fails the reply instead.
    QNetworkReply *send(QNetworkRequest request, const RequestSpec &spec, QHttpMultiPart *multipart = nullptr);

private:
    OpenSandboxConfig m_config;
    CurlNetworkAccessManager m_network;
};

/// A percent-encoded path segment, so that an id or path cannot change the route.
QString pathSegment(const QString &text);

/// `url` with `query` as its query, every name and value fully percent-encoded (`&`, `=`
/// and `+` included), so that a form parser on the server decodes exactly what was given.
QUrl withQuery(QUrl url, const QueryItems &query);

} // namespace Sandflow::Internal
