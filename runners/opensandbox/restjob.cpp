#include "restjob_p.h"

#include <QJsonDocument>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

std::optional<QJsonArray> jsonArrayBody(const QByteArray &body, QString *problem)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError) {
        *problem = u"the body is not JSON (%1): %2"_s.arg(error.errorString(), shortened(QString::fromUtf8(body), 80));
        return std::nullopt;
    }
    if (!document.isArray()) {
        *problem = u"the body is not a JSON array"_s;
        return std::nullopt;
    }
    return document.array();
}

} // namespace Sandflow::Internal
