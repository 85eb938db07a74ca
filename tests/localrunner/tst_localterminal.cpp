// Terminals through the Runner interface with real local sandboxes: a PTY of the requested
// size that follows the window, an interactive shell that runs what is typed and hears
// Ctrl-C, stdin through pipes with stdout and stderr apart, input that a command does not
// read held back by the runner, and nothing left behind when the job is cancelled, the
// sandbox deleted or its agent killed.
#include "localrunnertesting.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>

#include <csignal>

using namespace Sandflow;
using namespace RunnerTesting;
using namespace Qt::StringLiterals;

namespace {

/// A terminal job started by the test, and what it printed so far.
class Terminal
{
public:
    Terminal(Runner *runner, const QString &sandboxId, const TerminalRequest &request)
        : job(runner->openTerminal(sandboxId, request))
    {
        job->setAutoDelete(false);
        QObject::connect(job.get(), &CommandJob::output, job.get(), [this](CommandJob::Stream stream, const QByteArray &data) {
            (stream == CommandJob::Stream::Stdout ? out : err) += data;
        });
    }

    void start() { job->start(); }

    /// Waits until stdout holds `text`; whether it came.
    bool waitFor(const QByteArray &text)
    {
        return QTest::qWaitFor([&] { return out.contains(text) || job->isFinished(); }, DefaultTimeoutMs)
            && out.contains(text);
    }

    bool waitForFinished() { return QTest::qWaitFor([&] { return job->isFinished(); }, DefaultTimeoutMs); }

    QString errorCode() const { return job->error() ? job->error()->code : QString(); }

    OwnedJob<TerminalJob> job;
    QByteArray out;
    QByteArray err;
};

TerminalRequest terminal(const QStringList &argv, const std::function<void(TerminalRequest &)> &set = {})
{
    TerminalRequest request;
    request.argv = argv;
    if (set)
        set(request);
    return request;
}

TerminalRequest pipes(const QStringList &argv)
{
    return terminal(argv, [](TerminalRequest &request) { request.pty = false; });
}

/// How many processes named `name` the sandbox runs (zombies, reaped at once, aside).
QByteArray countOf(Runner *runner, const QString &sandboxId, const QString &name)
{
    return shellOutput(runner, sandboxId, u"ps -e -o stat=,comm= | grep -v '^Z' | grep -c ' %1$' || true"_s.arg(name));
}

/// Processes on this machine whose command line holds `argument`.
int processesWithArgument(const QByteArray &argument)
{
    int count = 0;
    for (const QString &entry : QDir(u"/proc"_s).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile commandLine(u"/proc/%1/cmdline"_s.arg(entry));
        if (commandLine.open(QIODevice::ReadOnly) && commandLine.readAll().split('\0').contains(argument))
            ++count;
    }
    return count;
}

} // namespace

class TestLocalTerminal : public QObject
{
    Q_OBJECT

private slots:
    void init() { TestWarnings::failOnAnyWarning(); }

    void theLocalRunnerHasTerminals();
    void ptyOfTheRequestedSize();
    void eachSandboxHasTerminalsOfItsOwn();
    void resizeReachesTheProcess();
    void interactiveShellRunsWhatIsTypedAndHearsCtrlC();
    void closingInputEndsCatOnAPty();
    void pipesKeepStreamsApart();
    void largeInputArrivesWhole();
    void inputNobodyReadsHoldsNothingBack();
    void sendSignalReachesTheProcess();
    void refusals();
    void cancelKillsEverythingItStarted();
    void deletingTheSandboxEndsTheJob();
    void theAgentDyingEndsTheJob();
};

void TestLocalTerminal::theLocalRunnerHasTerminals()
{
    LocalRunner runner(runnerOptions());
    QVERIFY(runner.capabilities().testFlag(Runner::Capability::Terminals));
}

void TestLocalTerminal::ptyOfTheRequestedSize()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    Terminal tty(&runner, id, terminal({u"sh"_s, u"-c"_s, u"tty; stty size"_s}, [](TerminalRequest &request) {
        request.columns = 100;
        request.rows = 30;
    }));
    QSignalSpy started(tty.job.get(), &CommandJob::started);
    tty.start();
    QVERIFY(tty.waitForFinished());
    QCOMPARE(tty.errorCode(), QString());
    QCOMPARE(tty.job->exitCode(), std::optional<int>(0));
    QVERIFY2(QRegularExpression(u"^/dev/pts/[0-9]+\\r\\n30 100\\r\\n$"_s).match(QString::fromUtf8(tty.out)).hasMatch(),
             tty.out.constData());
    QCOMPARE(tty.err, QByteArray());
    // A command of the sandbox like any other.
    QCOMPARE(started.size(), 1);
    const CommandStatus status = resultOf(runner.commandStatus(id, tty.job->commandId()));
    QCOMPARE(status.running, false);
    QCOMPARE(status.exitCode, std::optional<int>(0));
}

