// `sandflow run` as docs/running.md, docs/workflow-format.md, docs/local-runner.md and
// docs/opensandbox-runner.md describe it, beyond what the example workflows show: the built
// program runs workflows that each test writes to a directory of its own, on the local runner
// and, where the runner matters, on a real `sandflow serve`. What the run did is read from
// its events, reports, state directory, cgroups and processes, and from what reached the
// server.
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
#include <QRegularExpression>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>
#include <QXmlStreamReader>

#include <csignal>

using namespace Qt::StringLiterals;
using namespace RunTesting;

namespace {

/// A TCP relay in front of the test's server that keeps every byte the clients send: what a
/// run asked the server, query strings included. It runs on the test's event loop.
class RecordingRelay : public QObject
{
public:
    explicit RecordingRelay(quint16 upstreamPort)
        : m_upstreamPort(upstreamPort)
    {
        connect(&m_listener, &QTcpServer::newConnection, this, &RecordingRelay::relayNew);
    }

    bool listen(quint16 port = 0) { return m_listener.listen(QHostAddress::LocalHost, port); }
    QString url() const { return u"http://127.0.0.1:%1"_s.arg(m_listener.serverPort()); }
    const QByteArray &sent() const { return m_sent; }

private:
    void relayNew()
    {
        while (QTcpSocket *client = m_listener.nextPendingConnection()) {
            auto *upstream = new QTcpSocket(client);
            // Bytes written while it connects wait in its buffer.
            upstream->connectToHost(QHostAddress::LocalHost, m_upstreamPort);
            connect(client, &QTcpSocket::readyRead, upstream, [this, client, upstream] {
                const QByteArray bytes = client->readAll();
                m_sent += bytes;
                upstream->write(bytes);
            });
            connect(upstream, &QTcpSocket::readyRead, client, [client, upstream] { client->write(upstream->readAll()); });
            connect(upstream, &QTcpSocket::errorOccurred, client, [client] { client->disconnectFromHost(); });
            connect(client, &QTcpSocket::disconnected, upstream, &QTcpSocket::disconnectFromHost);
            connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
        }
    }

    QTcpServer m_listener;
    quint16 m_upstreamPort;
    QByteArray m_sent;
};

/// What a run said about how it went, for a failed check: stderr, then each job's end.
QString told(const RunResult &result)
{
    QString text = result.err;
    for (const QJsonObject &event : result.eventsOf(u"job_finished"_s))
        text += u"\n%1: %2 %3"_s.arg(event.value(u"job"_s).toString(), event.value(u"outcome"_s).toString(),
                                     event.value(u"text"_s).toString());
    return text;
}

/// The current test function and row, as a file name.
QString currentTestName()
{
    QString name = QString::fromLatin1(QTest::currentTestFunction());
    if (QTest::currentDataTag())
        name += u'-' + QString::fromLatin1(QTest::currentDataTag());
    static const QRegularExpression unsafe(u"[^A-Za-z0-9_.-]+"_s);
    return name.replace(unsafe, u"-"_s);
}

const QStringList cgroupControllers = {u"memory"_s, u"pids"_s, u"cpu"_s, u"cpuacct"_s, u"freezer"_s};

} // namespace

class TestRunOptions : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();

    void maxSandboxesCapsLiveSandboxes();
    void cleanUpStepsRunAfterCtrlC_data() { addRunnerRows(); }
    void cleanUpStepsRunAfterCtrlC();
    void secondCtrlCStopsAtOnce_data() { addRunnerRows(); }
    void secondCtrlCStopsAtOnce();
    void junitGoesWhereAsked();
    void keepAndTheStateDirectory_data();
    void keepAndTheStateDirectory();
    void invalidWorkflowRunsNothing_data();
    void invalidWorkflowRunsNothing();
    void shellsRunTheScript_data() { addRunnerRows(); }
    void shellsRunTheScript();
    void processLimitIsApplied();
    void timeoutKillsWhatIgnoresTerm_data() { addRunnerRows(); }
    void timeoutKillsWhatIgnoresTerm();
    void serverSettingsPrecedence_data();
    void serverSettingsPrecedence();
    void defaultServerIsLocalhost8080();
    void serverProxyPrecedence_data();
    void serverProxyPrecedence();

private:
    /// The current test's (and row's) own state directory, so that what one test leaves
    /// cannot fail another.
    QString stateDirectory() const;
    /// The program's environment: the test's state directory, and no OpenSandbox settings.
    QProcessEnvironment environment() const;
    /// Writes `yaml` as `workflow.yaml` in a directory of the current test (and row) of its
    /// own, the base of its relative host paths; returns the file's path.
    QString writeWorkflow(const QByteArray &yaml) const;
    /// The current test's (and row's) run directory.
    QString runDirectory() const;
    void prepare(QProcess &process, const QString &workflow, const QStringList &options,
                 const QProcessEnvironment &environment) const;
    RunResult run(const QString &workflow, const QStringList &options = {}) const;
    RunResult run(const QString &workflow, const QStringList &options, const QProcessEnvironment &environment) const;
    /// `sandflow ARGUMENTS`, to its end; its stdout.
    QString sandflow(const QStringList &arguments, const QProcessEnvironment &environment) const;
    /// Nothing of the sandbox is left: no record in `recordsIn`, no cgroup, none of
    /// `processes`.
    void verifyGone(const QString &sandboxId, const QString &recordsIn, const QList<qint64> &processes) const;

    QTemporaryDir m_dir;
    QTemporaryDir m_serverState;
    ServeProcess m_server;
    QString m_program = QStringLiteral(SANDFLOW_BINARY);
    /// State directories whose sandboxes a test keeps: collected after it whatever happened.
    QStringList m_keptIn;
};

