#include "localerrors_p.h"

#include "localrunner.h"
#include "localsandbox_p.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

JobError sandboxNotFound(const QString &id)
{
    return {JobError::Kind::Invalid, u"SANDBOX_NOT_FOUND"_s, u"no sandbox `%1`"_s.arg(id), {{u"id"_s, id}}};
}

JobError sandboxLost(const QString &id, const QString &reason)
{
    return {JobError::Kind::Infra, u"SANDBOX_LOST"_s, u"sandbox `%1` is gone: %2"_s.arg(id, reason), {{u"id"_s, id}}};
}

JobError sessionNotFound(const QString &sessionId)
{
    return {JobError::Kind::Invalid, u"SESSION_NOT_FOUND"_s, u"no session `%1`"_s.arg(sessionId),
            {{u"sessionId"_s, sessionId}}};
}

LocalSandbox *runningSandbox(const LocalRunner *runner, const QString &id, JobError *error)
{
    LocalSandbox *sandbox = runner->find(id);
    if (!sandbox) {
        *error = sandboxNotFound(id);
        return nullptr;
    }
    if (sandbox->info().state != SandboxState::Running) {
        *error = JobError{JobError::Kind::Invalid, u"SANDBOX_NOT_RUNNING"_s,
                          u"sandbox `%1` is %2"_s.arg(id, sandboxStateName(sandbox->info().state)), {{u"id"_s, id}}};
        return nullptr;
    }
    return sandbox;
}

} // namespace Sandflow::Internal
