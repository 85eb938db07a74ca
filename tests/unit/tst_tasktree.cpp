// The task tree scheduler, event-log style: a recipe goes in, the ordered log of TaskEvents
// comes out as strings and is compared with the expected one. Jobs are FakeJobs that finish
// after a delay, on demand, or (when told to ignore cancel) never.
#include "tasktree.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QPointer>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>

#include <memory>

using namespace Sandflow;
using namespace Qt::StringLiterals;

namespace {

JobError taskError(const QString &code, JobError::Kind kind = JobError::Kind::Task)
{
    return JobError{kind, code, code.toLower() + u" happened"_s, {}};
}

/// How a FakeJob behaves.
struct JobSpec
{
    int delayMs = 10;                 ///< finishes this long after it starts
    std::optional<JobError> error;    ///< with this error (none: success)
    bool manual = false;              ///< finishes only when told (Probe::finishAll)
    int cancelDelayMs = 0;            ///< cancel finishes this long later (0: at once)
    bool ignoreCancel = false;        ///< cancel does nothing
};

JobSpec ok(int delayMs = 10)
{
    JobSpec spec;
    spec.delayMs = delayMs;
    return spec;
}

JobSpec fails(int delayMs, const QString &code, JobError::Kind kind = JobError::Kind::Task)
{
    JobSpec spec;
    spec.delayMs = delayMs;
    spec.error = taskError(code, kind);
    return spec;
}

JobSpec manual()
{
    JobSpec spec;
    spec.manual = true;
    return spec;
}

class FakeJob;

/// What the jobs of one test did.
struct Probe
{
    int created = 0;
    int running = 0;
    int maxRunning = 0;
    int cancels = 0;
    QStringList startOrder;
    QList<QPointer<FakeJob>> jobs;

    /// Ends the running job `name` (a manual one): the test, not a clock, orders its end.
    void finish(const QString &name);
    /// Ends every job still running (manual ones, and those that ignored cancel).
    void finishAll();
};

class FakeJob final : public AsyncJob
{
public:
    FakeJob(QString name, JobSpec spec, Probe *probe) : m_name(std::move(name)), m_spec(std::move(spec)), m_probe(probe)
    {
        ++m_probe->created;
        m_probe->jobs.append(this);
    }

    void complete(std::optional<JobError> error)
    {
        if (isFinished())
            return;
        if (m_running) {
            m_running = false;
            --m_probe->running;
        }
        finish(std::move(error));
    }
    void complete() { complete(m_spec.error); }
    const QString &name() const { return m_name; }

protected:
    void doStart() override
    {
        m_running = true;
        ++m_probe->running;
        m_probe->maxRunning = std::max(m_probe->maxRunning, m_probe->running);
        m_probe->startOrder.append(m_name);
        if (!m_spec.manual)
            QTimer::singleShot(m_spec.delayMs, this, [this] { complete(); });
    }

    void doCancel() override
    {
        ++m_probe->cancels;
        if (m_spec.ignoreCancel)
            return;
        if (m_spec.cancelDelayMs == 0)
            complete(cancelledError());
        else
            QTimer::singleShot(m_spec.cancelDelayMs, this, [this] { complete(cancelledError()); });
    }

private:
    QString m_name;
    JobSpec m_spec;
    Probe *m_probe;
    bool m_running = false;
};

void Probe::finish(const QString &name)
{
    for (const QPointer<FakeJob> &job : std::as_const(jobs)) {
        if (job && job->name() == name && job->isStarted() && !job->isFinished()) {
            job->complete();
            return;
        }
    }
    QFAIL(qPrintable(u"no running job "_s + name));
}

void Probe::finishAll()
{
    for (const QPointer<FakeJob> &job : std::as_const(jobs)) {
        if (job && job->isStarted() && !job->isFinished())
            job->complete();
    }
}

Task fake(Probe &probe, const QString &name, const JobSpec &spec)
{
    return Task::job(name, [&probe, name, spec] { return new FakeJob(name, spec, &probe); });
}

QString describe(const TaskEvent &event)
{
    QString text = taskEventTypeName(event.type) + u' ' + event.path;
    switch (event.type) {
    case TaskEvent::Type::Started:
    case TaskEvent::Type::Retrying:
        text += u'#' + QString::number(event.attempt);
        break;
    case TaskEvent::Type::Finished:
        text += u' ' + taskOutcomeName(event.outcome);
        break;
    case TaskEvent::Type::Waiting:
        break;
    }
    return text;
}

/// A runner, the log of its events and how often it finished.
struct Harness
{
    explicit Harness(const Task &root) : runner(std::make_unique<TaskTreeRunner>(root))
    {
        runner->setAutoDelete(false);
        QObject::connect(runner.get(), &TaskTreeRunner::taskEvent, runner.get(),
                         [this](const TaskEvent &event) { log.append(describe(event)); });
        QObject::connect(runner.get(), &AsyncJob::finished, runner.get(), [this] { ++finishedCount; });
    }

    QStringList started() const { return log.filter(u"started "_s); }

    std::unique_ptr<TaskTreeRunner> runner;
    QStringList log;
    int finishedCount = 0;
};

} // namespace

class TestTaskTree : public QObject
{
    Q_OBJECT

private slots:
    void cleanup();

    void sequenceRunsInOrder();
    void sequenceFailureSkipsTheRest();
    void parallelStartsInListOrder();
    void parallelLimitIsNeverExceeded();
    void failFastCancelsAndSkips();
    void failFastInFanOut();
    void failFastSkippedChildStillGetsItsHook();
    void withoutFailFastAllRun();
    void continueOnError();
    void graphOrdersByDependencies();
    void graphDependencyLaterInTheList();
    void graphFailureSkipsDependents();
    void invalidGraph_data();
    void invalidGraph();
    void retriesWithDoublingBackoff();
    void retriesRunOut();
    void retryOnRejects();
    void cancelledErrorsAreNotRetried();
    void timeoutCancelsTheJob();
    void timeoutAbandonsAJobIgnoringCancel();
    void timeoutDuringBackoff();
    void timeoutOfAGroup();
    void attemptTimeoutIsRetried();
    void attemptTimeoutRunsOut();
    void attemptTimeoutAbandonsAJobIgnoringCancel();
    void cancelBeforeStart();
    void cancelAsATaskStarts();
    void cancelWhileAJobRuns();
    void cancelDuringBackoff();
    void cancelWhileWaitingForAPoolToken();
    void cancelInsideAGraph();
    void cancelWithJobsCancellingAtOnce();
    void forceStopSkipsCleanup();
    void forceStopAbandonsAJobIgnoringCancel();
    void forceStopBeforeStart();
    void poolIsNeverExceededAndFifo();
    void unknownPoolDoesNotWait();
    void fanOutOfSynchronousChildren();
    void fanOutOfInstantJobs();
    void hooksAreCalledOnce();
    void hooksAddUp();
    void runnerResultAndErrors();
    void runningJobCount();

};

