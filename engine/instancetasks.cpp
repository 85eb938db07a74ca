// The task of one job instance: create its sandbox, run its steps, publish its outputs,
// delete its sandbox.
#include "instancetasks_p.h"

#include "names_p.h"
#include "sandboxrequestbuilder_p.h"
#include "steplogwriter.h"
#include "stepshell_p.h"
#include "units.h"

#include <QDir>

#include <cmath>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// Where a `run` step's $SANDFLOW_OUTPUT lives in the sandbox; one file per attempt.
QString outputsPath(int stepIndex, int attempt)
{
    return u"/tmp/.sandflow-output-%1-%2"_s.arg(stepIndex + 1).arg(attempt);
}

/// Where a `run` step's $SANDFLOW_ENV lives in the sandbox; one file per attempt.
QString envFilePath(int stepIndex, int attempt)
{
    return u"/tmp/.sandflow-env-%1-%2"_s.arg(stepIndex + 1).arg(attempt);
}

/// Whether a `run` step comes after step `index`: only such a step sees what $SANDFLOW_ENV adds.
bool runStepFollows(const Job &job, int index)
{
    return std::any_of(job.steps.cbegin() + index + 1, job.steps.cend(),
                       [](const Step &step) { return step.kind == Step::Kind::Run; });
}

/// What `steps.<id>.outcome` reads: a time-out is a failure there, as in GitHub Actions.
QString expressionOutcome(const QString &outcome)
{
    return outcome == u"timed_out"_s ? u"failure"_s : outcome;
}

bool isFailure(TaskOutcome outcome)
{
    return outcome == TaskOutcome::Failure || outcome == TaskOutcome::TimedOut;
}

/// How a step is shown: its name (evaluated when it can be already), else what it does.
QString stepName(const Step &step, const QString &id, const InstanceScope &scope)
{
    if (step.name.isSet) {
        QString error;
        const QString name = scope.text(step.name, &error);
        return error.isEmpty() ? name : step.name.source();
    }
    switch (step.kind) {
    case Step::Kind::Run: return step.run.source().section(u'\n', 0, 0);
    case Step::Kind::Upload: return u"upload %1 to %2"_s.arg(step.from.source(), step.to.source());
    case Step::Kind::Download: return u"download %1 to %2"_s.arg(step.from.source(), step.to.source());
    case Step::Kind::Write: return u"write %1"_s.arg(step.path.source());
    case Step::Kind::Uses: return u"uses %1"_s.arg(step.uses);
    }
    return id;
}


} // namespace

QSet<QString> stepsWithReadOutputs(const Job &job)
{
    QList<const Text *> texts;
    for (const TextEntry &entry : job.outputs)
        texts.append(&entry.value);
    for (const Step &step : job.steps) {
        for (const Text *text : {&step.name, &step.condition, &step.cwd, &step.run, &step.from, &step.to, &step.path,
                                 &step.content, &step.mode, &step.user, &step.shell})
            texts.append(text);
        for (const TextMap *map : {&step.env, &step.with}) {
            for (const TextEntry &entry : *map)
                texts.append(&entry.value);
        }
    }
    QSet<QString> ids;
    for (const Text *text : std::as_const(texts)) {
        for (const Template::Segment &segment : text->value.segments()) {
            if (!segment.expression.isValid())
                continue;
            for (const ExpressionReference &reference : segment.expression.references()) {
                if (reference.context == u"steps"_s && !reference.path.isEmpty()
                    && (reference.path.size() < 2 || reference.path.at(1) == u"outputs"_s))
                    ids.insert(reference.path.first());
            }
        }
    }
    return ids;
}

RunEvent InstanceTasks::event(RunEvent::Type type) const
{
    RunEvent event;
    event.type = type;
    event.time = QDateTime::currentDateTimeUtc();
    event.runId = m_run.options->runId;
    event.job = m_state->name;
    event.jobId = m_state->jobId;
    event.instance = m_state->index;
    return event;
}

// What the instance is, beside its name: its task's id and its matrix values, so that
// reports can be read by task and combination without parsing names.
RunEvent InstanceTasks::startedEvent() const
{
    RunEvent started = event(RunEvent::Type::JobStarted);
    const InstanceScope &scope = m_state->scope;
    if (scope.task.contains(u"id"_s))
        started.details.insert(u"task"_s, scope.task.value(u"id"_s));
    if (!scope.matrix.isEmpty())
        started.details.insert(u"matrix"_s, scope.matrix);
    return started;
}

