// The inside of WorkflowRun: what the run knows about each job and job instance while it
// runs, and how the task tree of a workflow is built from it.
#pragma once

#include "plan.h"
#include "runner.h"
#include "runscope_p.h"
#include "stepjobs_p.h"
#include "workflowrun.h"

#include <QHash>
#include <QPointer>
#include <QSet>
#include <QTimer>

#include <optional>

namespace Sandflow::Internal {

/// A job that finishes with a value known up front (a problem found while preparing).
class FinishedJob final : public AsyncJob
{
public:
    explicit FinishedJob(std::optional<JobError> error) : m_error(std::move(error)) {}

protected:
    void doStart() override { finish(m_error); }

private:
    std::optional<JobError> m_error;
};

class BackgroundStep;

/// One job instance while it runs.
struct InstanceState
{
    explicit InstanceState(const RunConstants *constants) : scope(constants) {}

    QString name;            ///< unique in the run: `test (3.11)`
    /// Where a relative download of a fanned-out job goes, below the run's directory: the
    /// instance's own, named after it (unique in the run, whatever the case); empty for a job
    /// of one instance, whose downloads go to the run's directory itself.
    QString downloadDirectory;
    QString jobId;
    qsizetype index = 0;
    InstanceScope scope;
    QString setupError;      ///< a problem evaluating the job's own settings
    QString sandboxId;
    bool failed = false;     ///< a step's conclusion was a failure: success() is false from now on
    bool continueOnError = false;   ///< the job's continue-on-error as this instance evaluated it
    bool backgroundFailed = false;
    QJsonObject outputs;
    std::optional<double> reward;   ///< the grade step's `reward=` output
    QJsonObject addedEnv;           ///< what steps wrote to $SANDFLOW_ENV, for the later ones
    QHash<QString, int> attempts;             ///< by step display id
    QHash<QString, QDateTime> stepStartedAt;
    QList<QPointer<BackgroundStep>> background;
};

/// What the jobs that need a job read: its result over all instances and the outputs of
/// the instance that finished last.
struct JobState
{
    bool anyFailure = false;
    bool anyCancelled = false;
    bool skipped = false;
    QJsonObject outputs;

    QString result() const;
};

/// The `needs` context of `job`: each needed job's result and outputs.
QJsonObject needsContext(const Job &job, const QHash<QString, JobState> &jobs);

/// Follows a background command: its log by cursor and its status, until it exits or the
/// job ends (stop()), then reports the step.
class BackgroundStep final : public QObject
{
    Q_OBJECT

public:
    BackgroundStep(Runner *runner, QString sandboxId, QString commandId, LineSink lines, QObject *parent);

    /// The job is over: one last read, then the command is interrupted if still running.
    void stop();

signals:
    /// The command ended (exitCode) or was stopped with the job (nullopt).
    void ended(std::optional<int> exitCode);

private:
    void poll();

    Runner *m_runner;
    QString m_sandboxId;
    QString m_commandId;
    LineSplitter m_lines;
    qint64 m_cursor = 0;
    QTimer m_timer;
    bool m_polling = false;
    bool m_stopping = false;
};

} // namespace Sandflow::Internal
