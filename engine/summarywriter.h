// `<runDir>/summary.json`: how the run, each job instance and each step ended, for programs
// that look at a run afterwards.
//
//     {"runId", "workflow", "file", "startedAt", "finishedAt", "durationMs", "outcome",
//      "counts": {"success", "failure", "cancelled", "skipped", "timed_out"},
//      "jobs": [{"name", "jobId", "instance", "outcome", "durationMs", "sandboxId", "outputs",
//                "egressDenied",
//                "steps": [{"id", "name", "outcome", "conclusion", "durationMs", "attempts",
//                           "error", "log"}]}],
//      "slowestSteps": [{"job", "step", "durationMs"}],
//      "egressDenied"}
//
// Times are RFC 3339 UTC with milliseconds, or null when unknown; counts are over job
// instances; `log` is the step's log relative to the run directory; slowestSteps holds the
// five longest steps, longest first. `egressDenied` counts the connections and names the
// sandbox's (a job's) or all sandboxes' (the run's) network policies denied; it is only
// there when some were.
#pragma once

#include "runsummary.h"

#include <QJsonObject>
#include <QString>

namespace Sandflow {

class StepLogWriter;

class SummaryWriter final : public RunEventSink
{
public:
    /// Writes `runDirectory/summary.json` on close(). With `logs`, each step names its log
    /// file; `logs` must outlive this writer.
    explicit SummaryWriter(const QString &runDirectory, const StepLogWriter *logs = nullptr);

    void handle(const RunEvent &event) override;
    void close() override;

    /// What the run did so far, for the terminal's end summary.
    const RunSummary &summary() const { return m_summary; }
    /// The document close() writes.
    QJsonObject toJson() const;
    QString filePath() const;
    /// Why summary.json could not be written; empty when it was.
    QString errorString() const { return m_error; }

private:
    QString m_runDirectory;
    const StepLogWriter *m_logs;
    RunSummary m_summary;
    QString m_error;
};

} // namespace Sandflow
