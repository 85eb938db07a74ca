#include "resourcelimits_p.h"

#include <QRegularExpression>
#include <QtNumeric>

#include <cmath>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

std::optional<double> parseCpuLimit(const QString &text)
{
    const QString trimmed = text.trimmed();
    bool ok = false;
    double cores = 0;
    if (trimmed.endsWith(u'm')) {
        static const QRegularExpression digits(QRegularExpression::anchoredPattern(u"[0-9]+"_s));
        const QString millicores = trimmed.chopped(1).trimmed();
        if (!digits.match(millicores).hasMatch())
            return std::nullopt;
        cores = millicores.toDouble(&ok) / 1000;
    } else {
        cores = trimmed.toDouble(&ok);
    }
    if (!ok || !std::isfinite(cores) || cores <= 0)
        return std::nullopt;
    return cores;
}

std::optional<qint64> parseMemoryLimit(const QString &text)
{
    static const QRegularExpression size(
        QRegularExpression::anchoredPattern(u"\\s*([0-9]+)([kmgti]i?|[kmgti]?b)?\\s*"_s),
        QRegularExpression::CaseInsensitiveOption);
    const QRegularExpressionMatch match = size.match(text);
    if (!match.hasMatch())
        return std::nullopt;

    const QString unit = match.captured(2).toLower();
    qint64 factor = 0;
    if (unit.isEmpty() || unit == u"b"_s) {
        factor = 1;
    } else {
        // The unit's letter gives the power; a trailing `i` makes it binary. The pattern also
        // lets through `i`, `ii` and `ib`, which name no unit.
        static const QString powers = u"kmgt"_s;
        const qsizetype power = powers.indexOf(unit.front()) + 1;
        if (power == 0)
            return std::nullopt;
        const bool binary = unit.endsWith(u'i');
        factor = 1;
        for (qsizetype i = 0; i < power; ++i)
            factor *= binary ? 1024 : 1000;
    }

    bool ok = false;
    const qint64 count = match.captured(1).toLongLong(&ok);
    qint64 bytes = 0;
    if (!ok || count == 0 || qMulOverflow(count, factor, &bytes))
        return std::nullopt;
    return bytes;
}

} // namespace Sandflow::Internal