RunEvent InstanceTasks::stepEvent(RunEvent::Type type, const QString &step, const QString &stepName) const
{
    RunEvent e = event(type);
    e.step = step;
    e.stepName = stepName;
    return e;
}

InstanceTasks::InstanceTasks(const RunContext &run, const PlannedJob &planned, qsizetype index,
                             const QHash<QString, JobState> &jobs,
                             std::shared_ptr<const QSet<QString>> readsOutputs)
    : m_run(run)
    , m_job(*planned.job)
    , m_state(std::make_shared<InstanceState>(run.constants))
    , m_readsOutputs(std::move(readsOutputs))
{
    const JobInstance instance = planned.instance(index);
    m_state->jobId = m_job.id;
    m_state->index = index;
    InstanceScope &scope = m_state->scope;
    if (instance.combination >= 0)
        scope.matrix = planned.combinations.at(instance.combination);
    if (instance.row >= 0)
        scope.task = m_job.strategy.dataset.row(instance.row);
    scope.needs = needsContext(m_job, jobs);
    m_state->name = displayName(planned);
    if (m_job.strategy.hasMatrix() || m_job.strategy.hasDataset())
        m_state->downloadDirectory = downloadDirectory(m_state->name);
    scope.job = QJsonObject{{u"id"_s, m_job.id}, {u"name"_s, m_state->name}};
    scope.setStatus(ExecutionStatus::Success);
    QJsonObject env;
    if (scope.textMap(m_run.workflow->env, &env, &m_state->setupError, true))
        scope.textMap(m_job.env, &env, &m_state->setupError, true);
    m_env = env;
}

// The instances of a fanned-out job download the same relative paths: each into a directory
// of its own, named after it as its logs' directory is, so that none overwrites another's.
QString InstanceTasks::downloadDirectory(const QString &name) const
{
    const QString base = StepLogWriter::safeFileName(name);
    QString directory = base;
    for (int n = 2; m_run.downloadDirectories->contains(directory.toLower()); ++n)
        directory = u"%1~%2"_s.arg(base).arg(n);
    m_run.downloadDirectories->insert(directory.toLower());
    return directory;
}

// The job's `name` as the instance evaluates it, under the naming rule the plan shares.
QString InstanceTasks::displayName(const PlannedJob &planned) const
{
    QString evaluated;
    if (m_job.name.isSet) {
        QString error;
        evaluated = m_state->scope.text(m_job.name, &error).simplified();
        if (!error.isEmpty())
            evaluated.clear();
    }
    return planned.uniqueInstanceName(evaluated, m_state->index, m_run.names);
}

Task InstanceTasks::build()
{
    QList<Task> children = {createTask()};
    const bool hasGrade = std::any_of(m_job.steps.cbegin(), m_job.steps.cend(), [](const Step &s) { return s.grade; });
    for (int i = 0; i < m_job.steps.size(); ++i)
        children.append(stepTask(i, hasGrade));
    children.append(finishTask());
    children.append(deleteTask());

    m_state->continueOnError = continuesOnError(m_job.continueOnError);
    const std::shared_ptr<InstanceState> state = m_state;
    const RunContext run = m_run;
    auto startedAt = std::make_shared<QDateTime>();
    Task task = Task::sequence(m_state->name, children)
                    .onStarted([startedEvent = startedEvent(), run, startedAt]() mutable {
                        *startedAt = QDateTime::currentDateTimeUtc();
                        startedEvent.time = *startedAt;
                        run.publish(startedEvent);
                    })
                    .onFinished([finishedEvent = event(RunEvent::Type::JobFinished), run, state,
                                 startedAt](const TaskResult &result) mutable {
                        finishedEvent.time = QDateTime::currentDateTimeUtc();
                        finishedEvent.outcome = taskOutcomeName(result.outcome);
                        finishedEvent.conclusion = state->continueOnError && isFailure(result.outcome)
                            ? u"success"_s
                            : finishedEvent.outcome;
                        if (startedAt->isValid())
                            finishedEvent.durationMs = startedAt->msecsTo(finishedEvent.time);
                        if (!state->outputs.isEmpty())
                            finishedEvent.details.insert(u"outputs"_s, state->outputs);
                        if (state->reward)
                            finishedEvent.details.insert(u"reward"_s, *state->reward);
                        if (result.error && result.outcome != TaskOutcome::Success)
                            finishedEvent.text = result.error->message;
                        run.publish(finishedEvent);
                    });
    // Per instance, so that fail-fast and the job's result leave out the failures it absorbs.
    if (m_state->continueOnError)
        task.withContinueOnError();
    if (m_run.options->maxSandboxes > 0)
        task.withPool(SandboxPool);
    if (const std::optional<qint64> timeout = evaluateDuration(m_job.timeout))
        task.withTimeout(*timeout, m_run.options->cancelGraceMs);
    return task;
}

