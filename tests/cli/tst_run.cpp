// `sandflow run` end to end: the built program runs every example workflow on the local
// runner and, with `--runner opensandbox`, on a real `sandflow serve`; the run's exit status,
// events, logs and reports are checked, the same on both. One run is interrupted with
// SIGINT, and nothing may be left behind, here or on the server.
#include "runtesting.h"
#include "serveprocess.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/resource.h>
#include <sys/stat.h>
#include <grp.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

using namespace RunTesting;

class TestRun : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();
    void hello_data() { runnerRows(); }
    void hello();
    void matrix_data() { runnerRows(); }
    void matrix();
    void outputsBetweenJobs_data() { runnerRows(); }
    void outputsBetweenJobs();
    void background_data() { runnerRows(); }
    void background();
    void failing_data() { runnerRows(); }
    void failing();
    void dataset_data() { runnerRows(); }
    void dataset();
    void uploadsAndDownloads_data() { runnerRows(); }
    void uploadsAndDownloads();
    void transfersAreLikeCp_data() { runnerRows(); }
    void transfersAreLikeCp();
    void fannedOutDownloadsKeepApart_data() { runnerRows(); }
    void fannedOutDownloadsKeepApart();
    void pluginStepWaitsForAServer_data() { runnerRows(); }
    void pluginStepWaitsForAServer();
    void shellsAreGitHubs_data() { runnerRows(); }
    void shellsAreGitHubs();
    void retriesTimeoutsAndLogLimit();
    void timedOutAttemptsAreRetried();
    void secretsAreMaskedEverywhere();
    void skippedJobsAreReported();
    void downloadThatCannotBeWrittenFails();
    void stepContinueOnErrorText();
    void gradeRewardsAreKept();
    void environmentFileSetsLaterSteps_data() { runnerRows(); }
    void environmentFileSetsLaterSteps();
    void jobContinueOnError();
    void floodedOutputsFailTheStep();
    void strategyExpressions();
    void cgroupWarningIsSaidOnce();
    void runTimeoutCancelsAndCleansUp_data() { runnerRows(); }
    void runTimeoutCancelsAndCleansUp();
    void interruptLeavesNothing_data() { runnerRows(); }
    void interruptLeavesNothing();

private:
    static void runnerRows() { addRunnerRows(); }
    /// The options that choose the current row's runner.
    QStringList onRunner() const;
    /// `workflow` is relative to the source tree.
    void prepare(QProcess &process, const QString &workflow, const QString &runDir, const QStringList &options = {});
    RunResult run(const QString &workflow, const QStringList &options = {});

    QTemporaryDir m_dir;
    QTemporaryDir m_serverState;
    ServeProcess m_server;
};

void TestRun::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY(m_serverState.isValid());
    QVERIFY2(m_server.start(QStringLiteral(SANDFLOW_BINARY), m_serverState.path(), u"tst-run-key"_s),
             qPrintable(m_server.failure()));
}

void TestRun::cleanup()
{
    if (QTest::currentDataTag() == nullptr || qstrcmp(QTest::currentDataTag(), "opensandbox") != 0)
        return;
    // Whatever the run did, it left nothing on the server.
    QCOMPARE(serverSandboxes(QStringLiteral(SANDFLOW_BINARY), m_server), u"No sandboxes.\n"_s);
}

void TestRun::cleanupTestCase()
{
    QVERIFY2(m_server.stop(), qPrintable(m_server.failure()));
}

QStringList TestRun::onRunner() const
{
    return runnerOptions(m_server);
}

void TestRun::prepare(QProcess &process, const QString &workflow, const QString &runDir, const QStringList &options)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"SANDFLOW_STATE_DIR"_s, m_dir.filePath(u"state"_s));
    env.insert(u"SANDFLOW_TEST_TOKEN"_s, u"s3cr3t-value-4711"_s);
    process.setProcessEnvironment(env);
    process.setProgram(QStringLiteral(SANDFLOW_BINARY));
    process.setArguments(QStringList{u"run"_s, u"--json"_s, u"--run-dir"_s, runDir} + options
                         + QStringList{QStringLiteral(SANDFLOW_SOURCE_DIR) + u'/' + workflow});
    process.setStandardInputFile(QProcess::nullDevice());
}

RunResult TestRun::run(const QString &workflow, const QStringList &options)
{
    const QString tag = QString::fromLatin1(QTest::currentDataTag());
    const QString runDir = m_dir.filePath(QFileInfo(workflow).baseName() + (tag.isEmpty() ? QString() : u'-' + tag));
    QProcess process;
    prepare(process, workflow, runDir, options);
    return finish(process, runDir);
}

