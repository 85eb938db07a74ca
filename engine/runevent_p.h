// Helpers shared by the run event and the sinks that write files from it.
#pragma once

#include <QDateTime>
#include <QString>

namespace Sandflow::Internal {

/// RFC 3339 in UTC with milliseconds, `2026-12-01T19:40:00.123Z`: one format for the
/// event stream, the step logs and the reports. Empty for an invalid time.
QString formatEventTime(const QDateTime &time);

} // namespace Sandflow::Internal
