// The files a run leaves behind, made from its event stream: step logs, summary.json and
// JUnit XML, all fed through the bus so that secrets are masked on the way.
#include "junitwriter.h"
#include "runeventbus.h"
#include "secretmasker.h"
#include "steplogwriter.h"
#include "summarywriter.h"

#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>
#include <QTimeZone>
#include <QXmlStreamReader>

using namespace Sandflow;
using namespace Qt::StringLiterals;

namespace {

using Type = RunEvent::Type;

const QString Secret = u"hunter2pass"_s;
const QString MultiLineSecret = u"first-key-line\nsecond-key-line"_s;

QDateTime at(qint64 ms)
{
    return QDateTime(QDate(2026, 12, 1), QTime(19, 40), QTimeZone::utc()).addMSecs(ms);
}

RunEvent event(Type type, qint64 ms, const QString &job = {}, const QString &jobId = {},
               qsizetype instance = 0)
{
    RunEvent e;
    e.type = type;
    e.time = at(ms);
    e.runId = u"r1"_s;
    e.job = job;
    e.jobId = jobId;
    e.instance = instance;
    return e;
}

RunEvent stepStarted(qint64 ms, const QString &job, const QString &step, const QString &name, int attempt = 1)
{
    RunEvent e = event(Type::StepStarted, ms, job);
    e.step = step;
    e.stepName = name;
    e.attempt = attempt;
    return e;
}

RunEvent log(qint64 ms, const QString &job, const QString &step, const QString &text, bool err = false)
{
    RunEvent e = event(Type::LogLine, ms, job);
    e.step = step;
    e.stream = err ? u"stderr"_s : u"stdout"_s;
    e.text = text;
    return e;
}

RunEvent stepFinished(qint64 ms, const QString &job, const QString &step, const QString &name,
                      const QString &outcome, qint64 duration, const QString &error = {},
                      const QString &conclusion = {}, int attempt = 1)
{
    RunEvent e = event(Type::StepFinished, ms, job);
    e.step = step;
    e.stepName = name;
    e.outcome = outcome;
    e.conclusion = conclusion.isEmpty() ? outcome : conclusion;
    e.durationMs = duration;
    e.attempt = attempt;
    e.text = error;
    return e;
}

RunEvent jobFinished(qint64 ms, const QString &job, const QString &jobId, qsizetype instance,
                     const QString &outcome, qint64 duration, const QJsonObject &details = {})
{
    RunEvent e = event(Type::JobFinished, ms, job, jobId, instance);
    e.outcome = outcome;
    e.durationMs = duration;
    e.details = details;
    return e;
}

const QString Build = u"build"_s;
const QString Test0 = u"test (3.11, tuned)"_s;
const QString Test1 = u"test (3.11; tuned)"_s;   // the same directory name as Test0
const QString Test2 = u"test (3.12)"_s;

// A run with a plain job (a continue-on-error failure, a skipped step, a secret in a step
// name), a matrix job of three instances (a retry, a failure, a timeout and a cancelled
// step) and a skipped job.
QList<RunEvent> runEvents()
{
    QList<RunEvent> events;
    RunEvent started = event(Type::RunStarted, 0);
    started.text = u"CI"_s;
    started.details = QJsonObject{{u"file"_s, u"ci.yaml"_s}, {u"runDirectory"_s, u"runs/r1"_s}};
    events << started;

    events << event(Type::JobStarted, 10, Build, Build);
    RunEvent sandbox = event(Type::SandboxCreated, 20, Build);
    sandbox.sandboxId = u"sb-1"_s;
    events << sandbox;
    events << stepStarted(1000, Build, u"step-1"_s, u"Install"_s)
           << log(1000, Build, u"step-1"_s, u"installing"_s)
           << log(1100, Build, u"step-1"_s, u"warn: old"_s, true)
           << log(1150, Build, u"step-1"_s, u"key is second-key-line here"_s)
           << stepFinished(2200, Build, u"step-1"_s, u"Install"_s, u"success"_s, 1200)
           << stepStarted(2200, Build, u"login"_s, u"Login as "_s + Secret)
           << stepFinished(4200, Build, u"login"_s, u"Login as "_s + Secret, u"success"_s, 2000)
           << stepStarted(4200, Build, u"lint"_s, u"Lint"_s)
           << log(4300, Build, u"lint"_s, u"style error"_s, true)
           << stepFinished(4500, Build, u"lint"_s, u"Lint"_s, u"failure"_s, 300, u"exit status 1"_s, u"success"_s)
           << stepFinished(4500, Build, u"docs"_s, u"Docs"_s, u"skipped"_s, 0);
    RunEvent buildDone = jobFinished(5000, Build, Build, 0, u"success"_s, 4990);
    buildDone.details = QJsonObject{{u"outputs"_s, QJsonObject{{u"artifact"_s, u"app.tar"_s}}}};
    events << buildDone;

    const QString test = u"test"_s;
    RunEvent test0Started = event(Type::JobStarted, 5000, Test0, test, 0);
    test0Started.details = QJsonObject{{u"task"_s, u"task-7"_s},
                                       {u"matrix"_s, QJsonObject{{u"python"_s, u"3.11"_s}, {u"mode"_s, u"tuned"_s}}}};
    events << test0Started
           << event(Type::JobStarted, 5000, Test1, test, 1)
           << event(Type::JobStarted, 5000, Test2, test, 2);
    events << stepStarted(5100, Test0, u"step-1"_s, u"Run tests"_s)
           << stepStarted(5100, Test1, u"step-1"_s, u"Run tests"_s)
           << stepStarted(5100, Test2, u"step-1"_s, u"Run tests"_s)
           << log(5200, Test0, u"step-1"_s, u"flaky"_s);
    RunEvent retrying = event(Type::StepRetrying, 5500, Test0);
    retrying.step = u"step-1"_s;
    retrying.attempt = 1;
    retrying.text = u"exit status 1"_s;
    // Its sandbox's policy denied a connection once, then four more times, collapsed.
    for (const qint64 count : {1, 4}) {
        RunEvent denied = event(Type::EgressDenied, 5600, Test0, test, 0);
        denied.details = QJsonObject{{u"target"_s, u"10.0.0.1"_s}, {u"port"_s, 443}, {u"count"_s, count}};
        events << denied;
    }
    events << retrying << stepStarted(6000, Test0, u"step-1"_s, u"Run tests"_s, 2)
           << log(6100, Test0, u"step-1"_s, u"ok"_s)
           << stepFinished(8600, Test0, u"step-1"_s, u"Run tests"_s, u"success"_s, 2500, {}, {}, 2);
    for (int i = 1; i <= 60; ++i)
        events << log(5100 + i, Test1, u"step-1"_s, u"line %1"_s.arg(i));
    events << log(5200, Test1, u"step-1"_s, u"\x1b[31mtoken="_s + Secret + u"\x1b[0m"_s, true)
           << stepFinished(9100, Test1, u"step-1"_s, u"Run tests"_s, u"failure"_s, 4000, u"exit status 2"_s)
           << stepFinished(11100, Test2, u"step-1"_s, u"Run tests"_s, u"timed_out"_s, 6000, u"timed out after 6s"_s)
           << stepFinished(11100, Test2, u"step-2"_s, u"Upload"_s, u"cancelled"_s, 0)
           << jobFinished(8700, Test0, test, 0, u"success"_s, 3700, QJsonObject{{u"reward"_s, 0.75}})
           << jobFinished(9200, Test1, test, 1, u"failure"_s, 4200)
           << jobFinished(11200, Test2, test, 2, u"timed_out"_s, 6200)
           << jobFinished(11200, u"deploy"_s, u"deploy"_s, 0, u"skipped"_s, 0);
    RunEvent finished = event(Type::RunFinished, 11300);
    finished.outcome = u"failure"_s;
    finished.durationMs = 11300;
    events << finished;
    return events;
}

QString readAll(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return u"<cannot read %1>"_s.arg(path);
    return QString::fromUtf8(file.readAll());
}

// Records what the bus hands it, and how often it was closed.
class RecordingSink final : public RunEventSink
{
public:
    RecordingSink(QStringList *trace, QString name) : m_trace(trace), m_name(std::move(name)) {}
    void handle(const RunEvent &event) override { m_trace->append(m_name + u": "_s + event.text); }
    void close() override { m_trace->append(m_name + u" closed"_s); }

private:
    QStringList *m_trace;
    QString m_name;
};

} // namespace

