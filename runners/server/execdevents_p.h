// The event stream of POST /command and POST /session/{id}/run, as execd writes it: each
// event is a compact JSON object followed by a blank line, `{...}\n\n`, with no `data:`
// prefix (both SDKs read that form, and it is what execd sends). Every event has
// `timestamp` in Unix milliseconds; empty and zero fields are left out, so an
// `execution_time` of 0 ms is absent. `type` comes first.
//
//   success:  init, ping, stdout/stderr..., execution_complete
//   failure:  init, ping, stdout/stderr..., error          (never both final events)
#pragma once

#include "runner.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QStringList>

#include <optional>

namespace Sandflow::Internal {

/// The `error` payload of an event.
struct ExecutionError
{
    QString ename;           ///< always "CommandExecError" for commands
    QString evalue;          ///< the exit status ("3"), "-1" for a signal, or an error text
    QStringList traceback;

    friend bool operator==(const ExecutionError &, const ExecutionError &) = default;
};

/// The default timestamp of events: now, in Unix milliseconds.
inline qint64 execdNow()
{
    return QDateTime::currentMSecsSinceEpoch();
}

/// `init`: the command has started; `id` is the command id (for a session run, the
/// session id, the same on every run).
QByteArray initEvent(const QString &id, qint64 timestampMs = execdNow());
/// `ping` with text "pong": execd sends one right after `init`, then one every 3 s.
QByteArray pingEvent(qint64 timestampMs = execdNow());
/// `stdout` or `stderr` with one line from ExecdLineSplitter as text. The bytes are read
/// as UTF-8; invalid sequences become U+FFFD, as JSON needs.
QByteArray outputEvent(CommandJob::Stream stream, const QByteArray &line, qint64 timestampMs = execdNow());
/// `error` with `error: {ename, evalue, traceback}`.
QByteArray errorEvent(const ExecutionError &error, qint64 timestampMs = execdNow());
/// `execution_complete` with `execution_time` in milliseconds (absent when 0).
QByteArray executionCompleteEvent(qint64 executionTimeMs, qint64 timestampMs = execdNow());

/// Which wording a failed command's traceback takes.
enum class FailureWording {
    Command,   ///< POST /command: Go's process error, "exit status 3"
    Session,   ///< POST /session/{id}/run: "command exited with code 3"
};

/// Go's name of a Linux signal, as in its process errors: 9 → "killed", 15 → "terminated";
/// "signal 40" for numbers it has no name for.
QString goSignalName(int signal);

/// How execd reports a finished command, from its CommandJob's error() and exitCode():
/// std::nullopt for success (no error: exit status 0, or a background command that has
/// started), else the `error` payload, with ename "CommandExecError" and:
/// - a non-zero exit status N (exitCode, or "exitCode" in the error's context): evalue "N",
///   traceback ["exit status N"] (Session wording: ["command exited with code N"]);
/// - death by a signal ("signal" in the context: a timeout, an interrupt, the OOM killer):
///   evalue "-1", traceback ["signal: killed"] for SIGKILL, ["signal: terminated"] for
///   SIGTERM, and so on with Go's signal names;
/// - a timeout whose signal is unknown: as SIGKILL, which is what execd sends on timeout;
/// - a cancelled job: as SIGTERM, since cancelling a command interrupts it;
/// - any other error (COMMAND_START_FAILED, a lost sandbox, ...): evalue and traceback are
///   the error's message, as execd reports a command it could not start.
std::optional<ExecutionError> commandExecutionError(const std::optional<JobError> &error,
                                                    std::optional<int> exitCode,
                                                    FailureWording wording = FailureWording::Command);

/// The last event of a command's stream: `execution_complete` with `executionTimeMs` on
/// success, else `error` as commandExecutionError gives it.
QByteArray finalEvent(const std::optional<JobError> &error, std::optional<int> exitCode, qint64 executionTimeMs,
                      FailureWording wording = FailureWording::Command, qint64 timestampMs = execdNow());

} // namespace Sandflow::Internal