// What one test left for deletion goes before the next starts.
void TestTaskTree::cleanup()
{
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
}

void TestTaskTree::sequenceRunsInOrder()
{
    Probe probe;
    Harness h(Task::sequence(u"run"_s, {fake(probe, u"a"_s, ok(20)), fake(probe, u"b"_s, ok(1)), fake(probe, u"c"_s, ok(5))}));
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({
        u"started run#1"_s,
        u"started run/a#1"_s, u"finished run/a success"_s,
        u"started run/b#1"_s, u"finished run/b success"_s,
        u"started run/c#1"_s, u"finished run/c success"_s,
        u"finished run success"_s,
    }));
    QCOMPARE(probe.maxRunning, 1);
    QCOMPARE(probe.startOrder, QStringList({u"a"_s, u"b"_s, u"c"_s}));
    QVERIFY(!h.runner->error());
    QCOMPARE(h.runner->result().outcome, TaskOutcome::Success);
}

void TestTaskTree::sequenceFailureSkipsTheRest()
{
    Probe probe;
    Harness h(Task::sequence(u"run"_s, {
        fake(probe, u"a"_s, ok()),
        fake(probe, u"b"_s, fails(5, u"B_BROKE"_s)),
        fake(probe, u"c"_s, ok()),
        fake(probe, u"clean"_s, ok()).withCondition(Task::always()),
        fake(probe, u"report"_s, ok()).withCondition(Task::failure()),
        fake(probe, u"d"_s, ok()),
    }));
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({
        u"started run#1"_s,
        u"started run/a#1"_s, u"finished run/a success"_s,
        u"started run/b#1"_s, u"finished run/b failure"_s,
        u"finished run/c skipped"_s,
        u"started run/clean#1"_s, u"finished run/clean success"_s,
        u"started run/report#1"_s, u"finished run/report success"_s,
        u"finished run/d skipped"_s,
        u"finished run failure"_s,
    }));
    QCOMPARE(probe.created, 4);
    QCOMPARE(h.runner->result().outcome, TaskOutcome::Failure);
    QVERIFY(h.runner->result().error);
    QCOMPARE(h.runner->result().error->code, u"B_BROKE"_s);
}

void TestTaskTree::parallelStartsInListOrder()
{
    Probe probe;
    Harness h(Task::parallel(u"run"_s, {fake(probe, u"a"_s, manual()), fake(probe, u"b"_s, manual()), fake(probe, u"c"_s, manual())}));
    h.runner->start();
    QTRY_COMPARE(probe.running, 3);
    // They end in another order than they started, the one the test chooses.
    probe.finish(u"b"_s);
    probe.finish(u"c"_s);
    probe.finish(u"a"_s);
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({
        u"started run#1"_s,
        u"started run/a#1"_s, u"started run/b#1"_s, u"started run/c#1"_s,
        u"finished run/b success"_s, u"finished run/c success"_s, u"finished run/a success"_s,
        u"finished run success"_s,
    }));
    QCOMPARE(probe.maxRunning, 3);
}

void TestTaskTree::parallelLimitIsNeverExceeded()
{
    {
        Probe probe;
        Harness h(Task::parallel(u"run"_s, {fake(probe, u"a"_s, manual()), fake(probe, u"b"_s, manual()),
                                            fake(probe, u"c"_s, manual()), fake(probe, u"d"_s, manual())})
                      .withLimit(2));
        h.runner->start();
        QTRY_COMPARE(probe.startOrder, QStringList({u"a"_s, u"b"_s}));
        // a runs throughout; each end of another job lets the next one start.
        probe.finish(u"b"_s);
        QTRY_COMPARE(probe.startOrder.size(), 3);
        probe.finish(u"c"_s);
        QTRY_COMPARE(probe.startOrder.size(), 4);
        probe.finish(u"d"_s);
        probe.finish(u"a"_s);
        QTRY_COMPARE(h.finishedCount, 1);
        QCOMPARE(h.log, QStringList({
            u"started run#1"_s,
            u"started run/a#1"_s, u"started run/b#1"_s,
            u"finished run/b success"_s, u"started run/c#1"_s,
            u"finished run/c success"_s, u"started run/d#1"_s,
            u"finished run/d success"_s,
            u"finished run/a success"_s,
            u"finished run success"_s,
        }));
        QCOMPARE(probe.maxRunning, 2);
    }
    {
        // Under load: 30 jobs of varied length, at most 3 at once, and 3 were reached.
        Probe probe;
        QList<Task> children;
        QStringList names;
        for (int i = 0; i < 30; ++i) {
            names.append(u"j%1"_s.arg(i));
            children.append(fake(probe, names.last(), ok(1 + (i * 7) % 13)));
        }
        Harness h(Task::parallel(u"run"_s, children).withLimit(3));
        h.runner->start();
        QTRY_COMPARE_WITH_TIMEOUT(h.finishedCount, 1, 10000);
        QCOMPARE(probe.maxRunning, 3);
        QCOMPARE(probe.startOrder, names);
        QCOMPARE(h.log.filter(u" success"_s).size(), 31);
        QVERIFY(!h.runner->error());
    }
}

void TestTaskTree::failFastCancelsAndSkips()
{
    Probe probe;
    // a ends only when cancelled.
    Harness h(Task::parallel(u"run"_s, {fake(probe, u"a"_s, manual()), fake(probe, u"b"_s, fails(10, u"B_BROKE"_s)),
                                        fake(probe, u"c"_s, ok()), fake(probe, u"d"_s, ok())})
                  .withLimit(2)
                  .withFailFast());
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({
        u"started run#1"_s,
        u"started run/a#1"_s, u"started run/b#1"_s,
        u"finished run/b failure"_s,
        u"finished run/a cancelled"_s,
        u"finished run/c skipped"_s, u"finished run/d skipped"_s,
        u"finished run failure"_s,
    }));
    QCOMPARE(probe.cancels, 1);
    QCOMPARE(probe.created, 2);
    QCOMPARE(h.runner->result().error->code, u"B_BROKE"_s);
}

