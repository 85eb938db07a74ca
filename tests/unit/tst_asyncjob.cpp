// The job contract: finished exactly once, whatever the order of start, cancel, results
// and deletion; errors as values.
#include "asyncjob.h"

#include <QPointer>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>

using namespace Sandflow;
using namespace Qt::StringLiterals;

namespace {

// Finishes with `error` inside doStart, or, when `later`, only once the test calls
// deliver(): no clock decides whether its result or a cancel comes first. Cancels
// asynchronously when `asyncCancel`, as a job that must release a resource first would.
class TestJob final : public AsyncJob
{
public:
    TestJob(bool later, std::optional<JobError> error, bool asyncCancel)
        : m_later(later), m_result(std::move(error)), m_asyncCancel(asyncCancel)
    {
    }

    int starts = 0;
    int cancels = 0;
    void deliver() { finish(m_result); }
    void finishAgain() { finish(JobError{JobError::Kind::Task, u"LATE"_s, u"late"_s, {}}); }

protected:
    void doStart() override
    {
        ++starts;
        if (!m_later)
            finish(m_result);
    }
    void doCancel() override
    {
        ++cancels;
        if (m_asyncCancel)
            QTimer::singleShot(5, this, [this] { finish(cancelledError()); });
        else
            AsyncJob::doCancel();
    }

private:
    bool m_later;
    std::optional<JobError> m_result;
    bool m_asyncCancel;
};

} // namespace

class TestAsyncJob : public QObject
{
    Q_OBJECT

private slots:
    void finishesExactlyOnce_data();
    void finishesExactlyOnce();
    void lateResultsAreIgnored();
    void errorsAreValues();
};

void TestAsyncJob::finishesExactlyOnce_data()
{
    QTest::addColumn<bool>("later");   // the result comes after doStart, when the test sends it
    QTest::addColumn<bool>("fails");
    QTest::addColumn<QString>("cancelWhen");   // never | beforeStart | afterStart | running | afterFinish
    QTest::addColumn<bool>("asyncCancel");
    QTest::addColumn<bool>("autoDelete");
    QTest::addColumn<QString>("expected");      // ok | task | cancelled

    const QStringList whens = {u"never"_s, u"beforeStart"_s, u"afterStart"_s, u"running"_s, u"afterFinish"_s};
    for (const QString &when : whens) {
        for (const bool asyncCancel : {false, true}) {
            for (const bool autoDelete : {false, true}) {
                for (const bool fails : {false, true}) {
                    for (const bool later : {false, true}) {
                        QString expected = fails ? u"task"_s : u"ok"_s;
                        // Cancelling before the work begins, or while it runs, wins.
                        if (when == u"beforeStart"_s || when == u"afterStart"_s || (when == u"running"_s && later))
                            expected = u"cancelled"_s;
                        const QString name = u"%1/%2cancel/%3/%4/%5"_s.arg(when, asyncCancel ? u"async-"_s : QString(),
                                                                            autoDelete ? u"autodelete"_s : u"kept"_s,
                                                                            fails ? u"fails"_s : u"succeeds"_s,
                                                                            later ? u"later"_s : u"at-start"_s);
                        QTest::newRow(qPrintable(name)) << later << fails << when << asyncCancel << autoDelete << expected;
                    }
                }
            }
        }
    }
}

void TestAsyncJob::finishesExactlyOnce()
{
    QFETCH(bool, later);
    QFETCH(bool, fails);
    QFETCH(QString, cancelWhen);
    QFETCH(bool, asyncCancel);
    QFETCH(bool, autoDelete);
    QFETCH(QString, expected);

    const std::optional<JobError> failure = fails ? std::optional(JobError{JobError::Kind::Task, u"EXIT"_s, u"exit 3"_s, {}})
                                                  : std::nullopt;
    auto *job = new TestJob(later, failure, asyncCancel);
    job->setAutoDelete(autoDelete);
    QPointer<TestJob> guard(job);
    QStringList outcomes;
    connect(job, &AsyncJob::finished, this, [&](AsyncJob *finished) {
        QCOMPARE(finished, job);
        QVERIFY(finished->isFinished());
        outcomes.append(!finished->error() ? u"ok"_s : JobError::kindName(finished->error()->kind));
    });

    const bool cancelledBeforeWork = cancelWhen == u"beforeStart"_s || cancelWhen == u"afterStart"_s;
    if (cancelWhen == u"beforeStart"_s)
        job->cancel();
    else
        job->start();
    if (cancelWhen == u"afterStart"_s)
        job->cancel();
    if (!cancelledBeforeWork) {
        QTRY_VERIFY(!guard || guard->starts == 1);
        // A later result comes only when the test sends it: a cancel while the job runs
        // comes first however late the machine lets the test get here.
        if (guard && cancelWhen == u"running"_s)
            guard->cancel();
        else if (guard)
            guard->deliver();
    }
    QTRY_COMPARE(outcomes.size(), 1);
    if (cancelWhen == u"afterFinish"_s && guard)
        guard->cancel();
    QTest::qWait(40);   // anything still queued would show up as a second outcome
    QCOMPARE(outcomes, QStringList{expected});
    if (autoDelete) {
        QTRY_VERIFY(guard.isNull());
    } else {
        QVERIFY(!guard.isNull());
        QCOMPARE(guard->starts, cancelledBeforeWork ? 0 : 1);
        delete job;
    }
}

void TestAsyncJob::lateResultsAreIgnored()
{
    TestJob job(true, std::nullopt, true);
    job.setAutoDelete(false);
    QSignalSpy spy(&job, &AsyncJob::finished);
    job.start();
    QTRY_COMPARE(job.starts, 1);
    job.cancel();
    job.cancel();   // a second request changes nothing
    QTRY_COMPARE(spy.size(), 1);
    job.deliver();
    job.finishAgain();
    QTest::qWait(40);
    QCOMPARE(spy.size(), 1);
    QCOMPARE(job.cancels, 1);
    QCOMPARE(job.error()->kind, JobError::Kind::Cancelled);
}

void TestAsyncJob::errorsAreValues()
{
    const JobError error{JobError::Kind::Infra, u"SANDBOX_LOST"_s, u"the sandbox exited"_s, {{u"id"_s, u"abc"_s}}};
    const QJsonObject json = error.toJson();
    QCOMPARE(json[u"kind"_s].toString(), u"infra"_s);
    QCOMPARE(json[u"code"_s].toString(), u"SANDBOX_LOST"_s);
    QCOMPARE(json[u"message"_s].toString(), u"the sandbox exited"_s);
    QCOMPARE(json[u"context"_s][u"id"_s].toString(), u"abc"_s);
}

QTEST_GUILESS_MAIN(TestAsyncJob)
#include "tst_asyncjob.moc"