LineSink InstanceTasks::logLines(const QString &step) const
{
    return [run = m_run, line = stepEvent(RunEvent::Type::LogLine, step, QString())](CommandJob::Stream stream,
                                                                                     const QString &text) mutable {
        line.time = QDateTime::currentDateTimeUtc();
        line.stream = stream == CommandJob::Stream::Stdout ? u"stdout"_s : u"stderr"_s;
        line.text = text;
        run.publish(line);
    };
}

Task InstanceTasks::createTask()
{
    const std::shared_ptr<InstanceTasks> self = shared_from_this();
    const std::shared_ptr<InstanceState> state = m_state;
    const RunContext run = m_run;
    const Job *job = &m_job;
    return Task::job(u"create"_s, [self, state, run, job]() -> AsyncJob * {
        if (!state->setupError.isEmpty())
            return new FinishedJob(JobError{JobError::Kind::Invalid, u"INVALID_JOB"_s, state->setupError, {}});
        SandboxRequest request;
        QString error;
        if (!buildSandboxRequest(*run.workflow, job->sandbox, state->scope, &request, &error))
            return new FinishedJob(JobError{JobError::Kind::Invalid, u"INVALID_SANDBOX"_s, error, {}});
        request.metadata.insert(u"sandflow.run-id"_s, run.options->runId);
        request.metadata.insert(u"sandflow.job"_s, state->jobId);
        SandboxJob *create = run.runner->createSandbox(request);
        QObject::connect(create, &AsyncJob::finished, create, [self, state, run, create] {
            if (create->error())
                return;
            state->sandboxId = create->result().id;
            run.sandboxes->insert(state->sandboxId, state->name);
            RunEvent created = self->event(RunEvent::Type::SandboxCreated);
            created.sandboxId = state->sandboxId;
            run.publish(created);
        });
        return create;
    });
}

// An expression that does not give a duration is reported and means no time-out.
std::optional<qint64> InstanceTasks::evaluateDuration(const Setting<Duration> &setting)
{
    if (setting.literal)
        return setting.literal;
    if (!setting.expression.isSet)
        return std::nullopt;
    QString error;
    const QString text = m_state->scope.text(setting.expression, &error);
    const std::optional<qint64> duration = error.isEmpty() ? parseDuration(text) : std::nullopt;
    if (!duration) {
        RunEvent warning = event(RunEvent::Type::Warning);
        warning.text = u"%1:%2: `%3` is not a duration; no time-out applies"_s.arg(setting.expression.pos.line)
                           .arg(setting.expression.pos.column)
                           .arg(error.isEmpty() ? text : error);
        m_run.publish(warning);
    }
    return duration;
}

// A continue-on-error, the job's or a step's, for this instance: it may read its matrix,
// task and needs. As in GitHub Actions the text "false" is false. A value that cannot be
// worked out is reported and counts as false.
bool InstanceTasks::continuesOnError(const Setting<bool> &setting)
{
    if (setting.literal)
        return *setting.literal;
    if (!setting.expression.isSet)
        return false;
    m_state->scope.env = m_env;
    const EvaluationResult result = setting.expression.value.evaluate(m_state->scope);
    if (result.isValue())
        return settingIsTrue(result.value);
    RunEvent warning = event(RunEvent::Type::Warning);
    warning.text = u"%1:%2: cannot evaluate `continue-on-error`: %3; it counts as false"_s
                       .arg(setting.expression.pos.line)
                       .arg(setting.expression.pos.column)
                       .arg(result.error.isEmpty() ? u"a value is not known"_s : result.error);
    m_run.publish(warning);
    return false;
}

