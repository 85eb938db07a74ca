// Commands through the Runner interface with real local sandboxes: ids and status,
// background commands and their logs by byte cursor, interrupts by id, users, and bash
// sessions.
#include "localrunnertesting.h"

using namespace Sandflow;
using namespace RunnerTesting;
using namespace Qt::StringLiterals;

class TestLocalCommands : public QObject
{
    Q_OBJECT

private slots:
    void init() { TestWarnings::failOnAnyWarning(); }

    void foregroundCommandsHaveAnIdAndAStatus();
    void backgroundOutputIsReadByCursor();
    void interruptByIdEscalatesToKill();
    void unknownCommands();
    void bashCommandsAsExecdRunsThem();
    void userAndGroup();
    void commandsInheritOnlyTheirStreams();
    void sessionsKeepDirectoryAndExports();
    void sessionRunsReportFailures();
    void deletedSessionsAreGone();
};

void TestLocalCommands::foregroundCommandsHaveAnIdAndAStatus()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    std::unique_ptr<CommandJob> job(runner.runCommand(id, command(u"echo hi; exit 3"_s)));
    QSignalSpy started(job.get(), &CommandJob::started);
    QCOMPARE(collect(job.get()).out, QByteArray("hi\n"));
    QCOMPARE(started.size(), 1);
    const QString commandId = started.first().first().toString();
    QVERIFY(!commandId.isEmpty());
    QCOMPARE(job->commandId(), commandId);

    const CommandStatus status = resultOf(runner.commandStatus(id, commandId));
    QCOMPARE(status.id, commandId);
    QCOMPARE(status.command, u"echo hi; exit 3"_s);
    QCOMPARE(status.running, false);
    QCOMPARE(status.exitCode, std::optional<int>(3));
    QCOMPARE(status.error, u"exit status 3"_s);
    QVERIFY(status.finishedAt && *status.finishedAt >= status.startedAt);
    QCOMPARE(errorCodeOf(runner.commandLogs(id, commandId, 0)), u"COMMAND_NOT_IN_BACKGROUND"_s);
}

