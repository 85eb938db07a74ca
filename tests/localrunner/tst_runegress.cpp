// Denied egress attempts as events of a run: a real run over real local sandboxes, with the
// runner's egressDenied signal standing for its egress filter. The run names each denial's
// job instance and collapses repeats, and the summary counts every denial.
#include "localrunnertesting.h"
#include "summarywriter.h"
#include "workflowloader.h"
#include "workflowrun.h"

#include <QTemporaryDir>

using namespace Sandflow;
using namespace RunnerTesting;
using namespace Qt::StringLiterals;

namespace {

/// An event in a few words: its type, job instance and step, and what a denial says.
QString describe(const RunEvent &event)
{
    QString text = RunEvent::typeName(event.type);
    if (!event.job.isEmpty())
        text += u' ' + event.job;
    if (!event.step.isEmpty())
        text += u' ' + event.step;
    if (event.type == RunEvent::Type::EgressDenied) {
        text += u" %1:%2 x%3"_s.arg(event.details.value(u"target"_s).toString())
                    .arg(event.details.value(u"port"_s).toInt())
                    .arg(event.details.value(u"count"_s).toInteger());
    }
    return text;
}

} // namespace

class TestRunEgress : public QObject
{
    Q_OBJECT

private slots:
    void init() { TestWarnings::failOnAnyWarning(); }
    void deniedAttemptsAreCollapsedAndCounted();
};

// While the step sleeps: a burst of denials of one address, one of a name, one more of the
// address later, and one for a sandbox that is not the run's; after the step, a burst that
// only the sandbox's deletion ends.
void TestRunEgress::deniedAttemptsAreCollapsedAndCounted()
{
    const QTemporaryDir runDir;
    QVERIFY(runDir.isValid());
    const StepTypeRegistry stepTypes;
    const LoadResult loaded = WorkflowLoader(stepTypes).loadData(R"(version: 1
name: egress
jobs:
  probe:
    steps:
      - id: wait
        run: sleep 3
)", u"egress.yaml"_s, runDir.path());
    QVERIFY2(loaded.ok(), qPrintable(loaded.diagnostics.items().value(0).toString()));

    LocalRunner runner(runnerOptions());
    RunOptions options;
    options.runId = u"r1"_s;
    options.runDirectory = runDir.path();
    QStringList log;
    QString sandboxId;
    QList<RunEvent> denials;
    SummaryWriter summary(runDir.path());
    const auto deny = [&runner, &sandboxId](const QString &target, int port, int times) {
        for (int i = 0; i < times; ++i)
            emit runner.egressDenied(sandboxId, target, port);
    };
    WorkflowRun run(*loaded.workflow, &runner, options, [&](const RunEvent &event) {
        log.append(describe(event));
        summary.handle(event);
        switch (event.type) {
        case RunEvent::Type::SandboxCreated:
            sandboxId = event.sandboxId;
            break;
        case RunEvent::Type::EgressDenied:
            denials.append(event);
            break;
        case RunEvent::Type::StepStarted:
            QTimer::singleShot(0, &runner, [&] {
                deny(u"10.0.0.1"_s, 443, 5);
                deny(u"pypi.org"_s, 0, 1);
                emit runner.egressDenied(u"not-of-this-run"_s, u"10.0.0.1"_s, 443);
            });
            // Within the window of the collapsed burst's event.
            QTimer::singleShot(1500, &runner, [&] { deny(u"10.0.0.1"_s, 443, 1); });
            break;
        case RunEvent::Type::StepFinished:
            deny(u"2001:db8::1"_s, 80, 3);
            break;
        default:
            break;
        }
    });
    RunnerTesting::run(&run, 60'000);
    QCOMPARE(run.outcome(), TaskOutcome::Success);

    // The first of each is published at once; the repeats within a second are one event
    // when that second is over, or when the sandbox goes.
    QCOMPARE(log, (QStringList{
        u"run_started"_s,
        u"job_started probe"_s,
        u"sandbox_created probe"_s,
        u"step_started probe wait"_s,
        u"egress_denied probe 10.0.0.1:443 x1"_s,
        u"egress_denied probe pypi.org:0 x1"_s,
        u"egress_denied probe 10.0.0.1:443 x4"_s,
        u"egress_denied probe 10.0.0.1:443 x1"_s,
        u"step_finished probe wait"_s,
        u"egress_denied probe 2001:db8::1:80 x1"_s,
        u"egress_denied probe 2001:db8::1:80 x2"_s,
        u"sandbox_deleted probe"_s,
        u"job_finished probe"_s,
        u"run_finished"_s,
    }));
    // Named as the sandbox's other events are; a name has no port.
    for (const RunEvent &denial : std::as_const(denials)) {
        QCOMPARE(denial.sandboxId, sandboxId);
        QCOMPARE(denial.jobId, u"probe"_s);
        QCOMPARE(denial.instance, qsizetype(0));
        QCOMPARE(denial.runId, u"r1"_s);
    }
    QVERIFY(!denials.at(1).details.contains(u"port"_s));

    // The summary counts every attempt, collapsed or not: 6 + 1 + 3.
    QCOMPARE(summary.summary().egressDenied(), 10);
    QCOMPARE(summary.summary().findJob(u"probe"_s)->egressDenied, 10);
    QCOMPARE(summary.toJson().value(u"egressDenied"_s).toInteger(), 10);
}

QTEST_GUILESS_MAIN(TestRunEgress)
#include "tst_runegress.moc"
