// A QNetworkAccessManager whose HTTP and HTTPS requests libcurl carries, in the thread of the
// manager. Qt's own stack runs every request in a thread of its own and costs about ten times
// the CPU per small request; it also opens at most six connections per host, which a client
// holding hundreds of command streams outgrows. Callers see ordinary QNetworkReply objects.
//
// HTTPS goes over HTTP/2 where the server offers it, many requests sharing a connection.
// Differences from Qt's stack: no proxy is ever used, TLS is verified against the system's
// certificate authorities (a request's QSslConfiguration is not read), answers are not
// cached and cookies are not kept.
#pragma once

#include "curlmulti_p.h"

#include <QNetworkAccessManager>

namespace Sandflow::Internal {

/// A request attribute; true for a request that must reach the server at most once. The
/// stack sends a request again by itself when the kept-alive connection it went out on
/// closes before any answer. This one goes out on a new connection instead, so such a close
/// fails the reply with RemoteHostClosedError.
inline constexpr auto SendOnceAttribute = QNetworkRequest::Attribute(QNetworkRequest::User + 1);

class CurlNetworkAccessManager final : public QNetworkAccessManager
{
public:
    using QNetworkAccessManager::QNetworkAccessManager;

protected:
    QNetworkReply *createRequest(Operation operation, const QNetworkRequest &request,
                                 QIODevice *outgoingData) override;

private:
    CurlMulti m_multi;
};

} // namespace Sandflow::Internal
