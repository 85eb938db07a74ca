// The errors every local runner job can report about the sandbox it works on.
#pragma once

#include "asyncjob.h"

namespace Sandflow {
class LocalRunner;
}

namespace Sandflow::Internal {

class LocalSandbox;

JobError sandboxNotFound(const QString &id);
JobError sandboxLost(const QString &id, const QString &reason);
JobError sessionNotFound(const QString &sessionId);

/// The sandbox `id` when it can run commands now; else nullptr with `error` set (not found,
/// or paused, pending, ended).
LocalSandbox *runningSandbox(const LocalRunner *runner, const QString &id, JobError *error);

} // namespace Sandflow::Internal
