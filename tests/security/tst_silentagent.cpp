// An agent that stops answering (stopped from the host here; one taken over from inside its
// sandbox could simply keep quiet) holds nothing for ever: a request it leaves unanswered
// past the runner's bound kills its sandbox, every job waiting on it fails, and nothing of
// the sandbox is left behind: no process, no cgroup, no record.
#include "localrunnertesting.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>

#include <csignal>

using namespace Sandflow;
using namespace RunnerTesting;
using namespace Qt::StringLiterals;

namespace {

constexpr qint64 ReplyTimeoutMs = 2000;
/// How late after the bound a failure may come: the kill, and the cgroups' teardown.
constexpr qint64 SlackMs = 5000;

/// What /proc/PID/stat says after the process's name: its state, its parent, ...; nothing
/// once it is gone.
QList<QByteArray> statusOf(qint64 pid)
{
    QFile stat(u"/proc/%1/stat"_s.arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return {};
    // The name may hold anything, but ends at the last `)`.
    const QByteArray text = stat.readAll();
    return text.mid(text.lastIndexOf(')') + 2).split(' ');
}

qint64 parentOf(qint64 pid)
{
    return statusOf(pid).value(1).toLongLong();
}

/// The sandbox's agent: the process below bubblewrap's `bwrap` that runs the agent binary
/// with no arguments (its tools run it with some).
qint64 agentBelow(qint64 bwrap)
{
    QList<qint64> below = {bwrap};
    for (qsizetype i = 0; i < below.size(); ++i) {
        for (const QString &entry : QDir(u"/proc"_s).entryList(QDir::Dirs)) {
            const qint64 pid = entry.toLongLong();
            if (pid == 0 || parentOf(pid) != below.at(i))
                continue;
            QFile commandLine(u"/proc/%1/cmdline"_s.arg(pid));
            if (commandLine.open(QIODevice::ReadOnly) && commandLine.readAll() == QByteArray("/.sandflow/agent", 17))
                return pid;
            below.append(pid);
        }
    }
    return 0;
}

bool processExists(qint64 pid)
{
    return QFileInfo::exists(u"/proc/%1"_s.arg(pid));
}

QStringList cgroupsOf(const QString &sandboxId)
{
    QStringList found;
    for (const QString &controller : QDir(u"/sys/fs/cgroup"_s).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        const QString path = u"/sys/fs/cgroup/%1/sandflow/%2"_s.arg(controller, sandboxId);
        if (QFileInfo::exists(path))
            found.append(path);
    }
    return found;
}

} // namespace

class TestSilentAgent : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void unansweredRequestEndsTheSandbox();
    void stoppedAgentIsKilledWhenDeleted();
    void longCommandsAreNotReplies();

private:
    /// Stops the agent of the sandbox just created, as SIGSTOP does from the host.
    void stopAgent();
    /// Nothing of the sandbox is left: not in the runner, not its processes, cgroups or record.
    void verifyGone();

    std::unique_ptr<QTemporaryDir> m_state;
    std::unique_ptr<LocalRunner> m_runner;
    QString m_id;
    qint64 m_bwrap = 0;
    qint64 m_agent = 0;
};

void TestSilentAgent::init()
{
    TestWarnings::failOnAnyWarning();
    m_state = std::make_unique<QTemporaryDir>();
    QVERIFY(m_state->isValid());
    LocalRunner::Options options = runnerOptions();
    options.stateDirectory = m_state->path();
    options.replyTimeoutMs = ReplyTimeoutMs;
    m_runner = std::make_unique<LocalRunner>(options);
    m_id = create(m_runner.get());
    QVERIFY(!m_id.isEmpty());
    const QList<LocalRunner::RecordedSandbox> recorded = LocalRunner::recordedSandboxes(m_state->path());
    QCOMPARE(recorded.size(), 1);
    m_bwrap = recorded.first().pid;
    m_agent = agentBelow(m_bwrap);
    QVERIFY(m_agent > 0);
}

void TestSilentAgent::cleanup()
{
    if (m_agent > 0 && processExists(m_agent))
        ::kill(pid_t(m_agent), SIGCONT);
    m_runner.reset();
}

void TestSilentAgent::stopAgent()
{
    QCOMPARE(::kill(pid_t(m_agent), SIGSTOP), 0);
    QTRY_COMPARE(statusOf(m_agent).value(0), QByteArray("T"));
}

void TestSilentAgent::verifyGone()
{
    QTRY_VERIFY(m_runner->sandboxes().isEmpty());
    QTRY_VERIFY(!processExists(m_agent));
    QTRY_VERIFY(!processExists(m_bwrap));
    QCOMPARE(cgroupsOf(m_id), QStringList());
    QCOMPARE(LocalRunner::recordedSandboxes(m_state->path()).size(), 0);
}

// A command that was running when the agent stopped, and one started after: the second's
// start is never answered, and both fail once the bound has passed.
void TestSilentAgent::unansweredRequestEndsTheSandbox()
{
    OwnedJob<CommandJob> running(m_runner->runCommand(m_id, command(u"sleep 600"_s)));
    running->setAutoDelete(false);
    QSignalSpy started(running.get(), &CommandJob::started);
    running->start();
    QVERIFY(started.wait(10'000));
    stopAgent();

    QElapsedTimer clock;
    clock.start();
    std::unique_ptr<CommandJob> unanswered(run(m_runner->runCommand(m_id, command(u"true"_s)), ReplyTimeoutMs + SlackMs));
    QVERIFY(unanswered->isFinished());
    QVERIFY2(clock.elapsed() >= ReplyTimeoutMs - 100, qPrintable(QString::number(clock.elapsed())));
    QVERIFY(unanswered->error());
    QCOMPARE(unanswered->error()->code, u"SANDBOX_LOST"_s);
    QVERIFY2(unanswered->error()->message.contains(u"the agent did not answer within 2s"_s),
             qPrintable(unanswered->error()->message));
    QTRY_VERIFY(running->isFinished());
    QVERIFY(running->error());
    QCOMPARE(running->error()->code, u"SANDBOX_LOST"_s);
    verifyGone();
}

// No request is waiting, but the sandbox is deleted: its agent is asked to exit, does not,
// and is killed once the bound has passed.
void TestSilentAgent::stoppedAgentIsKilledWhenDeleted()
{
    stopAgent();
    QElapsedTimer clock;
    clock.start();
    std::unique_ptr<AsyncJob> deletion(run(m_runner->deleteSandbox(m_id), ReplyTimeoutMs + SlackMs));
    QVERIFY(deletion->isFinished());
    QVERIFY(!deletion->error());
    QVERIFY2(clock.elapsed() >= ReplyTimeoutMs - 100, qPrintable(QString::number(clock.elapsed())));
    verifyGone();
}

// Only the Reply to a request is bounded: a command may run, and print, as long as it likes.
void TestSilentAgent::longCommandsAreNotReplies()
{
    std::unique_ptr<CommandJob> job(m_runner->runCommand(
        m_id, command(u"sleep %1; echo done"_s.arg(double(ReplyTimeoutMs) * 1.5 / 1000))));
    const Output output = collect(job.get());
    QVERIFY2(!job->error(), job->error() ? qPrintable(job->error()->message) : "");
    QCOMPARE(output.out, QByteArray("done\n"));
    QCOMPARE(m_runner->sandboxes().size(), 1);
}

QTEST_GUILESS_MAIN(TestSilentAgent)
#include "tst_silentagent.moc"
