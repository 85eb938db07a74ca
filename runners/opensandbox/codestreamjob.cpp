#include "codestreamjob_p.h"

#include "execdbodies_p.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

EventStreamRoute codeRoute(const Transport &transport, const OpenSandboxEndpoint &execd,
                           const OpenSandboxCodeContext &context, const QString &code)
{
    EventStreamRoute route;
    route.request = eventStreamRequest(transport, execd, u"/code"_s, runCodeJson(context, code));
    // Without a language execd runs the code as a shell command, with /command's events.
    route.outputInLines = context.language.isEmpty();
    route.interruptPath = u"/code"_s;
    return route;
}

} // namespace

CodeStreamJob::CodeStreamJob(Transport &transport, const OpenSandboxEndpoint &execd,
                             const OpenSandboxCodeContext &context, const QString &code)
    : CommandStreamJob(transport, execd, codeRoute(transport, execd, context, code))
{
}

void CodeStreamJob::otherEvent(const QString &type, const QJsonObject &event)
{
    if (type == "result"_L1)
        emit result(event.value("results"_L1).toObject());
}

std::optional<JobError> CodeStreamJob::failure(const QJsonObject &error) const
{
    const QString name = error.value("ename"_L1).toString();
    // A shell command (a context without a language) fails as commands do.
    if (name == "CommandExecError"_L1)
        return CommandStreamJob::failure(error);
    const QString value = error.value("evalue"_L1).toString();
    const QString request = requestId();
    const QJsonObject context{{u"contextId"_s, m_commandId},
                              {u"requestId"_s, request},
                              {u"ename"_s, name},
                              {u"evalue"_s, value},
                              {u"traceback"_s, error.value("traceback"_L1).toArray()}};
    return JobError{JobError::Kind::Task, u"CODE_FAILED"_s, u"%1: %2 (request %3)"_s.arg(name, value, request), context};
}

} // namespace Sandflow::Internal
