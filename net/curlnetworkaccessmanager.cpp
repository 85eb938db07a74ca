#include "curlnetworkaccessmanager_p.h"

#include "curlreply_p.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

QNetworkReply *CurlNetworkAccessManager::createRequest(Operation operation, const QNetworkRequest &request,
                                                       QIODevice *outgoingData)
{
    const QString scheme = request.url().scheme();
    if (scheme != "http"_L1 && scheme != "https"_L1)
        return QNetworkAccessManager::createRequest(operation, request, outgoingData);
    return new CurlReply(m_multi, operation, request, outgoingData, this);
}

} // namespace Sandflow::Internal