Task InstanceTasks::stepTask(int index, bool jobHasGrade)
{
    const Step &step = m_job.steps.at(index);
    const QString id = step.displayId(index);
    const bool continueOnError = continuesOnError(step.continueOnError);
    const QString stepName = Internal::stepName(step, id, m_state->scope);
    const Step *stepPtr = &step;
    auto outputs = std::make_shared<QJsonObject>();
    auto backgroundStarted = std::make_shared<bool>(false);

    const std::shared_ptr<InstanceTasks> self = shared_from_this();
    Task task = Task::job(id, [self, stepPtr, index, id, stepName, outputs, backgroundStarted,
                               continueOnError]() -> AsyncJob * {
        const int attempt = ++self->m_state->attempts[id];
        RunEvent started = self->stepEvent(RunEvent::Type::StepStarted, id, stepName);
        started.attempt = attempt;
        if (attempt == 1)
            self->m_state->stepStartedAt.insert(id, started.time);
        self->m_run.publish(started);
        return self->makeStepJob(*stepPtr, index, id, attempt, outputs, backgroundStarted, continueOnError);
    });
    task.withCondition([self, stepPtr, id](const ConditionState &condition) {
        return self->conditionHolds(*stepPtr, id, condition);
    });

    // A step's timeout limits each attempt, so that an attempt that hung can be retried.
    if (const std::optional<qint64> timeout = evaluateDuration(step.timeout))
        task.withAttemptTimeout(*timeout, m_run.options->cancelGraceMs);
    if (step.retry.attempts > 1) {
        TaskRetry retry;
        retry.attempts = step.retry.attempts;
        retry.backoffMs = step.retry.backoff;
        const QList<int> exitCodes = step.retry.exitCodes;
        const bool onInfra = step.retry.onInfra;
        const qint64 backoff = step.retry.backoff;
        // Asked only when attempts are left: a yes is the moment the retry is decided.
        // Without `on`, every failure is retried, a timed-out attempt too; an `on` list names
        // exit statuses and `infra`, which a time-out is neither.
        retry.retryOn = [self, id, stepName, exitCodes, onInfra, backoff](const JobError &error) {
            bool retried = error.kind == JobError::Kind::Task || error.kind == JobError::Kind::Infra
                || error.kind == JobError::Kind::Timeout;
            if (!exitCodes.isEmpty() || onInfra) {
                retried = error.kind == JobError::Kind::Infra
                    ? onInfra
                    : error.kind == JobError::Kind::Task
                        && exitCodes.contains(error.context.value(u"exitCode"_s).toInt(-1));
            }
            if (retried) {
                const int attempt = self->m_state->attempts.value(id);
                RunEvent retrying = self->stepEvent(RunEvent::Type::StepRetrying, id, stepName);
                retrying.attempt = attempt;
                retrying.text = error.message;
                retrying.details.insert(u"backoffMs"_s, backoff << std::min(attempt - 1, 20));
                self->m_run.publish(retrying);
            }
            return retried;
        };
        task.withRetry(retry);
    }
    // With a grade step, only the grade decides the instance; the others still say what
    // happened to them.
    if (continueOnError || (jobHasGrade && !step.grade))
        task.withContinueOnError();

    task.onFinished([self, id, stepName, stepPtr, outputs, backgroundStarted, continueOnError](const TaskResult &result) {
        if (*backgroundStarted)
            return;   // its BackgroundStep reports it when the command ends
        self->finishStep(*stepPtr, id, stepName, result.outcome, result.error, result.attempts, *outputs,
                         continueOnError);
    });
    return task;
}