void TestLocalTerminal::eachSandboxHasTerminalsOfItsOwn()
{
    LocalRunner runner(runnerOptions());
    const QString first = create(&runner);
    const QString second = create(&runner);
    Terminal holder(&runner, first, terminal({u"sh"_s, u"-c"_s, u"tty; exec cat"_s}));
    holder.start();
    QVERIFY(holder.waitFor("/dev/pts/0\r\n"));
    // The second sandbox's devpts is a new instance: its first terminal is number 0 too, and
    // it sees neither the first sandbox's terminal nor the host's.
    Terminal other(&runner, second, terminal({u"sh"_s, u"-c"_s, u"tty; ls /dev/pts | tr '\\n' ' '"_s}));
    other.start();
    QVERIFY(other.waitForFinished());
    QCOMPARE(other.errorCode(), QString());
    QCOMPARE(other.out, QByteArray("/dev/pts/0\r\n0 ptmx "));
    // Nor does a command of the first sandbox without a terminal see the master: it stays in
    // the agent.
    QCOMPARE(shellOutput(&runner, first, u"ls -l /proc/[0-9]*/fd/ 2>/dev/null | grep -c ptmx || true"_s),
             QByteArray("0\n"));
    holder.job->closeInput();
    QVERIFY(holder.waitForFinished());
}

void TestLocalTerminal::resizeReachesTheProcess()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    Terminal tty(&runner, id, terminal({u"sh"_s, u"-c"_s,
                                         u"trap 'echo WINCH; stty size; exit 0' WINCH; echo ready; "
                                         u"while :; do sleep 1; done"_s}));
    tty.start();
    QVERIFY(tty.waitFor("ready\r\n"));
    // Sizes no terminal has are ignored: they neither reach the process nor end the job.
    tty.job->resize(0, 40);
    tty.job->resize(120, 10001);
    tty.job->resize(120, 40);
    QVERIFY(tty.waitForFinished());
    QCOMPARE(tty.errorCode(), QString());
    QCOMPARE(tty.out, QByteArray("ready\r\nWINCH\r\n40 120\r\n"));
}

void TestLocalTerminal::interactiveShellRunsWhatIsTypedAndHearsCtrlC()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    Terminal shell(&runner, id, terminal({}, [](TerminalRequest &request) { request.env.insert(u"TERM"_s, u"dumb"_s); }));
    shell.start();
    // The echo of the line does not hold the answer, only the shell's output does.
    shell.job->writeInput("echo \"[$((6 * 7)) $TERM $0]\"\n");
    QVERIFY2(shell.waitFor("[42 dumb /bin/bash]\r\n"), shell.out.constData());

    shell.job->writeInput("sleep 100\n");
    QTRY_COMPARE_WITH_TIMEOUT(countOf(&runner, id, u"sleep"_s), QByteArray("1\n"), DefaultTimeoutMs);
    shell.job->writeInput("\x03");
    QTRY_COMPARE_WITH_TIMEOUT(countOf(&runner, id, u"sleep"_s), QByteArray("0\n"), DefaultTimeoutMs);
    // The shell lives on and takes the next line.
    shell.job->writeInput("echo \"[after $((1 + 1))]\"\n");
    QVERIFY2(shell.waitFor("[after 2]\r\n"), shell.out.constData());

    shell.job->writeInput("exit 3\n");
    QVERIFY(shell.waitForFinished());
    QCOMPARE(shell.job->exitCode(), std::optional<int>(3));
    QCOMPARE(shell.errorCode(), u"COMMAND_FAILED"_s);
    QCOMPARE(shell.err, QByteArray());
}

void TestLocalTerminal::closingInputEndsCatOnAPty()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    Terminal cat(&runner, id, terminal({u"cat"_s}));
    cat.start();
    cat.job->writeInput("abc\n");
    // Echoed by the terminal, then printed by cat: input and output are one stream.
    QVERIFY(cat.waitFor("abc\r\nabc\r\n"));
    cat.job->closeInput();
    QVERIFY(cat.waitForFinished());
    QCOMPARE(cat.errorCode(), QString());
    QCOMPARE(cat.job->exitCode(), std::optional<int>(0));
    QCOMPARE(cat.out, QByteArray("abc\r\nabc\r\n"));
}

