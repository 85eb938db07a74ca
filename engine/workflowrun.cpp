#include "workflowrun.h"

#include "egressdenials_p.h"
#include "instancetasks_p.h"
#include "plan.h"
#include "workflow.h"

#include <QJsonArray>
#include <QProcessEnvironment>

namespace Sandflow {

using namespace Qt::StringLiterals;
using namespace Internal;

namespace Internal {

QString JobState::result() const
{
    if (skipped)
        return u"skipped"_s;
    if (anyFailure)
        return u"failure"_s;
    if (anyCancelled)
        return u"cancelled"_s;
    return u"success"_s;
}

QJsonObject needsContext(const Job &job, const QHash<QString, JobState> &jobs)
{
    QJsonObject needs;
    for (const QString &need : job.needs) {
        const JobState state = jobs.value(need);
        needs.insert(need, QJsonObject{{u"result"_s, state.result()}, {u"outputs"_s, state.outputs}});
    }
    return needs;
}

} // namespace Internal

struct WorkflowRun::Private
{
    WorkflowRun *q;
    const Workflow &workflow;
    RunOptions options;
    Plan plan;
    RunConstants constants;
    QHash<QString, JobState> jobs;
    QHash<QString, QString> sandboxes;
    QSet<QString> names;
    QSet<QString> downloadDirectories;
    StepTypeRegistry stepTypes = StepTypeRegistry::builtin();
    RunContext context;
    QPointer<TaskTreeRunner> tree;
    TaskOutcome outcome = TaskOutcome::Success;
    QDateTime startedAt;

    Private(WorkflowRun *run, const Workflow &w, Runner *runner, RunOptions o, Publish publish)
        : q(run)
        , workflow(w)
        , options(std::move(o))
        , plan(Plan::build(w))
        , constants(runConstants(w, options.secrets, options.runId, options.runDirectory))
    {
        context.workflow = &workflow;
        context.runner = runner;
        context.options = &options;
        context.constants = &constants;
        // Every event goes through the denials, which place theirs among the run's; the
        // instances' tasks hold the publisher, so it lives as long as the last of them.
        context.publish = [denials = std::make_shared<EgressDenials>(runner, std::move(publish))](
                              const RunEvent &event) { denials->publish(event); };
        context.sandboxes = &sandboxes;
        context.stepTypes = &stepTypes;
        context.names = &names;
        context.downloadDirectories = &downloadDirectories;
    }

    RunEvent runEvent(RunEvent::Type type) const
    {
        RunEvent event;
        event.type = type;
        event.time = QDateTime::currentDateTimeUtc();
        event.runId = options.runId;
        return event;
    }

