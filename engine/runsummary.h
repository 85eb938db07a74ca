// What a run did, gathered from its event stream: the data behind summary.json, the JUnit
// report and the terminal's end summary.
#pragma once

#include "runevent.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QString>

#include <optional>

namespace Sandflow {

struct StepSummary
{
    QString id;             ///< the step's display id
    QString name;
    QString outcome;        ///< empty while the step has not finished
    QString conclusion;
    qint64 durationMs = 0;
    int attempts = 0;
    QString error;

    /// Counts as failed: its conclusion is failure or timed_out (a step allowed to fail
    /// with continue-on-error does not count).
    bool failed() const;
};

struct JobSummary
{
    QString name;           ///< the job instance's display name
    QString jobId;
    qsizetype instance = 0;
    QString outcome;        ///< empty while the job has not finished
    qint64 durationMs = 0;
    QString sandboxId;
    QJsonObject outputs;
    QJsonValue task;              ///< its dataset task's id; undefined without a dataset
    QJsonObject matrix;           ///< its matrix values; empty without a matrix
    std::optional<double> reward; ///< what its grade step reported as `reward=`
    qint64 egressDenied = 0;      ///< connections and names its sandbox's policy denied
    QList<StepSummary> steps;   ///< in the order they first appeared
};

struct SlowStep
{
    QString job;
    QString step;
    qint64 durationMs = 0;
};

struct RunSummary
{
    QString runId;
    QString workflow;
    QString file;
    QString runDirectory;
    QDateTime startedAt;
    QDateTime finishedAt;
    qint64 durationMs = 0;
    QString outcome;
    QList<JobSummary> jobs;   ///< job instances, in the order they first appeared

    /// Folds one event into the summary.
    void add(const RunEvent &event);

    /// Job instances per outcome: always the keys success, failure, cancelled, skipped and
    /// timed_out.
    QMap<QString, int> counts() const;
    /// Connections and names the policies of the run's sandboxes denied, over all of them.
    qint64 egressDenied() const;
    /// The `limit` longest steps, longest first; equal ones in the order they ran.
    QList<SlowStep> slowestSteps(qsizetype limit = 5) const;

    JobSummary *findJob(const QString &name);
    const JobSummary *findJob(const QString &name) const;
};

} // namespace Sandflow
