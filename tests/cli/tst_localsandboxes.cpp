// `sandflow sandbox` on local sandboxes, without --server: those of a run (while it runs,
// and kept with --keep), and those of `sandflow serve`, found through what each records in
// the state directory. Everything is the built executable, started as processes, with a
// state directory of the test's own.
#include "runtesting.h"
#include "serveprocess.h"

#include <QJsonArray>
#include <QTcpServer>
#include <QTemporaryDir>

using namespace Qt::StringLiterals;
using namespace RunTesting;

namespace {

struct Result
{
    int exitCode = -1;
    QString out;
    QString err;
};

} // namespace

class TestLocalSandboxes : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void keptRunSandboxReachedByIdPrefix();
    void runningRunSandboxReached();
    void sandboxesOfTwoRunsAndServe();
    void endpointRecordIsPrivateAndNeedsItsKey();
    void recordOfAGoneProcessIsRemoved();
    void aGoneRunIsNotFound();
    void aServerStoppedAsItListensEndsCleanly();
    void namedServerIsTheOnlyOneAsked();

private:
    QProcessEnvironment environment() const;
    QString writeWorkflow(const QByteArray &yaml) const;
    /// A workflow of one job, `one`, whose one step prints "ok".
    QString oneStepWorkflow() const;
    /// `sandflow ARGS` to its end, while the test's event loop runs (a run of the test's own
    /// goes on meanwhile).
    Result sandflow(const QStringList &arguments, const QProcessEnvironment &env) const;
    Result sandflow(const QStringList &arguments) const { return sandflow(arguments, environment()); }
    /// Starts `run --json --keep` of `workflow` into `process`; the run is over and its
    /// sandbox kept once this returns true.
    bool startKeptRun(QProcess &process, std::unique_ptr<LiveRun> &live, const QString &workflow,
                      const QString &name) const;
    QStringList endpointRecords() const;

    QTemporaryDir m_dir;
    const QString m_program = QStringLiteral(SANDFLOW_BINARY);
};

void TestLocalSandboxes::initTestCase()
{
    QVERIFY(m_dir.isValid());
}

QProcessEnvironment TestLocalSandboxes::environment() const
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"SANDFLOW_STATE_DIR"_s, m_dir.filePath(u"state"_s));
    env.remove(u"OPEN_SANDBOX_DOMAIN"_s);
    env.remove(u"OPEN_SANDBOX_API_KEY"_s);
    env.insert(u"NO_COLOR"_s, u"1"_s);
    return env;
}

QString TestLocalSandboxes::writeWorkflow(const QByteArray &yaml) const
{
    const QString directory = m_dir.filePath(u"workflows/"_s + QString::fromLatin1(QTest::currentTestFunction()));
    QDir().mkpath(directory);
    QFile file(directory + u"/workflow.yaml"_s);
    if (!file.open(QIODevice::WriteOnly) || file.write(yaml) != yaml.size())
        qFatal("cannot write %s", qPrintable(file.fileName()));
    return file.fileName();
}

QString TestLocalSandboxes::oneStepWorkflow() const
{
    return writeWorkflow("version: 1\n"
                         "name: one-step\n"
                         "jobs:\n"
                         "  one:\n"
                         "    sandbox: { image: debian:12 }\n"
                         "    steps:\n"
                         "      - run: echo ok\n");
}

Result TestLocalSandboxes::sandflow(const QStringList &arguments, const QProcessEnvironment &env) const
{
    QProcess process;
    process.setProgram(m_program);
    process.setArguments(arguments);
    process.setProcessEnvironment(env);
    process.setStandardInputFile(QProcess::nullDevice());
    process.start();
    Result result;
    if (!QTest::qWaitFor([&] { return process.state() == QProcess::NotRunning; }, HangLimitMs)) {
        process.kill();
        process.waitForFinished();
        return result;
    }
    if (process.exitStatus() == QProcess::NormalExit)
        result.exitCode = process.exitCode();
    result.out = QString::fromUtf8(process.readAllStandardOutput());
    result.err = QString::fromUtf8(process.readAllStandardError());
    return result;
}

