// The inside of the task tree: what a recipe node holds, and the running state of a node.
#pragma once

#include "tasktree.h"

#include <QHash>
#include <QPointer>
#include <QTimer>

namespace Sandflow {

struct Task::Node
{
    enum class Kind { Job, Sequence, Parallel, ParallelFor, Graph };

    Kind kind = Kind::Job;
    QString name;
    JobFactory factory;                  // Job
    QList<Task> children;                // Sequence, Parallel, Graph
    QList<QList<int>> dependencies;      // Graph
    qsizetype count = 0;                 // ParallelFor
    ChildFactory makeChild;              // ParallelFor
    int limit = 0;
    bool failFast = false;
    Condition condition;                 // empty: success()
    qint64 timeoutMs = 0;
    qint64 graceMs = 5000;
    qint64 attemptTimeoutMs = 0;         // Job
    qint64 attemptGraceMs = 5000;
    std::optional<TaskRetry> retry;
    bool continueOnError = false;
    QString pool;
    std::function<void()> onStarted;
    std::function<void(const TaskResult &)> onFinished;
};

namespace Internal {

class TaskRun;

/// What every node of one running tree shares: the event sink and the pools.
class TaskScheduler
{
public:
    explicit TaskScheduler(TaskTreeRunner *runner) : m_runner(runner) {}

    void emitEvent(TaskEvent::Type type, const QString &path, TaskOutcome outcome = TaskOutcome::Success,
                   int attempt = 0);
    void setPoolSize(const QString &pool, int size) { m_free.insert(pool, size); }
    /// Takes a token now (true), or queues `waiter` to be started when one is free.
    bool acquire(const QString &pool, TaskRun *waiter);
    void release(const QString &pool);
    void forgetWaiter(TaskRun *waiter);
    int running = 0;

private:
    TaskTreeRunner *m_runner;
    QHash<QString, int> m_free;
    QHash<QString, QList<QPointer<TaskRun>>> m_waiters;
};

/// One node of a recipe while it runs. Groups own their running children.
class TaskRun final : public QObject
{
public:
    using Done = std::function<void(TaskRun *)>;

    TaskRun(TaskScheduler *scheduler, Task task, QString path, Done done, QObject *parent);

    /// Checks the condition, then the pool, then starts; or finishes Skipped.
    void begin(const ConditionState &state);
    /// Graceful: jobs get cancel(); clean-up tasks (always()) may still run.
    void cancel();
    /// Everything stops now; `done` is called before this returns.
    void forceStop();

    const Task &task() const { return m_task; }
    const TaskResult &result() const { return m_result; }
    bool isFinished() const { return m_finished; }
    /// Failed: the path of the task whose failure this one reports (its own or a child's).
    const QString &failedPath() const { return m_failedPath; }
    /// Called by the scheduler when a pool token arrives for a waiting task.
    void startWithToken();

private:
    struct Child
    {
        enum class State { Pending, Running, Done };
        State state = State::Pending;
        QPointer<TaskRun> run;
        TaskResult result;
        bool continueOnError = false;
    };

    const Task::Node &node() const { return *m_task.node(); }
    void startNow();
    void startAttempt();
    void onJobFinished();
    void advance();
    bool startChild(qsizetype index);
    void childFinished(qsizetype index, TaskRun *run);
    QList<QPointer<TaskRun>> runningChildren() const;
    ConditionState childCondition(qsizetype index) const;
    bool mayStartMore() const;
    void finishGroupIfDone();
    void finishWith(TaskOutcome outcome, std::optional<JobError> error);
    void onTimeout();
    void onAttemptTimeout();

    TaskScheduler *m_scheduler;
    Task m_task;
    QString m_path;
    Done m_done;
    TaskResult m_result;
    QString m_failedPath;
    bool m_started = false;
    bool m_waiting = false;
    bool m_finished = false;
    bool m_cancelling = false;
    bool m_stopping = false;        // forceStop: children that end start nothing more
    bool m_timedOut = false;
    bool m_attemptTimedOut = false; // Job: the running attempt ran out of its own time
    bool m_failed = false;          // groups: a child failed; fail-fast: stop starting more
    bool m_advancing = false;
    bool m_advanceAgain = false;
    bool m_holdsToken = false;
    // Job
    QPointer<AsyncJob> m_job;
    int m_attempt = 0;
    QTimer m_backoff;
    QTimer m_attemptTimeout;
    // Groups
    QList<Child> m_children;        // ParallelFor: grows as children start
    qsizetype m_nextChild = 0;
    int m_runningChildren = 0;
    QTimer m_timeout;
    QTimer m_grace;
};

} // namespace Internal
} // namespace Sandflow