bool InstanceTasks::conditionHolds(const Step &step, const QString &id, const ConditionState &condition)
{
    if (m_state->sandboxId.isEmpty())
        return false;   // no sandbox: nothing can run, not even clean-up steps
    const ExecutionStatus status = condition.cancelled ? ExecutionStatus::Cancelled
        : m_state->failed                              ? ExecutionStatus::Failure
                                                       : ExecutionStatus::Success;
    m_state->scope.setStatus(status);
    if (!step.condition.isSet)
        return step.grade ? status != ExecutionStatus::Cancelled : status == ExecutionStatus::Success;
    m_state->scope.env = m_env;
    const EvaluationResult result = step.condition.value.evaluate(m_state->scope);
    if (!result.isValue()) {
        RunEvent warning = stepEvent(RunEvent::Type::Warning, id, QString());
        warning.text = u"%1:%2: cannot evaluate `if`: %3"_s.arg(step.condition.pos.line)
                           .arg(step.condition.pos.column)
                           .arg(result.error.isEmpty() ? u"a value is not known"_s : result.error);
        m_run.publish(warning);
        return false;
    }
    return Expression::isTruthy(result.value);
}

void InstanceTasks::finishStep(const Step &step, const QString &id, const QString &stepName, TaskOutcome outcome,
                               const std::optional<JobError> &error, int attempts, const QJsonObject &outputs,
                               bool continueOnError)
{
    const QString outcomeName = taskOutcomeName(outcome);
    const QString conclusion = continueOnError && isFailure(outcome) ? u"success"_s : outcomeName;
    if (conclusion == u"failure"_s || conclusion == u"timed_out"_s)
        m_state->failed = true;
    if (!step.id.isEmpty()) {
        m_state->scope.steps.insert(step.id, QJsonObject{{u"outputs"_s, outputs},
                                                         {u"outcome"_s, expressionOutcome(outcomeName)},
                                                         {u"conclusion"_s, expressionOutcome(conclusion)}});
    }
    if (step.grade)
        keepReward(id, outputs);
    RunEvent finished = stepEvent(RunEvent::Type::StepFinished, id, stepName);
    finished.outcome = outcomeName;
    finished.conclusion = conclusion;
    finished.attempt = attempts;
    if (m_state->stepStartedAt.contains(id))
        finished.durationMs = m_state->stepStartedAt.value(id).msecsTo(finished.time);
    if (error && outcome != TaskOutcome::Success)
        finished.text = error->message;
    if (!outputs.isEmpty())
        finished.details.insert(u"outputs"_s, outputs);
    m_run.publish(finished);
}

// What a step wrote to $SANDFLOW_ENV is the environment of the later steps, as $GITHUB_ENV
// is. A name a shell cannot export, or one of the runner's own, is refused with a warning.
void InstanceTasks::addEnvironment(const QString &step, const QJsonObject &added)
{
    for (auto it = added.constBegin(); it != added.constEnd(); ++it) {
        const QString &name = it.key();
        if (isValidName(name, NameKind::EnvironmentVariable) && !name.startsWith(u"SANDFLOW_"_s)) {
            m_state->addedEnv.insert(name, it.value());
            continue;
        }
        RunEvent warning = stepEvent(RunEvent::Type::Warning, step, QString());
        warning.text = u"$SANDFLOW_ENV: `%1` is not a variable a step may set; it is left out"_s.arg(name);
        m_run.publish(warning);
    }
}

// The grade step's `reward=` is the task's reward. One that is not a number is reported,
// not kept: a report that averaged it as 0 would be wrong without saying so.
void InstanceTasks::keepReward(const QString &step, const QJsonObject &outputs)
{
    if (!outputs.contains(u"reward"_s))
        return;
    const QString text = outputs.value(u"reward"_s).toString().trimmed();
    bool ok = false;
    const double reward = text.toDouble(&ok);
    if (ok && std::isfinite(reward)) {
        m_state->reward = reward;
        return;
    }
    RunEvent warning = stepEvent(RunEvent::Type::Warning, step, QString());
    warning.text = u"the grade step's reward `%1` is not a number; the task has no reward"_s.arg(text);
    m_run.publish(warning);
}