// The same in a fan-out, whose children are made as they start; the running sibling's
// cancel ends it at once, while the group is still reacting to the failure.
void TestTaskTree::failFastInFanOut()
{
    Probe probe;
    int made = 0;
    Harness h(Task::parallelFor(u"fan"_s, 6, [&](qsizetype i) {
        ++made;
        return i == 1 ? fake(probe, u"c1"_s, fails(10, u"BROKE"_s)) : fake(probe, u"c%1"_s.arg(i), manual());
    }).withLimit(2).withFailFast());
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({
        u"started fan#1"_s,
        u"started fan/c0#1"_s, u"started fan/c1#1"_s,
        u"finished fan/c1 failure"_s,
        u"finished fan/c0 cancelled"_s,
        u"finished fan/fan[2] skipped"_s, u"finished fan/fan[3] skipped"_s,
        u"finished fan/fan[4] skipped"_s, u"finished fan/fan[5] skipped"_s,
        u"finished fan failure"_s,
    }));
    QCOMPARE(made, 2);
    QCOMPARE(probe.cancels, 1);
}

// onFinished is called "whatever the outcome (also Skipped)": also when fail-fast skips.
void TestTaskTree::failFastSkippedChildStillGetsItsHook()
{
    Probe probe;
    QStringList hooks;
    Harness h(Task::parallel(u"run"_s, {
        fake(probe, u"a"_s, fails(5, u"BROKE"_s)),
        fake(probe, u"b"_s, ok()).onFinished([&](const TaskResult &r) { hooks.append(u"b "_s + taskOutcomeName(r.outcome)); }),
    }).withLimit(1).withFailFast());
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({
        u"started run#1"_s,
        u"started run/a#1"_s, u"finished run/a failure"_s,
        u"finished run/b skipped"_s,
        u"finished run failure"_s,
    }));
    QCOMPARE(hooks, QStringList({u"b skipped"_s}));
}

void TestTaskTree::withoutFailFastAllRun()
{
    Probe probe;
    Harness h(Task::parallel(u"run"_s, {fake(probe, u"a"_s, manual()), fake(probe, u"b"_s, fails(10, u"B_BROKE"_s)),
                                        fake(probe, u"c"_s, ok())})
                  .withLimit(2));
    h.runner->start();
    // b's failure frees its place for c; a, still running, ends after c.
    QTRY_VERIFY(h.log.contains(u"finished run/c success"_s));
    probe.finish(u"a"_s);
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({
        u"started run#1"_s,
        u"started run/a#1"_s, u"started run/b#1"_s,
        u"finished run/b failure"_s,
        u"started run/c#1"_s,
        u"finished run/c success"_s,
        u"finished run/a success"_s,
        u"finished run failure"_s,
    }));
    QCOMPARE(probe.cancels, 0);
    QCOMPARE(h.runner->error()->code, u"TASK_FAILED"_s);
}

void TestTaskTree::continueOnError()
{
    Probe probe;
    TaskResult bResult;
    Harness h(Task::sequence(u"run"_s, {
        fake(probe, u"a"_s, ok()),
        fake(probe, u"b"_s, fails(5, u"B_BROKE"_s)).withContinueOnError().onFinished([&](const TaskResult &r) { bResult = r; }),
        fake(probe, u"c"_s, ok()),
    }));
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({
        u"started run#1"_s,
        u"started run/a#1"_s, u"finished run/a success"_s,
        u"started run/b#1"_s, u"finished run/b failure"_s,
        u"started run/c#1"_s, u"finished run/c success"_s,
        u"finished run success"_s,
    }));
    QCOMPARE(bResult.outcome, TaskOutcome::Failure);
    QCOMPARE(bResult.error->code, u"B_BROKE"_s);
    QVERIFY(!h.runner->error());
    QCOMPARE(h.runner->result().outcome, TaskOutcome::Success);
}

void TestTaskTree::graphOrdersByDependencies()
{
    Probe probe;
    // a; then b and c (both need a); then d (needs b and c).
    Harness h(Task::graph(u"g"_s,
                          {fake(probe, u"a"_s, ok(10)), fake(probe, u"b"_s, manual()), fake(probe, u"c"_s, ok(20)),
                           fake(probe, u"d"_s, ok(10))},
                          {{}, {0}, {0}, {1, 2}}));
    h.runner->start();
    // d waits for b, which ends after c.
    QTRY_VERIFY(h.log.contains(u"finished g/c success"_s));
    probe.finish(u"b"_s);
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({
        u"started g#1"_s,
        u"started g/a#1"_s, u"finished g/a success"_s,
        u"started g/b#1"_s, u"started g/c#1"_s,
        u"finished g/c success"_s, u"finished g/b success"_s,
        u"started g/d#1"_s, u"finished g/d success"_s,
        u"finished g success"_s,
    }));
}

void TestTaskTree::graphDependencyLaterInTheList()
{
    Probe probe;
    Harness h(Task::graph(u"g"_s, {fake(probe, u"x"_s, ok()), fake(probe, u"y"_s, ok()), fake(probe, u"z"_s, ok())},
                          {{2}, {0}, {}}));
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({
        u"started g#1"_s,
        u"started g/z#1"_s, u"finished g/z success"_s,
        u"started g/x#1"_s, u"finished g/x success"_s,
        u"started g/y#1"_s, u"finished g/y success"_s,
        u"finished g success"_s,
    }));
}

void TestTaskTree::graphFailureSkipsDependents()
{
    Probe probe;
    Harness h(Task::graph(u"g"_s,
                          {fake(probe, u"a"_s, fails(10, u"A_BROKE"_s)), fake(probe, u"b"_s, ok()),
                           fake(probe, u"clean"_s, ok()).withCondition(Task::always()), fake(probe, u"d"_s, ok())},
                          {{}, {0}, {0}, {1}}));
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({
        u"started g#1"_s,
        u"started g/a#1"_s, u"finished g/a failure"_s,
        u"finished g/b skipped"_s,
        u"started g/clean#1"_s,
        u"finished g/d skipped"_s,
        u"finished g/clean success"_s,
        u"finished g failure"_s,
    }));
    QCOMPARE(h.runner->result().error->code, u"A_BROKE"_s);
}

void TestTaskTree::invalidGraph_data()
{
    QTest::addColumn<QList<QList<int>>>("dependencies");
    QTest::newRow("cycle") << QList<QList<int>>{{1}, {2}, {0}};
    QTest::newRow("self") << QList<QList<int>>{{}, {1}, {}};
    QTest::newRow("out of range") << QList<QList<int>>{{}, {3}, {}};
    QTest::newRow("negative") << QList<QList<int>>{{-1}, {}, {}};
    QTest::newRow("too few lists") << QList<QList<int>>{{}, {0}};
}

