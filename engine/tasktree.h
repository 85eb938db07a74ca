// Orchestration as data: a run is a tree of tasks whose leaves are AsyncJobs and whose
// groups say how their children run (in order, in parallel, or as a dependency graph),
// with limits, fail-fast, conditions, retries and timeouts. One scheduler, TaskTreeRunner,
// runs every tree, so these policies live in one place and not in each step type.
//
//   Task build = Task::sequence(u"build"_s, {
//       Task::job(u"create"_s, [&] { return runner->createSandbox(request); }),
//       Task::job(u"test"_s, [&] { return runner->runCommand(id, command); })
//           .withRetry({3, 1000, [](const JobError &e) { return e.kind == JobError::Kind::Infra; }}),
//       Task::job(u"delete"_s, [&] { return runner->deleteSandbox(id); }).withCondition(Task::always()),
//   });
//   TaskTreeRunner tree(build);
//   connect(&tree, &TaskTreeRunner::finished, ...);
//   tree.start();
//
// Tests compare the ordered log of TaskEvents a recipe produces with the expected one.
#pragma once

#include "asyncjob.h"

#include <QList>
#include <QMap>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

namespace Sandflow {

/// How a task ended.
enum class TaskOutcome {
    Success,     ///< it (or every child that counts) succeeded
    Failure,     ///< its job failed, or a child that counts did
    Cancelled,   ///< the tree or a fail-fast sibling stopped it
    Skipped,     ///< its condition said no; it never started
    TimedOut,    ///< its own timeout ran out
};
QString taskOutcomeName(TaskOutcome outcome);   ///< success, failure, cancelled, skipped, timed_out

/// What a condition knows when its task is about to start.
struct ConditionState
{
    /// In a sequence: an earlier sibling failed (and did not continue on error). In a graph:
    /// a dependency did not succeed (failed, was cancelled, skipped or timed out).
    bool failed = false;
    /// The run is being cancelled (TaskTreeRunner::cancel, or a fail-fast sibling failed).
    bool cancelled = false;
};

/// How a task ended, for onFinished hooks and parents.
struct TaskResult
{
    TaskOutcome outcome = TaskOutcome::Success;
    std::optional<JobError> error;   ///< the last attempt's error, for Failure/TimedOut/Cancelled
    int attempts = 0;                ///< jobs: how many times it ran
};

struct TaskRetry;

/// A node of a recipe. Cheap to copy (shared inside); a recipe can be run any number of times.
class Task
{
public:
    /// Creates the job to run; called each time the task (or an attempt of it) starts. The
    /// scheduler starts the job, owns it, and deletes it when it has finished.
    using JobFactory = std::function<AsyncJob *()>;
    using Condition = std::function<bool(const ConditionState &)>;
    /// Makes child `index` of a fan-out when it is about to start; children exist only while
    /// they run, so a fan-out of 10,000 costs memory for the running ones only.
    using ChildFactory = std::function<Task(qsizetype index)>;

    /// A leaf: one job.
    static Task job(const QString &name, JobFactory factory);
    /// Children one after another. After a child fails (and does not continue on error) the
    /// rest only start if their condition accepts `failed`; by default they are skipped.
    static Task sequence(const QString &name, QList<Task> children);
    /// Children at the same time (up to the limit), in order of the list.
    static Task parallel(const QString &name, QList<Task> children);
    /// `count` children made on demand, run like `parallel`.
    static Task parallelFor(const QString &name, qsizetype count, ChildFactory makeChild);
    /// Children that start once every child they depend on has finished: `dependencies[i]`
    /// lists the indexes child i waits for (earlier or later in the list; no cycles).
    /// A child whose dependency did not succeed sees `failed` in its condition, so by
    /// default it is skipped.
    static Task graph(const QString &name, QList<Task> children, QList<QList<int>> dependencies);

    /// The default condition: start unless something failed or the run is being cancelled
    /// (GitHub Actions' `success()`).
    static Condition success();
    /// Start even after a failure or during cancellation (`always()`); for clean-up.
    static Condition always();
    /// Start only after a failure, not during cancellation (`failure()`).
    static Condition failure();