AsyncJob *InstanceTasks::makeStepJob(const Step &step, int index, const QString &id, int attempt,
                                     const std::shared_ptr<QJsonObject> &outputs,
                                     const std::shared_ptr<bool> &backgroundStarted, bool continueOnError)
{
    const QJsonObject &jobEnv = m_env;
    InstanceScope &scope = m_state->scope;
    scope.env = jobEnv;
    QString error;
    QJsonObject stepEnv;
    scope.textMap(step.env, &stepEnv, &error, true);
    const auto invalid = [](const QString &message) {
        return new FinishedJob(JobError{JobError::Kind::Invalid, u"INVALID_STEP"_s, message, {}});
    };
    if (!error.isEmpty())
        return invalid(error);

    const QString sandbox = m_state->sandboxId;
    switch (step.kind) {
    case Step::Kind::Run: {
        const QString script = scope.text(step.run, &error);
        const QString shell = scope.text(step.shell, &error);
        const QString cwd = scope.text(step.cwd, &error);
        const QString user = scope.text(step.user, &error);
        if (!error.isEmpty())
            return invalid(error);
        CommandRequest request;
        request.command = stepShellCommand(shell, script);
        if (request.command.isEmpty())
            return invalid(u"`shell: %1` has no `{0}` for the script file"_s.arg(shell));
        // From lowest to highest precedence: CI=true (as CI systems set it, for scripts that
        // check it), the workflow's and job's env, what earlier steps added, the step's env.
        request.env.insert(u"CI"_s, u"true"_s);
        for (const QJsonObject *env : {&jobEnv, &std::as_const(m_state->addedEnv), &std::as_const(stepEnv)}) {
            for (auto it = env->constBegin(); it != env->constEnd(); ++it)
                request.env.insert(it.key(), it.value().toString());
        }
        const QString outputFile = outputsPath(index, attempt);
        request.env.insert(u"SANDFLOW_OUTPUT"_s, outputFile);
        const QString envFile = envFilePath(index, attempt);
        request.env.insert(u"SANDFLOW_ENV"_s, envFile);
        request.cwd = cwd;
        if (!user.isEmpty()) {
            bool numeric = false;
            const uint uid = user.toUInt(&numeric);
            if (!numeric)
                return invalid(u"`user: %1`: give the user as a number (names are not supported yet)"_s.arg(user));
            request.uid = uid;
        }
        const LineSink lines = logLines(id);
        if (step.background) {
            request.background = true;
            CommandJob *command = m_run.runner->runCommand(sandbox, request);
            const std::shared_ptr<InstanceTasks> self = shared_from_this();
            QObject::connect(command, &AsyncJob::finished, command,
                             [self, command, lines, backgroundStarted, &step, id, continueOnError] {
                                 if (command->error())
                                     return;
                                 *backgroundStarted = true;
                                 self->followBackground(step, id, stepName(step, id, self->m_state->scope),
                                                        command->commandId(), lines,
                                                        continueOnError);
                             });
            return command;
        }
        StepFiles files;
        if (m_readsOutputs->contains(id) || step.grade)
            files.outputs = outputFile;
        if (runStepFollows(m_job, index))
            files.env = envFile;
        auto *job = new CommandStepJob(m_run.runner, sandbox, request, lines, files);
        const std::shared_ptr<InstanceTasks> self = shared_from_this();
        QObject::connect(job, &AsyncJob::finished, job, [self, job, outputs, id] {
            *outputs = job->outputs();
            self->addEnvironment(id, job->addedEnv());
        });
        return job;
    }
    case Step::Kind::Write: {
        const QString path = scope.text(step.path, &error);
        const QString content = scope.text(step.content, &error);
        const QString mode = step.mode.isSet ? scope.text(step.mode, &error) : u"0644"_s;
        if (!error.isEmpty())
            return invalid(error);
        bool ok = false;
        const int bits = mode.toInt(&ok, 8);
        if (!ok)
            return invalid(u"`mode: %1` is not octal"_s.arg(mode));
        return new UploadStepJob(m_run.runner, sandbox, content.toUtf8(), path, bits);
    }
    case Step::Kind::Upload: {
        const QString from = QDir(m_run.workflow->baseDirectory).absoluteFilePath(scope.text(step.from, &error));
        const QString to = scope.text(step.to, &error);
        if (!error.isEmpty())
            return invalid(error);
        return new UploadStepJob(m_run.runner, sandbox, from, to);
    }
    case Step::Kind::Download: {
        const QString from = scope.text(step.from, &error);
        const QDir runDirectory(m_run.options->runDirectory);
        const QString to = QDir(runDirectory.filePath(m_state->downloadDirectory)).absoluteFilePath(scope.text(step.to, &error));
        if (!error.isEmpty())
            return invalid(error);
        return new DownloadStepJob(m_run.runner, sandbox, from, to);
    }
    case Step::Kind::Uses: {
        StepPlugin *plugin = m_run.stepTypes ? m_run.stepTypes->plugin(step.uses) : nullptr;
        if (!plugin)
            return invalid(u"no plugin provides the step type `%1`"_s.arg(step.uses));
        StepContext context;
        context.runner = m_run.runner;
        context.sandboxId = sandbox;
        context.stepType = step.uses;
        if (!scope.textMap(step.with, &context.inputs, &error))
            return invalid(error);
        context.log = [lines = logLines(id)](const QString &line) { lines(CommandJob::Stream::Stdout, line); };
        return plugin->createJob(context);
    }
    }
    return invalid(u"unknown step kind"_s);
}

