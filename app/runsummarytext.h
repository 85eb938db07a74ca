// The few lines printed when a run is over: how each job did, the slowest steps, and
// where the run left its files.
#pragma once

#include "runsummary.h"

#include <QString>

#include <functional>

namespace Sandflow::Cli {

/// Where a run's reports are; empty ones are not mentioned.
struct ReportLocations
{
    QString runDirectory;
    QString summaryFile;
    QString junitFile;
    /// A step's log, relative to the run directory, by job instance and step; empty if none.
    std::function<QString(const QString &job, const QString &step)> stepLog;
};

/// For example:
///
///     Run r1: failure in 11.3s
///       ✔ build   1 passed
///       ✘ test    1 passed, 2 failed
///       ○ deploy  1 skipped
///     Failed:
///       ✘ test (3.11) › step-1: exit status 2
///           runs/r1/test-3.11/step-1.log
///     Slowest steps:
///        6.0s  test (3.12) › step-1
///     Run directory: runs/r1
///     Summary: runs/r1/summary.json
///     JUnit: runs/r1/junit.xml
///
/// Jobs are counted by instance; timed_out counts as failed. At most MaxFailedListed failed
/// steps are named; slowest steps are not shown when all of them
/// would read 0.0s (under 50 ms). Denied egress attempts are counted per job
/// (`1 passed, 12 egress denied`) and over the run (`Egress denied: 12 attempts` after the
/// jobs); nothing is said of egress when none was denied.
inline constexpr int MaxFailedListed = 10;
QString formatRunSummary(const RunSummary &summary, const ReportLocations &locations);

} // namespace Sandflow::Cli