void TestTaskTree::invalidGraph()
{
    QFETCH(QList<QList<int>>, dependencies);
    Probe probe;
    Harness h(Task::sequence(u"run"_s, {
        Task::graph(u"g"_s, {fake(probe, u"a"_s, ok()), fake(probe, u"b"_s, ok()), fake(probe, u"c"_s, ok())}, dependencies),
    }));
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({u"started run#1"_s, u"started run/g#1"_s, u"finished run/g failure"_s,
                                 u"finished run failure"_s}));
    QCOMPARE(probe.created, 0);
    QVERIFY(h.runner->result().error);
    QCOMPARE(h.runner->result().error->code, u"TASK_INVALID_GRAPH"_s);
    QCOMPARE(h.runner->result().error->kind, JobError::Kind::Invalid);
    QCOMPARE(h.runner->error()->code, u"TASK_FAILED"_s);
}

void TestTaskTree::retriesWithDoublingBackoff()
{
    Probe probe;
    QElapsedTimer clock;
    QList<qint64> attemptTimes;
    int attempt = 0;
    Task flaky = Task::job(u"flaky"_s, [&] {
        attemptTimes.append(clock.elapsed());
        ++attempt;
        return new FakeJob(u"flaky"_s, attempt < 3 ? fails(0, u"FLAKY"_s, JobError::Kind::Infra) : ok(0), &probe);
    });
    TaskResult result;
    Harness h(Task::sequence(u"run"_s, {flaky.withRetry({4, 150, {}}).onFinished([&](const TaskResult &r) { result = r; })}));
    clock.start();
    h.runner->start();
    QTRY_COMPARE_WITH_TIMEOUT(h.finishedCount, 1, 10000);
    QCOMPARE(h.log, QStringList({
        u"started run#1"_s,
        u"started run/flaky#1"_s, u"retrying run/flaky#1"_s,
        u"started run/flaky#2"_s, u"retrying run/flaky#2"_s,
        u"started run/flaky#3"_s, u"finished run/flaky success"_s,
        u"finished run success"_s,
    }));
    QCOMPARE(result.attempts, 3);
    QCOMPARE(attemptTimes.size(), 3);
    const qint64 first = attemptTimes[1] - attemptTimes[0];
    const qint64 second = attemptTimes[2] - attemptTimes[1];
    // 150 ms, then 300 ms. Only lower bounds, with room for coarse timers, which may fire
    // 5% early: load makes timers late, which passes, while a backoff that does not double
    // fails the second.
    QVERIFY2(first >= 135, qPrintable(QString::number(first)));
    QVERIFY2(second >= 270, qPrintable(QString::number(second)));
}

void TestTaskTree::retriesRunOut()
{
    Probe probe;
    TaskResult result;
    Harness h(fake(probe, u"r"_s, fails(0, u"NOPE"_s)).withRetry({2, 10, {}}).onFinished([&](const TaskResult &r) { result = r; }));
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({u"started r#1"_s, u"retrying r#1"_s, u"started r#2"_s, u"finished r failure"_s}));
    QCOMPARE(result.attempts, 2);
    QCOMPARE(result.error->code, u"NOPE"_s);
    QCOMPARE(probe.created, 2);
}

void TestTaskTree::retryOnRejects()
{
    Probe probe;
    int asked = 0;
    TaskRetry retry{5, 10, [&](const JobError &e) {
        ++asked;
        return e.kind == JobError::Kind::Infra;
    }};
    Harness h(Task::sequence(u"run"_s, {fake(probe, u"r"_s, fails(0, u"EXIT_1"_s)).withRetry(retry)}));
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({u"started run#1"_s, u"started run/r#1"_s, u"finished run/r failure"_s,
                                 u"finished run failure"_s}));
    QCOMPARE(asked, 1);
    QCOMPARE(probe.created, 1);
    QCOMPARE(h.runner->result().attempts, 0);   // a group
    QCOMPARE(h.runner->result().error->code, u"EXIT_1"_s);

    // The default accepts Task and Infra failures only.
    Probe probe2;
    Harness h2(fake(probe2, u"r"_s, fails(0, u"BAD_REQUEST"_s, JobError::Kind::Invalid)).withRetry({5, 10, {}}));
    h2.runner->start();
    QTRY_COMPARE(h2.finishedCount, 1);
    QCOMPARE(h2.log, QStringList({u"started r#1"_s, u"finished r failure"_s}));
    QCOMPARE(h2.runner->result().attempts, 1);
}

void TestTaskTree::cancelledErrorsAreNotRetried()
{
    // A job may end with a Cancelled error on its own (a sandbox stopped from outside).
    Probe probe;
    JobSpec spec = fails(0, u"CANCELLED"_s, JobError::Kind::Cancelled);
    Harness h(fake(probe, u"r"_s, spec).withRetry({3, 10, [](const JobError &) { return true; }}));
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({u"started r#1"_s, u"finished r cancelled"_s}));
    QCOMPARE(probe.created, 1);
    QCOMPARE(h.runner->error()->kind, JobError::Kind::Cancelled);
}

void TestTaskTree::timeoutCancelsTheJob()
{
    Probe probe;
    TaskResult result;
    Harness h(Task::sequence(u"run"_s, {
        fake(probe, u"slow"_s, manual()).withTimeout(50, 5000).onFinished([&](const TaskResult &r) { result = r; }),
        fake(probe, u"after"_s, ok()),
    }));
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    // The root did not time out itself: a child that did makes it fail.
    QCOMPARE(h.log, QStringList({u"started run#1"_s, u"started run/slow#1"_s, u"finished run/slow timed_out"_s,
                                 u"finished run/after skipped"_s, u"finished run failure"_s}));
    QCOMPARE(probe.cancels, 1);
    QCOMPARE(result.outcome, TaskOutcome::TimedOut);
    QCOMPARE(h.runner->error()->code, u"TASK_FAILED"_s);
    QCOMPARE(h.runner->error()->kind, JobError::Kind::Task);

    // A root that times out makes a Timeout error.
    Probe probe2;
    Harness h2(fake(probe2, u"slow"_s, manual()).withTimeout(30));
    h2.runner->start();
    QTRY_COMPARE(h2.finishedCount, 1);
    QCOMPARE(h2.log, QStringList({u"started slow#1"_s, u"finished slow timed_out"_s}));
    QCOMPARE(h2.runner->error()->code, u"TASK_FAILED"_s);
    QCOMPARE(h2.runner->error()->kind, JobError::Kind::Timeout);
}

