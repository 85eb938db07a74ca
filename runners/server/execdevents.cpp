#include "execdevents_p.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <csignal>
#include <iterator>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

QByteArray compact(const QJsonValue &value)
{
    // QJsonDocument holds only arrays and objects: wrap the value, then unwrap its text.
    const QByteArray wrapped = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return wrapped.sliced(1, wrapped.size() - 2);
}

/// One event, its fields in execd's order (type, text, execution_time, timestamp, error);
/// written by hand because QJsonObject would sort the keys.
QByteArray event(const char *type, const QString &text, qint64 timestampMs, qint64 executionTimeMs = 0,
                 const ExecutionError *error = nullptr)
{
    QByteArray out = QByteArrayLiteral("{\"type\":\"") + type + '"';
    if (!text.isEmpty())
        out += ",\"text\":" + compact(text);
    if (executionTimeMs != 0)
        out += ",\"execution_time\":" + QByteArray::number(executionTimeMs);
    out += ",\"timestamp\":" + QByteArray::number(timestampMs);
    if (error) {
        // ename, evalue, traceback: QJsonObject's sorted order is also execd's.
        const QJsonObject payload{{u"ename"_s, error->ename},
                                  {u"evalue"_s, error->evalue},
                                  {u"traceback"_s, QJsonArray::fromStringList(error->traceback)}};
        out += ",\"error\":" + compact(payload);
    }
    out += "}\n\n";
    return out;
}

ExecutionError exitStatusError(int code, FailureWording wording)
{
    return {u"CommandExecError"_s, QString::number(code),
            {wording == FailureWording::Session ? u"command exited with code %1"_s.arg(code)
                                                : u"exit status %1"_s.arg(code)}};
}

ExecutionError signalError(int signal)
{
    return {u"CommandExecError"_s, u"-1"_s, {u"signal: "_s + goSignalName(signal)}};
}

} // namespace

QByteArray initEvent(const QString &id, qint64 timestampMs)
{
    return event("init", id, timestampMs);
}

QByteArray pingEvent(qint64 timestampMs)
{
    return event("ping", u"pong"_s, timestampMs);
}

QByteArray outputEvent(CommandJob::Stream stream, const QByteArray &line, qint64 timestampMs)
{
    return event(stream == CommandJob::Stream::Stdout ? "stdout" : "stderr", QString::fromUtf8(line), timestampMs);
}

QByteArray errorEvent(const ExecutionError &error, qint64 timestampMs)
{
    return event("error", {}, timestampMs, 0, &error);
}

QByteArray executionCompleteEvent(qint64 executionTimeMs, qint64 timestampMs)
{
    return event("execution_complete", {}, timestampMs, executionTimeMs);
}

QString goSignalName(int signal)
{
    // Go's names of the Linux signals 1 to 31, which its process errors quote.
    static const char *const names[] = {
        "hangup", "interrupt", "quit", "illegal instruction", "trace/breakpoint trap", "aborted", "bus error",
        "floating point exception", "killed", "user defined signal 1", "segmentation fault",
        "user defined signal 2", "broken pipe", "alarm clock", "terminated", "stack fault", "child exited",
        "continued", "stopped (signal)", "stopped", "stopped (tty input)", "stopped (tty output)",
        "urgent I/O condition", "CPU time limit exceeded", "file size limit exceeded", "virtual timer expired",
        "profiling timer expired", "window changed", "I/O possible", "power failure", "bad system call",
    };
    if (signal >= 1 && signal <= int(std::size(names)))
        return QString::fromLatin1(names[signal - 1]);
    return u"signal %1"_s.arg(signal);
}

std::optional<ExecutionError> commandExecutionError(const std::optional<JobError> &error,
                                                    std::optional<int> exitCode, FailureWording wording)
{
    if (!error)
        return std::nullopt;
    if (exitCode && *exitCode != 0)
        return exitStatusError(*exitCode, wording);
    if (const int code = error->context.value(u"exitCode"_s).toInt(); code != 0)
        return exitStatusError(code, wording);
    if (error->context.contains(u"signal"_s))
        return signalError(error->context.value(u"signal"_s).toInt());
    if (error->kind == JobError::Kind::Timeout)
        return signalError(SIGKILL);
    if (error->kind == JobError::Kind::Cancelled)
        return signalError(SIGTERM);
    return ExecutionError{u"CommandExecError"_s, error->message, {error->message}};
}

QByteArray finalEvent(const std::optional<JobError> &error, std::optional<int> exitCode, qint64 executionTimeMs,
                      FailureWording wording, qint64 timestampMs)
{
    if (const std::optional<ExecutionError> failure = commandExecutionError(error, exitCode, wording))
        return errorEvent(*failure, timestampMs);
    return executionCompleteEvent(executionTimeMs, timestampMs);
}

} // namespace Sandflow::Internal