class TestRunReports : public QObject
{
    Q_OBJECT

private slots:
    void eventJson()
    {
        RunEvent step = stepFinished(1234, Build, u"step-1"_s, u"Install"_s, u"success"_s, 0);
        QCOMPARE(step.toJson(), (QJsonObject{
            {u"type"_s, u"step_finished"_s}, {u"time"_s, u"2026-12-01T19:40:01.234Z"_s},
            {u"runId"_s, u"r1"_s}, {u"job"_s, Build}, {u"instance"_s, 0}, {u"step"_s, u"step-1"_s},
            {u"stepName"_s, u"Install"_s}, {u"outcome"_s, u"success"_s}, {u"conclusion"_s, u"success"_s},
            {u"durationMs"_s, 0}, {u"attempt"_s, 1}}));

        RunEvent warning;
        warning.time = QDateTime(QDate(2026, 12, 1), QTime(20, 40, 0, 5), QTimeZone(3600));
        warning.text = u"careful"_s;
        QCOMPARE(warning.toJson(), (QJsonObject{
            {u"type"_s, u"warning"_s}, {u"time"_s, u"2026-12-01T19:40:00.005Z"_s}, {u"text"_s, u"careful"_s}}));

        QCOMPARE(RunEvent::typeName(Type::RunStarted), u"run_started"_s);
        QCOMPARE(RunEvent::typeName(Type::LogLine), u"log_line"_s);
        QCOMPARE(RunEvent::typeName(Type::SandboxDeleted), u"sandbox_deleted"_s);
        QCOMPARE(RunEvent::typeName(Type::StepRetrying), u"step_retrying"_s);
    }

