// The one scheduler: runs a recipe on the event loop, node by node.
#include "tasktree_p.h"

#include "units.h"

namespace Sandflow {

using namespace Qt::StringLiterals;

namespace Internal {

namespace {

bool countsAsFailure(TaskOutcome outcome)
{
    return outcome == TaskOutcome::Failure || outcome == TaskOutcome::TimedOut || outcome == TaskOutcome::Cancelled;
}

bool retryByDefault(const JobError &error)
{
    return error.kind == JobError::Kind::Task || error.kind == JobError::Kind::Infra
        || error.kind == JobError::Kind::Timeout;
}

JobError timeoutError(qint64 timeoutMs)
{
    return JobError{JobError::Kind::Timeout, u"TIMED_OUT"_s, u"timed out after %1"_s.arg(formatDuration(timeoutMs)), {}};
}

} // namespace

void TaskScheduler::emitEvent(TaskEvent::Type type, const QString &path, TaskOutcome outcome, int attempt)
{
    TaskEvent event;
    event.type = type;
    event.path = path;
    event.outcome = outcome;
    event.attempt = attempt;
    emit m_runner->taskEvent(event);
}

bool TaskScheduler::acquire(const QString &pool, TaskRun *waiter)
{
    const auto it = m_free.find(pool);
    if (it == m_free.end())
        return true;
    if (*it > 0) {
        --*it;
        return true;
    }
    m_waiters[pool].append(waiter);
    return false;
}

// A freed token goes straight to the longest waiting task, so nobody can overtake it.
void TaskScheduler::release(const QString &pool)
{
    const auto it = m_free.find(pool);
    if (it == m_free.end())
        return;
    QList<QPointer<TaskRun>> &waiters = m_waiters[pool];
    while (!waiters.isEmpty()) {
        const QPointer<TaskRun> next = waiters.takeFirst();
        if (next) {
            next->startWithToken();
            return;
        }
    }
    ++*it;
}

void TaskScheduler::forgetWaiter(TaskRun *waiter)
{
    for (QList<QPointer<TaskRun>> &waiters : m_waiters)
        waiters.removeAll(waiter);
}

TaskRun::TaskRun(TaskScheduler *scheduler, Task task, QString path, Done done, QObject *parent)
    : QObject(parent)
    , m_scheduler(scheduler)
    , m_task(std::move(task))
    , m_path(std::move(path))
    , m_done(std::move(done))
{
    m_backoff.setSingleShot(true);
    connect(&m_backoff, &QTimer::timeout, this, &TaskRun::startAttempt);
    m_attemptTimeout.setSingleShot(true);
    connect(&m_attemptTimeout, &QTimer::timeout, this, &TaskRun::onAttemptTimeout);
    m_timeout.setSingleShot(true);
    connect(&m_timeout, &QTimer::timeout, this, &TaskRun::onTimeout);
    m_grace.setSingleShot(true);
    connect(&m_grace, &QTimer::timeout, this, [this] { forceStop(); });
}

void TaskRun::begin(const ConditionState &state)
{
    const Task::Condition &condition = node().condition;
    const bool go = condition ? condition(state) : Task::success()(state);
    if (!go) {
        finishWith(TaskOutcome::Skipped, std::nullopt);
        return;
    }
    if (!node().pool.isEmpty() && !m_scheduler->acquire(node().pool, this)) {
        m_waiting = true;
        m_scheduler->emitEvent(TaskEvent::Type::Waiting, m_path);
        return;
    }
    m_holdsToken = !node().pool.isEmpty();
    startNow();
}

void TaskRun::startWithToken()
{
    m_waiting = false;
    m_holdsToken = true;
    startNow();
}

void TaskRun::startNow()
{
    m_started = true;
    ++m_scheduler->running;
    if (node().onStarted)
        node().onStarted();
    if (node().timeoutMs > 0)
        m_timeout.start(int(std::min<qint64>(node().timeoutMs, INT_MAX)));
    if (node().kind == Task::Node::Kind::Job) {
        startAttempt();
        return;
    }
    m_scheduler->emitEvent(TaskEvent::Type::Started, m_path, TaskOutcome::Success, 1);
    if (node().kind != Task::Node::Kind::ParallelFor) {
        m_children.resize(node().children.size());
        for (qsizetype i = 0; i < m_children.size(); ++i)
            m_children[i].continueOnError = node().children.at(i).node()->continueOnError;
    }
    if (node().kind == Task::Node::Kind::Graph) {
        // Every index in range and no cycle, or nothing runs.
        const QList<QList<int>> &deps = node().dependencies;
        bool valid = deps.size() == node().children.size();
        QList<int> state(node().children.size(), 0);   // 0 new, 1 visiting, 2 done
        std::function<bool(int)> acyclic = [&](int i) {
            if (state[i] == 1)
                return false;
            if (state[i] == 2)
                return true;
            state[i] = 1;
            for (int d : deps.value(i)) {
                if (d < 0 || d >= deps.size() || !acyclic(d))
                    return false;
            }
            state[i] = 2;
            return true;
        };
        for (int i = 0; valid && i < deps.size(); ++i)
            valid = acyclic(i);
        if (!valid) {
            finishWith(TaskOutcome::Failure, JobError{JobError::Kind::Invalid, u"TASK_INVALID_GRAPH"_s,
                                                      u"%1: a dependency is out of range or in a cycle"_s.arg(m_path),
                                                      {}});
            return;
        }
    }
    advance();
}

void TaskRun::startAttempt()
{
    ++m_attempt;
    m_scheduler->emitEvent(TaskEvent::Type::Started, m_path, TaskOutcome::Success, m_attempt);
    // Cancelled while starting (from onStarted or a taskEvent receiver): no job to run.
    if (m_cancelling) {
        finishWith(m_timedOut ? TaskOutcome::TimedOut : TaskOutcome::Cancelled, m_result.error);
        return;
    }
    AsyncJob *job = node().factory ? node().factory() : nullptr;
    if (!job) {
        finishWith(TaskOutcome::Failure, JobError{JobError::Kind::Invalid, u"TASK_NO_JOB"_s,
                                                  u"%1: no job to run"_s.arg(m_path), {}});
        return;
    }
    m_job = job;
    job->setAutoDelete(false);
    connect(job, &AsyncJob::finished, this, &TaskRun::onJobFinished);
    // Started before the job, which may finish inside start() and stop it again.
    if (node().attemptTimeoutMs > 0)
        m_attemptTimeout.start(int(std::min<qint64>(node().attemptTimeoutMs, INT_MAX)));
    job->start();
}

void TaskRun::onJobFinished()
{
    AsyncJob *job = m_job;
    m_job = nullptr;
    m_attemptTimeout.stop();
    std::optional<JobError> error = job->error();
    job->deleteLater();
    if (!error) {
        finishWith(TaskOutcome::Success, std::nullopt);
        return;
    }
    // The attempt ended because its time ran out (it was cancelled for that): a failure of
    // its own kind, which the retry policy may accept.
    if (m_attemptTimedOut)
        error = timeoutError(node().attemptTimeoutMs);
    const std::optional<TaskRetry> &retry = node().retry;
    if (!m_cancelling && retry && m_attempt < retry->attempts && error->kind != JobError::Kind::Cancelled
        && (retry->retryOn ? retry->retryOn(*error) : retryByDefault(*error))) {
        m_scheduler->emitEvent(TaskEvent::Type::Retrying, m_path, TaskOutcome::Failure, m_attempt);
        m_attemptTimedOut = false;
        m_grace.stop();
        m_result.error = error;
        const qint64 backoff = retry->backoffMs << std::min(m_attempt - 1, 20);
        m_backoff.start(int(std::min<qint64>(backoff, INT_MAX)));
        return;
    }
    TaskOutcome outcome = TaskOutcome::Failure;
    if (error->kind == JobError::Kind::Cancelled)
        outcome = m_timedOut ? TaskOutcome::TimedOut : TaskOutcome::Cancelled;
    else if (error->kind == JobError::Kind::Timeout || m_timedOut)
        outcome = TaskOutcome::TimedOut;
    finishWith(outcome, error);
}

ConditionState TaskRun::childCondition(qsizetype index) const
{
    ConditionState state;
    state.cancelled = m_cancelling;
    if (node().kind == Task::Node::Kind::Sequence) {
        state.failed = m_failed;
    } else if (node().kind == Task::Node::Kind::Graph) {
        for (int dependency : node().dependencies.at(index))
            state.failed |= m_children.at(dependency).result.outcome != TaskOutcome::Success;
    }
    return state;
}

bool TaskRun::mayStartMore() const
{
    if (node().kind == Task::Node::Kind::Sequence)
        return m_runningChildren == 0;
    return node().limit <= 0 || m_runningChildren < node().limit;
}

// Iterative, with a re-entrancy guard: children that finish while being started call back
// into here, and a long run of them must not grow the stack.
void TaskRun::advance()
{
    if (m_advancing) {
        m_advanceAgain = true;
        return;
    }
    m_advancing = true;
    do {
        m_advanceAgain = false;
        const Task::Node::Kind kind = node().kind;
        const qsizetype total = kind == Task::Node::Kind::ParallelFor ? node().count : m_children.size();
        if (kind == Task::Node::Kind::Graph) {
            for (qsizetype i = 0; i < m_children.size() && mayStartMore(); ++i) {
                if (m_children[i].state != Child::State::Pending)
                    continue;
                const QList<int> &deps = node().dependencies.at(i);
                const bool ready = std::all_of(deps.cbegin(), deps.cend(), [this](int d) {
                    return m_children.at(d).state == Child::State::Done;
                });
                if (ready)
                    startChild(i);
            }
        } else {
            while (m_nextChild < total && mayStartMore() && !m_finished)
                startChild(m_nextChild++);
        }
    } while (m_advanceAgain);
    m_advancing = false;
    finishGroupIfDone();
}

bool TaskRun::startChild(qsizetype index)
{
    const bool fanOut = node().kind == Task::Node::Kind::ParallelFor;
    if (fanOut && m_children.size() <= index)
        m_children.resize(index + 1);
    // After a fail-fast failure nothing new starts.
    if (node().failFast && m_failed && node().kind != Task::Node::Kind::Sequence) {
        m_children[index].state = Child::State::Done;
        m_children[index].result.outcome = TaskOutcome::Skipped;
        // A fan-out's child is not made just to be skipped; a listed one gets its hook.
        if (!fanOut && node().children.at(index).node()->onFinished)
            node().children.at(index).node()->onFinished(m_children[index].result);
        m_scheduler->emitEvent(TaskEvent::Type::Finished, m_path + u"/"_s + (fanOut ? u"%1[%2]"_s.arg(node().name).arg(index)
                                                                                      : node().children.at(index).name()),
                               TaskOutcome::Skipped);
        return false;
    }
    const Task child = fanOut ? node().makeChild(index) : node().children.at(index);
    m_children[index].continueOnError = child.node()->continueOnError;
    m_children[index].state = Child::State::Running;
    ++m_runningChildren;
    auto *run = new TaskRun(m_scheduler, child, m_path + u'/' + child.name(),
                            [this, index](TaskRun *finished) { childFinished(index, finished); }, this);
    m_children[index].run = run;
    run->begin(childCondition(index));
    // Ended while starting (skipped, or an empty group): deleted now rather than on the next
    // turn of the event loop, so that a long run of such children does not pile up.
    if (run->isFinished())
        delete run;
    return true;
}

// The children running now. Cancelling one can end it at once and start the next
// (a clean-up task) or grow m_children, so cancelling loops go over this copy.
QList<QPointer<TaskRun>> TaskRun::runningChildren() const
{
    QList<QPointer<TaskRun>> running;
    for (const Child &child : m_children) {
        if (child.state == Child::State::Running && child.run)
            running.append(child.run);
    }
    return running;
}

void TaskRun::childFinished(qsizetype index, TaskRun *run)
{
    Child &child = m_children[index];
    child.state = Child::State::Done;
    child.result = run->result();
    child.run = nullptr;
    --m_runningChildren;
    run->deleteLater();
    // Being force-stopped: nothing reacts any more, in particular nothing starts.
    if (m_stopping)
        return;
    const TaskOutcome outcome = child.result.outcome;
    if (countsAsFailure(outcome) && !child.continueOnError) {
        const bool first = !m_failed;
        m_failed = true;
        if (first && !m_result.error) {
            m_result.error = child.result.error;
            m_failedPath = run->failedPath();
        }
        // Fail-fast: the first failure cancels what runs; what waits is skipped.
        if (first && node().failFast && node().kind != Task::Node::Kind::Sequence) {
            for (const QPointer<TaskRun> &sibling : runningChildren()) {
                if (sibling)
                    sibling->cancel();
            }
        }
    }
    if (!m_finished)
        advance();
}

void TaskRun::finishGroupIfDone()
{
    if (m_finished || node().kind == Task::Node::Kind::Job || !m_started || m_runningChildren > 0)
        return;
    const qsizetype total = node().kind == Task::Node::Kind::ParallelFor ? node().count : m_children.size();
    const bool allDone = std::all_of(m_children.cbegin(), m_children.cend(),
                                     [](const Child &c) { return c.state == Child::State::Done; });
    if (!allDone || m_children.size() < total)
        return;
    TaskOutcome outcome = TaskOutcome::Success;
    if (m_timedOut)
        outcome = TaskOutcome::TimedOut;
    else if (m_cancelling)
        outcome = TaskOutcome::Cancelled;
    else if (m_failed)
        outcome = TaskOutcome::Failure;
    finishWith(outcome, outcome == TaskOutcome::Success ? std::nullopt : m_result.error);
}

void TaskRun::cancel()
{
    if (m_finished || m_cancelling)
        return;
    m_cancelling = true;
    if (m_waiting) {
        m_scheduler->forgetWaiter(this);
        finishWith(TaskOutcome::Cancelled, std::nullopt);
        return;
    }
    if (node().kind == Task::Node::Kind::Job) {
        if (m_backoff.isActive()) {
            m_backoff.stop();
            finishWith(m_timedOut ? TaskOutcome::TimedOut : TaskOutcome::Cancelled, m_result.error);
        } else if (m_job) {
            m_job->cancel();
        }
        return;
    }
    for (const QPointer<TaskRun> &child : runningChildren()) {
        if (child)
            child->cancel();
    }
    // What has not started yet now meets `cancelled` in its condition.
    advance();
}

void TaskRun::forceStop()
{
    if (m_finished)
        return;
    m_cancelling = true;
    m_stopping = true;
    if (m_waiting)
        m_scheduler->forgetWaiter(this);
    if (m_job) {
        AsyncJob *job = m_job;
        m_job = nullptr;
        job->disconnect(this);
        job->cancel();
        // Abandoned: a job that ignores cancel ends when it will and then deletes itself;
        // destroying it while it runs would break its contract.
        if (job->isFinished())
            job->deleteLater();
        else
            job->setAutoDelete(true);
    }
    for (const QPointer<TaskRun> &child : runningChildren()) {
        if (child)
            child->forceStop();
    }
    // Nothing more starts: what was never reached is skipped without its condition.
    const qsizetype total = node().kind == Task::Node::Kind::ParallelFor ? node().count : m_children.size();
    if (node().kind != Task::Node::Kind::Job) {
        m_children.resize(std::max(m_children.size(), total));
        for (Child &child : m_children) {
            if (child.state == Child::State::Pending) {
                child.state = Child::State::Done;
                child.result.outcome = TaskOutcome::Skipped;
            }
        }
    }
    finishWith(m_timedOut || m_attemptTimedOut ? TaskOutcome::TimedOut : TaskOutcome::Cancelled, m_result.error);
}

void TaskRun::onTimeout()
{
    if (m_finished)
        return;
    m_timedOut = true;
    m_grace.start(int(std::min<qint64>(node().graceMs, INT_MAX)));
    cancel();
}

// Only the attempt is stopped, not the task: onJobFinished decides whether another one runs.
void TaskRun::onAttemptTimeout()
{
    if (m_finished || m_cancelling || !m_job)
        return;
    m_attemptTimedOut = true;
    m_grace.start(int(std::min<qint64>(node().attemptGraceMs, INT_MAX)));
    m_job->cancel();
}

void TaskRun::finishWith(TaskOutcome outcome, std::optional<JobError> error)
{
    if (m_finished)
        return;
    m_finished = true;
    // Its own time ran out: say that, not how the interrupted work happened to end.
    if (outcome == TaskOutcome::TimedOut && m_timedOut)
        error = timeoutError(node().timeoutMs);
    else if (outcome == TaskOutcome::TimedOut && m_attemptTimedOut)
        error = timeoutError(node().attemptTimeoutMs);
    m_timeout.stop();
    m_attemptTimeout.stop();
    m_grace.stop();
    m_backoff.stop();
    if (m_started)
        --m_scheduler->running;
    m_result.outcome = outcome;
    m_result.error = std::move(error);
    m_result.attempts = m_attempt;
    if (countsAsFailure(outcome) && m_failedPath.isEmpty())
        m_failedPath = m_path;
    if (node().onFinished)
        node().onFinished(m_result);
    m_scheduler->emitEvent(TaskEvent::Type::Finished, m_path, outcome);
    // Given back once finished: the next holder starts after this one has ended.
    if (m_holdsToken) {
        m_holdsToken = false;
        m_scheduler->release(node().pool);
    }
    m_done(this);
}

} // namespace Internal

struct TaskTreeRunner::Private
{
    Task root;
    Internal::TaskScheduler scheduler;
    QPointer<Internal::TaskRun> run;
    TaskResult result;

