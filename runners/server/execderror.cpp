#include "execderror_p.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

QJsonObject execdErrorJson(const QString &code, const QString &message)
{
    QJsonObject body;
    if (!code.isEmpty())
        body.insert(u"code"_s, code);
    if (!message.isEmpty())
        body.insert(u"message"_s, message);
    return body;
}

ApiError execdError(int status, const QString &code, const QString &message)
{
    return {status, execdErrorJson(code, message)};
}

ApiError invalidRequestBody(const QString &message)
{
    return execdError(400, u"INVALID_REQUEST_BODY"_s, message);
}

} // namespace Sandflow::Internal
