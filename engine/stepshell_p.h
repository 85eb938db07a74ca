// How a `run` step's script becomes the command a runner runs: the step's `shell` as GitHub
// Actions defines it.
#pragma once

#include <QString>

namespace Sandflow::Internal {

/// The command line that runs `script` with `shell` as the workflow format defines it. It is
/// run by the runner's own shell (the local runner's `sh -c`, execd's `bash -c`), so it names
/// the step's shell itself. Empty when `shell` names no known shell and has no `{0}`.
QString stepShellCommand(const QString &shell, const QString &script);

} // namespace Sandflow::Internal
