#include "transport_p.h"

#include <QNetworkReply>
#include <QUuid>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

QUrl appendPath(const QUrl &base, const QString &path)
{
    QUrl url = base;
    url.setPath(base.path(QUrl::FullyEncoded) + path, QUrl::TolerantMode);
    return url;
}

} // namespace

Transport::Transport(const OpenSandboxConfig &config)
    : m_config(config)
{
}

Transport::~Transport() = default;

RequestSpec Transport::lifecycle(const QByteArray &method, const QString &path, const QueryItems &query) const
{
    RequestSpec spec;
    spec.method = method;
    spec.url = withQuery(appendPath(m_config.lifecycleUrl(), path), query);
    spec.api = Api::Lifecycle;
    spec.peer = u"the server at %1"_s.arg(m_config.serverAddress());
    // DELETE /sandboxes/{id}: the id is one percent-encoded segment.
    spec.notFoundWhenRepeatedIsDone = method == "DELETE" && path.startsWith(u"/sandboxes/"_s) && path.count(u'/') == 2;
    return spec;
}

RequestSpec Transport::execd(const OpenSandboxEndpoint &execd, const QByteArray &method, const QString &path,
                             const QueryItems &query) const
{
    RequestSpec spec;
    spec.method = method;
    const QUrl base = execd.url(m_config.effectiveProtocol());
    spec.url = withQuery(appendPath(base, path), query);
    spec.headers = execd.headers;
    spec.api = Api::Execd;
    spec.peer = u"the sandbox's execd at %1"_s.arg(base.toString());
    return spec;
}

bool RequestSpec::isIdempotent() const
{
    if (idempotent)
        return *idempotent;
    return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS";
}

QNetworkRequest Transport::networkRequest(const RequestSpec &spec, const QString &requestId) const
{
    QNetworkRequest request(spec.url);
    request.setRawHeader("X-Request-ID", (requestId.isEmpty() ? newRequestId() : requestId).toLatin1());
    request.setRawHeader("User-Agent", "Sandflow/" SANDFLOW_VERSION);
    if (!m_config.apiKey.isEmpty())
        request.setRawHeader("OPEN-SANDBOX-API-KEY", m_config.apiKey.toUtf8());
    if (!spec.contentType.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, spec.contentType);
    for (const auto &[name, value] : spec.headers)
        request.setRawHeader(name, value);
    // Redirects are not part of the protocol; following one would send the API key to
    // wherever it points.
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    return request;
}

QString Transport::requestId(const QNetworkRequest &request)
{
    return QString::fromLatin1(request.rawHeader("X-Request-ID"));
}

QNetworkReply *Transport::send(QNetworkRequest request, const RequestSpec &spec, QHttpMultiPart *multipart)
{
    if (spec.sentOnlyOnPurpose())
        request.setAttribute(SendOnceAttribute, true);
    if (multipart)
        return m_network.sendCustomRequest(request, spec.method, multipart);
    if (spec.body.isEmpty() && spec.method != "POST")
        return m_network.sendCustomRequest(request, spec.method);
    return m_network.sendCustomRequest(request, spec.method, spec.body);
}

QString Transport::newRequestId()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

QString pathSegment(const QString &text)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(text));
}

QUrl withQuery(QUrl url, const QueryItems &query)
{
    if (query.isEmpty())
        return url;
    QByteArray encoded;
    for (const auto &[name, value] : query) {
        if (!encoded.isEmpty())
            encoded += '&';
        encoded += QUrl::toPercentEncoding(name) + '=' + QUrl::toPercentEncoding(value);
    }
    // Strict mode keeps %26, %3D and %2B as they are instead of reading them as delimiters.
    url.setQuery(QString::fromLatin1(encoded), QUrl::StrictMode);
    return url;
}

} // namespace Sandflow::Internal