void TestRun::hello()
{
    const RunResult result = run(u"workflows/examples/hello.yaml"_s, onRunner());
    QVERIFY2(result.exitCode == 0, qPrintable(result.err));
    QCOMPARE(result.eventsOf(u"run_started"_s).size(), 1);
    QCOMPARE(result.eventsOf(u"run_finished"_s).first().value(u"outcome"_s).toString(), u"success"_s);
    QCOMPARE(result.eventsOf(u"sandbox_created"_s).size(), 1);
    QCOMPARE(result.eventsOf(u"sandbox_deleted"_s).size(), 1);
    const QStringList lines = result.lines(u"hello"_s);
    QVERIFY2(lines.contains(u"hello, world"_s), qPrintable(lines.join(u'\n')));
    QVERIFY(lines.contains(u"hello from a file"_s));
    QVERIFY(lines.contains(u"the file has 1 line"_s));
    QVERIFY(lines.contains(u"the previous step said 'hello, world'"_s));
    const QJsonObject job = result.eventsOf(u"job_finished"_s).first();
    QCOMPARE(job.value(u"outcome"_s).toString(), u"success"_s);
    QCOMPARE(job.value(u"details"_s).toObject().value(u"outputs"_s).toObject().value(u"message"_s).toString(),
             u"hello, world"_s);
}

void TestRun::matrix()
{
    const RunResult result = run(u"workflows/examples/matrix.yaml"_s, onRunner());
    QVERIFY2(result.exitCode == 0, qPrintable(result.err));
    QCOMPARE(result.eventsOf(u"job_finished"_s).size(), 4);
    QCOMPARE(result.lines(u"build debian/large"_s).count(u"only the large build gets here"_s), 1);
    QCOMPARE(result.lines(u"build debian/small"_s).count(u"only the large build gets here"_s), 0);
    QVERIFY(result.lines(u"build debian/large"_s).contains(u"distro=debian size=large flags=--verbose"_s));
    QCOMPARE(result.step(u"build alpine/small"_s, u"step-2"_s).value(u"outcome"_s).toString(), u"skipped"_s);
    // max-parallel: 2, so never more than two instances at once.
    QCOMPARE(mostAtOnce(result.events, u"job_started"_s, u"job_finished"_s), 2);
}

void TestRun::outputsBetweenJobs()
{
    const RunResult result = run(u"workflows/examples/outputs.yaml"_s, onRunner());
    QVERIFY2(result.exitCode == 0, qPrintable(result.err));
    const QStringList lines = result.lines(u"consume"_s);
    QVERIFY2(lines.contains(u"produce finished with: success"_s), qPrintable(lines.join(u'\n')));
    QVERIFY(result.lines(u"produce"_s).contains(u"produced version 1.2.3"_s));
}

void TestRun::background()
{
    const RunResult result = run(u"workflows/examples/background.yaml"_s, onRunner());
    QVERIFY2(result.exitCode == 0, qPrintable(result.err));
    QVERIFY(result.lines(u"main"_s).contains(u"ready at step 1"_s));
    QCOMPARE(result.step(u"main"_s, u"producer"_s).value(u"outcome"_s).toString(), u"success"_s);
}

void TestRun::failing()
{
    const RunResult result = run(u"workflows/examples/failing.yaml"_s, onRunner());
    QCOMPARE(result.exitCode, 1);
    const QJsonObject tolerated = result.step(u"fails"_s, u"tolerated"_s);
    QCOMPARE(tolerated.value(u"outcome"_s).toString(), u"failure"_s);
    QCOMPARE(tolerated.value(u"conclusion"_s).toString(), u"success"_s);
    QCOMPARE(result.step(u"fails"_s, u"boom"_s).value(u"outcome"_s).toString(), u"failure"_s);
    QCOMPARE(result.step(u"fails"_s, u"step-3"_s).value(u"outcome"_s).toString(), u"skipped"_s);
    const QStringList lines = result.lines(u"fails"_s);
    QVERIFY(lines.contains(u"about to fail"_s));
    QVERIFY(!lines.contains(u"not printed"_s));
    QVERIFY(lines.contains(u"boom ended with failure"_s));
    QVERIFY(lines.contains(u"tolerated: outcome=failure conclusion=success"_s));
    QVERIFY(result.lines(u"summary"_s).contains(u"the job 'fails' ended with failure"_s));
}

