#include "wiretime_p.h"

#include <QRegularExpression>
#include <QTimeZone>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

QString formatTimestamp(const QDateTime &at)
{
    if (!at.isValid())
        return {};
    return at.toUTC().toString(u"yyyy-MM-ddTHH:mm:ss.zzz"_s) + u"000Z"_s;
}

QDateTime parseTimestamp(const QString &text)
{
    static const QRegularExpression rfc3339(QRegularExpression::anchoredPattern(
        u"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:[.,]([0-9]{1,9}))?"
        u"(?:([Zz])|([+-])([0-9]{2}):?([0-9]{2}))?"_s));
    const QRegularExpressionMatch match = rfc3339.match(text);
    if (!match.hasMatch())
        return {};
    const auto number = [&match](int group) { return match.captured(group).toInt(); };

    const QDate date(number(1), number(2), number(3));
    const int milliseconds = match.captured(7).leftJustified(3, u'0', true).toInt();
    const QTime time(number(4), number(5), number(6), milliseconds);
    if (!date.isValid() || !time.isValid())
        return {};
    if (match.hasCaptured(9)) {
        const int hours = number(10);
        const int minutes = number(11);
        if (hours > 23 || minutes > 59)
            return {};
        const int offset = (hours * 3600 + minutes * 60) * (match.captured(9) == u"-"_s ? -1 : 1);
        return QDateTime(date, time, QTimeZone(offset));
    }
    // With `Z`, and also without any offset: a naive timestamp is taken as UTC.
    return QDateTime(date, time, Qt::UTC);
}

} // namespace Sandflow::Internal