void TestTaskTree::timeoutAbandonsAJobIgnoringCancel()
{
    Probe probe;
    JobSpec stubborn = manual();
    stubborn.ignoreCancel = true;
    TaskResult result;
    Harness h(Task::sequence(u"run"_s, {
        fake(probe, u"stubborn"_s, stubborn).withTimeout(50, 150).onFinished([&](const TaskResult &r) { result = r; }),
        fake(probe, u"clean"_s, ok()).withCondition(Task::always()),
    }));
    QElapsedTimer clock;
    clock.start();
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    // The time-out and then the grace (coarse timers fire at most 5% early); the job itself
    // never ends.
    const qint64 elapsed = clock.elapsed();
    QVERIFY2(elapsed >= 180, qPrintable(QString::number(elapsed)));
    QCOMPARE(h.log, QStringList({u"started run#1"_s, u"started run/stubborn#1"_s, u"finished run/stubborn timed_out"_s,
                                 u"started run/clean#1"_s, u"finished run/clean success"_s, u"finished run failure"_s}));
    QCOMPARE(probe.cancels, 1);
    QCOMPARE(result.outcome, TaskOutcome::TimedOut);
    QCOMPARE(probe.running, 1);   // still going, abandoned
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    probe.finishAll();            // a late end of an abandoned job changes nothing
    QCOMPARE(probe.running, 0);
    QCOMPARE(h.log.size(), 6);
    QCOMPARE(h.finishedCount, 1);
}

void TestTaskTree::timeoutDuringBackoff()
{
    Probe probe;
    Harness h(fake(probe, u"r"_s, fails(0, u"FLAKY"_s)).withRetry({3, 5000, {}}).withTimeout(100, 1000));
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    // No second attempt: the time-out ended the backoff.
    QCOMPARE(h.log, QStringList({u"started r#1"_s, u"retrying r#1"_s, u"finished r timed_out"_s}));
    QCOMPARE(h.runner->result().outcome, TaskOutcome::TimedOut);
    QCOMPARE(h.runner->error()->kind, JobError::Kind::Timeout);
}

void TestTaskTree::attemptTimeoutIsRetried()
{
    Probe probe;
    int attempt = 0;
    Task slowFirst = Task::job(u"r"_s, [&] {
        ++attempt;
        return new FakeJob(u"r"_s, attempt < 3 ? manual() : ok(0), &probe);
    });
    QList<JobError> asked;
    TaskRetry retry{3, 10, [&](const JobError &e) {
        asked.append(e);
        return true;
    }};
    TaskResult result;
    Harness h(slowFirst.withAttemptTimeout(50, 1000).withRetry(retry).onFinished([&](const TaskResult &r) { result = r; }));
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({u"started r#1"_s, u"retrying r#1"_s, u"started r#2"_s, u"retrying r#2"_s,
                                 u"started r#3"_s, u"finished r success"_s}));
    // Each attempt that ran out was cancelled, and retryOn heard why it ended.
    QCOMPARE(probe.cancels, 2);
    QCOMPARE(asked.size(), 2);
    QCOMPARE(asked.first().kind, JobError::Kind::Timeout);
    QCOMPARE(asked.first().message, u"timed out after 50ms"_s);
    QCOMPARE(result.attempts, 3);
    QVERIFY(!h.runner->error());
}

void TestTaskTree::attemptTimeoutRunsOut()
{
    // The default retryOn takes time-outs too; the last attempt's time-out is the outcome.
    Probe probe;
    TaskResult result;
    Harness h(fake(probe, u"r"_s, manual()).withAttemptTimeout(50, 1000).withRetry({2, 10, {}})
                  .onFinished([&](const TaskResult &r) { result = r; }));
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({u"started r#1"_s, u"retrying r#1"_s, u"started r#2"_s, u"finished r timed_out"_s}));
    QCOMPARE(result.outcome, TaskOutcome::TimedOut);
    QCOMPARE(result.attempts, 2);
    QCOMPARE(result.error->code, u"TIMED_OUT"_s);
    QCOMPARE(h.runner->error()->kind, JobError::Kind::Timeout);

    // A retryOn that does not take time-outs ends the task at the first one.
    Probe probe2;
    Harness h2(fake(probe2, u"r"_s, manual()).withAttemptTimeout(50, 1000)
                   .withRetry({3, 10, [](const JobError &e) { return e.kind != JobError::Kind::Timeout; }}));
    h2.runner->start();
    QTRY_COMPARE(h2.finishedCount, 1);
    QCOMPARE(h2.log, QStringList({u"started r#1"_s, u"finished r timed_out"_s}));
    QCOMPARE(probe2.created, 1);
}

void TestTaskTree::attemptTimeoutAbandonsAJobIgnoringCancel()
{
    // An attempt that does not end when cancelled is abandoned after the grace, and nothing
    // is tried again next to it.
    Probe probe;
    JobSpec stubborn = manual();
    stubborn.ignoreCancel = true;
    Harness h(fake(probe, u"r"_s, stubborn).withAttemptTimeout(50, 150).withRetry({3, 10, {}}));
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({u"started r#1"_s, u"finished r timed_out"_s}));
    QCOMPARE(probe.created, 1);
    QCOMPARE(h.runner->result().error->message, u"timed out after 50ms"_s);
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    probe.finishAll();
    QCOMPARE(h.finishedCount, 1);
}

void TestTaskTree::timeoutOfAGroup()
{
    Probe probe;
    Harness h(Task::sequence(u"run"_s, {
        Task::parallel(u"p"_s, {fake(probe, u"a"_s, manual()), fake(probe, u"b"_s, manual())}).withTimeout(60),
        fake(probe, u"clean"_s, ok()).withCondition(Task::always()),
    }));
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({
        u"started run#1"_s, u"started run/p#1"_s, u"started run/p/a#1"_s, u"started run/p/b#1"_s,
        u"finished run/p/a cancelled"_s, u"finished run/p/b cancelled"_s, u"finished run/p timed_out"_s,
        u"started run/clean#1"_s, u"finished run/clean success"_s, u"finished run failure"_s,
    }));
    QCOMPARE(probe.cancels, 2);
}

// Cancelled before the runner's deferred start: nothing ever starts.
void TestTaskTree::cancelBeforeStart()
{
    Probe probe;
    Harness h(Task::sequence(u"run"_s, {fake(probe, u"a"_s, ok()), fake(probe, u"clean"_s, ok()).withCondition(Task::always())}));
    h.runner->start();
    h.runner->cancel();
    QTRY_COMPARE(h.finishedCount, 1);
    QTest::qWait(30);
    QCOMPARE(h.log, QStringList());
    QCOMPARE(probe.created, 0);
    QCOMPARE(h.runner->error()->kind, JobError::Kind::Cancelled);
}

