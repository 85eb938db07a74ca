#include "texttable.h"

#include <algorithm>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

QString formatTable(const QList<QStringList> &rows)
{
    QList<qsizetype> widths;
    for (const QStringList &row : rows) {
        widths.resize(std::max(widths.size(), row.size()), 0);
        for (qsizetype column = 0; column < row.size(); ++column)
            widths[column] = std::max(widths[column], row.at(column).size());
    }
    QString text;
    for (const QStringList &row : rows) {
        for (qsizetype column = 0; column + 1 < row.size(); ++column)
            text += row.at(column).leftJustified(widths[column]) + u"  "_s;
        text += (row.isEmpty() ? QString() : row.last()) + u'\n';
    }
    return text;
}

QString formatLocalTime(const QDateTime &time)
{
    return time.isValid() ? time.toLocalTime().toString(u"yyyy-MM-dd hh:mm:ss"_s) : u"-"_s;
}

QString moreLine(qsizetype shown, qsizetype count)
{
    if (shown >= count)
        return {};
    return u"(the newest %1 of %2; --limit 0 shows all)\n"_s.arg(shown).arg(count);
}

} // namespace Sandflow::Cli