void TestLocalCommands::backgroundOutputIsReadByCursor()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    // The command goes on only when the test writes to the fifo, so it is still running, with
    // only its first two lines written, however slowly the checks below get to run.
    std::unique_ptr<CommandJob> job(run(runner.runCommand(
        id, command(u"mkfifo /tmp/go; echo one; echo err >&2; read go < /tmp/go; echo two; exit 4"_s,
                    [](CommandRequest &r) { r.background = true; }))));
    // The job ends as soon as the command runs; the command goes on.
    QVERIFY(!job->error());
    const QString commandId = job->commandId();
    QVERIFY(resultOf(runner.commandStatus(id, commandId)).running);

    QByteArray log;
    qint64 cursor = 0;
    QTRY_VERIFY_WITH_TIMEOUT([&] {
        const CommandLogs logs = resultOf(runner.commandLogs(id, commandId, cursor));
        log += logs.data;
        cursor = logs.nextCursor;
        return log.size() >= 8;
    }(), 10'000);
    QCOMPARE(log, QByteArray("one\nerr\n"));
    QCOMPARE(cursor, 8);

    QCOMPARE(shellOutput(&runner, id, u"echo go > /tmp/go"_s), QByteArray());
    QTRY_VERIFY_WITH_TIMEOUT(!resultOf(runner.commandStatus(id, commandId)).running, 10'000);
    const CommandLogs rest = resultOf(runner.commandLogs(id, commandId, cursor));
    QCOMPARE(rest.data, QByteArray("two\n"));
    QCOMPARE(rest.nextCursor, 12);
    QCOMPARE(resultOf(runner.commandLogs(id, commandId, 0)).data, QByteArray("one\nerr\ntwo\n"));
    QCOMPARE(resultOf(runner.commandLogs(id, commandId, 12)).data, QByteArray());
    const CommandStatus status = resultOf(runner.commandStatus(id, commandId));
    QCOMPARE(status.exitCode, std::optional<int>(4));
    QCOMPARE(status.error, u"exit status 4"_s);
}

void TestLocalCommands::interruptByIdEscalatesToKill()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    std::unique_ptr<CommandJob> job(run(runner.runCommand(
        id, command(u"trap '' TERM; echo ready; sleep 100 & wait"_s, [](CommandRequest &r) { r.background = true; }))));
    const QString commandId = job->commandId();
    QTRY_COMPARE_WITH_TIMEOUT(resultOf(runner.commandLogs(id, commandId, 0)).data, QByteArray("ready\n"), 10'000);

    QCOMPARE(errorCodeOf(runner.interruptCommand(id, commandId)), QString());
    // SIGTERM is ignored, so SIGKILL follows three seconds later, for the whole group.
    QTRY_VERIFY_WITH_TIMEOUT(!resultOf(runner.commandStatus(id, commandId)).running, 10'000);
    const CommandStatus status = resultOf(runner.commandStatus(id, commandId));
    QCOMPARE(status.exitCode, std::optional<int>(-1));
    QCOMPARE(status.error, u"signal: killed"_s);
    QVERIFY2(status.startedAt.msecsTo(*status.finishedAt) >= 3000, qPrintable(QString::number(status.startedAt.msecsTo(*status.finishedAt))));
    QCOMPARE(shellOutput(&runner, id, u"ps -e -o comm= | grep -c '^sleep$' || true"_s), QByteArray("0\n"));
    QCOMPARE(errorCodeOf(runner.interruptCommand(id, commandId)), u"COMMAND_NOT_RUNNING"_s);
}

void TestLocalCommands::bashCommandsAsExecdRunsThem()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    const QString script = u"[[ -n $BASH_VERSION ]] && echo \"bash $0\"; arr=(a b); echo ${arr[1]} \"$1\""_s;
    std::unique_ptr<CommandJob> bash(runner.runCommand(id, command(script, [](CommandRequest &request) {
        request.shell = CommandRequest::Shell::Bash;
    })));
    QCOMPARE(collect(bash.get()).out, QByteArray("bash /bin/bash\nb \n"));
    QCOMPARE(bash->exitCode(), std::optional<int>(0));
    // The status shows the command as given, not how it was started.
    QCOMPARE(resultOf(runner.commandStatus(id, bash->commandId())).command, script);
    // sh has neither [[ ]] nor arrays.
    std::unique_ptr<CommandJob> sh(runner.runCommand(id, command(u"[[ -n $BASH_VERSION ]] && echo bash; true"_s)));
    QCOMPARE(outputOf(sh.get()).out, QByteArray());
}

void TestLocalCommands::unknownCommands()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    QCOMPARE(errorCodeOf(runner.commandStatus(id, u"nope"_s)), u"COMMAND_NOT_FOUND"_s);
    QCOMPARE(errorCodeOf(runner.commandLogs(id, u"nope"_s, 0)), u"COMMAND_NOT_FOUND"_s);
    QCOMPARE(errorCodeOf(runner.interruptCommand(id, u"nope"_s)), u"COMMAND_NOT_FOUND"_s);
    QCOMPARE(errorCodeOf(runner.commandStatus(u"no-sandbox"_s, u"nope"_s)), u"SANDBOX_NOT_FOUND"_s);
}

void TestLocalCommands::userAndGroup()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    std::unique_ptr<CommandJob> job(runner.runCommand(id, command(u"id -u; id -g; touch /tmp/mine; stat -c %u:%g /tmp/mine"_s,
                                                                  [](CommandRequest &r) {
                                                                      r.uid = 65534;
                                                                      r.gid = 65534;
                                                                  })));
    const Output output = collect(job.get());
    QVERIFY2(!job->error(), qPrintable(job->error() ? job->error()->message + QString::fromUtf8(output.err) : QString()));
    QCOMPARE(output.out, QByteArray("65534\n65534\n65534:65534\n"));
    // Root in the sandbox is not root on the machine, but it can still do what root does
    // inside: hand files to other users.
    QCOMPARE(shellOutput(&runner, id, u"id -u; chown 1000:1000 /tmp/mine && stat -c %u /tmp/mine"_s),
             QByteArray("0\n1000\n"));
}