    /// Parallel groups and fan-outs: at most `limit` children at once (0: no limit).
    Task &withLimit(int limit);
    /// Parallel groups and fan-outs: the first failing child cancels the running ones and
    /// the rest are skipped (default: off).
    Task &withFailFast(bool failFast = true);
    /// Checked when the task is about to start; false gives Skipped.
    Task &withCondition(Condition condition);
    /// When its time runs out the task is cancelled (its jobs get cancel(), the graceful
    /// interrupt); if it has not finished `graceMs` later it is abandoned. Either way its
    /// outcome is TimedOut. For a job with retries this is the limit of all attempts and
    /// back-offs together; see withAttemptTimeout for a limit of each attempt.
    Task &withTimeout(qint64 timeoutMs, qint64 graceMs = 5000);
    /// Jobs: each attempt may run `timeoutMs`. When that runs out the attempt's job gets
    /// cancel() and the attempt fails with a Timeout error, which the retry policy may retry
    /// like any other failure; not retried, the task ends TimedOut. A job still running
    /// `graceMs` after the cancel is abandoned, and the task ends TimedOut without retrying.
    Task &withAttemptTimeout(qint64 timeoutMs, qint64 graceMs = 5000);
    /// Jobs: failed attempts that `retry.retryOn` accepts are run again after a back-off.
    Task &withRetry(const TaskRetry &retry);
    /// A failure (or time-out) of this task does not fail its parent; the task's own outcome
    /// still says what happened.
    Task &withContinueOnError(bool continueOnError = true);
    /// The task holds one token of the named pool (TaskTreeRunner::setPoolSize) from
    /// before it starts until it has finished; it waits for a free one first.
    Task &withPool(const QString &pool);
    /// Called when the task starts (not when it is skipped). Hooks add up: each one given
    /// is called, in the order they were given.
    Task &onStarted(std::function<void()> hook);
    /// Called once when the task has ended, whatever the outcome (also Skipped), before its
    /// parent goes on. Hooks add up, like onStarted's.
    Task &onFinished(std::function<void(const TaskResult &)> hook);

    const QString &name() const;

    struct Node;   ///< the scheduler's view; defined in tasktree_p.h
    const std::shared_ptr<Node> &node() const { return m_node; }

private:
    explicit Task(std::shared_ptr<Node> node);
    Task &detach();   ///< copy on write: recipes are values

    std::shared_ptr<Node> m_node;
};

/// Retries of a job: `attempts` in all, waiting `backoffMs` before the second and twice as
/// long before each one after it.
struct TaskRetry
{
    int attempts = 1;
    qint64 backoffMs = 1000;
    /// Which failures to retry; default: every Task, Infra or Timeout failure (the last
    /// being an attempt that ran out of its withAttemptTimeout).
    std::function<bool(const JobError &)> retryOn;
};

/// One entry of a run's ordered log.
struct TaskEvent
{
    enum class Type {
        Started,     ///< a task started (jobs: each attempt)
        Waiting,     ///< a task waits for a pool token
        Retrying,    ///< a job's attempt failed and will be retried after the back-off
        Finished,    ///< a task ended (outcome set); also for skipped tasks
    };
    Type type = Type::Started;
    /// Names from the root down, joined by '/': `run/build/step-2`. Fan-out children are
    /// named by their recipe; attempts share their task's path.
    QString path;
    TaskOutcome outcome = TaskOutcome::Success;   ///< Finished
    int attempt = 0;                              ///< Started and Retrying: from 1
};
QString taskEventTypeName(TaskEvent::Type type);

/// Runs one recipe; an AsyncJob itself, finishing without error when the root succeeded.
class TaskTreeRunner final : public AsyncJob
{
    Q_OBJECT

public:
    explicit TaskTreeRunner(Task root, QObject *parent = nullptr);
    ~TaskTreeRunner() override;

    /// Sets the size of a pool (before start); tasks using an unknown pool do not wait.
    void setPoolSize(const QString &pool, int size);

    /// The root's result, once finished.
    const TaskResult &result() const;
    /// Tasks running right now (jobs and groups), for progress views.
    int runningJobCount() const;

    /// Graceful cancellation: running jobs get cancel(); what is left runs only if its
    /// condition accepts `cancelled` (clean-up with `always()`). The tree then finishes with
    /// a Cancelled error. See forceStop for the second Ctrl-C.
    using AsyncJob::cancel;
    /// Stops at once: no condition runs any more, running jobs are cancelled and abandoned,
    /// and the tree finishes Cancelled before returning.
    void forceStop();

signals:
    void taskEvent(const Sandflow::TaskEvent &event);

protected:
    void doStart() override;
    void doCancel() override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Sandflow
