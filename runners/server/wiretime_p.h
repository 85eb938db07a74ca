// Timestamps on the lifecycle API's wire.
#pragma once

#include <QDateTime>
#include <QString>

namespace Sandflow::Internal {

/// `at` in UTC with microseconds and a `Z`, as the server writes every timestamp:
/// `2026-06-12T10:00:00.123456Z`. QDateTime keeps milliseconds, so the last three digits are
/// zeros. Empty for an invalid time.
QString formatTimestamp(const QDateTime &at);

/// An RFC 3339 timestamp as clients send it: `2026-06-12T10:00:00Z`, optionally with a
/// fraction of a second (kept to the millisecond) and with an offset (`+02:00`, `+0200`) or
/// without one, which means UTC. The date and time may also be separated by `t` or a space.
/// An invalid QDateTime for anything else, including dates that do not exist.
QDateTime parseTimestamp(const QString &text);

} // namespace Sandflow::Internal
