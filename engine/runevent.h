// What happens during `sandflow run`, as one stream of events that every output is made
// from: the terminal views, `--json` lines, the step logs, summary.json and JUnit XML.
#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QString>

namespace Sandflow {

struct RunEvent
{
    enum class Type {
        /// runId, text: the workflow's name, details: {"file", "runDirectory",
        /// "jobs": {jobId: number of instances}}
        RunStarted,
        RunFinished,      ///< outcome, durationMs
        JobStarted,       ///< job, jobId, instance
        JobFinished,      ///< job, jobId, outcome, durationMs, details: {"outputs": {...}} when set
        SandboxCreated,   ///< job, sandboxId
        SandboxDeleted,   ///< job, sandboxId; details: {"kept": true} with --keep
        StepStarted,      ///< job, step, stepName, attempt
        StepRetrying,     ///< job, step, attempt (that failed), text: why, details: {"backoffMs"}
        StepFinished,     ///< job, step, outcome, conclusion, durationMs, attempt, text: the error, if any
        LogLine,          ///< job, step, stream, text: one line without its line break
        Warning,          ///< text; job and step when it concerns one
        /// job, jobId, instance, sandboxId; details: {"target": the name asked for or the
        /// address connected to, "port" (not for a name), "count": the attempts it stands
        /// for, as repeats are collapsed (egressdenials_p.h)}
        EgressDenied,
    };

    Type type = Type::Warning;
    QDateTime time;          ///< UTC, when it happened
    QString runId;
    /// The job instance's display name, unique in the run: `test`, `test (3.11, tuned)`.
    QString job;
    QString jobId;           ///< the job's id in the workflow
    qsizetype instance = 0;  ///< the instance's index in its job's fan-out
    QString step;            ///< the step's display id: its `id`, else `step-N`
    QString stepName;        ///< the step's `name`, else its command's first line
    /// success, failure, cancelled, skipped or timed_out.
    QString outcome;
    /// What counts after continue-on-error: a failed step that may fail has outcome
    /// `failure` and conclusion `success`. Equal to outcome otherwise.
    QString conclusion;
    qint64 durationMs = 0;
    int attempt = 0;         ///< from 1
    QString stream;          ///< stdout or stderr
    QString text;
    QString sandboxId;
    QJsonObject details;

    /// One JSON object: `type` as a snake_case name (`step_finished`), the time as
    /// RFC 3339 with milliseconds, and only the fields that are set.
    QJsonObject toJson() const;
    static QString typeName(Type type);
};

/// Something that consumes the event stream. Sinks see the events in order, after secrets
/// have been masked.
class RunEventSink
{
public:
    virtual ~RunEventSink() = default;
    virtual void handle(const RunEvent &event) = 0;
    /// The run is over (after RunFinished): write what is left, close files.
    virtual void close() {}
};

} // namespace Sandflow
