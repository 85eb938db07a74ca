// LocalRunner through the Runner interface, with real sandboxes: create until ready, run
// commands, interrupt them, delete, expire, and leave nothing running.
#include "runnertesting.h"

#include <QSignalSpy>
#include <QTest>

#include <functional>

using namespace Sandflow;
using namespace RunnerTesting;
using namespace Qt::StringLiterals;

class TestLocalRunner : public QObject
{
    Q_OBJECT

private slots:
    void createRunDelete();
    void commandsSeeTheSandboxEnvironment();
    void failuresAreValues();
    void interruptStopsTheProcessGroup();
    void expiryRemovesTheSandbox();
    void entrypointEndsTheSandbox();
    void unknownSandbox();
    void cancellingCreationLeavesNothing();
    void imagesAreNotPulledAndThatIsSaidOnce();
    void memoryHogIsOomKilled();
    void forkBombHitsTheProcessLimit();
    void pauseFreezesAndResumeContinues();

};

void TestLocalRunner::createRunDelete()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, sandbox([](SandboxRequest &r) {
        r.image = u"debian:12"_s;
        r.metadata = {{u"team"_s, u"ml"_s}};
    }));
    QVERIFY(!id.isEmpty());
    QCOMPARE(runner.sandboxes().size(), 1);
    QCOMPARE(runner.sandboxes().first().state, SandboxState::Running);
    QCOMPARE(runner.sandboxes().first().metadata.value(u"team"_s), u"ml"_s);

    std::unique_ptr<CommandJob> job(runner.runCommand(id, command(u"echo hello; echo oops >&2"_s)));
    const Output output = collect(job.get());
    QVERIFY(!job->error());
    QCOMPARE(job->exitCode(), std::optional<int>(0));
    QCOMPARE(output.out, QByteArray("hello\n"));
    QCOMPARE(output.err, QByteArray("oops\n"));

    std::unique_ptr<AsyncJob> removal(run(runner.deleteSandbox(id)));
    QVERIFY(!removal->error());
    QTRY_VERIFY(runner.sandboxes().isEmpty());
}

void TestLocalRunner::commandsSeeTheSandboxEnvironment()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, sandbox([](SandboxRequest &r) {
        r.env = {{u"FROM_SANDBOX"_s, u"s"_s}, {u"BOTH"_s, u"sandbox"_s}};
    }));
    std::unique_ptr<CommandJob> job(runner.runCommand(id, command(u"echo $FROM_SANDBOX $BOTH $FROM_COMMAND; pwd"_s,
                                                                   [](CommandRequest &r) {
                                                                       r.env = {{u"BOTH"_s, u"command"_s}, {u"FROM_COMMAND"_s, u"c"_s}};
                                                                       r.cwd = u"/tmp"_s;
                                                                   })));
    QCOMPARE(collect(job.get()).out, QByteArray("s command c\n/tmp\n"));
    std::unique_ptr<CommandJob> home(runner.runCommand(id, command(u"pwd; echo $HOME"_s)));
    QCOMPARE(collect(home.get()).out, QByteArray("/workspace\n/workspace\n"));
}

void TestLocalRunner::failuresAreValues()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    std::unique_ptr<CommandJob> failed(runner.runCommand(id, command(u"exit 3"_s)));
    collect(failed.get());
    QCOMPARE(failed->exitCode(), std::optional<int>(3));
    QCOMPARE(failed->error()->kind, JobError::Kind::Task);
    QCOMPARE(failed->error()->context.value(u"exitCode"_s).toInt(), 3);

    std::unique_ptr<CommandJob> slow(runner.runCommand(id, command(u"sleep 30"_s, [](CommandRequest &r) { r.timeoutMs = 200; })));
    collect(slow.get());
    QCOMPARE(slow->error()->kind, JobError::Kind::Timeout);
    QCOMPARE(slow->exitCode(), std::nullopt);

    std::unique_ptr<CommandJob> badCwd(runner.runCommand(id, command(u"true"_s, [](CommandRequest &r) { r.cwd = u"/nonexistent"_s; })));
    collect(badCwd.get());
    QCOMPARE(badCwd->error()->code, u"COMMAND_START_FAILED"_s);
}

void TestLocalRunner::interruptStopsTheProcessGroup()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    // The shell ignores SIGTERM, so the interrupt has to escalate to SIGKILL.
    std::unique_ptr<CommandJob> job(runner.runCommand(id, command(u"trap '' TERM; sleep 100 & echo started; wait"_s)));
    job->setAutoDelete(false);
    QSignalSpy finished(job.get(), &AsyncJob::finished);
    QByteArray out;
    connect(job.get(), &CommandJob::output, this, [&](CommandJob::Stream, const QByteArray &data) { out += data; });
    job->start();
    QTRY_COMPARE(out, QByteArray("started\n"));
    job->cancel();
    QVERIFY(finished.wait(20'000));
    QCOMPARE(job->error()->kind, JobError::Kind::Cancelled);
    std::unique_ptr<CommandJob> check(runner.runCommand(id, command(u"ps -e -o comm= | grep -c '^sleep$' || true"_s)));
    QCOMPARE(collect(check.get()).out, QByteArray("0\n"));
}

void TestLocalRunner::expiryRemovesTheSandbox()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, sandbox([](SandboxRequest &r) { r.timeoutMs = 300; }));
    QVERIFY(!id.isEmpty());
    QVERIFY(runner.sandboxes().first().expiresAt.has_value());
    QTRY_VERIFY_WITH_TIMEOUT(runner.sandboxes().isEmpty(), 20'000);
    std::unique_ptr<CommandJob> late(runner.runCommand(id, command(u"true"_s)));
    collect(late.get());
    QCOMPARE(late->error()->code, u"SANDBOX_NOT_FOUND"_s);
}