    void masker()
    {
        const SecretMasker masker({u"abc"_s, u"abcdef"_s, u""_s, u"cdxy"_s, u"one\n  \ntwo\r\n"_s});
        QCOMPARE(masker.mask(u"x abcdef y"_s), u"x *** y"_s);
        QCOMPARE(masker.mask(u"abcdxy abc"_s), u"*** ***"_s);     // overlapping: one span
        QCOMPARE(masker.mask(u"one\n  \ntwo\r\n"_s), u"***"_s);
        QCOMPARE(masker.mask(u"only two here"_s), u"only *** here"_s);
        QCOMPARE(masker.mask(u"  spaces stay  "_s), u"  spaces stay  "_s);
        QVERIFY(SecretMasker({u""_s}).isEmpty());

        RunEvent e;
        e.job = u"deploy (abc)"_s;
        e.stepName = u"use abc"_s;
        e.text = u"abc"_s;
        e.step = u"abc-step"_s;   // ids are the workflow's own
        e.details = QJsonObject{{u"outputs"_s, QJsonObject{{u"k"_s, QJsonArray{u"abc"_s, 1}}}}, {u"abc"_s, true}};
        const RunEvent masked = masker.mask(e);
        QCOMPARE(masked.job, u"deploy (***)"_s);
        QCOMPARE(masked.stepName, u"use ***"_s);
        QCOMPARE(masked.text, u"***"_s);
        QCOMPARE(masked.step, u"abc-step"_s);
        QCOMPARE(masked.details, (QJsonObject{{u"outputs"_s, QJsonObject{{u"k"_s, QJsonArray{u"***"_s, 1}}}}, {u"***"_s, true}}));
    }