bool TestLocalSandboxes::startKeptRun(QProcess &process, std::unique_ptr<LiveRun> &live, const QString &workflow,
                                      const QString &name) const
{
    process.setProgram(m_program);
    process.setArguments({u"run"_s, u"--json"_s, u"--keep"_s, u"--run-dir"_s, m_dir.filePath(u"runs/"_s + name), workflow});
    process.setProcessEnvironment(environment());
    process.setStandardInputFile(QProcess::nullDevice());
    live = std::make_unique<LiveRun>(process);
    return QTest::qWaitFor([&] { return live->printed("\"run_finished\"") || live->isFinished(); }, HangLimitMs)
           && !live->isFinished() && !live->firstSandboxId().isEmpty();
}

QStringList TestLocalSandboxes::endpointRecords() const
{
    return QDir(m_dir.filePath(u"state/endpoints"_s)).entryList({u"*.json"_s}, QDir::Files);
}

// The way `run --keep` is meant to be used: the run is over, its sandbox waits, and from
// another terminal `sandflow sandbox` reaches it by the start of its id, as it would reach
// one of a server: exec, cp both ways, inspect, ls.
void TestLocalSandboxes::keptRunSandboxReachedByIdPrefix()
{
    const QString workflow = writeWorkflow("version: 1\n"
                                           "name: kept\n"
                                           "jobs:\n"
                                           "  kept:\n"
                                           "    sandbox: { image: debian:12 }\n"
                                           "    steps:\n"
                                           "      - run: echo 'left by the run' > /workspace/marker\n");
    QProcess process;
    std::unique_ptr<LiveRun> live;
    QVERIFY(startKeptRun(process, live, workflow, u"kept"_s));
    const QString id = live->firstSandboxId();
    const QString prefix = id.left(8);

    const Result exec = sandflow({u"sandbox"_s, u"exec"_s, prefix, u"--"_s, u"sh"_s, u"-c"_s, u"cat /workspace/marker; exit 7"_s});
    QCOMPARE(exec.err, QString());
    QCOMPARE(exec.out, u"left by the run\n"_s);
    QCOMPARE(exec.exitCode, 7);

    const QString local = m_dir.filePath(u"upload.txt"_s);
    QFile upload(local);
    QVERIFY(upload.open(QIODevice::WriteOnly));
    upload.write("from the host\n");
    upload.close();
    QCOMPARE(sandflow({u"sandbox"_s, u"cp"_s, local, prefix + u":/workspace/in.txt"_s}).exitCode, 0);
    const QString back = m_dir.filePath(u"back.txt"_s);
    const Result download = sandflow({u"sandbox"_s, u"cp"_s, prefix + u":/workspace/in.txt"_s, back});
    QVERIFY2(download.exitCode == 0, qPrintable(download.err));
    QFile downloaded(back);
    QVERIFY(downloaded.open(QIODevice::ReadOnly));
    QCOMPARE(downloaded.readAll(), QByteArray("from the host\n"));

    // A shell in a terminal (the one script(1) gives), as a person would open one.
    {
        QProcess shell;
        shell.setProcessEnvironment(environment());
        shell.start(u"script"_s, {u"-qec"_s, u"'%1' sandbox exec -it %2"_s.arg(m_program, prefix), u"/dev/null"_s});
        shell.write("cat /workspace/marker; exit 9\n");
        shell.closeWriteChannel();
        QVERIFY(QTest::qWaitFor([&] { return shell.state() == QProcess::NotRunning; }, HangLimitMs));
        QCOMPARE(shell.exitCode(), 9);
        QVERIFY(shell.readAllStandardOutput().contains("left by the run\r\n"));
    }

    const Result inspect = sandflow({u"sandbox"_s, u"inspect"_s, prefix});
    QCOMPARE(inspect.exitCode, 0);
    const QJsonObject described = QJsonDocument::fromJson(inspect.out.toUtf8()).object();
    QCOMPARE(described.value(u"id"_s).toString(), id);
    QCOMPARE(described.value(u"state"_s).toString(), u"Running"_s);

    const Result listed = sandflow({u"sandbox"_s, u"ls"_s, u"--json"_s});
    QCOMPARE(listed.exitCode, 0);
    const QJsonArray sandboxes = QJsonDocument::fromJson(listed.out.toUtf8()).array();
    QCOMPARE(sandboxes.size(), 1);
    QCOMPARE(sandboxes.first().toObject().value(u"id"_s).toString(), id);

    // Ctrl-C ends the wait, the sandbox, and the record of the run's server.
    QCOMPARE(endpointRecords().size(), 1);
    live->interrupt();
    const RunResult result = live->finish(m_dir.filePath(u"runs/kept"_s));
    QCOMPARE(result.exitCode, 0);
    QCOMPARE(endpointRecords(), QStringList());
    // The run was over: nothing to cancel, only the sandboxes to delete.
    QVERIFY2(result.err.endsWith(u"from another terminal: sandflow sandbox exec ID -- bash\n"
                                 u"deleting the kept sandboxes\n"_s),
             qPrintable(result.err));
}