void TestLocalRunner::entrypointEndsTheSandbox()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, sandbox([](SandboxRequest &r) { r.entrypoint = {u"/bin/sh"_s, u"-c"_s, u"sleep 0.2"_s}; }));
    QVERIFY(!id.isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(runner.sandboxes().isEmpty(), 20'000);
}

void TestLocalRunner::unknownSandbox()
{
    LocalRunner runner(runnerOptions());
    std::unique_ptr<AsyncJob> removal(run(runner.deleteSandbox(u"nope"_s)));
    QCOMPARE(removal->error()->code, u"SANDBOX_NOT_FOUND"_s);
    QCOMPARE(removal->error()->kind, JobError::Kind::Invalid);
}

void TestLocalRunner::cancellingCreationLeavesNothing()
{
    LocalRunner runner(runnerOptions());
    std::unique_ptr<SandboxJob> job(runner.createSandbox({}));
    job->setAutoDelete(false);
    QSignalSpy finished(job.get(), &AsyncJob::finished);
    job->start();
    QTest::qWait(1);   // let the start run, so the sandbox is on its way
    job->cancel();
    QVERIFY(finished.wait(20'000));
    QTRY_VERIFY(runner.sandboxes().isEmpty());
}

void TestLocalRunner::imagesAreNotPulledAndThatIsSaidOnce()
{
    LocalRunner runner(runnerOptions());
    QSignalSpy warnings(&runner, &Runner::warning);
    for (const QString &image : {u"python:3.11"_s, u"debian:12"_s}) {
        const QString id = create(&runner, sandbox([&](SandboxRequest &r) { r.image = image; }));
        QVERIFY(!id.isEmpty());
        const QList<SandboxInfo> live = runner.sandboxes();
        const auto created = std::find_if(live.cbegin(), live.cend(), [&](const SandboxInfo &s) { return s.id == id; });
        QVERIFY(created != live.cend());
        QCOMPARE(created->image, image);
    }
    QCOMPARE(warnings.size(), 1);
    QVERIFY(warnings.first().first().toString().contains(u"does not pull images"_s));
}

void TestLocalRunner::memoryHogIsOomKilled()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, sandbox([](SandboxRequest &r) { r.memoryBytes = 64 << 20; }));
    // The shell holds 256 MB in one variable: four times the limit.
    std::unique_ptr<CommandJob> hog(runner.runCommand(id, command(u"x=$(head -c 268435456 /dev/zero | tr '\\0' a); echo ${#x}"_s)));
    collect(hog.get());
    QVERIFY(hog->error());
    QCOMPARE(hog->error()->code, u"COMMAND_OOM_KILLED"_s);
    // The sandbox itself survives its command's death.
    std::unique_ptr<CommandJob> after(runner.runCommand(id, command(u"echo alive"_s)));
    QCOMPARE(collect(after.get()).out, QByteArray("alive\n"));
}

void TestLocalRunner::forkBombHitsTheProcessLimit()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, sandbox([](SandboxRequest &r) { r.maxProcesses = 24; }));
    // A hundred sleepers against room for 24 processes: a fork fails, and the shell says so.
    std::unique_ptr<CommandJob> bomb(runner.runCommand(id, command(u"for i in $(seq 100); do sleep 1 & done; wait"_s)));
    const Output output = collect(bomb.get());
    QVERIFY(bomb->error());
    QVERIFY2(output.err.toLower().contains("fork"), output.err.constData());
}

void TestLocalRunner::pauseFreezesAndResumeContinues()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    std::unique_ptr<CommandJob> counter(runner.runCommand(
        id, command(u"i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done"_s)));
    counter->setAutoDelete(false);
    counter->start();
    const auto count = [&] {
        std::unique_ptr<CommandJob> read(runner.runCommand(id, command(u"cat /tmp/count"_s)));
        return collect(read.get()).out.trimmed().toInt();
    };
    QTRY_VERIFY(count() > 0);

    const int beforePause = count();
    std::unique_ptr<AsyncJob> pause(run(runner.pauseSandbox(id)));
    QVERIFY(!pause->error());
    QCOMPARE(runner.sandboxes().first().state, SandboxState::Paused);
    std::unique_ptr<CommandJob> rejected(runner.runCommand(id, command(u"true"_s)));
    collect(rejected.get());
    QCOMPARE(rejected->error()->code, u"SANDBOX_NOT_RUNNING"_s);
    std::unique_ptr<AsyncJob> again(run(runner.pauseSandbox(id)));
    QCOMPARE(again->error()->code, u"INVALID_STATE"_s);

    // Frozen for 600 ms.
    std::unique_ptr<AsyncJob> resume;
    QTest::qWait(600);
    resume.reset(run(runner.resumeSandbox(id)));
    QVERIFY(!resume->error());
    const int afterPause = count();
    // Running, the counter would have gone up about twelve times; frozen, it did not move
    // (a couple of ticks fit between reading it and pausing, and between resuming and reading).
    QVERIFY2(afterPause - beforePause <= 6, qPrintable(u"%1 then %2"_s.arg(beforePause).arg(afterPause)));
    QTest::qWait(600);
    const int later = count();
    QVERIFY2(later > afterPause, qPrintable(u"%1 then %2"_s.arg(afterPause).arg(later)));
    counter->cancel();
    QTRY_VERIFY(counter->isFinished());
}

QTEST_GUILESS_MAIN(TestLocalRunner)
#include "tst_localrunner.moc"