void TestRunOptions::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY(m_serverState.isValid());
    QVERIFY2(m_server.start(m_program, m_serverState.path(), u"tst-runoptions-key"_s), qPrintable(m_server.failure()));
}

void TestRunOptions::cleanup()
{
    for (const QString &directory : std::as_const(m_keptIn))
        sandflow({u"gc"_s, u"--all"_s, u"--state-dir"_s, directory}, environment());
    m_keptIn.clear();
    // Whatever the run did, it left nothing on the server.
    QCOMPARE(serverSandboxes(m_program, m_server), u"No sandboxes.\n"_s);
}

void TestRunOptions::cleanupTestCase()
{
    QVERIFY2(m_server.stop(), qPrintable(m_server.failure()));
}

QString TestRunOptions::stateDirectory() const
{
    return m_dir.filePath(u"state/"_s + currentTestName());
}

QProcessEnvironment TestRunOptions::environment() const
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"SANDFLOW_STATE_DIR"_s, stateDirectory());
    env.remove(u"OPEN_SANDBOX_DOMAIN"_s);
    env.remove(u"OPEN_SANDBOX_API_KEY"_s);
    return env;
}

QString TestRunOptions::writeWorkflow(const QByteArray &yaml) const
{
    const QString directory = m_dir.filePath(u"workflows/"_s + currentTestName());
    QDir().mkpath(directory);
    QFile file(directory + u"/workflow.yaml"_s);
    if (!file.open(QIODevice::WriteOnly) || file.write(yaml) != yaml.size())
        qFatal("cannot write %s", qPrintable(file.fileName()));
    return file.fileName();
}

QString TestRunOptions::runDirectory() const
{
    return m_dir.filePath(u"runs/"_s + currentTestName());
}

void TestRunOptions::prepare(QProcess &process, const QString &workflow, const QStringList &options,
                             const QProcessEnvironment &environment) const
{
    process.setProcessEnvironment(environment);
    process.setProgram(m_program);
    process.setArguments(QStringList{u"run"_s, u"--json"_s, u"--run-dir"_s, runDirectory()} + options
                         + QStringList{workflow});
    process.setStandardInputFile(QProcess::nullDevice());
}

RunResult TestRunOptions::run(const QString &workflow, const QStringList &options) const
{
    return run(workflow, options, environment());
}

RunResult TestRunOptions::run(const QString &workflow, const QStringList &options,
                              const QProcessEnvironment &environment) const
{
    QProcess process;
    prepare(process, workflow, options, environment);
    return finish(process, runDirectory());
}

QString TestRunOptions::sandflow(const QStringList &arguments, const QProcessEnvironment &environment) const
{
    QProcess process;
    process.setProcessEnvironment(environment);
    process.setStandardInputFile(QProcess::nullDevice());
    process.start(m_program, arguments);
    process.waitForFinished(HangLimitMs);
    return QString::fromUtf8(process.readAllStandardOutput());
}

void TestRunOptions::verifyGone(const QString &sandboxId, const QString &recordsIn,
                                const QList<qint64> &processes) const
{
    QVERIFY(!QFileInfo::exists(recordsIn + u"/sandboxes/"_s + sandboxId + u".json"_s));
    for (const QString &controller : cgroupControllers) {
        const QString group = u"/sys/fs/cgroup/%1/sandflow/%2"_s.arg(controller, sandboxId);
        QVERIFY2(!QFileInfo::exists(group), qPrintable(group));
    }
    for (const qint64 pid : processes)
        QVERIFY2(!exists(pid), qPrintable(u"process %1 of the sandbox is still there"_s.arg(pid)));
}

// --max-sandboxes caps the sandboxes alive at once across the run, whatever the jobs would
// run in parallel.
void TestRunOptions::maxSandboxesCapsLiveSandboxes()
{
    // Six instances that could all run at once. Each waits (a while at most) until another
    // one has started too, so that two are alive together for certain, and stays a second
    // longer, so that more would be if the cap let them.
    const QString workflow = writeWorkflow(
        "version: 1\n"
        "name: capped\n"
        "volumes:\n"
        "  meeting: { host: { path: ./meeting } }\n"
        "jobs:\n"
        "  wide:\n"
        "    strategy: { matrix: { n: [1, 2, 3, 4, 5, 6] } }\n"
        "    sandbox:\n"
        "      image: debian:12\n"
        "      mounts: [{ volume: meeting, path: /meeting }]\n"
        "    steps:\n"
        "      - run: |\n"
        "          touch /meeting/${{ matrix.n }}\n"
        "          for i in $(seq 300); do [ \"$(ls /meeting | wc -l)\" -ge 2 ] && break; sleep 0.1; done\n"
        "          sleep 1\n");
    QVERIFY(QDir().mkpath(QFileInfo(workflow).dir().filePath(u"meeting"_s)));
    const RunResult result = run(workflow, {u"--max-sandboxes"_s, u"2"_s});
    QVERIFY2(result.exitCode == 0, qPrintable(told(result)));
    QCOMPARE(result.eventsOf(u"sandbox_created"_s).size(), 6);
    QCOMPARE(result.eventsOf(u"sandbox_deleted"_s).size(), 6);
    QCOMPARE(mostAtOnce(result.events, u"sandbox_created"_s, u"sandbox_deleted"_s), 2);
}