void TestLocalTerminal::pipesKeepStreamsApart()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    Terminal cat(&runner, id, pipes({u"sh"_s, u"-c"_s, u"cat; echo err >&2; test -t 0 || echo 'no terminal' >&2"_s}));
    // Input given before the job starts is sent once it runs.
    cat.job->writeInput("early\n");
    cat.start();
    QVERIFY(cat.waitFor("early\n"));
    cat.job->writeInput("late\n");
    QVERIFY(cat.waitFor("late\n"));
    cat.job->closeInput();
    // Input after the end is dropped.
    cat.job->writeInput("too late\n");
    QVERIFY(cat.waitForFinished());
    QCOMPARE(cat.errorCode(), QString());
    QCOMPARE(cat.out, QByteArray("early\nlate\n"));
    QCOMPARE(cat.err, QByteArray("err\nno terminal\n"));
    QCOMPARE(cat.job->pendingInput(), qint64(0));
}

void TestLocalTerminal::largeInputArrivesWhole()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    Terminal wc(&runner, id, pipes({u"wc"_s, u"-c"_s}));
    QSignalSpy written(wc.job.get(), &TerminalJob::inputWritten);
    wc.start();
    // Far more than a pipe holds, and than the runner sends before the agent reports back.
    const QByteArray piece(3 << 20, 'x');
    for (int i = 0; i < 4; ++i)
        wc.job->writeInput(piece);
    QCOMPARE(wc.job->pendingInput(), qint64(4 * piece.size()));
    wc.job->closeInput();
    QVERIFY(wc.waitForFinished());
    QCOMPARE(wc.errorCode(), QString());
    QCOMPARE(wc.out, QByteArray::number(4 * piece.size()) + '\n');
    QCOMPARE(wc.job->pendingInput(), qint64(0));
    QVERIFY(written.size() > 1);
}

void TestLocalTerminal::inputNobodyReadsHoldsNothingBack()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    Terminal sleeper(&runner, id, pipes({u"sh"_s, u"-c"_s, u"echo ready; exec sleep 1000"_s}));
    sleeper.start();
    QVERIFY(sleeper.waitFor("ready\n"));
    const qint64 given = 32 << 20;
    const QByteArray piece(1 << 20, 'y');
    for (qint64 sent = 0; sent < given; sent += piece.size())
        sleeper.job->writeInput(piece);

    // Other commands of the sandbox go on, while the input waits in the runner: the agent
    // holds at most a window of it, and the pipe what it holds.
    QCOMPARE(shellOutput(&runner, id, u"echo alongside"_s), QByteArray("alongside\n"));
    const QByteArray status = shellOutput(&runner, id, u"grep VmRSS /proc/1/status"_s);
    const qint64 agentKiB = QByteArray(status).replace("VmRSS:", "").replace("kB", "").trimmed().toLongLong();
    QVERIFY2(agentKiB > 0 && agentKiB < 16 * 1024, status.constData());
    QVERIFY2(sleeper.job->pendingInput() > given - (4 << 20), qPrintable(QString::number(sleeper.job->pendingInput())));
    QVERIFY(!sleeper.job->isFinished());

    sleeper.job->cancel();
    QVERIFY(sleeper.waitForFinished());
    QCOMPARE(sleeper.errorCode(), u"CANCELLED"_s);
}

void TestLocalTerminal::sendSignalReachesTheProcess()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    Terminal sleeper(&runner, id, pipes({u"sh"_s, u"-c"_s, u"echo ready; exec sleep 100"_s}));
    sleeper.start();
    QVERIFY(sleeper.waitFor("ready\n"));
    sleeper.job->sendSignal(0);       // no signal: ignored
    sleeper.job->sendSignal(100000);
    sleeper.job->sendSignal(SIGTERM);
    QVERIFY(sleeper.waitForFinished());
    QCOMPARE(sleeper.errorCode(), u"COMMAND_KILLED"_s);
    QCOMPARE(sleeper.job->error()->context.value(u"signal"_s).toInt(), SIGTERM);
}

