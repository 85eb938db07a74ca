// Runner values as execd writes them in JSON, and the two encodings execd uses for them:
// permission modes as octal digits read as a decimal number, and times as Go's RFC3339Nano
// in the server's local time zone.
#pragma once

#include "runner.h"

#include <QDateTime>
#include <QJsonObject>
#include <QString>

#include <optional>

namespace Sandflow::Internal {

/// `time` in Go's RFC3339Nano layout, in the time's own offset from UTC:
/// `2026-12-01T10:00:00.123+05:30`. As in Go, the fraction loses its trailing zeros (and
/// its dot when it is zero), and an offset of zero is written `Z`. QDateTime keeps
/// milliseconds, so the fraction has at most three digits. An invalid time gives Go's zero
/// time, `0001-01-01T00:00:00Z`.
QString rfc3339Nano(const QDateTime &time);

/// `time` as execd writes times: rfc3339Nano in the local time zone (execd uses its own).
/// The lifecycle API writes its times differently, in UTC: see wiretime_p.h.
QString execdTime(const QDateTime &time);

/// {"path","type","size","modified_at","created_at","owner","group","mode"} as /files/info,
/// /files/search and /directories/list give it. `created_at` is the inode change time, as
/// in execd; `mode` goes through modeToDigits.
QJsonObject fileInfoJson(const FileInfo &info);

/// {"id","content","running","exit_code"?,"error"?,"started_at","finished_at"?} as
/// GET /command/status/{id} gives it: `exit_code` and `finished_at` only once finished,
/// `error` only when there is one.
QJsonObject commandStatusJson(const CommandStatus &status);

/// {"cpu_count","cpu_used_pct","mem_total_mib","mem_used_mib","timestamp"} as GET /metrics
/// gives it; `timestamp` in Unix milliseconds.
QJsonObject metricsJson(const SandboxMetrics &metrics);

} // namespace Sandflow::Internal