// The first Ctrl-C cancels the running step; steps and jobs whose `if` accepts a cancelled
// run (always(), cancelled()) still run, the others do not.
void TestRunOptions::cleanUpStepsRunAfterCtrlC()
{
    const QString workflow = writeWorkflow(
        "version: 1\n"
        "name: interrupted\n"
        "jobs:\n"
        "  work:\n"
        "    sandbox: { image: debian:12 }\n"
        "    steps:\n"
        "      - run: echo working && sleep 300\n"
        "      - run: echo ordinary step ran\n"
        "      - if: always()\n"
        "        run: echo always step ran\n"
        "      - if: cancelled()\n"
        "        run: echo cancelled step ran\n"
        "  ordinary:\n"
        "    needs: work\n"
        "    sandbox: { image: debian:12 }\n"
        "    steps:\n"
        "      - run: echo ordinary job ran\n"
        "  always:\n"
        "    needs: work\n"
        "    if: always()\n"
        "    sandbox: { image: debian:12 }\n"
        "    steps:\n"
        "      - run: echo always job ran\n"
        "  cancelled:\n"
        "    needs: work\n"
        "    if: cancelled()\n"
        "    sandbox: { image: debian:12 }\n"
        "    steps:\n"
        "      - run: echo cancelled job ran\n");
    QProcess process;
    prepare(process, workflow, runnerOptions(m_server), environment());
    LiveRun live(process);
    QVERIFY(live.waitForLine(u"working"_s));
    live.interrupt();
    const RunResult result = live.finish(runDirectory());
    QCOMPARE(result.exitCode, 130);

    const auto outcome = [&](const QString &step) { return result.step(u"work"_s, step).value(u"outcome"_s).toString(); };
    QCOMPARE(outcome(u"step-1"_s), u"cancelled"_s);
    QCOMPARE(outcome(u"step-2"_s), u"skipped"_s);
    QCOMPARE(outcome(u"step-3"_s), u"success"_s);
    QCOMPARE(outcome(u"step-4"_s), u"success"_s);
    QCOMPARE(result.lines(u"work"_s), (QStringList{u"working"_s, u"always step ran"_s, u"cancelled step ran"_s}));

    QMap<QString, QString> jobs;
    for (const QJsonObject &event : result.eventsOf(u"job_finished"_s))
        jobs.insert(event.value(u"job"_s).toString(), event.value(u"outcome"_s).toString());
    QCOMPARE(jobs.value(u"work"_s), u"cancelled"_s);
    QCOMPARE(jobs.value(u"always"_s), u"success"_s);
    QCOMPARE(jobs.value(u"cancelled"_s), u"success"_s);
    QCOMPARE(jobs.value(u"ordinary"_s), u"skipped"_s);
    QCOMPARE(result.lines(u"always"_s), QStringList{u"always job ran"_s});
    QCOMPARE(result.lines(u"cancelled"_s), QStringList{u"cancelled job ran"_s});
    QCOMPARE(result.lines(u"ordinary"_s), QStringList());
    // The job that did not run had no sandbox; every other one's was deleted.
    QStringList created;
    for (const QJsonObject &event : result.eventsOf(u"sandbox_created"_s))
        created.append(event.value(u"job"_s).toString());
    created.sort();
    QCOMPARE(created, (QStringList{u"always"_s, u"cancelled"_s, u"work"_s}));
    QCOMPARE(result.eventsOf(u"sandbox_deleted"_s).size(), 3);
    QCOMPARE(sandflow({u"ls"_s}, environment()), u"No sandboxes.\n"_s);
}

// A second Ctrl-C stops at once: the clean-up step that runs is stopped too, no step runs
// after it, and nothing of the sandbox is left.
void TestRunOptions::secondCtrlCStopsAtOnce()
{
    // The clean-up step would outlast the test's patience (HangLimitMs) if it were waited for.
    const QString workflow = writeWorkflow(
        "version: 1\n"
        "name: stubborn\n"
        "jobs:\n"
        "  work:\n"
        "    sandbox: { image: debian:12 }\n"
        "    steps:\n"
        "      - run: echo working && sleep 300\n"
        "      - if: always()\n"
        "        run: echo cleaning up && sleep 300\n"
        "      - if: always()\n"
        "        run: echo after the clean-up\n");
    QProcess process;
    prepare(process, workflow, runnerOptions(m_server), environment());
    LiveRun live(process);
    QVERIFY(live.waitForLine(u"working"_s));
    const QString sandboxId = live.firstSandboxId();
    QVERIFY(!sandboxId.isEmpty());
    live.interrupt();
    QVERIFY(live.waitForLine(u"cleaning up"_s));
    // The local sandbox's processes, by their cgroup (a remote one's are the server's).
    const QList<qint64> processes = processesInCgroupsOf(sandboxId);
    live.interrupt();
    const RunResult result = live.finish(runDirectory());
    QCOMPARE(result.exitCode, 130);
    QCOMPARE(result.lines(u"work"_s), (QStringList{u"working"_s, u"cleaning up"_s}));
    for (const QJsonObject &event : result.eventsOf(u"step_started"_s))
        QVERIFY2(event.value(u"step"_s).toString() != u"step-3"_s, "a step started after the second Ctrl-C");
    QCOMPARE(sandflow({u"ls"_s}, environment()), u"No sandboxes.\n"_s);
    // A remote sandbox is the server's: its record is in the server's state directory.
    QFETCH(QString, runner);
    verifyGone(sandboxId, runner == u"local"_s ? stateDirectory() : m_serverState.path(), processes);
}

