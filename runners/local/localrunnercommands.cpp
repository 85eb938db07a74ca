// LocalRunner: commands, their status and logs, terminals, and bash sessions.
#include "localrunner.h"

#include "agenttool_p.h"
#include "immediatejob_p.h"
#include "localcommandjob_p.h"
#include "localerrors_p.h"
#include "localsandbox_p.h"
#include "localterminaljob_p.h"

namespace Sandflow {

using namespace Qt::StringLiterals;
using Internal::ImmediateActionJob;
using Internal::ImmediateJob;
using Internal::LocalSandbox;

namespace {

JobError commandNotFound(const QString &sandboxId, const QString &commandId)
{
    return {JobError::Kind::Invalid, u"COMMAND_NOT_FOUND"_s,
            u"no command `%1` in sandbox `%2`"_s.arg(commandId, sandboxId), {{u"commandId"_s, commandId}}};
}

} // namespace

CommandJob *LocalRunner::runCommand(const QString &sandboxId, const CommandRequest &request)
{
    return new Internal::LocalCommandJob(this, sandboxId, request);
}

TerminalJob *LocalRunner::openTerminal(const QString &sandboxId, const TerminalRequest &request)
{
    return new Internal::LocalTerminalJob(this, sandboxId, request);
}

ResultJob<CommandStatus> *LocalRunner::commandStatus(const QString &sandboxId, const QString &commandId)
{
    return new ImmediateJob<CommandStatus>([this, sandboxId, commandId](CommandStatus &status) -> std::optional<JobError> {
        JobError error;
        const LocalSandbox *sandbox = Internal::runningSandbox(this, sandboxId, &error);
        if (!sandbox)
            return error;
        const Internal::CommandTable::Entry *entry = sandbox->commands().find(commandId);
        if (!entry)
            return commandNotFound(sandboxId, commandId);
        status = entry->status;
        return std::nullopt;
    });
}

ResultJob<CommandLogs> *LocalRunner::commandLogs(const QString &sandboxId, const QString &commandId, qint64 cursor)
{
    JobError sandboxError;
    const LocalSandbox *sandbox = Internal::runningSandbox(this, sandboxId, &sandboxError);
    const Internal::CommandTable::Entry *entry = sandbox ? sandbox->commands().find(commandId) : nullptr;
    if (!entry || entry->logPath.isEmpty()) {
        const JobError error = !sandbox ? sandboxError
            : !entry ? commandNotFound(sandboxId, commandId)
                     : JobError{JobError::Kind::Invalid, u"COMMAND_NOT_IN_BACKGROUND"_s,
                                u"command `%1` ran in the foreground: its output was streamed, not kept"_s.arg(commandId),
                                {{u"commandId"_s, commandId}}};
        return new ImmediateJob<CommandLogs>([error](CommandLogs &) { return error; });
    }
    cursor = std::max<qint64>(cursor, 0);
    // A slice at a time, as an answer is held in memory whole: the cursor tells where the
    // next one starts.
    return new Internal::AgentToolJob<CommandLogs>(
        this, sandboxId, {u"read"_s, entry->logPath, QString::number(cursor), QString::number(Internal::MaxToolAnswerBytes)},
        [cursor](const QByteArray &bytes, CommandLogs &logs) -> std::optional<JobError> {
            logs.data = bytes;
            logs.nextCursor = cursor + bytes.size();
            return std::nullopt;
        });
}

AsyncJob *LocalRunner::interruptCommand(const QString &sandboxId, const QString &commandId)
{
    return new ImmediateActionJob([this, sandboxId, commandId](std::monostate &) -> std::optional<JobError> {
        JobError error;
        LocalSandbox *sandbox = Internal::runningSandbox(this, sandboxId, &error);
        if (!sandbox)
            return error;
        if (!sandbox->commands().find(commandId))
            return commandNotFound(sandboxId, commandId);
        if (!sandbox->interruptCommand(commandId))
            return JobError{JobError::Kind::Invalid, u"COMMAND_NOT_RUNNING"_s,
                            u"command `%1` has already finished"_s.arg(commandId), {{u"commandId"_s, commandId}}};
        return std::nullopt;
    });
}

ResultJob<QString> *LocalRunner::createSession(const QString &sandboxId, const QString &cwd)
{
    return new ImmediateJob<QString>([this, sandboxId, cwd](QString &sessionId) -> std::optional<JobError> {
        JobError error;
        LocalSandbox *sandbox = Internal::runningSandbox(this, sandboxId, &error);
        if (!sandbox)
            return error;
        sessionId = sandbox->addSession(cwd);
        return std::nullopt;
    });
}

CommandJob *LocalRunner::runInSession(const QString &sandboxId, const QString &sessionId, const CommandRequest &request)
{
    return new Internal::SessionRunJob(this, sandboxId, sessionId, request);
}

AsyncJob *LocalRunner::deleteSession(const QString &sandboxId, const QString &sessionId)
{
    return new ImmediateActionJob([this, sandboxId, sessionId](std::monostate &) -> std::optional<JobError> {
        JobError error;
        LocalSandbox *sandbox = Internal::runningSandbox(this, sandboxId, &error);
        if (!sandbox)
            return error;
        if (!sandbox->removeSession(sessionId))
            return Internal::sessionNotFound(sessionId);
        return std::nullopt;
    });
}

} // namespace Sandflow