// Cancelled as the first task starts, before its job exists and before any job finished.
void TestTaskTree::cancelAsATaskStarts()
{
    Probe probe;
    Harness h(Task::sequence(u"run"_s, {
        fake(probe, u"a"_s, manual()),
        fake(probe, u"b"_s, ok()),
        fake(probe, u"clean"_s, ok()).withCondition(Task::always()),
    }));
    QObject::connect(h.runner.get(), &TaskTreeRunner::taskEvent, h.runner.get(), [&](const TaskEvent &event) {
        if (event.type == TaskEvent::Type::Started && event.path == u"run/a"_s)
            h.runner->cancel();
    });
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({
        u"started run#1"_s, u"started run/a#1"_s, u"finished run/a cancelled"_s,
        u"finished run/b skipped"_s,
        u"started run/clean#1"_s, u"finished run/clean success"_s,
        u"finished run cancelled"_s,
    }));
    QCOMPARE(h.runner->error()->kind, JobError::Kind::Cancelled);
}

void TestTaskTree::cancelWhileAJobRuns()
{
    Probe probe;
    JobSpec slow = manual();
    slow.cancelDelayMs = 20;
    Harness h(Task::sequence(u"run"_s, {
        fake(probe, u"a"_s, slow),
        fake(probe, u"b"_s, ok()),
        fake(probe, u"clean"_s, ok()).withCondition(Task::always()),
        fake(probe, u"report"_s, ok()).withCondition(Task::failure()),
    }));
    h.runner->start();
    QTRY_COMPARE(probe.running, 1);
    h.runner->cancel();
    QCOMPARE(h.finishedCount, 0);
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({
        u"started run#1"_s, u"started run/a#1"_s, u"finished run/a cancelled"_s,
        u"finished run/b skipped"_s,
        u"started run/clean#1"_s, u"finished run/clean success"_s,
        u"finished run/report skipped"_s,
        u"finished run cancelled"_s,
    }));
    QCOMPARE(probe.cancels, 1);
    QCOMPARE(h.runner->result().outcome, TaskOutcome::Cancelled);
    QCOMPARE(h.runner->error()->kind, JobError::Kind::Cancelled);
    QCOMPARE(h.runner->error()->code, u"CANCELLED"_s);
}

void TestTaskTree::cancelDuringBackoff()
{
    Probe probe;
    Harness h(Task::sequence(u"run"_s, {
        fake(probe, u"r"_s, fails(0, u"FLAKY"_s)).withRetry({3, 10000, {}}),
        fake(probe, u"clean"_s, ok()).withCondition(Task::always()),
    }));
    h.runner->start();
    QTRY_VERIFY(h.log.contains(u"retrying run/r#1"_s));
    h.runner->cancel();
    QTRY_COMPARE(h.finishedCount, 1);
    // No second attempt: the cancel ended the backoff.
    QCOMPARE(h.log, QStringList({
        u"started run#1"_s, u"started run/r#1"_s, u"retrying run/r#1"_s, u"finished run/r cancelled"_s,
        u"started run/clean#1"_s, u"finished run/clean success"_s,
        u"finished run cancelled"_s,
    }));
    QCOMPARE(probe.created, 2);
    QCOMPARE(h.runner->error()->kind, JobError::Kind::Cancelled);
}

void TestTaskTree::cancelWhileWaitingForAPoolToken()
{
    Probe probe;
    JobSpec slow = manual();
    slow.cancelDelayMs = 20;
    Harness h(Task::parallel(u"run"_s, {
        fake(probe, u"a"_s, slow).withPool(u"p"_s),
        fake(probe, u"b"_s, ok()).withPool(u"p"_s),
        fake(probe, u"clean"_s, ok()).withPool(u"p"_s).withCondition(Task::always()),
    }).withLimit(2));
    h.runner->setPoolSize(u"p"_s, 1);
    h.runner->start();
    QTRY_COMPARE(probe.running, 1);
    QCOMPARE(h.log, QStringList({u"started run#1"_s, u"started run/a#1"_s, u"waiting run/b"_s}));
    h.runner->cancel();
    QTRY_COMPARE(h.finishedCount, 1);
    // b never starts; clean waits for the token until a, still cancelling, gives it back.
    QCOMPARE(h.log, QStringList({
        u"started run#1"_s, u"started run/a#1"_s, u"waiting run/b"_s,
        u"finished run/b cancelled"_s,
        u"waiting run/clean"_s,
        u"finished run/a cancelled"_s,
        u"started run/clean#1"_s,
        u"finished run/clean success"_s,
        u"finished run cancelled"_s,
    }));
    QCOMPARE(probe.maxRunning, 1);
    QCOMPARE(probe.startOrder, QStringList({u"a"_s, u"clean"_s}));
    QCOMPARE(h.runner->error()->kind, JobError::Kind::Cancelled);
}

void TestTaskTree::cancelInsideAGraph()
{
    Probe probe;
    Harness h(Task::graph(u"g"_s,
                          {fake(probe, u"a"_s, manual()), fake(probe, u"b"_s, ok()),
                           fake(probe, u"clean"_s, ok()).withCondition(Task::always()), fake(probe, u"other"_s, manual())},
                          {{}, {0}, {0}, {}}));
    h.runner->start();
    QTRY_COMPARE(probe.running, 2);
    h.runner->cancel();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({
        u"started g#1"_s, u"started g/a#1"_s, u"started g/other#1"_s,
        u"finished g/a cancelled"_s,
        u"finished g/b skipped"_s, u"started g/clean#1"_s,
        u"finished g/other cancelled"_s,
        u"finished g/clean success"_s,
        u"finished g cancelled"_s,
    }));
    QCOMPARE(probe.cancels, 2);
    QCOMPARE(h.runner->error()->kind, JobError::Kind::Cancelled);
}

// Jobs whose cancel ends them at once end while the group is still cancelling its children;
// clean-up that starts then must not be cancelled too.
void TestTaskTree::cancelWithJobsCancellingAtOnce()
{
    Probe probe;
    int made = 0;
    Harness h(Task::parallelFor(u"fan"_s, 5, [&](qsizetype i) {
        ++made;
        if (i == 2)
            return fake(probe, u"clean"_s, ok(20)).withCondition(Task::always());
        return fake(probe, u"c%1"_s.arg(i), manual());
    }).withLimit(2));
    h.runner->start();
    QTRY_COMPARE(probe.running, 2);
    h.runner->cancel();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({
        u"started fan#1"_s, u"started fan/c0#1"_s, u"started fan/c1#1"_s,
        u"finished fan/c0 cancelled"_s,
        u"started fan/clean#1"_s,
        u"finished fan/c1 cancelled"_s,
        u"finished fan/c3 skipped"_s,
        u"finished fan/c4 skipped"_s,
        u"finished fan/clean success"_s,
        u"finished fan cancelled"_s,
    }));
    QCOMPARE(probe.cancels, 2);
    QCOMPARE(made, 5);
}