// --junit FILE: the JUnit report goes there, a test suite per job and a test case per step,
// a failed step as a failure.
void TestRunOptions::junitGoesWhereAsked()
{
    const QString workflow = writeWorkflow(
        "version: 1\n"
        "name: reported\n"
        "jobs:\n"
        "  passes:\n"
        "    sandbox: { image: debian:12 }\n"
        "    steps:\n"
        "      - { name: first, run: echo one }\n"
        "      - { name: second, run: echo two }\n"
        "  fails:\n"
        "    sandbox: { image: debian:12 }\n"
        "    steps:\n"
        "      - { name: fine, run: echo fine }\n"
        "      - { name: broken, run: echo about to break && exit 3 }\n"
        "      - { name: never, run: echo never }\n");
    const QString report = m_dir.filePath(u"reports/junit-given.xml"_s);
    const RunResult result = run(workflow, {u"--junit"_s, report});
    QCOMPARE(result.exitCode, 1);
    QVERIFY(!QFileInfo::exists(result.runDir + u"/junit.xml"_s));
    QVERIFY(QFileInfo::exists(result.runDir + u"/summary.json"_s));

    QFile file(report);
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(report));
    // Each suite with its cases, as `case:result`.
    QMap<QString, QStringList> suites;
    QString suite, testCase, outcome, failedOutput;
    QXmlStreamReader xml(&file);
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isEndElement() && xml.name() == u"testcase"_s)
            suites[suite].append(testCase + u':' + outcome);
        if (!xml.isStartElement())
            continue;
        if (xml.name() == u"testsuite"_s) {
            suite = xml.attributes().value(u"name"_s).toString();
        } else if (xml.name() == u"testcase"_s) {
            testCase = xml.attributes().value(u"name"_s).toString();
            outcome = u"passed"_s;
        } else if (xml.name() == u"failure"_s || xml.name() == u"skipped"_s) {
            outcome = xml.name().toString();
        } else if (xml.name() == u"system-out"_s) {
            failedOutput += xml.readElementText();
        }
    }
    QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
    QCOMPARE(suites, (QMap<QString, QStringList>{{u"passes"_s, {u"first:passed"_s, u"second:passed"_s}},
                                                 {u"fails"_s, {u"fine:passed"_s, u"broken:failure"_s,
                                                               u"never:skipped"_s}}}));
    QVERIFY2(failedOutput.contains(u"about to break"_s), qPrintable(failedOutput));
}

void TestRunOptions::keepAndTheStateDirectory_data()
{
    // {home} is the row's own directory, HOME of the run.
    QTest::addColumn<QStringList>("variables");
    QTest::addColumn<QString>("expected");   // the state directory
    QTest::newRow("$SANDFLOW_STATE_DIR")
        << QStringList{u"SANDFLOW_STATE_DIR={home}/explicit"_s, u"XDG_STATE_HOME={home}/xdg"_s} << u"{home}/explicit"_s;
    QTest::newRow("$XDG_STATE_HOME") << QStringList{u"XDG_STATE_HOME={home}/xdg"_s} << u"{home}/xdg/sandflow"_s;
    QTest::newRow("empty $SANDFLOW_STATE_DIR")
        << QStringList{u"SANDFLOW_STATE_DIR="_s, u"XDG_STATE_HOME={home}/xdg"_s} << u"{home}/xdg/sandflow"_s;
    QTest::newRow("~/.local/state") << QStringList() << u"{home}/.local/state/sandflow"_s;
}

