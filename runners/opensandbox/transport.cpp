#include "transport_p.h"

#include <QUuid>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// Qt opens at most this many connections per host and port on one manager; more
/// requests wait for a free one.
constexpr int StreamsPerManager = 6;

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

QNetworkRequest Transport::networkRequest(const RequestSpec &spec) const
{
    QNetworkRequest request(spec.url);
    request.setRawHeader("X-Request-ID", QUuid::createUuid().toString(QUuid::Id128).toLatin1());
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

QNetworkAccessManager *Transport::acquireStream()
{
    for (const auto &manager : m_streamManagers) {
        int &inUse = m_streamsInUse[manager.get()];
        if (inUse < StreamsPerManager) {
            ++inUse;
            return manager.get();
        }
    }
    auto &manager = m_streamManagers.emplace_back(std::make_unique<QNetworkAccessManager>());
    m_streamsInUse.insert(manager.get(), 1);
    return manager.get();
}

void Transport::releaseStream(QNetworkAccessManager *manager)
{
    const auto found = m_streamsInUse.find(manager);
    if (found != m_streamsInUse.end() && *found > 0)
        --*found;
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
