#include "viewformat_p.h"

namespace Sandflow::Cli::Internal {

using namespace Qt::StringLiterals;

QString formatElapsed(qint64 milliseconds)
{
    const qint64 seconds = milliseconds / 1000;
    if (seconds < 60)
        return u"%1s"_s.arg(double(milliseconds) / 1000, 0, 'f', 1);
    if (seconds < 3600)
        return u"%1m%2s"_s.arg(seconds / 60).arg(seconds % 60, 2, 10, QLatin1Char('0'));
    return u"%1h%2m"_s.arg(seconds / 3600).arg(seconds % 3600 / 60, 2, 10, QLatin1Char('0'));
}

bool isFailure(const QString &conclusion)
{
    return conclusion == u"failure"_s || conclusion == u"timed_out"_s;
}

bool isSkipped(const QString &conclusion)
{
    return conclusion == u"skipped"_s || conclusion == u"cancelled"_s;
}

QString outcomeSymbol(const QString &conclusion)
{
    if (conclusion == u"success"_s)
        return u"✔"_s;
    if (isFailure(conclusion))
        return u"✘"_s;
    if (conclusion == u"skipped"_s)
        return u"○"_s;
    if (conclusion == u"cancelled"_s)
        return u"⊘"_s;
    return u"▸"_s;
}

QString outcomeText(const QString &outcome)
{
    return QString(outcome).replace(u'_', u' ');
}

} // namespace Sandflow::Cli::Internal