void TestRun::dataset()
{
    const RunResult result = run(u"workflows/examples/dataset.yaml"_s, onRunner());
    QVERIFY2(result.exitCode == 0, qPrintable(result.err));
    const QList<QJsonObject> jobs = result.eventsOf(u"job_finished"_s);
    QCOMPARE(jobs.size(), 5);
    for (const QJsonObject &job : jobs)
        QCOMPARE(job.value(u"outcome"_s).toString(), u"success"_s);
    // Each task's reward, by its id, from the grade step alone.
    QMap<QString, double> rewards;
    for (const QJsonValue &job : result.summary().value(u"jobs"_s).toArray())
        rewards.insert(job.toObject().value(u"task"_s).toString(), job.toObject().value(u"reward"_s).toDouble(-1));
    QCOMPARE(rewards, (QMap<QString, double>{{u"add-small"_s, 1}, {u"add-large"_s, 1}, {u"sub"_s, 1},
                                             {u"mul"_s, 1}, {u"mul-square"_s, 1}}));
}

void TestRun::uploadsAndDownloads()
{
    const RunResult result = run(u"workflows/examples/uploads.yaml"_s, onRunner());
    QVERIFY2(result.exitCode == 0, qPrintable(result.err));
    // What the step saw: every file and directory of files/ with its permission bits, then
    // the contents, all as they are on the host.
    const QString from = QStringLiteral(SANDFLOW_SOURCE_DIR) + u"/workflows/examples/files"_s;
    QStringList listing = {u"/workspace/files %1"_s.arg(permissionBits(from), 0, 8)};
    QDirIterator entries(from, QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden, QDirIterator::Subdirectories);
    while (entries.hasNext()) {
        const QString path = entries.next();
        listing.append(u"/workspace/files%1 %2"_s.arg(path.mid(from.size())).arg(permissionBits(path), 0, 8));
    }
    listing.sort();
    const auto linesOf = [&](const QString &file) {
        QFile host(from + file);
        return host.open(QIODevice::ReadOnly) ? QString::fromUtf8(host.readAll()).split(u'\n', Qt::SkipEmptyParts)
                                              : QStringList();
    };
    const QStringList expected = listing + linesOf(u"/greeting.txt"_s) + linesOf(u"/nested/numbers.txt"_s)
                                 + QStringList{u"lines: 5"_s, u"sum: 15"_s};
    QCOMPARE(result.lines(u"files"_s), expected);
    QFile downloaded(result.runDir + u"/result.txt"_s);
    QVERIFY(downloaded.open(QIODevice::ReadOnly));
    QCOMPARE(downloaded.readAll(), QByteArray("lines: 5\nsum: 15\n"));
}

// A `to` ending with `/` is a directory, and downloads keep the files' permission bits (less
// the umask, as `cp` gives them).
void TestRun::transfersAreLikeCp()
{
    const RunResult result = run(u"tests/data/run/transfers.yaml"_s, onRunner());
    QVERIFY2(result.exitCode == 0, qPrintable(result.err));
    QVERIFY2(result.lines(u"files"_s).contains(u"# Uploads and downloads as `cp` does them: a `to` ending with `/` is a directory the file goes"_s),
             qPrintable(result.lines(u"files"_s).join(u'\n')));
    const mode_t umaskBits = ::umask(0);
    ::umask(umaskBits);
    QCOMPARE(permissionBits(result.runDir + u"/out/tool.sh"_s), int(0755 & ~umaskBits));
    QCOMPARE(permissionBits(result.runDir + u"/out/secret.txt"_s), int(0640 & ~umaskBits));
    QCOMPARE(permissionBits(result.runDir + u"/tool.sh"_s), int(0755 & ~umaskBits));
    QFile tool(result.runDir + u"/tool.sh"_s);
    QVERIFY(tool.open(QIODevice::ReadOnly));
    QCOMPARE(tool.readAll(), QByteArray("#!/bin/sh\necho tool\n"));
}

// The instances of a matrix job download the same relative path without overwriting each
// other: each below a directory of its own, named after it; a job of one instance downloads to
// the run's directory itself.
void TestRun::fannedOutDownloadsKeepApart()
{
    const RunResult result = run(u"tests/data/run/fanned-downloads.yaml"_s, onRunner());
    QVERIFY2(result.exitCode == 0, qPrintable(result.err));
    for (int n = 1; n <= 3; ++n) {
        QFile downloaded(result.runDir + u"/fanned-%1/results/result.txt"_s.arg(n));
        QVERIFY2(downloaded.open(QIODevice::ReadOnly), qPrintable(downloaded.fileName()));
        QCOMPARE(downloaded.readAll(), u"instance %1\n"_s.arg(n).toUtf8());
    }
    QVERIFY(!QFileInfo::exists(result.runDir + u"/results"_s));
    QFile single(result.runDir + u"/single/result.txt"_s);
    QVERIFY(single.open(QIODevice::ReadOnly));
    QCOMPARE(single.readAll(), QByteArray("single\n"));
}

