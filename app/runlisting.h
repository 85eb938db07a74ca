// `sandflow ls --runs`: the runs in a runs directory, from what each left in its run
// directory, including runs that never finished (no summary.json).
#pragma once

#include "terminal.h"

#include <QString>

namespace Sandflow::Cli {

/// The default place runs go: `.sandflow/runs` in the current directory.
QString defaultRunsDirectory();

/// Prints the runs below `runsDirectory`, newest first, the newest `limit` only unless it is
/// 0; as a JSON array with `json`.
int listRuns(const QString &runsDirectory, bool json, qsizetype limit, const Terminal &terminal);

} // namespace Sandflow::Cli