    void busOrderAndClose()
    {
        QStringList trace;
        {
            RunEventBus bus;
            bus.setMasker(SecretMasker({Secret}));
            bus.addSink(std::make_unique<RecordingSink>(&trace, u"a"_s));
            bus.addSink(std::make_unique<RecordingSink>(&trace, u"b"_s));
            RunEvent e;
            e.text = u"pw "_s + Secret;
            bus.publish(e);
            bus.close();
            bus.publish(e);
        }
        QCOMPARE(trace, (QStringList{u"a: pw ***"_s, u"b: pw ***"_s, u"a closed"_s, u"b closed"_s}));
    }

    void safeNames()
    {
        QCOMPARE(StepLogWriter::safeFileName(u"test (3.11, tuned)"_s), u"test-3.11-tuned"_s);
        QCOMPARE(StepLogWriter::safeFileName(u"a - b/c"_s), u"a-b-c"_s);
        QCOMPARE(StepLogWriter::safeFileName(u"(é)"_s), u"_"_s);
        QCOMPARE(StepLogWriter::safeFileName(u".."_s), u"_"_s);
    }

    void reports()
    {
        QTemporaryDir runDir;
        QVERIFY(runDir.isValid());
        const QString junitPath = runDir.filePath(u"junit/report.xml"_s);
        const StepLogWriter *logs = nullptr;
        const SummaryWriter *summary = nullptr;
        {
            RunEventBus bus;
            bus.setMasker(SecretMasker({Secret, MultiLineSecret}));
            logs = bus.addSink(std::make_unique<StepLogWriter>(runDir.path()));
            summary = bus.addSink(std::make_unique<SummaryWriter>(runDir.path(), logs));
            const JUnitWriter *junit = bus.addSink(std::make_unique<JUnitWriter>(junitPath));
            for (const RunEvent &e : runEvents())
                bus.publish(e);
            bus.close();
            QVERIFY(logs->errors().isEmpty());
            QCOMPARE(summary->errorString(), QString());
            QCOMPARE(junit->errorString(), QString());

            // Step logs
            QCOMPARE(logs->logPath(Test0, u"step-1"_s), u"test-3.11-tuned/step-1.log"_s);
            QCOMPARE(logs->logPath(Test1, u"step-1"_s), u"test-3.11-tuned~2/step-1.log"_s);
            QCOMPARE(logs->logPath(Test2, u"step-1"_s), u"test-3.12/step-1.log"_s);
            QCOMPARE(logs->logPath(u"nobody"_s, u"step-1"_s), QString());
            QCOMPARE(readAll(runDir.filePath(u"build/step-1.log"_s)),
                     u"2026-12-01T19:40:01.000Z out | installing\n"
                     u"2026-12-01T19:40:01.100Z err | warn: old\n"
                     u"2026-12-01T19:40:01.150Z out | key is *** here\n"
                     u"2026-12-01T19:40:02.200Z --- success after 1.200s\n"_s);
            QCOMPARE(readAll(runDir.filePath(u"build/lint.log"_s)),
                     u"2026-12-01T19:40:04.300Z err | style error\n"
                     u"2026-12-01T19:40:04.500Z --- failure after 300ms (continue-on-error: success): exit status 1\n"_s);
            QCOMPARE(readAll(runDir.filePath(u"build/docs.log"_s)),
                     u"2026-12-01T19:40:04.500Z --- skipped after 0ms\n"_s);
            QCOMPARE(readAll(runDir.filePath(u"test-3.11-tuned/step-1.log"_s)),
                     u"2026-12-01T19:40:05.200Z out | flaky\n"
                     u"2026-12-01T19:40:06.000Z --- attempt 2\n"
                     u"2026-12-01T19:40:06.100Z out | ok\n"
                     u"2026-12-01T19:40:08.600Z --- success after 2.500s\n"_s);
            const QStringList failedLog = readAll(runDir.filePath(u"test-3.11-tuned~2/step-1.log"_s)).split(u'\n');
            QCOMPARE(failedLog.size(), 63);   // 61 lines, the outcome, the last break
            QCOMPARE(failedLog.at(60), u"2026-12-01T19:40:05.200Z err | \x1b[31mtoken=***\x1b[0m"_s);
            QCOMPARE(failedLog.at(61), u"2026-12-01T19:40:09.100Z --- failure after 4s: exit status 2"_s);
        }

        // summary.json, parsed
        QJsonParseError error;
        const QJsonObject json = QJsonDocument::fromJson(readAll(runDir.filePath(u"summary.json"_s)).toUtf8(), &error).object();
        QCOMPARE(error.error, QJsonParseError::NoError);
        QCOMPARE(json.value(u"runId"_s).toString(), u"r1"_s);
        QCOMPARE(json.value(u"workflow"_s).toString(), u"CI"_s);
        QCOMPARE(json.value(u"file"_s).toString(), u"ci.yaml"_s);
        QCOMPARE(json.value(u"startedAt"_s).toString(), u"2026-12-01T19:40:00.000Z"_s);
        QCOMPARE(json.value(u"finishedAt"_s).toString(), u"2026-12-01T19:40:11.300Z"_s);
        QCOMPARE(json.value(u"durationMs"_s).toInteger(), 11300);
        QCOMPARE(json.value(u"outcome"_s).toString(), u"failure"_s);
        QCOMPARE(json.value(u"counts"_s).toObject(), (QJsonObject{{u"success"_s, 2}, {u"failure"_s, 1},
            {u"cancelled"_s, 0}, {u"skipped"_s, 1}, {u"timed_out"_s, 1}}));
        const QJsonArray jobs = json.value(u"jobs"_s).toArray();
        QCOMPARE(jobs.size(), 5);
        const QJsonObject build = jobs.at(0).toObject();
        QCOMPARE(build.value(u"name"_s).toString(), Build);
        QCOMPARE(build.value(u"sandboxId"_s).toString(), u"sb-1"_s);
        QCOMPARE(build.value(u"durationMs"_s).toInteger(), 4990);
        QCOMPARE(build.value(u"outputs"_s).toObject(), (QJsonObject{{u"artifact"_s, u"app.tar"_s}}));
        // No grade, no dataset, no matrix: a null reward, and no task or matrix fields.
        QVERIFY(build.contains(u"reward"_s));
        QCOMPARE(build.value(u"reward"_s), QJsonValue(QJsonValue::Null));
        QVERIFY(!build.contains(u"task"_s));
        QVERIFY(!build.contains(u"matrix"_s));
        // Nothing denied: nothing said of egress.
        QVERIFY(!build.contains(u"egressDenied"_s));
        const QJsonArray buildSteps = build.value(u"steps"_s).toArray();
        QCOMPARE(buildSteps.size(), 4);
        QCOMPARE(buildSteps.at(1).toObject().value(u"name"_s).toString(), u"Login as ***"_s);
        QCOMPARE(buildSteps.at(2).toObject(), (QJsonObject{
            {u"id"_s, u"lint"_s}, {u"name"_s, u"Lint"_s}, {u"outcome"_s, u"failure"_s},
            {u"conclusion"_s, u"success"_s}, {u"durationMs"_s, 300}, {u"attempts"_s, 1},
            {u"error"_s, u"exit status 1"_s}, {u"log"_s, u"build/lint.log"_s}}));
        QCOMPARE(buildSteps.at(3).toObject().value(u"outcome"_s).toString(), u"skipped"_s);
        const QJsonObject retried = jobs.at(1).toObject();
        QCOMPARE(retried.value(u"name"_s).toString(), Test0);
        QCOMPARE(retried.value(u"jobId"_s).toString(), u"test"_s);
        QCOMPARE(retried.value(u"task"_s).toString(), u"task-7"_s);
        QCOMPARE(retried.value(u"matrix"_s).toObject(),
                 (QJsonObject{{u"python"_s, u"3.11"_s}, {u"mode"_s, u"tuned"_s}}));
        QCOMPARE(retried.value(u"reward"_s).toDouble(), 0.75);
        // Every denial counts, collapsed or not, in its job and in the run.
        QCOMPARE(retried.value(u"egressDenied"_s).toInteger(), 5);
        QCOMPARE(json.value(u"egressDenied"_s).toInteger(), 5);
        QCOMPARE(retried.value(u"steps"_s).toArray().at(0).toObject().value(u"attempts"_s).toInt(), 2);
        QCOMPARE(jobs.at(2).toObject().value(u"instance"_s).toInt(), 1);
        QCOMPARE(jobs.at(2).toObject().value(u"steps"_s).toArray().at(0).toObject().value(u"log"_s).toString(),
                 u"test-3.11-tuned~2/step-1.log"_s);
        QCOMPARE(jobs.at(4).toObject().value(u"outcome"_s).toString(), u"skipped"_s);
        QCOMPARE(json.value(u"slowestSteps"_s).toArray(), (QJsonArray{
            QJsonObject{{u"job"_s, Test2}, {u"step"_s, u"step-1"_s}, {u"durationMs"_s, 6000}},
            QJsonObject{{u"job"_s, Test1}, {u"step"_s, u"step-1"_s}, {u"durationMs"_s, 4000}},
            QJsonObject{{u"job"_s, Test0}, {u"step"_s, u"step-1"_s}, {u"durationMs"_s, 2500}},
            QJsonObject{{u"job"_s, Build}, {u"step"_s, u"login"_s}, {u"durationMs"_s, 2000}},
            QJsonObject{{u"job"_s, Build}, {u"step"_s, u"step-1"_s}, {u"durationMs"_s, 1200}}}));

        checkJUnit(junitPath);

        // No secret, nor a line of the multi-line one, in any file the run wrote.
        QDirIterator files(runDir.path(), QDir::Files, QDirIterator::Subdirectories);
        int count = 0;
        while (files.hasNext()) {
            const QString content = readAll(files.next());
            ++count;
            QVERIFY2(!content.contains(Secret), qPrintable(files.filePath()));
            QVERIFY2(!content.contains(u"second-key-line"_s), qPrintable(files.filePath()));
        }
        QCOMPARE(count, 10);   // 8 step logs, summary.json, the JUnit report
    }