void TestLocalTerminal::refusals()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    QCOMPARE(errorCodeOf(runner.openTerminal(u"no-such-sandbox"_s, terminal({u"sh"_s}))), u"SANDBOX_NOT_FOUND"_s);
    QCOMPARE(errorCodeOf(runner.openTerminal(id, terminal({u"sh"_s}, [](TerminalRequest &r) { r.columns = 0; }))),
             u"INVALID_TERMINAL_SIZE"_s);
    QCOMPARE(errorCodeOf(runner.openTerminal(id, terminal({u"sh"_s}, [](TerminalRequest &r) { r.rows = 10001; }))),
             u"INVALID_TERMINAL_SIZE"_s);
    QCOMPARE(errorCodeOf(runner.openTerminal(id, terminal({u"/no/such/program"_s}))), u"COMMAND_START_FAILED"_s);
    // With pipes the size does not matter.
    QCOMPARE(errorCodeOf(runner.openTerminal(id, terminal({u"true"_s}, [](TerminalRequest &r) {
                 r.pty = false;
                 r.columns = 0;
             }))),
             QString());
}

void TestLocalTerminal::cancelKillsEverythingItStarted()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    Terminal shell(&runner, id, terminal({}));
    shell.start();
    // A background job and a foreground one, each in a process group of its own.
    shell.job->writeInput("sleep 200 &\nsleep 100\n");
    QTRY_COMPARE_WITH_TIMEOUT(countOf(&runner, id, u"sleep"_s), QByteArray("2\n"), DefaultTimeoutMs);
    const QString commandId = shell.job->commandId();
    shell.job->cancel();
    QVERIFY(shell.waitForFinished());
    QCOMPARE(shell.errorCode(), u"CANCELLED"_s);
    QTRY_COMPARE_WITH_TIMEOUT(countOf(&runner, id, u"sleep"_s), QByteArray("0\n"), DefaultTimeoutMs);
    QCOMPARE(countOf(&runner, id, u"bash"_s), QByteArray("0\n"));
    QCOMPARE(resultOf(runner.commandStatus(id, commandId)).running, false);
}

void TestLocalTerminal::deletingTheSandboxEndsTheJob()
{
    LocalRunner runner(runnerOptions());
    // Made first, so that what the runner and Qt open once for good is open already.
    const QString other = create(&runner);
    const qsizetype descriptorsBefore = openDescriptors().size();

    const QString id = create(&runner);
    Terminal shell(&runner, id, terminal({}));
    shell.start();
    shell.job->writeInput("sleep 1234.5\n");
    QTRY_COMPARE_WITH_TIMEOUT(processesWithArgument("1234.5"), 1, DefaultTimeoutMs);
    QCOMPARE(errorCodeOf(runner.deleteSandbox(id)), QString());
    QVERIFY(shell.waitForFinished());
    QCOMPARE(shell.errorCode(), u"SANDBOX_LOST"_s);
    // Nothing of it is left on the machine, and the runner holds nothing of it open.
    QTRY_COMPARE_WITH_TIMEOUT(processesWithArgument("1234.5"), 0, DefaultTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(openDescriptors().size(), descriptorsBefore, DefaultTimeoutMs);
    QCOMPARE(shellOutput(&runner, other, u"echo still here"_s), QByteArray("still here\n"));
}

void TestLocalTerminal::theAgentDyingEndsTheJob()
{
    QTemporaryDir state;
    QVERIFY(state.isValid());
    LocalRunner::Options options = runnerOptions();
    options.stateDirectory = state.path();
    LocalRunner runner(options);
    const QString id = create(&runner);
    Terminal shell(&runner, id, terminal({u"sh"_s, u"-c"_s, u"echo ready; exec sleep 4321.5"_s}));
    shell.start();
    QVERIFY(shell.waitFor("ready\r\n"));
    // The agent is bubblewrap's one child, the sandbox's pid 1.
    const QList<LocalRunner::RecordedSandbox> recorded = LocalRunner::recordedSandboxes(state.path());
    QCOMPARE(recorded.size(), 1);
    QFile children(u"/proc/%1/task/%1/children"_s.arg(recorded.first().pid));
    QVERIFY(children.open(QIODevice::ReadOnly));
    const int agent = children.readAll().trimmed().toInt();
    QVERIFY(agent > 0);
    QCOMPARE(::kill(pid_t(agent), SIGKILL), 0);
    QVERIFY(shell.waitForFinished());
    QCOMPARE(shell.errorCode(), u"SANDBOX_LOST"_s);
    QTRY_COMPARE_WITH_TIMEOUT(processesWithArgument("4321.5"), 0, DefaultTimeoutMs);
}

QTEST_GUILESS_MAIN(TestLocalTerminal)
#include "tst_localterminal.moc"
