// The few words and symbols every terminal view of a run shares, so that they read alike.
#pragma once

#include <QString>

namespace Sandflow::Cli::Internal {

/// A duration for people watching: `0.4s`, `12.3s`, `2m05s`, `1h02m`.
QString formatElapsed(qint64 milliseconds);
/// ✔ for success, ✘ for failure and timed_out, ○ for skipped and cancelled, ▸ otherwise.
QString outcomeSymbol(const QString &conclusion);
bool isFailure(const QString &conclusion);
bool isSkipped(const QString &conclusion);

} // namespace Sandflow::Cli::Internal
