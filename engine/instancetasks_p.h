// Builds the task of one job instance: create its sandbox, run its steps (each with its
// condition, time-out, retries and continue-on-error), publish the job's outputs, delete
// the sandbox. Held by the tasks it builds, so it lives as long as the instance's recipe.
#pragma once

#include "stepplugin.h"
#include "workflowrun_p.h"

#include <QSet>

#include <memory>

namespace Sandflow::Internal {

/// The pool that `--max-sandboxes` limits: one token per live job instance.
inline const QString SandboxPool = QStringLiteral("sandboxes");

/// What every instance of a run shares.
struct RunContext
{
    const Workflow *workflow = nullptr;
    Runner *runner = nullptr;
    const RunOptions *options = nullptr;
    const RunConstants *constants = nullptr;
    WorkflowRun::Publish publish;
    QHash<QString, QString> *sandboxes = nullptr;   ///< live sandbox id -> instance name
    const StepTypeRegistry *stepTypes = nullptr;     ///< the plugins `uses` steps run
    QSet<QString> *names = nullptr;                  ///< job instance names given so far
    QSet<QString> *downloadDirectories = nullptr;    ///< InstanceState::downloadDirectory given so far, lower case
};

/// The steps whose outputs something in the job reads: only theirs are fetched after they
/// ran, which saves a transfer per step for the rest. The same for every instance.
QSet<QString> stepsWithReadOutputs(const Job &job);

class InstanceTasks final : public std::enable_shared_from_this<InstanceTasks>
{
public:
    /// `jobs` gives the results of the jobs this one needs, which have all finished;
    /// `readsOutputs` is stepsWithReadOutputs() of the job, shared by its instances.
    InstanceTasks(const RunContext &run, const PlannedJob &planned, qsizetype index,
                  const QHash<QString, JobState> &jobs, std::shared_ptr<const QSet<QString>> readsOutputs);

    Task build();
    const std::shared_ptr<InstanceState> &state() const { return m_state; }

private:
    Task createTask();
    Task stepTask(int index, bool jobHasGrade);
    Task finishTask();
    Task deleteTask();

    AsyncJob *makeStepJob(const Step &step, int index, const QString &id, int attempt,
                          const std::shared_ptr<QJsonObject> &outputs, const std::shared_ptr<bool> &backgroundStarted,
                          bool continueOnError);
    void followBackground(const Step &step, const QString &id, const QString &stepName, const QString &commandId,
                          const LineSink &lines, bool continueOnError);
    void finishStep(const Step &step, const QString &id, const QString &stepName, TaskOutcome outcome,
                    const std::optional<JobError> &error, int attempts, const QJsonObject &outputs,
                    bool continueOnError);
    void keepReward(const QString &step, const QJsonObject &outputs);
    void addEnvironment(const QString &step, const QJsonObject &added);
    bool conditionHolds(const Step &step, const QString &id, const ConditionState &condition);
    bool continuesOnError(const Setting<bool> &setting);
    std::optional<qint64> evaluateDuration(const Setting<Duration> &setting);

    QString displayName(const PlannedJob &planned) const;
    QString downloadDirectory(const QString &name) const;
    RunEvent event(RunEvent::Type type) const;
    RunEvent startedEvent() const;
    /// Publishes each line a step prints as a LogLine event.
    LineSink logLines(const QString &step) const;
    RunEvent stepEvent(RunEvent::Type type, const QString &step, const QString &stepName) const;

    RunContext m_run;
    const Job &m_job;
    std::shared_ptr<InstanceState> m_state;
    QJsonObject m_env;                 ///< the workflow's and the job's env, evaluated
    std::shared_ptr<const QSet<QString>> m_readsOutputs;   ///< steps whose outputs something reads
};

/// The instance's last task before its sandbox goes: background commands are followed to
/// their end (or stopped), and one that failed fails the instance.
class BackgroundEndJob final : public AsyncJob
{
public:
    explicit BackgroundEndJob(std::shared_ptr<InstanceState> state);

protected:
    void doStart() override;

private:
    void finishWithBackgroundResult();

    std::shared_ptr<InstanceState> m_state;
    int m_pending = 0;
};

} // namespace Sandflow::Internal