void TestTaskTree::forceStopSkipsCleanup()
{
    Probe probe;
    int cleanHooks = 0;
    Harness h(Task::sequence(u"run"_s, {
        Task::parallel(u"p"_s, {fake(probe, u"a"_s, manual()), fake(probe, u"b"_s, manual())}),
        fake(probe, u"clean"_s, ok()).withCondition(Task::always()).onFinished([&](const TaskResult &) { ++cleanHooks; }),
    }));
    h.runner->start();
    QTRY_COMPARE(probe.running, 2);
    h.runner->forceStop();
    QCOMPARE(h.finishedCount, 1);   // before forceStop returned
    QCOMPARE(h.log, QStringList({
        u"started run#1"_s, u"started run/p#1"_s, u"started run/p/a#1"_s, u"started run/p/b#1"_s,
        u"finished run/p/a cancelled"_s, u"finished run/p/b cancelled"_s, u"finished run/p cancelled"_s,
        u"finished run cancelled"_s,
    }));
    QCOMPARE(probe.cancels, 2);
    QCOMPARE(h.runner->error()->kind, JobError::Kind::Cancelled);
    QTest::qWait(50);
    QCOMPARE(probe.created, 2);
    QCOMPARE(cleanHooks, 0);
    QCOMPARE(h.log.size(), 8);
}

void TestTaskTree::forceStopAbandonsAJobIgnoringCancel()
{
    Probe probe;
    JobSpec stubborn = manual();
    stubborn.ignoreCancel = true;
    Harness h(Task::sequence(u"run"_s, {fake(probe, u"a"_s, stubborn), fake(probe, u"clean"_s, ok()).withCondition(Task::always())}));
    h.runner->start();
    QTRY_COMPARE(probe.running, 1);
    h.runner->forceStop();
    QCOMPARE(h.finishedCount, 1);
    QCOMPARE(h.log, QStringList({u"started run#1"_s, u"started run/a#1"_s, u"finished run/a cancelled"_s,
                                 u"finished run cancelled"_s}));
    QCOMPARE(probe.cancels, 1);
    QTest::qWait(20);   // deferred deletes run; the abandoned job is not destroyed while running
    QCOMPARE(probe.running, 1);
    probe.finishAll();
    QCOMPARE(probe.running, 0);
    QCOMPARE(h.finishedCount, 1);
    QCOMPARE(h.log.size(), 4);
}

void TestTaskTree::forceStopBeforeStart()
{
    Probe probe;
    Harness h(fake(probe, u"a"_s, ok()));
    h.runner->start();
    h.runner->forceStop();
    QCOMPARE(h.finishedCount, 1);
    QTest::qWait(30);
    QCOMPARE(h.finishedCount, 1);
    QCOMPARE(probe.created, 0);
    QCOMPARE(h.runner->error()->kind, JobError::Kind::Cancelled);
}

void TestTaskTree::poolIsNeverExceededAndFifo()
{
    Probe probe;
    QList<Task> children;
    QStringList names;
    QStringList waiting;
    for (int i = 0; i < 50; ++i) {
        names.append(u"t%1"_s.arg(i));
        children.append(fake(probe, names.last(), ok(1 + (i * 5) % 7)).withPool(u"p"_s));
        if (i >= 3)
            waiting.append(u"waiting run/t%1"_s.arg(i));
    }
    Harness h(Task::parallel(u"run"_s, children));
    h.runner->setPoolSize(u"p"_s, 3);
    h.runner->start();
    QTRY_COMPARE_WITH_TIMEOUT(h.finishedCount, 1, 10000);
    QVERIFY(!h.runner->error());
    QCOMPARE(probe.maxRunning, 3);
    QCOMPARE(probe.startOrder, names);                 // first come, first served
    QCOMPARE(h.log.filter(u"waiting "_s), waiting);
    QCOMPARE(h.log.filter(u" success"_s).size(), 51);
}

void TestTaskTree::unknownPoolDoesNotWait()
{
    Probe probe;
    Harness h(Task::parallel(u"run"_s, {fake(probe, u"a"_s, ok()).withPool(u"x"_s), fake(probe, u"b"_s, ok()).withPool(u"x"_s)}));
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(h.log.filter(u"waiting"_s), QStringList());
    QCOMPARE(probe.maxRunning, 2);
}

// Children that end while they are being started: an empty group ends at once, a
// skipped child never starts. 10,000 of them must neither grow the stack nor be made
// before they are needed.
void TestTaskTree::fanOutOfSynchronousChildren()
{
    constexpr qsizetype count = 10000;
    qsizetype made = 0;
    qsizetype hooksOk = 0;
    qsizetype maxLive = 0;
    std::unique_ptr<Harness> h;
    auto liveRuns = [&h] { return h->runner->findChildren<QObject *>().size(); };
    h = std::make_unique<Harness>(Task::parallelFor(u"fan"_s, count, [&](qsizetype i) {
        ++made;
        Task child = i % 2 ? Task::sequence(u"empty%1"_s.arg(i), {})
                           : Task::sequence(u"skipped%1"_s.arg(i), {}).withCondition([](const ConditionState &) { return false; });
        return child.onFinished([&, i](const TaskResult &) {
            if (made == i + 1)   // made just before it started, not earlier
                ++hooksOk;
            if (i % 100 == 0)
                maxLive = std::max(maxLive, liveRuns());
        });
    }));
    h->runner->start();
    QTRY_COMPARE(h->finishedCount, 1);
    QVERIFY(!h->runner->error());
    QCOMPARE(made, count);
    QCOMPARE(hooksOk, count);
    QCOMPARE(h->log.size(), 2 + count / 2 * 3);
    QCOMPARE(h->log.at(1), u"finished fan/skipped0 skipped"_s);
    QCOMPARE(h->log.at(2), u"started fan/empty1#1"_s);
    QCOMPARE(h->log.at(3), u"finished fan/empty1 success"_s);
    QVERIFY2(maxLive <= 16, qPrintable(QString::number(maxLive)));
}