    Task jobTask(const PlannedJob &planned);
    /// A job's strategy setting: its literal, else its expression evaluated with what is
    /// known before the run (vars, secrets, run); std::nullopt when it is not set or
    /// cannot be worked out then (reported as a warning).
    template <typename T>
    std::optional<QJsonValue> jobSetting(const Job &job, const Setting<T> &setting)
    {
        if (setting.literal)
            return QJsonValue(*setting.literal);
        return jobSettingExpression(job, setting.expression);
    }
    std::optional<QJsonValue> jobSettingExpression(const Job &job, const Text &expression);
    bool jobCondition(const Job &job, const ConditionState &condition);
    Task build();
};

// A job's instances run as one fan-out; its own `if` is decided once, when the jobs it
// needs have finished.
Task WorkflowRun::Private::jobTask(const PlannedJob &planned)
{
    const Job &job = *planned.job;
    const PlannedJob *plannedPtr = &planned;
    const auto readsOutputs = std::make_shared<const QSet<QString>>(stepsWithReadOutputs(job));
    Task task = Task::parallelFor(job.id, planned.instanceCount, [this, plannedPtr, readsOutputs](qsizetype index) {
        auto instance = std::make_shared<InstanceTasks>(context, *plannedPtr, index, jobs, readsOutputs);
        const std::shared_ptr<InstanceState> state = instance->state();
        Task built = instance->build();
        // The instance's outcome counts for its job's result and outputs once it ends; a
        // failure absorbed by continue-on-error counts as a success, as in GitHub Actions.
        return built.onFinished([this, state, jobId = plannedPtr->job->id](const TaskResult &result) {
            JobState &job = jobs[jobId];
            const bool failed = result.outcome == TaskOutcome::Failure || result.outcome == TaskOutcome::TimedOut;
            job.anyFailure |= failed && !state->continueOnError;
            job.anyCancelled |= result.outcome == TaskOutcome::Cancelled;
            if (!state->outputs.isEmpty())
                job.outputs = state->outputs;
        });
    });
    if (const std::optional<QJsonValue> limit = jobSetting(job, job.strategy.maxParallel))
        task.withLimit(std::max(1, limit->isString() ? limit->toString().toInt() : limit->toInt()));
    const std::optional<QJsonValue> failFast = jobSetting(job, job.strategy.failFast);
    task.withFailFast(failFast ? settingIsTrue(*failFast) : !job.strategy.hasDataset());
    const Job *jobPtr = &job;
    task.withCondition([this, jobPtr](const ConditionState &condition) { return jobCondition(*jobPtr, condition); });
    // A skipped job never had instances: it is reported once, under its id.
    task.onFinished([this, jobPtr](const TaskResult &result) {
        if (result.outcome != TaskOutcome::Skipped)
            return;
        jobs[jobPtr->id].skipped = true;
        RunEvent skipped = runEvent(RunEvent::Type::JobFinished);
        skipped.job = jobPtr->id;
        skipped.jobId = jobPtr->id;
        skipped.outcome = taskOutcomeName(TaskOutcome::Skipped);
        skipped.conclusion = skipped.outcome;
        context.publish(skipped);
    });
    return task;
}

std::optional<QJsonValue> WorkflowRun::Private::jobSettingExpression(const Job &job, const Text &expression)
{
    if (!expression.isSet)
        return std::nullopt;
    const InstanceScope scope(&constants);
    const EvaluationResult result = expression.value.evaluate(scope);
    if (result.isValue())
        return result.value;
    RunEvent warning = runEvent(RunEvent::Type::Warning);
    warning.jobId = job.id;
    warning.text = u"%1:%2: `%3` cannot be worked out before the run starts; the default applies"_s
                       .arg(expression.pos.line)
                       .arg(expression.pos.column)
                       .arg(expression.source());
    context.publish(warning);
    return std::nullopt;
}

bool WorkflowRun::Private::jobCondition(const Job &job, const ConditionState &condition)
{
    const ExecutionStatus status = condition.cancelled ? ExecutionStatus::Cancelled
        : condition.failed                             ? ExecutionStatus::Failure
                                                       : ExecutionStatus::Success;
    if (!job.condition.isSet)
        return status == ExecutionStatus::Success;
    InstanceScope scope(&constants);
    scope.setStatus(status);
    scope.job.insert(u"id"_s, job.id);
    scope.needs = needsContext(job, jobs);
    const EvaluationResult result = job.condition.value.evaluate(scope);
    if (!result.isValue()) {
        RunEvent warning = runEvent(RunEvent::Type::Warning);
        warning.jobId = job.id;
        warning.text = u"%1:%2: cannot evaluate the `if` of job `%3`: %4"_s.arg(job.condition.pos.line)
                           .arg(job.condition.pos.column)
                           .arg(job.id, result.error.isEmpty() ? u"a value is not known"_s : result.error);
        context.publish(warning);
        return false;
    }
    return Expression::isTruthy(result.value);
}

Task WorkflowRun::Private::build()
{
    QList<Task> children;
    QList<QList<int>> dependencies;
    QHash<QString, int> indexOf;
    for (const PlannedJob &planned : plan.jobs())
        indexOf.insert(planned.job->id, int(indexOf.size()));
    for (const PlannedJob &planned : plan.jobs()) {
        children.append(jobTask(planned));
        QList<int> needs;
        for (const QString &need : planned.job->needs)
            needs.append(indexOf.value(need));
        dependencies.append(needs);
    }
    Task run = Task::graph(u"run"_s, children, dependencies);
    if (options.timeoutMs)
        run.withTimeout(*options.timeoutMs, options.cancelGraceMs);
    return run;
}

WorkflowRun::WorkflowRun(const Workflow &workflow, Runner *runner, RunOptions options, Publish publish,
                         QObject *parent)
    : AsyncJob(parent)
    , d(std::make_unique<Private>(this, workflow, runner, std::move(options), std::move(publish)))
{
}

WorkflowRun::~WorkflowRun() = default;

void WorkflowRun::doStart()
{
    d->startedAt = QDateTime::currentDateTimeUtc();
    RunEvent started = d->runEvent(RunEvent::Type::RunStarted);
    started.text = d->workflow.name;
    QJsonObject jobs;
    for (const PlannedJob &planned : d->plan.jobs())
        jobs.insert(planned.job->id, planned.instanceCount);
    // The order the jobs run in, stage by stage: a JSON object keeps its keys sorted.
    QJsonArray order;
    for (const auto &stage : d->plan.stages()) {
        for (const PlannedJob *planned : stage)
            order.append(planned->job->id);
    }
    started.details = QJsonObject{{u"file"_s, d->workflow.file},
                                  {u"runDirectory"_s, d->options.runDirectory},
                                  {u"jobs"_s, jobs},
                                  {u"order"_s, order}};
    d->context.publish(started);

    d->tree = new TaskTreeRunner(d->build(), this);
    if (d->options.maxSandboxes > 0)
        d->tree->setPoolSize(SandboxPool, d->options.maxSandboxes);
    connect(d->tree, &AsyncJob::finished, this, [this] {
        d->outcome = d->tree->result().outcome;
        RunEvent finished = d->runEvent(RunEvent::Type::RunFinished);
        finished.outcome = taskOutcomeName(d->outcome);
        finished.conclusion = finished.outcome;
        finished.durationMs = d->startedAt.msecsTo(finished.time);
        d->context.publish(finished);
        switch (d->outcome) {
        case TaskOutcome::Success:
        case TaskOutcome::Skipped:
            finish();
            break;
        case TaskOutcome::Cancelled:
            finish(cancelledError());
            break;
        case TaskOutcome::Failure:
            finish(JobError{JobError::Kind::Task, u"RUN_FAILED"_s, u"the run failed"_s, {}});
            break;
        case TaskOutcome::TimedOut:
            finish(JobError{JobError::Kind::Timeout, u"RUN_TIMED_OUT"_s, u"the run ran out of time"_s, {}});
            break;
        }
    });
    d->tree->setAutoDelete(false);
    d->tree->start();
}

void WorkflowRun::doCancel()
{
    if (d->tree)
        d->tree->cancel();
    else
        finish(cancelledError());
}

void WorkflowRun::forceStop()
{
    if (d->tree && !d->tree->isFinished())
        d->tree->forceStop();
    // The run does not wait for these; the program does, before it ends (Runner::isDeleting),
    // so that they finish.
    for (auto it = d->sandboxes.cbegin(); it != d->sandboxes.cend(); ++it)
        d->context.runner->deleteSandbox(it.key())->start();
    d->sandboxes.clear();
}

TaskOutcome WorkflowRun::outcome() const
{
    return d->outcome;
}

QList<std::pair<QString, QString>> WorkflowRun::keptSandboxes() const
{
    QList<std::pair<QString, QString>> kept;
    if (d->options.keepSandboxes) {
        for (auto it = d->sandboxes.cbegin(); it != d->sandboxes.cend(); ++it)
            kept.append({it.key(), it.value()});
    }
    return kept;
}

} // namespace Sandflow
