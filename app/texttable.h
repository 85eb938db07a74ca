// Tables and times as every listing of the CLI prints them.
#pragma once

#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

namespace Sandflow::Cli {

/// `rows` (the first one the header) as aligned columns, each as wide as its widest cell and
/// two spaces apart; the last column is not padded. One line per row.
QString formatTable(const QList<QStringList> &rows);

/// A time for people, in the local zone: `2026-12-07 10:26:31`; `-` for an invalid one.
QString formatLocalTime(const QDateTime &time);

/// The first `limit` of `count` items are shown: the line that says how many more there are,
/// or an empty string when none are left out.
QString moreLine(qsizetype shown, qsizetype count);

} // namespace Sandflow::Cli