// A run's sandboxes can be looked into while its steps run, too.
void TestLocalSandboxes::runningRunSandboxReached()
{
    const QString workflow = writeWorkflow("version: 1\n"
                                           "name: running\n"
                                           "jobs:\n"
                                           "  running:\n"
                                           "    sandbox: { image: debian:12 }\n"
                                           "    steps:\n"
                                           "      - run: |\n"
                                           "          echo 'mid-run' > /tmp/state\n"
                                           "          echo ready\n"
                                           "          while [ ! -e /tmp/go ]; do sleep 0.1; done\n"
                                           "          echo released\n");
    QProcess process;
    process.setProgram(m_program);
    process.setArguments({u"run"_s, u"--json"_s, u"--run-dir"_s, m_dir.filePath(u"runs/running"_s), workflow});
    process.setProcessEnvironment(environment());
    process.setStandardInputFile(QProcess::nullDevice());
    LiveRun live(process);
    QVERIFY(live.waitForLine(u"ready"_s));
    const QString id = live.firstSandboxId();

    const Result peek = sandflow({u"sandbox"_s, u"exec"_s, id, u"--"_s, u"cat"_s, u"/tmp/state"_s});
    QVERIFY2(peek.exitCode == 0, qPrintable(peek.err));
    QCOMPARE(peek.out, u"mid-run\n"_s);
    // The step goes on once the test says so from outside.
    const Result release = sandflow({u"sandbox"_s, u"exec"_s, id, u"--"_s, u"touch"_s, u"/tmp/go"_s});
    QVERIFY2(release.exitCode == 0, qPrintable(u"%1: %2"_s.arg(release.exitCode).arg(release.err)));
    const RunResult result = live.finish(m_dir.filePath(u"runs/running"_s));
    QCOMPARE(result.exitCode, 0);
    QVERIFY(result.lines(u"running"_s).contains(u"released"_s));
    QCOMPARE(endpointRecords(), QStringList());
}