void TestTaskTree::fanOutOfInstantJobs()
{
    constexpr qsizetype count = 10000;
    Probe probe;
    qsizetype made = 0;
    qsizetype maxMadeAhead = 0;
    qsizetype maxLive = 0;
    std::unique_ptr<Harness> h;
    h = std::make_unique<Harness>(Task::parallelFor(u"fan"_s, count, [&](qsizetype i) {
        ++made;
        return fake(probe, u"c"_s, ok(0)).onStarted([&, i] {
            maxMadeAhead = std::max(maxMadeAhead, made - i);
            maxLive = std::max(maxLive, h->runner->findChildren<QObject *>().size());
        });
    }).withLimit(8));
    h->runner->start();
    QTRY_COMPARE_WITH_TIMEOUT(h->finishedCount, 1, 60000);
    QVERIFY(!h->runner->error());
    QCOMPARE(made, count);
    QCOMPARE(probe.created, count);
    QCOMPARE(probe.maxRunning, 8);
    QCOMPARE(maxMadeAhead, 1);
    QCOMPARE(h->log.size(), 2 + count * 2);
    QVERIFY2(maxLive <= 2 * 8 + 2, qPrintable(QString::number(maxLive)));
}

void TestTaskTree::hooksAreCalledOnce()
{
    Probe probe;
    QStringList hooks;
    auto track = [&hooks](Task task) {
        const QString name = task.name();
        return task.onStarted([&hooks, name] { hooks.append(u"onStarted "_s + name); })
            .onFinished([&hooks, name](const TaskResult &r) {
                hooks.append(u"onFinished %1 %2 %3"_s.arg(name, taskOutcomeName(r.outcome)).arg(r.attempts));
            });
    };
    Harness h(track(Task::sequence(u"run"_s, {
        track(fake(probe, u"a"_s, ok())),
        track(fake(probe, u"flaky"_s, fails(0, u"FLAKY"_s)).withRetry({2, 10, {}})),
        track(fake(probe, u"c"_s, ok())),
    })));
    QObject::connect(h.runner.get(), &TaskTreeRunner::taskEvent, h.runner.get(),
                     [&hooks](const TaskEvent &event) { hooks.append(describe(event)); });
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(hooks, QStringList({
        u"onStarted run"_s, u"started run#1"_s,
        u"onStarted a"_s, u"started run/a#1"_s, u"onFinished a success 1"_s, u"finished run/a success"_s,
        u"onStarted flaky"_s, u"started run/flaky#1"_s, u"retrying run/flaky#1"_s, u"started run/flaky#2"_s,
        u"onFinished flaky failure 2"_s, u"finished run/flaky failure"_s,
        u"onFinished c skipped 0"_s, u"finished run/c skipped"_s,
        u"onFinished run failure 0"_s, u"finished run failure"_s,
    }));
}

// Whoever builds a recipe and whoever wraps it can both watch it; copies stay independent.
void TestTaskTree::hooksAddUp()
{
    Probe probe;
    QStringList hooks;
    const Task built = fake(probe, u"a"_s, ok())
                           .onStarted([&hooks] { hooks.append(u"builder started"_s); })
                           .onFinished([&hooks](const TaskResult &) { hooks.append(u"builder finished"_s); });
    Task wrapped = built;
    wrapped.onStarted([&hooks] { hooks.append(u"wrapper started"_s); })
        .onFinished([&hooks](const TaskResult &r) { hooks.append(u"wrapper finished "_s + taskOutcomeName(r.outcome)); });
    Harness h(Task::sequence(u"run"_s, {wrapped, built}));
    h.runner->start();
    QTRY_COMPARE(h.finishedCount, 1);
    QCOMPARE(hooks, QStringList({u"builder started"_s, u"wrapper started"_s, u"builder finished"_s,
                                 u"wrapper finished success"_s, u"builder started"_s, u"builder finished"_s}));
}

void TestTaskTree::runnerResultAndErrors()
{
    {
        Probe probe;
        Harness h(Task::sequence(u"run"_s, {fake(probe, u"a"_s, ok())}));
        h.runner->start();
        QTRY_COMPARE(h.finishedCount, 1);
        QVERIFY(!h.runner->error());
        QCOMPARE(h.runner->result().outcome, TaskOutcome::Success);
        QVERIFY(!h.runner->result().error);
    }
    {
        Probe probe;
        Harness h(Task::sequence(u"run"_s, {
            fake(probe, u"a"_s, ok()),
            Task::parallel(u"inner"_s, {fake(probe, u"b"_s, ok(5)), fake(probe, u"c"_s, fails(50, u"C_BROKE"_s))}),
        }));
        h.runner->start();
        QTRY_COMPARE(h.finishedCount, 1);
        QCOMPARE(h.runner->result().outcome, TaskOutcome::Failure);
        QCOMPARE(h.runner->result().error->code, u"C_BROKE"_s);
        QCOMPARE(h.runner->error()->code, u"TASK_FAILED"_s);
        QCOMPARE(h.runner->error()->kind, JobError::Kind::Task);
        const QString message = h.runner->error()->message;
        QVERIFY2(message.contains(u"run/inner/c"_s), qPrintable(message));
        QVERIFY2(message.contains(u"c_broke happened"_s), qPrintable(message));
    }
    {
        // A skipped root is not a failure.
        Probe probe;
        Harness h(fake(probe, u"a"_s, ok()).withCondition([](const ConditionState &) { return false; }));
        h.runner->start();
        QTRY_COMPARE(h.finishedCount, 1);
        QVERIFY(!h.runner->error());
        QCOMPARE(h.runner->result().outcome, TaskOutcome::Skipped);
        QCOMPARE(h.log, QStringList({u"finished a skipped"_s}));
    }
    {
        // No job from the factory.
        Harness h(Task::job(u"nothing"_s, [] { return nullptr; }));
        h.runner->start();
        QTRY_COMPARE(h.finishedCount, 1);
        QCOMPARE(h.runner->result().error->code, u"TASK_NO_JOB"_s);
        QCOMPARE(h.runner->error()->code, u"TASK_FAILED"_s);
    }
}

void TestTaskTree::runningJobCount()
{
    Probe probe;
    Harness h(Task::parallel(u"run"_s, {fake(probe, u"a"_s, manual()), fake(probe, u"b"_s, manual())}));
    QCOMPARE(h.runner->runningJobCount(), 0);
    h.runner->start();
    QTRY_COMPARE(probe.running, 2);
    QCOMPARE(h.runner->runningJobCount(), 3);   // the group and its two jobs
    probe.jobs.first()->complete();
    QCOMPARE(h.runner->runningJobCount(), 2);
    probe.finishAll();
    QCOMPARE(h.finishedCount, 1);
    QCOMPARE(h.runner->runningJobCount(), 0);
}

QTEST_GUILESS_MAIN(TestTaskTree)
#include "tst_tasktree.moc"
