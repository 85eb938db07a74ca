// The expanded plan of a workflow: every job instance after matrix and dataset fan-out,
// the order jobs run in, and the sandbox each instance creates.
#pragma once

#include "workflow.h"

#include <QJsonObject>
#include <QList>
#include <QSet>
#include <QString>

namespace Sandflow {

/// One instance of a job: a matrix combination, a dataset row, or both (crossed).
/// It refers to its dataset row by index; rows are never copied per instance.
struct JobInstance
{
    int jobIndex = 0;
    int combination = -1;   ///< index into PlannedJob::combinations, -1 without a matrix
    qsizetype row = -1;     ///< dataset row, -1 without a dataset
};

struct PlannedJob
{
    const Job *job = nullptr;
    int stage = 0;                      ///< 0-based: jobs of a stage only need earlier stages
    QList<QJsonObject> combinations;    ///< expanded matrix; empty without a matrix
    qsizetype instanceCount = 1;

    /// The instance at `index`: rows vary slowest, then combinations.
    JobInstance instance(qsizetype index) const;
    /// `job (3.11, tuned)`: the job id with the instance's matrix values and task id.
    QString instanceName(const JobInstance &instance) const;
    /// The name of instance `index` everywhere (plan, progress, logs, reports): `evaluated`,
    /// the job's `name` as the instance reads it (empty when it has none or it failed),
    /// else instanceName(). Names key logs and reports, so a name in `taken` gets the
    /// instance's number; the result is added to `taken`.
    QString uniqueInstanceName(const QString &evaluated, qsizetype index, QSet<QString> *taken) const;
};

/// Computed from a validated workflow; holds pointers into it, so the workflow must
/// outlive the plan.
class Plan
{
public:
    static Plan build(const Workflow &workflow);

    const Workflow &workflow() const { return *m_workflow; }
    const QList<PlannedJob> &jobs() const { return m_jobs; }
    /// Jobs grouped into stages, in file order within a stage.
    QList<QList<const PlannedJob *>> stages() const;
    qsizetype instanceCount() const;

    /// For machines: the whole plan, every instance with its evaluated sandbox.
    QJsonObject toJson() const;
    /// For people: stages, jobs, fan-out and sandboxes, long fan-outs abbreviated.
    QString toText(bool colour) const;

private:
    const Workflow *m_workflow = nullptr;
    QList<PlannedJob> m_jobs;
};

} // namespace Sandflow