// --keep keeps the sandboxes after the run, until Ctrl-C, recorded in the state directory
// that $SANDFLOW_STATE_DIR, else $XDG_STATE_HOME/sandflow, else ~/.local/state/sandflow names,
// where `sandflow ls` finds them.
void TestRunOptions::keepAndTheStateDirectory()
{
    QFETCH(QStringList, variables);
    QFETCH(QString, expected);
    QTemporaryDir home;
    QVERIFY(home.isValid());
    QProcessEnvironment env = environment();
    env.remove(u"SANDFLOW_STATE_DIR"_s);
    env.remove(u"XDG_STATE_HOME"_s);
    env.insert(u"HOME"_s, home.path());
    for (const QString &variable : std::as_const(variables)) {
        const qsizetype equals = variable.indexOf(u'=');
        env.insert(variable.left(equals), variable.mid(equals + 1).replace(u"{home}"_s, home.path()));
    }
    expected.replace(u"{home}"_s, home.path());
    m_keptIn.append(expected);

    const QString workflow = writeWorkflow(
        "version: 1\n"
        "name: kept\n"
        "jobs:\n"
        "  kept:\n"
        "    sandbox: { image: debian:12 }\n"
        "    steps:\n"
        "      - run: echo done\n");
    QProcess process;
    prepare(process, workflow, {u"--keep"_s}, env);
    LiveRun live(process);
    QVERIFY(QTest::qWaitFor([&] { return live.printed("\"run_finished\"") || live.isFinished(); }, 60'000));
    const QString sandboxId = live.firstSandboxId();
    QVERIFY(!sandboxId.isEmpty());

    // The run is over, and its sandbox is alive, recorded there and nowhere else.
    const QString record = expected + u"/sandboxes/"_s + sandboxId + u".json"_s;
    QVERIFY2(QFileInfo::exists(record), qPrintable(record));
    QDirIterator records(home.path(), {u"*.json"_s}, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    QStringList recorded;
    while (records.hasNext()) {
        // The run's own server is recorded beside it (endpoints/), not as a sandbox.
        const QString path = records.next();
        if (!path.startsWith(expected + u"/endpoints/"_s))
            recorded.append(path);
    }
    QCOMPARE(recorded, QStringList{record});
    const QList<qint64> processes = processesInCgroupsOf(sandboxId);
    QVERIFY(!processes.isEmpty());
    const QJsonArray listed = QJsonDocument::fromJson(sandflow({u"ls"_s, u"--json"_s}, env).toUtf8()).array();
    QCOMPARE(listed.size(), 1);
    QCOMPARE(listed.first().toObject().value(u"id"_s).toString(), sandboxId);
    QCOMPARE(listed.first().toObject().value(u"alive"_s).toBool(), true);
    QVERIFY(!live.isFinished());

    // Ctrl-C ends the wait and the sandbox.
    live.interrupt();
    const RunResult result = live.finish(runDirectory());
    QVERIFY2(result.exitCode == 0, qPrintable(told(result)));
    QCOMPARE(sandflow({u"ls"_s}, env), u"No sandboxes.\n"_s);
    verifyGone(sandboxId, expected, processes);
}

void TestRunOptions::invalidWorkflowRunsNothing_data()
{
    QTest::addColumn<QStringList>("options");
    QTest::addColumn<QByteArray>("sandbox");     // the second job's
    QTest::addColumn<QByteArray>("stepsKey");    // the second job's
    QTest::addColumn<QString>("error");
    const QStringList opensandbox = {u"--runner"_s, u"opensandbox"_s, u"--server"_s, m_server.url(),
                                     u"--api-key"_s, m_server.apiKey()};
    QTest::newRow("a misspelt key") << QStringList() << QByteArray("{ image: debian:12 }") << QByteArray("stesp")
                                    << u"workflow.yaml:10:5: error: "_s;
    QTest::newRow("no image on the opensandbox runner")
        << opensandbox << QByteArray("{ env: { A: b } }") << QByteArray("steps") << u"workflow.yaml:9:14: error: "_s;
}

// A workflow that is not valid runs nothing: exit status 2, no event, no sandbox, no run
// directory; only the problems, on stderr and (with --json) as diagnostics on stdout.
void TestRunOptions::invalidWorkflowRunsNothing()
{
    QFETCH(QStringList, options);
    QFETCH(QByteArray, sandbox);
    QFETCH(QByteArray, stepsKey);
    QFETCH(QString, error);
    // The first job is valid, and would run if anything did.
    const QString workflow = writeWorkflow(
        "version: 1\n"
        "name: invalid\n"
        "jobs:\n"
        "  first:\n"
        "    sandbox: { image: debian:12 }\n"
        "    steps:\n"
        "      - run: echo should not run\n"
        "  second:\n"
        "    sandbox: " + sandbox + "\n"
        "    " + stepsKey + ":\n"
        "      - run: echo should not run either\n");
    const RunResult result = run(workflow, options);
    QCOMPARE(result.exitCode, 2);
    QVERIFY2(result.err.contains(error), qPrintable(result.err));
    QVERIFY(!result.events.isEmpty());
    for (const QJsonObject &event : result.events) {
        QCOMPARE(event.value(u"type"_s).toString(), u"diagnostic"_s);
        QVERIFY2(result.err.contains(event.value(u"text"_s).toString()), qPrintable(result.err));
    }
    QCOMPARE(result.events.last().value(u"severity"_s).toString(), u"error"_s);
    QVERIFY(!QFileInfo::exists(result.runDir));
    QCOMPARE(sandflow({u"ls"_s}, environment()), u"No sandboxes.\n"_s);
}

// `shell` names the interpreter: `bash`, or a command with `{0}` that gets the script as a
// file; each prints what only it could.
void TestRunOptions::shellsRunTheScript()
{
    const auto hostSays = [](const QString &program, const QStringList &arguments) {
        QProcess process;
        process.start(program, arguments);
        process.waitForFinished(30'000);
        return QString::fromUtf8(process.readAllStandardOutput()).trimmed();
    };
    const QString bashVersion = hostSays(u"/usr/bin/bash"_s, {u"-c"_s, u"echo $BASH_VERSION"_s});
    QVERIFY(!bashVersion.isEmpty());
    // The sandboxes see the host's /usr, so the same interpreters.
    const bool python = QFileInfo(u"/usr/bin/python3"_s).isExecutable();
    QByteArray yaml = "version: 1\n"
                      "name: shells\n"
                      "jobs:\n"
                      "  shells:\n"
                      "    sandbox: { image: debian:12 }\n"
                      "    steps:\n"
                      "      - shell: bash\n"
                      "        run: |\n"
                      "          echo \"named: bash $BASH_VERSION\"\n"
                      "      - shell: bash {0}\n"
                      "        run: |\n"
                      "          [ -f \"$0\" ] && echo \"from a file: bash $BASH_VERSION\"\n"
                      "          false\n"
                      "          echo \"went on after a failing command\"\n"
                      "      - shell: sh {0}\n"
                      "        run: |\n"
                      "          [ -f \"$0\" ] && echo \"from a file: ${BASH_VERSION:-not bash}\"\n";
    if (python) {
        yaml += "      - shell: python3 {0}\n"
                "        run: |\n"
                "          import sys\n"
                "          print('from a file: python', sys.version, __file__ != '<stdin>')\n";
    }
    const RunResult result = run(writeWorkflow(yaml), runnerOptions(m_server));
    QVERIFY2(result.exitCode == 0, qPrintable(told(result)));
    QStringList expected = {u"named: bash "_s + bashVersion, u"from a file: bash "_s + bashVersion,
                            u"went on after a failing command"_s, u"from a file: not bash"_s};
    if (python) {
        expected.append(u"from a file: python "_s
                        + hostSays(u"/usr/bin/python3"_s, {u"-c"_s, u"import sys; print(sys.version)"_s}) + u" True"_s);
    }
    QCOMPARE(result.lines(u"shells"_s), expected);
    if (!python)
        QSKIP("/usr/bin/python3 is not there: `python3 {0}` was not tried");
}

// Every local sandbox gets a process limit, 4096 by default, in its pids cgroup: the group
// the step's processes are in.
void TestRunOptions::processLimitIsApplied()
{
    const QString workflow = writeWorkflow(
        "version: 1\n"
        "name: limited\n"
        "jobs:\n"
        "  limited:\n"
        "    sandbox: { image: debian:12 }\n"
        "    steps:\n"
        "      - run: |\n"
        "          echo holding\n"
        "          sleep 120 || echo woken\n");
    QProcess process;
    prepare(process, workflow, {}, environment());
    LiveRun live(process);
    QVERIFY(live.waitForLine(u"holding"_s));
    for (const QJsonObject &event : live.events()) {
        const QString text = event.value(u"text"_s).toString();
        if (event.value(u"type"_s).toString() == u"warning"_s && text.contains(u"cgroup"_s))
            QSKIP(qPrintable(u"the sandboxes run without limits here: "_s + text));
    }
    // The step's `sleep`, among the sandbox's processes.
    qint64 sleeper = 0;
    QVERIFY(QTest::qWaitFor(
        [&] {
            for (const qint64 pid : processesInCgroupsOf(live.firstSandboxId())) {
                QFile commandLine(u"/proc/%1/cmdline"_s.arg(pid));
                if (commandLine.open(QIODevice::ReadOnly) && commandLine.readAll().startsWith(QByteArray("sleep\0" "120", 9)))
                    sleeper = pid;
            }
            return sleeper != 0;
        },
        30'000));
    QFile cgroups(u"/proc/%1/cgroup"_s.arg(sleeper));
    QVERIFY(cgroups.open(QIODevice::ReadOnly));
    QString pidsGroup;
    for (const QByteArray &line : cgroups.readAll().split('\n')) {
        const QList<QByteArray> fields = line.split(':');
        if (fields.size() == 3 && fields.at(1).split(',').contains("pids"))
            pidsGroup = QString::fromUtf8(fields.at(2));
    }
    QVERIFY2(pidsGroup.endsWith(live.firstSandboxId()), qPrintable(pidsGroup));
    QFile limit(u"/sys/fs/cgroup/pids"_s + pidsGroup + u"/pids.max"_s);
    QVERIFY2(limit.open(QIODevice::ReadOnly), qPrintable(limit.fileName()));
    QCOMPARE(limit.readAll().trimmed(), QByteArray("4096"));

    ::kill(pid_t(sleeper), SIGTERM);
    const RunResult result = live.finish(runDirectory());
    QVERIFY2(result.exitCode == 0, qPrintable(told(result)));
    QCOMPARE(result.lines(u"limited"_s, u"stdout"_s), (QStringList{u"holding"_s, u"woken"_s}));
}

// A step whose time runs out is interrupted: SIGTERM, then SIGKILL three seconds later. A
// script that ignores SIGTERM is ended by the SIGKILL, and the step is timed out.
void TestRunOptions::timeoutKillsWhatIgnoresTerm()
{
    // The check finds the loop by a word in its command line that its own does not hold.
    const QString workflow = writeWorkflow(
        "version: 1\n"
        "name: stubborn\n"
        "jobs:\n"
        "  stubborn:\n"
        "    sandbox: { image: debian:12 }\n"
        "    steps:\n"
        "      - id: ignores-term\n"
        "        timeout: 2s\n"
        "        run: |\n"
        "          # stubborn-loop\n"
        "          trap 'echo \"got TERM, going on\"' TERM\n"
        "          echo \"ignoring TERM\"\n"
        "          while :; do sleep 0.2 || true; done\n"
        "      - id: check\n"
        "        if: always()\n"
        "        run: |\n"
        "          if grep -qsa 'stubborn[-]loop' /proc/[0-9]*/cmdline; then echo \"the loop runs on\"; else echo \"the loop is gone\"; fi\n");
    const RunResult result = run(workflow, runnerOptions(m_server));
    QCOMPARE(result.exitCode, 1);
    const QJsonObject step = result.step(u"stubborn"_s, u"ignores-term"_s);
    QCOMPARE(step.value(u"outcome"_s).toString(), u"timed_out"_s);
    QCOMPARE(step.value(u"text"_s).toString(), u"timed out after 2s"_s);
    // SIGTERM came first, and the script lived on.
    QCOMPARE(result.lines(u"stubborn"_s, u"stdout"_s),
             (QStringList{u"ignoring TERM"_s, u"got TERM, going on"_s, u"the loop is gone"_s}));
    // SIGKILL not before its three seconds (after a time-out that a coarse timer may end
    // 5% early); the upper bound only catches a hang.
    const int durationMs = step.value(u"durationMs"_s).toInt();
    QVERIFY2(durationMs >= 1900 + 3000, qPrintable(QString::number(durationMs)));
    QVERIFY2(durationMs < 60'000, qPrintable(QString::number(durationMs)));
}

void TestRunOptions::serverSettingsPrecedence_data()
{
    QTest::addColumn<QStringList>("options");
    QTest::addColumn<QString>("workflowHead");    // the lines before `jobs:`
    QTest::addColumn<QStringList>("variables");   // the environment's, NAME=VALUE
    QTest::addColumn<QString>("error");           // in the job's failure; empty: it succeeds

    const QString url = m_server.url();
    const QString unreachable = u"http://127.0.0.1:1"_s;   // nothing listens on port 1
    const QString key = m_server.apiKey();
    const QString wrongKey = u"wrong-key"_s;
    const QString cannotReach = u"cannot reach the server at http://127.0.0.1:1"_s;
    const QString invalidKey = u"401 INVALID_API_KEY"_s;
    const QStringList opensandbox = {u"--runner"_s, u"opensandbox"_s};
    const QStringList onServer = opensandbox + QStringList{u"--server"_s, url};
    const QStringList withKey = opensandbox + QStringList{u"--api-key"_s, key};
    // The workflow's `server:`, its key from a secret.
    const auto server = [](const QString &serverUrl, bool apiKey) {
        QString head = u"secrets: [SANDFLOW_TEST_SERVER_KEY]\nserver:\n"_s;
        if (!serverUrl.isEmpty())
            head += u"  url: %1\n"_s.arg(serverUrl);
        if (apiKey)
            head += u"  apiKey: ${{ secrets.SANDFLOW_TEST_SERVER_KEY }}\n"_s;
        return head;
    };
    const auto secret = [](const QString &value) { return u"SANDFLOW_TEST_SERVER_KEY="_s + value; };
    const auto envKey = [](const QString &value) { return u"OPEN_SANDBOX_API_KEY="_s + value; };
    const auto envUrl = [](const QString &value) { return u"OPEN_SANDBOX_DOMAIN="_s + value; };

    // The API key: command line, then the workflow, then the environment, else none.
    QTest::newRow("--api-key over server.apiKey")
        << onServer + QStringList{u"--api-key"_s, key} << server({}, true)
        << QStringList{secret(wrongKey), envKey(wrongKey)} << QString();
    QTest::newRow("wrong --api-key over server.apiKey")
        << onServer + QStringList{u"--api-key"_s, wrongKey} << server({}, true) << QStringList{secret(key), envKey(key)}
        << invalidKey;
    QTest::newRow("server.apiKey over the environment")
        << onServer << server({}, true) << QStringList{secret(key), envKey(wrongKey)} << QString();
    QTest::newRow("wrong server.apiKey over the environment")
        << onServer << server({}, true) << QStringList{secret(wrongKey), envKey(key)} << invalidKey;
    QTest::newRow("the environment's key") << onServer << QString() << QStringList{envKey(key)} << QString();
    QTest::newRow("no key") << onServer << QString() << QStringList() << u"401 MISSING_API_KEY"_s;

    // The server: command line, then the workflow, then the environment (the default is
    // defaultServerIsLocalhost8080's).
    QTest::newRow("--server over server.url")
        << withKey + QStringList{u"--server"_s, url} << server(unreachable, false) << QStringList{envUrl(unreachable)}
        << QString();
    QTest::newRow("wrong --server over server.url")
        << withKey + QStringList{u"--server"_s, unreachable} << server(url, false) << QStringList{envUrl(url)}
        << cannotReach;
    QTest::newRow("server.url over the environment")
        << withKey << server(url, false) << QStringList{envUrl(unreachable)} << QString();
    QTest::newRow("wrong server.url over the environment")
        << withKey << server(unreachable, false) << QStringList{envUrl(url)} << cannotReach;
    QTest::newRow("the environment's server") << withKey << QString() << QStringList{envUrl(url)} << QString();

    // The runner: command line, then the workflow, else local. A wrong key shows which ran.
    QTest::newRow("runner: opensandbox")
        << QStringList() << u"runner: opensandbox\n"_s + server(url, true) << QStringList{secret(wrongKey)}
        << invalidKey;
    QTest::newRow("--runner local over runner:")
        << QStringList{u"--runner"_s, u"local"_s} << u"runner: opensandbox\n"_s + server(url, true)
        << QStringList{secret(wrongKey)} << QString();
}

// Each OpenSandbox setting is taken from the command line, else the workflow (its key from a
// secret), else the environment: the right value at a higher level wins over a wrong one
// below it, and a wrong one above a right one fails the run.
void TestRunOptions::serverSettingsPrecedence()
{
    QFETCH(QStringList, options);
    QFETCH(QString, workflowHead);
    QFETCH(QStringList, variables);
    QFETCH(QString, error);
    QProcessEnvironment env = environment();
    for (const QString &variable : std::as_const(variables))
        env.insert(variable.section(u'=', 0, 0), variable.section(u'=', 1));
    const QString workflow = writeWorkflow("version: 1\n"
                                           "name: remote\n"
                                           + workflowHead.toUtf8()
                                           + "jobs:\n"
                                             "  remote:\n"
                                             "    sandbox: { image: debian:12 }\n"
                                             "    steps:\n"
                                             "      - run: echo ran\n");
    const RunResult result = run(workflow, options, env);
    if (error.isEmpty()) {
        QVERIFY2(result.exitCode == 0, qPrintable(told(result)));
        QCOMPARE(result.lines(u"remote"_s), QStringList{u"ran"_s});
        return;
    }
    QCOMPARE(result.exitCode, 1);
    QCOMPARE(result.eventsOf(u"sandbox_created"_s).size(), 0);
    const QString failure = result.eventsOf(u"job_finished"_s).value(0).value(u"text"_s).toString();
    QVERIFY2(failure.contains(error), qPrintable(failure));
}

// Without a server anywhere the runner asks localhost:8080. A relay there, in front of the
// test's server, shows that it did; unless something else has that port.
void TestRunOptions::defaultServerIsLocalhost8080()
{
    RecordingRelay relay(quint16(QUrl(m_server.url()).port()));
    if (!relay.listen(8080))
        QSKIP("127.0.0.1:8080 is taken: the default server cannot be stood in for");
    const QString workflow = writeWorkflow("version: 1\n"
                                           "name: default-server\n"
                                           "jobs:\n"
                                           "  remote:\n"
                                           "    sandbox: { image: debian:12 }\n"
                                           "    steps:\n"
                                           "      - run: echo ran\n");
    QProcess process;
    prepare(process, workflow, {u"--runner"_s, u"opensandbox"_s, u"--api-key"_s, m_server.apiKey()}, environment());
    LiveRun live(process);
    const RunResult result = live.finish(runDirectory());
    QVERIFY2(result.exitCode == 0, qPrintable(told(result)));
    QCOMPARE(result.lines(u"remote"_s), QStringList{u"ran"_s});
    QVERIFY(relay.sent().contains("POST /v1/sandboxes "));
}

void TestRunOptions::serverProxyPrecedence_data()
{
    QTest::addColumn<QStringList>("options");
    QTest::addColumn<QString>("server");    // the workflow's `server:` keys
    QTest::addColumn<bool>("proxy");
    QTest::newRow("off by default") << QStringList() << QString() << false;
    QTest::newRow("server.useServerProxy") << QStringList() << u"  useServerProxy: true\n"_s << true;
    QTest::newRow("--server-proxy") << QStringList{u"--server-proxy"_s} << QString() << true;
    QTest::newRow("--server-proxy over server.useServerProxy")
        << QStringList{u"--server-proxy"_s} << u"  useServerProxy: false\n"_s << true;
}

// The server proxy is on with --server-proxy, else as the workflow's server.useServerProxy
// says, else off; the run asks the server for the sandboxes' endpoints accordingly.
void TestRunOptions::serverProxyPrecedence()
{
    QFETCH(QStringList, options);
    QFETCH(QString, server);
    QFETCH(bool, proxy);
    RecordingRelay relay(quint16(QUrl(m_server.url()).port()));
    QVERIFY(relay.listen());
    const QString workflow = writeWorkflow("version: 1\n"
                                           "name: proxied\n"
                                           + (server.isEmpty() ? QByteArray() : "server:\n" + server.toUtf8())
                                           + "jobs:\n"
                                             "  remote:\n"
                                             "    sandbox: { image: debian:12 }\n"
                                             "    steps:\n"
                                             "      - run: echo ran\n");
    QProcess process;
    prepare(process, workflow,
            QStringList{u"--runner"_s, u"opensandbox"_s, u"--server"_s, relay.url(), u"--api-key"_s, m_server.apiKey()}
                + options,
            environment());
    LiveRun live(process);
    const RunResult result = live.finish(runDirectory());
    QVERIFY2(result.exitCode == 0, qPrintable(told(result)));
    QCOMPARE(result.lines(u"remote"_s), QStringList{u"ran"_s});
    static const QRegularExpression endpoint(u"GET /v1/sandboxes/\\w+/endpoints/\\d+\\?use_server_proxy=(\\w+) "_s);
    QStringList asked;
    for (auto match = endpoint.globalMatch(QString::fromUtf8(relay.sent())); match.hasNext();)
        asked.append(match.next().captured(1));
    QVERIFY(!asked.isEmpty());
    QCOMPARE(asked, QStringList(asked.size(), proxy ? u"true"_s : u"false"_s));
}

QTEST_GUILESS_MAIN(TestRunOptions)
#include "tst_runoptions.moc"
