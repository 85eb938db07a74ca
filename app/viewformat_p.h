// The few words and symbols every terminal view of a run shares, so that they read alike.
#pragma once

#include <QString>

namespace Sandflow::Cli::Internal {

/// A duration for people watching: `0.4s`, `12.3s`, `2m05s`, `1h02m`.
QString formatElapsed(qint64 milliseconds);
/// ✔ for success, ✘ for failure and timed_out, ○ for skipped, ⊘ for cancelled, ▸ otherwise.
QString outcomeSymbol(const QString &conclusion);
/// The mark of a job that waits for the jobs it needs.
inline constexpr char16_t WaitingSymbol[] = u"⋯";
/// An outcome in words for people: `timed out`, not `timed_out`.
QString outcomeText(const QString &outcome);
bool isFailure(const QString &conclusion);
bool isSkipped(const QString &conclusion);

} // namespace Sandflow::Cli::Internal