    void truncation()
    {
        QTemporaryDir runDir;
        StepLogWriter writer(runDir.path(), 60);
        const QString ten = u"0123456789"_s;   // 42 bytes as a log line
        writer.handle(stepStarted(0, Build, u"a"_s, u"A"_s));
        writer.handle(stepStarted(0, Build, u"b"_s, u"B"_s));
        writer.handle(log(1, Build, u"a"_s, ten));
        writer.handle(log(2, Build, u"a"_s, ten));
        writer.handle(log(3, Build, u"b"_s, ten));
        writer.handle(log(4, Build, u"a"_s, ten));
        writer.handle(stepFinished(5, Build, u"a"_s, u"A"_s, u"success"_s, 5));
        writer.close();
        QCOMPARE(readAll(runDir.filePath(u"build/a.log"_s)),
                 u"2026-12-01T19:40:00.001Z out | 0123456789\n"
                 u"2026-12-01T19:40:00.002Z … truncated: this step's output passed the 60 B log limit; the rest is not kept\n"
                 u"2026-12-01T19:40:00.005Z --- success after 5ms\n"_s);
        QCOMPARE(readAll(runDir.filePath(u"build/b.log"_s)), u"2026-12-01T19:40:00.003Z out | 0123456789\n"_s);

        StepLogWriter big(runDir.path(), StepLogWriter::DefaultMaxBytesPerStep);
        big.handle(stepStarted(0, u"x"_s, u"a"_s, u"A"_s));
        big.handle(log(1, u"x"_s, u"a"_s, QString(10 * 1024 * 1024, u'y')));
        QVERIFY(readAll(runDir.filePath(u"x/a.log"_s)).contains(u"passed the 10.0 MiB log limit"_s));
    }