void InstanceTasks::followBackground(const Step &step, const QString &id, const QString &stepName,
                                     const QString &commandId, const LineSink &lines, bool continueOnError)
{
    auto *follower = new BackgroundStep(m_run.runner, m_state->sandboxId, commandId, lines, nullptr);
    m_state->background.append(follower);
    const std::shared_ptr<InstanceTasks> self = shared_from_this();
    QObject::connect(follower, &BackgroundStep::ended, follower,
                     [self, follower, &step, id, stepName, continueOnError](std::optional<int> exitCode) {
                         const bool failed = exitCode && *exitCode != 0;
                         if (failed && !continueOnError)
                             self->m_state->backgroundFailed = true;
                         const std::optional<JobError> error = failed
                             ? std::optional<JobError>(JobError{JobError::Kind::Task, u"COMMAND_FAILED"_s,
                                                                u"exit status %1"_s.arg(*exitCode), {}})
                             : std::nullopt;
                         self->finishStep(step, id, stepName, failed ? TaskOutcome::Failure : TaskOutcome::Success,
                                          error, 1, {}, continueOnError);
                         follower->deleteLater();
                     });
}

Task InstanceTasks::finishTask()
{
    const std::shared_ptr<InstanceState> state = m_state;
    const Job *job = &m_job;
    return Task::job(u"outputs"_s, [state, job]() -> AsyncJob * {
        auto *done = new BackgroundEndJob(state);
        QString error;
        QJsonObject outputs;
        if (state->scope.textMap(job->outputs, &outputs, &error))
            state->outputs = outputs;
        return done;
    }).withCondition([state](const ConditionState &) { return !state->sandboxId.isEmpty(); });
}

Task InstanceTasks::deleteTask()
{
    const std::shared_ptr<InstanceTasks> self = shared_from_this();
    const std::shared_ptr<InstanceState> state = m_state;
    const RunContext run = m_run;
    return Task::job(u"delete"_s, [self, state, run]() -> AsyncJob * {
        RunEvent deleted = self->event(RunEvent::Type::SandboxDeleted);
        deleted.sandboxId = state->sandboxId;
        if (run.options->keepSandboxes) {
            deleted.details.insert(u"kept"_s, true);
            run.publish(deleted);
            return new FinishedJob(std::nullopt);
        }
        AsyncJob *removal = run.runner->deleteSandbox(state->sandboxId);
        QObject::connect(removal, &AsyncJob::finished, removal, [run, deleted]() mutable {
            run.sandboxes->remove(deleted.sandboxId);
            deleted.time = QDateTime::currentDateTimeUtc();
            run.publish(deleted);
        });
        return removal;
    }).withCondition([state](const ConditionState &) { return !state->sandboxId.isEmpty(); });
}

BackgroundEndJob::BackgroundEndJob(std::shared_ptr<InstanceState> state) : m_state(std::move(state)) {}

void BackgroundEndJob::doStart()
{
    for (const QPointer<BackgroundStep> &step : std::as_const(m_state->background)) {
        if (!step)
            continue;
        ++m_pending;
        connect(step, &BackgroundStep::ended, this, [this] {
            if (--m_pending == 0)
                finishWithBackgroundResult();
        });
        step->stop();
    }
    if (m_pending == 0)
        finishWithBackgroundResult();
}

// A background command that failed fails its instance, unless it may fail.
void BackgroundEndJob::finishWithBackgroundResult()
{
    finish(m_state->backgroundFailed ? std::optional<JobError>(JobError{JobError::Kind::Task, u"STEP_FAILED"_s,
                                                              u"a step failed"_s, {}})
                           : std::nullopt);
}

} // namespace Sandflow::Internal
