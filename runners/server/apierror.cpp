#include "apierror_p.h"

#include <QJsonArray>
#include <QStringList>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

QJsonObject ValidationIssue::toJson() const
{
    QJsonObject entry{{u"type"_s, type}, {u"loc"_s, loc}, {u"msg"_s, msg}, {u"input"_s, input}};
    if (!ctx.isEmpty())
        entry.insert(u"ctx"_s, ctx);
    return entry;
}

ApiError ApiError::coded(int status, const QString &code, const QString &message)
{
    return {status, QJsonObject{{u"code"_s, code}, {u"message"_s, message}}};
}

ApiError ApiError::validation(const QList<ValidationIssue> &issues)
{
    QJsonArray detail;
    for (const ValidationIssue &issue : issues)
        detail.append(issue.toJson());
    return {422, QJsonObject{{u"detail"_s, detail}}};
}

QString ApiError::message() const
{
    if (body.contains(u"code"_s))
        return body.value(u"code"_s).toString() + u": "_s + body.value(u"message"_s).toString();
    QStringList lines;
    for (const QJsonValue entry : body.value(u"detail"_s).toArray()) {
        QStringList path;
        for (const QJsonValue part : entry[u"loc"_s].toArray())
            path.append(part.isString() ? part.toString() : QString::number(part.toInteger()));
        lines.append(path.join(u'.') + u": "_s + entry[u"msg"_s].toString());
    }
    return lines.join(u"; "_s);
}

} // namespace Sandflow::Internal