    void liveWrites()
    {
        QTemporaryDir runDir;
        StepLogWriter writer(runDir.path());
        writer.handle(stepStarted(0, Build, u"a"_s, u"A"_s));
        writer.handle(log(1, Build, u"a"_s, u"first"_s));
        // Readable before the step ends.
        QCOMPARE(readAll(runDir.filePath(u"build/a.log"_s)), u"2026-12-01T19:40:00.001Z out | first\n"_s);
    }

private:
    void checkJUnit(const QString &path)
    {
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QXmlStreamReader xml(&file);
        QMap<QString, QString> root;
        QStringList suites;
        QStringList cases;   // "classname/name: result"
        QString failedOutput;
        QString failedErrors;
        QString current;
        while (!xml.atEnd()) {
            xml.readNext();
            if (!xml.isStartElement())
                continue;
            const QXmlStreamAttributes a = xml.attributes();
            const QString name = xml.name().toString();
            if (name == u"testsuites"_s) {
                for (const QString &key : {u"name"_s, u"tests"_s, u"failures"_s, u"errors"_s, u"skipped"_s, u"time"_s})
                    root.insert(key, a.value(key).toString());
            } else if (name == u"testsuite"_s) {
                suites << u"%1 %2/%3/%4 %5"_s.arg(a.value(u"name"_s), a.value(u"tests"_s), a.value(u"failures"_s),
                                                  a.value(u"skipped"_s), a.value(u"time"_s));
            } else if (name == u"testcase"_s) {
                current = u"%1/%2 %3"_s.arg(a.value(u"classname"_s), a.value(u"name"_s), a.value(u"time"_s));
                cases << current;
            } else if (name == u"failure"_s) {
                cases.last() += u" failure(%1: %2)"_s.arg(a.value(u"type"_s), a.value(u"message"_s));
            } else if (name == u"skipped"_s) {
                cases.last() += u" skipped(%1)"_s.arg(a.value(u"message"_s));
            } else if (name == u"system-out"_s || name == u"system-err"_s) {
                const bool out = name == u"system-out"_s;
                const QString text = xml.readElementText();
                cases.last() += u" %1(%2 lines)"_s.arg(out ? u"out"_s : u"err"_s).arg(text.count(u'\n'));
                if (cases.last().startsWith(Test1))
                    (out ? failedOutput : failedErrors) = text;
            }
        }
        QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
        QCOMPARE(root, (QMap<QString, QString>{{u"name"_s, u"CI"_s}, {u"tests"_s, u"8"_s}, {u"failures"_s, u"2"_s},
            {u"errors"_s, u"0"_s}, {u"skipped"_s, u"2"_s}, {u"time"_s, u"11.300"_s}}));
        QCOMPARE(suites, (QStringList{u"build 4/0/1 3.500"_s, u"test 4/2/1 12.500"_s, u"deploy 0/0/0 0.000"_s}));
        QCOMPARE(cases, (QStringList{
            u"build/Install 1.200"_s,
            u"build/Login as *** 2.000"_s,
            u"build/Lint 0.300"_s,
            u"build/Docs 0.000 skipped(skipped)"_s,
            u"test (3.11, tuned)/Run tests 2.500"_s,
            u"test (3.11; tuned)/Run tests 4.000 failure(failure: exit status 2) out(50 lines) err(1 lines)"_s,
            u"test (3.12)/Run tests 6.000 failure(timed_out: timed out after 6s)"_s,
            u"test (3.12)/Upload 0.000 skipped(cancelled)"_s}));
        // stdout and stderr apart: the last 50 of 60 lines, and the one line on stderr.
        QStringList tail = failedOutput.split(u'\n');
        QCOMPARE(tail.size(), 51);
        QCOMPARE(tail.first(), u"line 11"_s);
        QCOMPARE(tail.at(49), u"line 60"_s);
        QCOMPARE(failedErrors, u"\ufffd[31mtoken=***\ufffd[0m\n"_s);
    }
};

QTEST_GUILESS_MAIN(TestRunReports)
#include "tst_runreports.moc"