void TestRun::pluginStepWaitsForAServer()
{
    const RunResult result = run(u"tests/data/run/http-wait.yaml"_s, onRunner());
    QVERIFY2(result.exitCode == 0, qPrintable(result.err));
    QCOMPARE(result.step(u"serve"_s, u"up"_s).value(u"outcome"_s).toString(), u"success"_s);
    const QStringList lines = result.lines(u"serve"_s);
    QVERIFY2(std::any_of(lines.cbegin(), lines.cend(),
                         [](const QString &line) { return line.startsWith(u"http://127.0.0.1:8765/ answered 200"_s); }),
             qPrintable(lines.join(u'\n')));
    const QJsonObject nobody = result.step(u"serve"_s, u"nobody"_s);
    QCOMPARE(nobody.value(u"outcome"_s).toString(), u"failure"_s);
    QCOMPARE(nobody.value(u"conclusion"_s).toString(), u"success"_s);
    QVERIFY(nobody.value(u"text"_s).toString().contains(u"did not answer within 1000 ms"_s));
}

// Scripts written for GitHub Actions run as they do there: bash syntax by default, and every
// shell stops at the first failing command (bash at a failing pipeline too).
void TestRun::shellsAreGitHubs()
{
    const RunResult result = run(u"tests/data/run/shells.yaml"_s, onRunner());
    QVERIFY2(result.exitCode == 0, qPrintable(result.err));
    const QStringList lines = result.lines(u"shells"_s);
    const auto outcome = [&](const QString &step) {
        return result.step(u"shells"_s, step).value(u"outcome"_s).toString();
    };
    QCOMPARE(outcome(u"bash-syntax"_s), u"success"_s);
    QVERIFY2(lines.contains(u"bash syntax: 255 b 3 yes"_s), qPrintable(lines.join(u'\n')));

    QCOMPARE(outcome(u"stops-at-failure"_s), u"failure"_s);
    QVERIFY(lines.contains(u"before the failing command"_s));
    QVERIFY(!lines.contains(u"after the failing command"_s));
    QCOMPARE(outcome(u"pipefail"_s), u"failure"_s);
    QVERIFY(!lines.contains(u"after the failing pipeline"_s));

    QCOMPARE(outcome(u"named-bash"_s), u"failure"_s);
    QVERIFY(lines.contains(u"named bash: 16"_s));
    QVERIFY(!lines.contains(u"named bash went on after the failing pipeline"_s));
    QCOMPARE(outcome(u"named-sh"_s), u"failure"_s);
    QVERIFY(lines.contains(u"named sh: not bash"_s));
    QVERIFY(!lines.contains(u"named sh went on after the failing command"_s));

    QCOMPARE(outcome(u"without-bash"_s), u"failure"_s);
    QVERIFY(lines.contains(u"without bash: not bash"_s));
    QVERIFY(!lines.contains(u"without bash went on after the failing command"_s));
}

