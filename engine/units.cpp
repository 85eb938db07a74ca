#include "units.h"

#include <QRegularExpression>

#include <cmath>

namespace Sandflow {

using namespace Qt::StringLiterals;

std::optional<qint64> parseDuration(const QString &text)
{
    static const QRegularExpression pattern(u"^\\s*([0-9]+(?:\\.[0-9]+)?)\\s*(ms|s|m|h)?\\s*$"_s);
    const QRegularExpressionMatch match = pattern.match(text);
    if (!match.hasMatch())
        return std::nullopt;
    const double amount = match.captured(1).toDouble();
    const QString unit = match.captured(2);
    double factor = 1000;   // a bare number is seconds
    if (unit == u"ms"_s)
        factor = 1;
    else if (unit == u"m"_s)
        factor = 60'000;
    else if (unit == u"h"_s)
        factor = 3'600'000;
    const double milliseconds = amount * factor;
    // Beyond a century a timeout is a typo, and it would overflow timers anyway.
    if (milliseconds > 100.0 * 365 * 86'400'000)
        return std::nullopt;
    return qint64(std::llround(milliseconds));
}

bool isBareNumber(const QString &text)
{
    static const QRegularExpression bare(u"^\\s*[0-9]+(?:\\.[0-9]+)?\\s*$"_s);
    return bare.match(text).hasMatch();
}

QString formatDuration(qint64 milliseconds)
{
    if (milliseconds < 1000)
        return u"%1ms"_s.arg(milliseconds);
    QString text;
    qint64 seconds = milliseconds / 1000;
    const qint64 rest = milliseconds % 1000;
    if (seconds >= 3600) {
        text += u"%1h"_s.arg(seconds / 3600);
        seconds %= 3600;
    }
    if (seconds >= 60) {
        text += u"%1m"_s.arg(seconds / 60);
        seconds %= 60;
    }
    if (seconds > 0 || rest > 0)
        text += rest > 0 ? u"%1.%2s"_s.arg(seconds).arg(rest, 3, 10, QLatin1Char('0')) : u"%1s"_s.arg(seconds);
    return text;
}

std::optional<double> parseQuantity(const QString &text)
{
    static const QRegularExpression pattern(
        u"^([0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?$"_s);
    const QRegularExpressionMatch match = pattern.match(text.trimmed());
    if (!match.hasMatch())
        return std::nullopt;
    const double amount = match.captured(1).toDouble();
    const QString suffix = match.captured(2);
    if (suffix.isEmpty())
        return amount;
    if (suffix.startsWith(u'e') || suffix.startsWith(u'E'))
        return amount * std::pow(10.0, suffix.mid(1).toDouble());
    static const QList<std::pair<QString, double>> factors = {
        {u"Ki"_s, 0x1p10}, {u"Mi"_s, 0x1p20}, {u"Gi"_s, 0x1p30}, {u"Ti"_s, 0x1p40},
        {u"Pi"_s, 0x1p50}, {u"Ei"_s, 0x1p60}, {u"n"_s, 1e-9},    {u"u"_s, 1e-6},
        {u"m"_s, 1e-3},    {u"k"_s, 1e3},     {u"M"_s, 1e6},     {u"G"_s, 1e9},
        {u"T"_s, 1e12},    {u"P"_s, 1e15},    {u"E"_s, 1e18},
    };
    for (const auto &[name, factor] : factors) {
        if (name == suffix)
            return amount * factor;
    }
    return std::nullopt;
}

} // namespace Sandflow