// With several local servers (two kept runs, and serve), each sandbox is found where it is,
// and `ls` lists them all once.
void TestLocalSandboxes::sandboxesOfTwoRunsAndServe()
{
    const QString workflow = oneStepWorkflow();
    QProcess firstProcess, secondProcess;
    std::unique_ptr<LiveRun> first, second;
    QVERIFY(startKeptRun(firstProcess, first, workflow, u"first"_s));
    QVERIFY(startKeptRun(secondProcess, second, workflow, u"second"_s));
    ServeProcess server;
    QVERIFY2(server.start(m_program, m_dir.filePath(u"state"_s), u"tst-localsandboxes-key"_s), qPrintable(server.failure()));
    const Result created = sandflow({u"sandbox"_s, u"create"_s, u"--server"_s, server.url(), u"--api-key"_s,
                                     u"tst-localsandboxes-key"_s});
    QVERIFY2(created.exitCode == 0, qPrintable(created.err));
    const QString served = created.out.trimmed();
    QCOMPARE(endpointRecords().size(), 3);

    for (const QString &id : {first->firstSandboxId(), second->firstSandboxId(), served}) {
        const Result exec = sandflow({u"sandbox"_s, u"exec"_s, id, u"--"_s, u"hostname"_s});
        QVERIFY2(exec.exitCode == 0, qPrintable(exec.err));
        QVERIFY2(id.startsWith(exec.out.trimmed()), qPrintable(exec.out));
    }
    const Result listed = sandflow({u"sandbox"_s, u"ls"_s, u"--json"_s});
    QCOMPARE(listed.exitCode, 0);
    QStringList ids;
    for (const QJsonValue &sandbox : QJsonDocument::fromJson(listed.out.toUtf8()).array())
        ids.append(sandbox.toObject().value(u"id"_s).toString());
    ids.sort();
    QStringList expected{first->firstSandboxId(), second->firstSandboxId(), served};
    expected.sort();
    QCOMPARE(ids, expected);

    // rm through the record removes the sandbox of the run it belongs to.
    const Result removed = sandflow({u"sandbox"_s, u"rm"_s, second->firstSandboxId()});
    QCOMPARE(removed.out, u"removed %1\n"_s.arg(second->firstSandboxId()));
    const Result after = sandflow({u"sandbox"_s, u"exec"_s, second->firstSandboxId(), u"--"_s, u"true"_s});
    QCOMPARE(after.exitCode, 1);
    first->interrupt();
    second->interrupt();
    QCOMPARE(first->finish({}).exitCode, 0);
    QCOMPARE(second->finish({}).exitCode, 0);
    QCOMPARE(endpointRecords().size(), 1);   // serve's, until it stops
}

// The record holds a key: only its owner may read it, and the run's server wants the key.
void TestLocalSandboxes::endpointRecordIsPrivateAndNeedsItsKey()
{
    const QString workflow = oneStepWorkflow();
    QProcess process;
    std::unique_ptr<LiveRun> live;
    QVERIFY(startKeptRun(process, live, workflow, u"private"_s));
    const QStringList records = endpointRecords();
    QCOMPARE(records.size(), 1);
    QCOMPARE(permissionBits(m_dir.filePath(u"state/endpoints"_s)), 0700);
    const QString path = m_dir.filePath(u"state/endpoints/"_s + records.first());
    QCOMPARE(permissionBits(path), 0600);
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject record = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(record.value(u"pid"_s).toInteger(), process.processId());
    QCOMPARE(record.value(u"owner"_s).toString(), u"run "_s + live->events().first().value(u"runId"_s).toString());
    const QString url = record.value(u"url"_s).toString();
    QVERIFY2(url.startsWith(u"http://127.0.0.1:"_s), qPrintable(url));

    const Result withoutKey = sandflow({u"sandbox"_s, u"ls"_s, u"--server"_s, url});
    QCOMPARE(withoutKey.exitCode, 1);
    QVERIFY2(withoutKey.err.contains(u"the server wants an API key"_s), qPrintable(withoutKey.err));
    const Result withKey = sandflow({u"sandbox"_s, u"ls"_s, u"--server"_s, url, u"--api-key"_s,
                                     record.value(u"apiKey"_s).toString()});
    QCOMPARE(withKey.exitCode, 0);
    QVERIFY(withKey.out.contains(live->firstSandboxId()));
    live->interrupt();
    QCOMPARE(live->finish({}).exitCode, 0);
}