void TestRun::retriesTimeoutsAndLogLimit()
{
    const RunResult result = run(u"tests/data/run/retries.yaml"_s, {u"--log-limit"_s, u"1Ki"_s});
    QVERIFY2(result.exitCode == 0, qPrintable(result.err));
    // Every attempt is in the record.
    const QJsonObject flaky = result.step(u"steps"_s, u"flaky"_s);
    QCOMPARE(flaky.value(u"outcome"_s).toString(), u"success"_s);
    QCOMPARE(flaky.value(u"attempt"_s).toInt(), 3);
    QList<int> retried;
    for (const QJsonObject &event : result.eventsOf(u"step_retrying"_s))
        retried.append(event.value(u"attempt"_s).toInt());
    QCOMPARE(retried, (QList<int>{1, 2}));
    QCOMPARE(result.eventsOf(u"step_retrying"_s).last().value(u"details"_s).toObject().value(u"backoffMs"_s).toInt(), 200);
    QStringList attempts = result.lines(u"steps"_s).filter(u"attempt "_s);
    QCOMPARE(attempts, (QStringList{u"attempt 1"_s, u"attempt 2"_s, u"attempt 3"_s}));
    // A time-out is reported as such, not as a failure.
    const QJsonObject slow = result.step(u"steps"_s, u"slow"_s);
    QCOMPARE(slow.value(u"outcome"_s).toString(), u"timed_out"_s);
    QCOMPARE(slow.value(u"conclusion"_s).toString(), u"success"_s);
    QCOMPARE(slow.value(u"text"_s).toString(), u"timed out after 500ms"_s);
    QVERIFY(slow.value(u"durationMs"_s).toInt() < 10'000);
    // The log keeps 1 KiB of the step's output and says where it stopped.
    QFile log(result.runDir + u"/steps/loud.log"_s);
    QVERIFY(log.open(QIODevice::ReadOnly));
    const QByteArray text = log.readAll();
    QVERIFY(text.contains("line 1 of noise"));
    QVERIFY(!text.contains("line 2000 of noise"));
    QVERIFY(text.contains("truncated"));
    QCOMPARE(result.lines(u"steps"_s).filter(u"of noise"_s).size(), 2000);
    QVERIFY(result.lines(u"steps"_s).contains(u"uid 65534"_s));
}

// `timeout` limits each attempt, and a timed-out attempt is retried unless `on` is given.
void TestRun::timedOutAttemptsAreRetried()
{
    const RunResult result = run(u"tests/data/run/retry-timeout.yaml"_s);
    QVERIFY2(result.exitCode == 0, qPrintable(result.err));
    for (const QString &step : {u"short-form"_s, u"long-form"_s}) {
        const QJsonObject finished = result.step(u"steps"_s, step);
        QCOMPARE(finished.value(u"outcome"_s).toString(), u"success"_s);
        QCOMPARE(finished.value(u"attempt"_s).toInt(), 2);
    }
    QStringList retried;
    for (const QJsonObject &event : result.eventsOf(u"step_retrying"_s)) {
        retried.append(u"%1#%2: %3"_s.arg(event.value(u"step"_s).toString())
                           .arg(event.value(u"attempt"_s).toInt())
                           .arg(event.value(u"text"_s).toString()));
    }
    QCOMPARE(retried, (QStringList{u"short-form#1: timed out after 500ms"_s, u"long-form#1: timed out after 500ms"_s}));
    const QJsonObject codesOnly = result.step(u"steps"_s, u"exit-codes-only"_s);
    QCOMPARE(codesOnly.value(u"outcome"_s).toString(), u"timed_out"_s);
    QCOMPARE(codesOnly.value(u"attempt"_s).toInt(), 1);
}

void TestRun::secretsAreMaskedEverywhere()
{
    const RunResult result = run(u"tests/data/run/secret.yaml"_s);
    QVERIFY2(result.exitCode == 0, qPrintable(result.err));
    // The step got the real value (its length), and nobody sees it.
    const QStringList lines = result.lines(u"use"_s);
    QVERIFY2(lines.contains(u"token is ***"_s), qPrintable(lines.join(u'\n')));
    QVERIFY(lines.contains(u"length 17"_s));
    QVERIFY(!result.err.contains(u"s3cr3t-value-4711"_s));
    for (const QJsonObject &event : result.events)
        QVERIFY(!QJsonDocument(event).toJson().contains("s3cr3t-value-4711"));
    QDirIterator files(result.runDir, QDir::Files, QDirIterator::Subdirectories);
    int checked = 0;
    while (files.hasNext()) {
        QFile file(files.next());
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY2(!file.readAll().contains("s3cr3t-value-4711"), qPrintable(file.fileName()));
        ++checked;
    }
    QVERIFY(checked >= 4);   // the step log, events.jsonl, summary.json, junit.xml

    // A secret that is not set reads as "", with a warning (tst_cli's unsetSecrets has the rest).
    QProcess process;
    prepare(process, u"tests/data/run/secret.yaml"_s, m_dir.filePath(u"unset"_s));
    QProcessEnvironment env = process.processEnvironment();
    env.remove(u"SANDFLOW_TEST_TOKEN"_s);
    process.setProcessEnvironment(env);
    process.start();
    QVERIFY(process.waitForFinished(30'000));
    QCOMPARE(process.exitCode(), 0);
    QVERIFY(process.readAllStandardError().contains("warning: secret `SANDFLOW_TEST_TOKEN` is not set"));
}

void TestRun::skippedJobsAreReported()
{
    const RunResult result = run(u"tests/data/run/skipped-job.yaml"_s);
    QCOMPARE(result.exitCode, 1);
    QMap<QString, QString> outcomes;
    for (const QJsonObject &event : result.eventsOf(u"job_finished"_s))
        outcomes.insert(event.value(u"job"_s).toString(), event.value(u"outcome"_s).toString());
    QCOMPARE(outcomes, (QMap<QString, QString>{{u"never"_s, u"skipped"_s}, {u"fails"_s, u"failure"_s},
                                               {u"after"_s, u"skipped"_s}}));
    QCOMPARE(result.eventsOf(u"sandbox_created"_s).size(), 1);
    const QJsonObject counts = result.summary().value(u"counts"_s).toObject();
    QCOMPARE(counts.value(u"skipped"_s).toInt(), 2);
    QCOMPARE(counts.value(u"failure"_s).toInt(), 1);
}

// A job's continue-on-error, evaluated per instance: its failure shows in the job's outcome
// only; the run, fail-fast and the jobs that need it go on as after a success.
void TestRun::jobContinueOnError()
{
    const RunResult result = run(u"tests/data/run/job-continue-on-error.yaml"_s);
    QVERIFY2(result.exitCode == 0, qPrintable(result.err));
    QMap<QString, QString> ends;
    for (const QJsonObject &event : result.eventsOf(u"job_finished"_s)) {
        ends.insert(event.value(u"job"_s).toString(),
                    event.value(u"outcome"_s).toString() + u'/' + event.value(u"conclusion"_s).toString());
    }
    QCOMPARE(ends, (QMap<QString, QString>{{u"build (false)"_s, u"success/success"_s},
                                           {u"build (true)"_s, u"failure/success"_s},
                                           {u"optional"_s, u"failure/success"_s},
                                           {u"report"_s, u"success/success"_s}}));
    QVERIFY(result.lines(u"build (false)"_s).contains(u"stable build done"_s));
    QCOMPARE(result.lines(u"report"_s), QStringList{u"build=success optional=success"_s});
    QCOMPARE(result.eventsOf(u"run_finished"_s).first().value(u"outcome"_s).toString(), u"success"_s);
    for (const QJsonObject &warning : result.eventsOf(u"warning"_s))
        QVERIFY2(warning.value(u"jobId"_s).toString() != u"build"_s, qPrintable(warning.value(u"text"_s).toString()));
    // Reports still count the failures.
    QCOMPARE(result.summary().value(u"counts"_s).toObject().value(u"failure"_s).toInt(), 2);
}

// A download the host cannot write, here beyond the run's file-size limit, fails its step
// with the file's name; it is not taken for done.
void TestRun::downloadThatCannotBeWrittenFails()
{
    const QString runDir = m_dir.filePath(u"download-beyond-a-limit"_s);
    QProcess process;
    prepare(process, u"tests/data/run/download-beyond-a-limit.yaml"_s, runDir, {});
    process.setChildProcessModifier([] {
        // A write past the limit then fails with EFBIG instead of killing the process.
        ::signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{256 * 1024, 256 * 1024};
        ::setrlimit(RLIMIT_FSIZE, &limit);
    });
    const RunResult result = finish(process, runDir);
    QCOMPARE(result.exitCode, 1);
    const QJsonObject step = result.step(u"fetch"_s, u"get"_s);
    QCOMPARE(step.value(u"outcome"_s).toString(), u"failure"_s);
    const QString error = step.value(u"text"_s).toString();
    QVERIFY2(error.startsWith(u"cannot write `%1/fetched/bash`: File too large"_s.arg(runDir)),
             qPrintable(error));
    QVERIFY(!result.lines(u"fetch"_s).contains(u"after the download"_s));
}

// A step's continue-on-error reads the text "false" as false, as the job's does.
void TestRun::stepContinueOnErrorText()
{
    const RunResult result = run(u"tests/data/run/step-continue-on-error-text.yaml"_s);
    QCOMPARE(result.exitCode, 1);
    QMap<QString, QString> ends;
    for (const QJsonObject &event : result.eventsOf(u"job_finished"_s))
        ends.insert(event.value(u"job"_s).toString(), event.value(u"outcome"_s).toString());
    QCOMPARE(ends, (QMap<QString, QString>{{u"build (false)"_s, u"failure"_s},
                                           {u"build (FALSE)"_s, u"failure"_s},
                                           {u"build (true)"_s, u"success"_s}}));
    QCOMPARE(result.lines(u"build (true)"_s), QStringList{u"went on"_s});
    QCOMPARE(result.lines(u"build (false)"_s), QStringList());
}

void TestRun::gradeRewardsAreKept()
{
    const RunResult result = run(u"tests/data/run/rewards.yaml"_s);
    QVERIFY2(result.exitCode == 0, qPrintable(result.err));
    QMap<QString, QJsonValue> rewards;
    for (const QJsonValue &value : result.summary().value(u"jobs"_s).toArray()) {
        const QJsonObject job = value.toObject();
        const QString key = job.value(u"task"_s).toString() + u'/'
            + job.value(u"matrix"_s).toObject().value(u"agent"_s).toString();
        rewards.insert(key, job.value(u"reward"_s));
        QCOMPARE(job.value(u"outputs"_s).toObject(), QJsonObject());
    }
    QCOMPARE(rewards, (QMap<QString, QJsonValue>{{u"easy/steady"_s, 1.0}, {u"hard/steady"_s, 0.25},
                                                 {u"easy/broken"_s, 0.0}, {u"hard/broken"_s, QJsonValue()}}));
    QStringList rewardWarnings;
    for (const QJsonObject &warning : result.eventsOf(u"warning"_s)) {
        if (warning.value(u"text"_s).toString().contains(u"reward"_s))
            rewardWarnings.append(warning.value(u"job"_s).toString() + u": "_s + warning.value(u"text"_s).toString());
    }
    QCOMPARE(rewardWarnings, QStringList{u"solve (hard, broken): the grade step's reward `lots` is not a number; "
                                         u"the task has no reward"_s});
    QVERIFY2(result.err.contains(u"4 passed, mean reward 0.4167 over 3"_s), qPrintable(result.err));
}

void TestRun::environmentFileSetsLaterSteps()
{
    // Both runners: the first step of a workflow without an env file reads a missing file.
    const RunResult result = run(u"tests/data/run/env-file.yaml"_s, onRunner());
    QVERIFY2(result.exitCode == 0, qPrintable(result.err));
    QCOMPARE(result.lines(u"steps"_s), (QStringList{u"ci=true"_s, u"greeting=hello from step 1"_s,
                                                   u"notes=line one|line two"_s,
                                                   u"from-workflow=overridden by step 1"_s,
                                                   u"overridden=by the step's own env"_s,
                                                   u"output-file=/tmp/.sandflow-output-2-1"_s}));
    QStringList warnings;
    for (const QJsonObject &warning : result.eventsOf(u"warning"_s)) {
        if (warning.value(u"text"_s).toString().contains(u"SANDFLOW_ENV"_s))
            warnings.append(warning.value(u"text"_s).toString());
    }
    QCOMPARE(warnings, QStringList{u"$SANDFLOW_ENV: `SANDFLOW_OUTPUT` is not a variable a step may set; it is left out"_s});
}

// $SANDFLOW_OUTPUT is the sandbox's to fill: the runner reads no more of it than outputs
// may hold, and a step past that fails saying so.
void TestRun::floodedOutputsFailTheStep()
{
    const RunResult result = run(u"tests/data/run/outputs-too-large.yaml"_s);
    QCOMPARE(result.exitCode, 1);
    QCOMPARE(result.step(u"flood"_s, u"small"_s).value(u"outcome"_s).toString(), u"success"_s);
    const QJsonObject flood = result.step(u"flood"_s, u"flood"_s);
    QCOMPARE(flood.value(u"outcome"_s).toString(), u"failure"_s);
    QVERIFY2(flood.value(u"text"_s).toString().contains(u"more than 1 MiB to $SANDFLOW_OUTPUT"_s),
             qPrintable(flood.value(u"text"_s).toString()));
}

void TestRun::strategyExpressions()
{
    const RunResult result = run(u"tests/data/run/strategy-expressions.yaml"_s);
    // continue-on-error from a variable: the failing instance does not fail the run.
    QVERIFY2(result.exitCode == 0, qPrintable(result.err));
    QStringList outcomes;
    for (const QJsonObject &event : result.eventsOf(u"job_finished"_s))
        outcomes.append(event.value(u"outcome"_s).toString());
    // max-parallel from a variable; fail-fast off, so every instance ran.
    QCOMPARE(mostAtOnce(result.events, u"job_started"_s, u"job_finished"_s), 2);
    QCOMPARE(outcomes.size(), 5);
    QCOMPARE(outcomes.count(u"failure"_s), 1);
}

// An ordinary user cannot write the cgroup controllers: the run says once that its sandboxes
// go without limits, not once for each of them.
void TestRun::cgroupWarningIsSaidOnce()
{
    // The run's state and run directories, open to the user it runs as.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QVERIFY(QFile::setPermissions(dir.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner
                                                  | QFileDevice::ReadOther | QFileDevice::WriteOther
                                                  | QFileDevice::ExeOther));
    QProcess process;
    prepare(process, u"workflows/examples/outputs.yaml"_s, dir.filePath(u"run"_s));
    QProcessEnvironment env = process.processEnvironment();
    env.insert(u"SANDFLOW_STATE_DIR"_s, dir.filePath(u"state"_s));
    env.insert(u"HOME"_s, dir.path());
    process.setProcessEnvironment(env);
    if (::geteuid() == 0) {
        // As nobody; an exit status of 126 says that the switch failed.
        process.setChildProcessModifier([] {
            constexpr uid_t nobody = 65534;
            if (::setgroups(0, nullptr) != 0 || ::setgid(nobody) != 0 || ::setuid(nobody) != 0)
                ::_exit(126);
        });
    }
    process.start();
    QVERIFY(process.waitForFinished(180'000));
    const QString err = QString::fromUtf8(process.readAllStandardError());
    QVERIFY2(process.exitCode() == 0, qPrintable(err));
    const QList<QJsonObject> events = parseEvents(process.readAllStandardOutput());
    QStringList cgroupWarnings;
    int sandboxes = 0;
    for (const QJsonObject &event : events) {
        const QString type = event.value(u"type"_s).toString();
        sandboxes += type == u"sandbox_created"_s;
        if (type == u"warning"_s && event.value(u"text"_s).toString().contains(u"cgroup"_s))
            cgroupWarnings.append(event.value(u"text"_s).toString());
    }
    QCOMPARE(sandboxes, 2);
    QVERIFY2(cgroupWarnings.size() == 1, qPrintable(cgroupWarnings.join(u'\n')));
}

void TestRun::runTimeoutCancelsAndCleansUp()
{
    const RunResult result = run(u"workflows/examples/long-running.yaml"_s, QStringList{u"--timeout"_s, u"2s"_s} + onRunner());
    QCOMPARE(result.exitCode, 1);
    QCOMPARE(result.eventsOf(u"run_finished"_s).first().value(u"outcome"_s).toString(), u"timed_out"_s);
    QCOMPARE(result.eventsOf(u"sandbox_deleted"_s).size(), 1);
    QVERIFY(result.eventsOf(u"run_finished"_s).first().value(u"durationMs"_s).toInt() < 30'000);
}

void TestRun::interruptLeavesNothing()
{
    const QString runDir = m_dir.filePath(u"interrupted-"_s + QString::fromLatin1(QTest::currentDataTag()));
    QProcess process;
    prepare(process, u"workflows/examples/long-running.yaml"_s, runDir, onRunner());
    LiveRun live(process);
    // Interrupt while `sleep 300` runs.
    QTRY_VERIFY_WITH_TIMEOUT(live.printed("sleep 300") || live.printed("Sleep for five minutes"), 30'000);
    const QString sandboxId = live.firstSandboxId();
    QVERIFY(!sandboxId.isEmpty());
    // The sandbox's processes, by their cgroup: a name search would also find the processes
    // of an earlier test's sandbox that the kernel is still tearing down.
    const QList<qint64> sandboxProcesses = processesInCgroupsOf(sandboxId);
    QVERIFY(!sandboxProcesses.isEmpty());
    live.interrupt();
    const RunResult result = live.finish(runDir);
    QCOMPARE(result.exitCode, 130);
    QCOMPARE(result.eventsOf(u"sandbox_deleted"_s).size(), 1);
    // The interrupted step was cancelled by the run, not killed with its sandbox.
    QCOMPARE(result.step(u"sleeper"_s, u"step-2"_s).value(u"outcome"_s).toString(), u"cancelled"_s);
    // Nothing left: no record, no cgroup, no process of the sandbox, not even a zombie: the
    // run reports a sandbox deleted, and exits, once its processes are reaped.
    QVERIFY(QDir(m_dir.filePath(u"state/sandboxes"_s)).entryList(QDir::Files).isEmpty());
    QVERIFY(QDir(m_serverState.filePath(u"sandboxes"_s)).entryList(QDir::Files).isEmpty());
    QVERIFY(!QFileInfo::exists(u"/sys/fs/cgroup/memory/sandflow/"_s + sandboxId));
    for (const qint64 pid : sandboxProcesses)
        QVERIFY2(!exists(pid), qPrintable(u"process %1 of the sandbox is still there"_s.arg(pid)));
}

QTEST_GUILESS_MAIN(TestRun)
#include "tst_run.moc"