    Private(Task task, TaskTreeRunner *runner) : root(std::move(task)), scheduler(runner) {}
};

TaskTreeRunner::TaskTreeRunner(Task root, QObject *parent)
    : AsyncJob(parent)
    , d(std::make_unique<Private>(std::move(root), this))
{
}

TaskTreeRunner::~TaskTreeRunner() = default;

void TaskTreeRunner::setPoolSize(const QString &pool, int size)
{
    d->scheduler.setPoolSize(pool, size);
}

const TaskResult &TaskTreeRunner::result() const
{
    return d->result;
}

int TaskTreeRunner::runningJobCount() const
{
    return d->scheduler.running;
}

void TaskTreeRunner::doStart()
{
    d->run = new Internal::TaskRun(&d->scheduler, d->root, d->root.name(), [this](Internal::TaskRun *run) {
        d->result = run->result();
        run->deleteLater();
        switch (d->result.outcome) {
        case TaskOutcome::Success:
        case TaskOutcome::Skipped:
            finish();
            return;
        case TaskOutcome::Cancelled:
            finish(cancelledError());
            return;
        case TaskOutcome::Failure:
        case TaskOutcome::TimedOut:
            break;
        }
        const QString why = d->result.error ? d->result.error->message : QString();
        const QString where = run->failedPath().isEmpty() ? d->root.name() : run->failedPath();
        finish(JobError{d->result.outcome == TaskOutcome::TimedOut ? JobError::Kind::Timeout : JobError::Kind::Task,
                        u"TASK_FAILED"_s,
                        why.isEmpty() ? u"%1 failed"_s.arg(where) : u"%1 failed: %2"_s.arg(where, why),
                        {}});
    }, this);
    d->run->begin(ConditionState());
}

void TaskTreeRunner::doCancel()
{
    if (d->run)
        d->run->cancel();
    else
        finish(cancelledError());
}

void TaskTreeRunner::forceStop()
{
    if (d->run)
        d->run->forceStop();
    else if (!isFinished())
        finish(cancelledError());
}

} // namespace Sandflow