// A run killed with SIGKILL cannot remove its record: the next reader does, and says
// nothing of a server that is not there.
void TestLocalSandboxes::recordOfAGoneProcessIsRemoved()
{
    QProcess gone;
    gone.start(u"true"_s, QStringList());
    QVERIFY(gone.waitForFinished());
    const QString directory = m_dir.filePath(u"state/endpoints"_s);
    QVERIFY(QDir().mkpath(directory));
    const QString path = directory + u"/%1-1.json"_s.arg(gone.processId());
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QJsonDocument(QJsonObject{{u"url"_s, u"http://127.0.0.1:9"_s},
                                         {u"apiKey"_s, u"k"_s},
                                         {u"owner"_s, u"run gone"_s},
                                         {u"pid"_s, gone.processId()},
                                         {u"pidStartTicks"_s, 1}})
                   .toJson());
    file.close();
    // A record of this very process with a start time that is not its own: its pid was reused.
    const QString reused = directory + u"/%1-1.json"_s.arg(QCoreApplication::applicationPid());
    QVERIFY(QFile::copy(path, reused));

    const quint16 port = [] {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        return probe.serverPort();
    }();
    QProcessEnvironment env = environment();
    env.insert(u"OPEN_SANDBOX_DOMAIN"_s, u"127.0.0.1:%1"_s.arg(port));
    // A named server is the only one asked: the records stay until a search reads them.
    QCOMPARE(sandflow({u"sandbox"_s, u"ls"_s}, env).exitCode, 1);
    QVERIFY(QFileInfo::exists(path));

    const Result listed = sandflow({u"sandbox"_s, u"ls"_s, u"--api-key"_s, u"none"_s});
    QVERIFY(!QFileInfo::exists(path));
    QVERIFY(!QFileInfo::exists(reused));
    QCOMPARE(listed.exitCode, 1);   // and no default server either
    QVERIFY2(!listed.err.contains(u":9"_s), qPrintable(listed.err));
}

// After the run, its sandbox is gone and so is the way to it: the error says where it was
// looked for.
// A server says where it listens only once SIGTERM is handled: one stopped as soon as it says
// so (by a supervisor, or a test) exits as asked, and takes its endpoint record along,
// instead of dying of the signal with its record left.
void TestLocalSandboxes::aServerStoppedAsItListensEndsCleanly()
{
    const QString state = m_dir.filePath(u"state"_s);
    for (int attempt = 0; attempt < 10; ++attempt) {
        ServeProcess server;
        QVERIFY2(server.start(m_program, state, u"key"_s), qPrintable(server.failure()));
        QVERIFY2(server.stop(), qPrintable(u"attempt %1: %2"_s.arg(attempt).arg(server.failure())));
        QCOMPARE(endpointRecords(), QStringList());
    }
}

void TestLocalSandboxes::aGoneRunIsNotFound()
{
    const QString workflow = oneStepWorkflow();
    QProcess process;
    std::unique_ptr<LiveRun> live;
    QVERIFY(startKeptRun(process, live, workflow, u"gone"_s));
    const QString id = live->firstSandboxId();
    live->interrupt();
    QCOMPARE(live->finish({}).exitCode, 0);

    ServeProcess server;   // one other local server, so that the search has somewhere to look
    QVERIFY2(server.start(m_program, m_dir.filePath(u"state"_s), u"tst-localsandboxes-key"_s), qPrintable(server.failure()));
    const Result exec = sandflow({u"sandbox"_s, u"exec"_s, id, u"--"_s, u"true"_s});
    QCOMPARE(exec.exitCode, 1);
    QCOMPARE(exec.out, QString());
    QCOMPARE(exec.err, u"sandflow sandbox exec: sandbox %1 not found, neither in this machine's runs and servers nor "
                       u"at http://localhost:8080\n"_s.arg(id));
}

// --server (or $OPEN_SANDBOX_DOMAIN) names the one server to ask, even when a local run has
// the sandbox.
void TestLocalSandboxes::namedServerIsTheOnlyOneAsked()
{
    const QString workflow = oneStepWorkflow();
    QProcess process;
    std::unique_ptr<LiveRun> live;
    QVERIFY(startKeptRun(process, live, workflow, u"named"_s));
    ServeProcess server;
    QVERIFY2(server.start(m_program, m_dir.filePath(u"serve-state"_s), u"tst-localsandboxes-key"_s),
             qPrintable(server.failure()));
    const Result exec = sandflow({u"sandbox"_s, u"exec"_s, u"--server"_s, server.url(), u"--api-key"_s,
                                  u"tst-localsandboxes-key"_s, live->firstSandboxId(), u"--"_s, u"true"_s});
    QCOMPARE(exec.exitCode, 1);
    QVERIFY2(exec.err.contains(u"not found"_s), qPrintable(exec.err));
    live->interrupt();
    QCOMPARE(live->finish({}).exitCode, 0);
}

QTEST_GUILESS_MAIN(TestLocalSandboxes)
#include "tst_localsandboxes.moc"