void TestLocalCommands::commandsInheritOnlyTheirStreams()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    // 0-2, and the directory `ls` itself opens to read /proc/self/fd: nothing of the agent's
    // or bubblewrap's (such as the user namespace the sandbox entered).
    QCOMPARE(shellOutput(&runner, id, u"ls /proc/self/fd | sort -n | tr '\\n' ' '"_s), QByteArray("0 1 2 3 "));
}

void TestLocalCommands::sessionsKeepDirectoryAndExports()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    const QString session = resultOf(runner.createSession(id, u"/workspace/session"_s));
    QVERIFY(!session.isEmpty());
    const auto inSession = [&](const QString &text, const QString &cwd = {},
                               SourceLocation where = SourceLocation::current()) {
        std::unique_ptr<CommandJob> job(runner.runInSession(id, session, command(text, [&](CommandRequest &r) { r.cwd = cwd; })));
        return outputOf(job.get(), where);
    };
    // The session's directory is made on first use.
    QCOMPARE(inSession(u"pwd; export KEPT=yes; LOST=no; mkdir sub; cd sub"_s).out, QByteArray("/workspace/session\n"));
    QCOMPARE(inSession(u"pwd; echo \"$KEPT/$LOST\""_s).out, QByteArray("/workspace/session/sub\nyes/\n"));
    // stderr is merged into stdout, as execd does.
    const Output merged = inSession(u"echo out; echo err >&2"_s);
    QCOMPARE(merged.out, QByteArray("out\nerr\n"));
    QCOMPARE(merged.err, QByteArray());
    // Values with quotes and newlines survive the round trip.
    inSession(u"export TRICKY=\"it's \\\"quoted\\\"\nsecond line\""_s);
    QCOMPARE(inSession(u"printf '%s|' \"$TRICKY\""_s).out, QByteArray("it's \"quoted\"\nsecond line|"));
    // A per-run directory becomes the session's directory.
    QCOMPARE(inSession(u"pwd"_s, u"/"_s).out, QByteArray("/\n"));
    QCOMPARE(inSession(u"pwd"_s).out, QByteArray("/\n"));
    // Sessions are independent of each other.
    const QString other = resultOf(runner.createSession(id, QString()));
    std::unique_ptr<CommandJob> job(runner.runInSession(id, other, command(u"pwd; echo \"[$KEPT]\""_s)));
    QCOMPARE(collect(job.get()).out, QByteArray("/workspace\n[]\n"));
}

void TestLocalCommands::sessionRunsReportFailures()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    const QString session = resultOf(runner.createSession(id, QString()));
    // `exit` ends the run, not the session, and what was exported before it is kept.
    std::unique_ptr<CommandJob> failing(runner.runInSession(id, session, command(u"export BEFORE=1; exit 3"_s)));
    collect(failing.get());
    QVERIFY(failing->error());
    QCOMPARE(failing->error()->code, u"COMMAND_FAILED"_s);
    QCOMPARE(failing->exitCode(), std::optional<int>(3));
    std::unique_ptr<CommandJob> after(runner.runInSession(id, session, command(u"echo $BEFORE"_s)));
    QCOMPARE(collect(after.get()).out, QByteArray("1\n"));

    std::unique_ptr<CommandJob> slow(runner.runInSession(id, session, command(u"sleep 10"_s, [](CommandRequest &r) {
        r.timeoutMs = 200;
    })));
    collect(slow.get());
    QVERIFY(slow->error());
    QCOMPARE(slow->error()->code, u"COMMAND_TIMEOUT"_s);
    // A killed run leaves the session as it was.
    std::unique_ptr<CommandJob> still(runner.runInSession(id, session, command(u"echo $BEFORE; pwd"_s)));
    QCOMPARE(collect(still.get()).out, QByteArray("1\n/workspace\n"));
}

void TestLocalCommands::deletedSessionsAreGone()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    const QString session = resultOf(runner.createSession(id, QString()));
    QCOMPARE(errorCodeOf(runner.deleteSession(id, session)), QString());
    QCOMPARE(errorCodeOf(runner.runInSession(id, session, command(u"true"_s))), u"SESSION_NOT_FOUND"_s);
    QCOMPARE(errorCodeOf(runner.deleteSession(id, session)), u"SESSION_NOT_FOUND"_s);
}

QTEST_GUILESS_MAIN(TestLocalCommands)
#include "tst_localcommands.moc"
