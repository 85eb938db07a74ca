// The state directory: each live sandbox is recorded, and what a crashed runner left
// (records and cgroups; its processes die with it) is found and removed by collectGarbage.
#include "controlendpoints.h"
#include "localrunner.h"

#include <QCoreApplication>
#include <QDir>
#include <QProcess>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace Sandflow;
using namespace Qt::StringLiterals;

class TestSandboxRecords : public QObject
{
    Q_OBJECT

private slots:
    void recordsFollowTheSandbox();
    void aSandboxIsRecordedBeforeItsGroupsAreMade();
    void aRunnerTornDownLeavesNothing();
    void garbageOfACrashedRunnerIsCollected();
    void collectingEverythingKillsLiveSandboxes();
    void aPausedSandboxOfACrashedRunnerIsCollected();
    void emptyGroupsNoRecordNamesAreCollected();
    void endpointsOfKilledProcessesAreCollected();
    void recordWritesCutShortAreCollected();

private:
    static bool cgroupExists(const QString &id)
    {
        return QFileInfo::exists(u"/sys/fs/cgroup/memory/sandflow/%1"_s.arg(id));
    }
    /// Starts a runner in another process that creates one sandbox; returns the sandbox id.
    static QString startHolder(QProcess *holder, const QString &stateDirectory, const QStringList &extra = {})
    {
        holder->start(QStringLiteral(SANDBOX_HOLDER),
                      QStringList{QStringLiteral(SANDFLOW_AGENT_PATH), stateDirectory, u"run-7"_s} + extra);
        if (!holder->waitForReadyRead(30'000))
            return {};
        return QString::fromUtf8(holder->readLine().trimmed());
    }
};

void TestSandboxRecords::recordsFollowTheSandbox()
{
    QTemporaryDir state;
    LocalRunner::Options options;
    options.agentPath = QStringLiteral(SANDFLOW_AGENT_PATH);
    options.stateDirectory = state.path();
    options.runId = u"run-1"_s;
    // The image as a record names it; the sandbox runs on the host's tree.
    options.hostImages = {u"debian:*"_s};
    LocalRunner runner(options);
    SandboxRequest request;
    request.image = u"debian:12"_s;
    std::unique_ptr<SandboxJob> create(runner.createSandbox(request));
    create->setAutoDelete(false);
    QSignalSpy created(create.get(), &AsyncJob::finished);
    create->start();
    QVERIFY(created.wait(30'000));
    QVERIFY(!create->error());

    const QList<LocalRunner::RecordedSandbox> recorded = LocalRunner::recordedSandboxes(state.path());
    QCOMPARE(recorded.size(), 1);
    QCOMPARE(recorded.first().id, create->result().id);
    QCOMPARE(recorded.first().runId, u"run-1"_s);
    QCOMPARE(recorded.first().image, u"debian:12"_s);
    QVERIFY(recorded.first().alive);
    // Written whole, by a rename: nothing but the record is left in the directory.
    QCOMPARE(QDir(state.filePath(u"sandboxes"_s)).entryList(QDir::Files), QStringList{recorded.first().id + u".json"_s});
    // A live sandbox of a live runner is not garbage.
    QCOMPARE(LocalRunner::collectGarbage(state.path(), false), QStringList());

    std::unique_ptr<AsyncJob> removal(runner.deleteSandbox(create->result().id));
    removal->setAutoDelete(false);
    QSignalSpy removed(removal.get(), &AsyncJob::finished);
    removal->start();
    QVERIFY(removed.wait(30'000));
    QVERIFY(LocalRunner::recordedSandboxes(state.path()).isEmpty());
}

// `gc` finds what a killed runner left by its records alone: a runner killed at any moment of
// a sandbox's making, before bubblewrap has started too, must leave a record naming the
// sandbox's cgroups. And a sandbox being made by a live runner is no garbage.
void TestSandboxRecords::aSandboxIsRecordedBeforeItsGroupsAreMade()
{
    QTemporaryDir state;
    LocalRunner::Options options;
    options.agentPath = QStringLiteral(SANDFLOW_AGENT_PATH);
    options.stateDirectory = state.path();
    LocalRunner runner(options);
    std::unique_ptr<SandboxJob> create(runner.createSandbox(SandboxRequest()));
    create->setAutoDelete(false);
    QSignalSpy created(create.get(), &AsyncJob::finished);
    create->start();
    // A job may not be destroyed while it runs, also when a check below fails.
    // (A failed test's event loop returns at once: waited for by polling.)
    const auto awaitCreation = qScopeGuard([&] { (void)QTest::qWaitFor([&] { return create->isFinished(); }, 30'000); });
    // Only the job's start, which the job queues: the cgroups are made and bubblewrap is
    // forked, and nothing the event loop brings next (word that bubblewrap started) has come.
    QCoreApplication::sendPostedEvents(create.get(), QEvent::MetaCall);
    const QList<LocalRunner::RecordedSandbox> recorded = LocalRunner::recordedSandboxes(state.path());
    QCOMPARE(recorded.size(), 1);
    const QString id = recorded.first().id;
    QVERIFY(cgroupExists(id));
    QVERIFY(recorded.first().alive);
    QCOMPARE(LocalRunner::collectGarbage(state.path(), false), QStringList());
    QVERIFY(cgroupExists(id));

    QVERIFY(created.wait(30'000));
    QVERIFY(!create->error());
    QCOMPARE(create->result().id, id);
    QVERIFY(LocalRunner::recordedSandboxes(state.path()).value(0).pid > 0);
}

// A runner destroyed while its sandboxes live (a program that stops at once, as on a second
// Ctrl-C) ends them: no process, no cgroup, and no record that `sandflow ls` would call left
// behind.
void TestSandboxRecords::aRunnerTornDownLeavesNothing()
{
    QTemporaryDir state;
    LocalRunner::Options options;
    options.agentPath = QStringLiteral(SANDFLOW_AGENT_PATH);
    options.stateDirectory = state.path();
    auto runner = std::make_unique<LocalRunner>(options);
    std::unique_ptr<SandboxJob> create(runner->createSandbox(SandboxRequest()));
    create->setAutoDelete(false);
    QSignalSpy created(create.get(), &AsyncJob::finished);
    create->start();
    QVERIFY(created.wait(30'000));
    QVERIFY(!create->error());
    const QString id = create->result().id;
    const qint64 bwrap = LocalRunner::recordedSandboxes(state.path()).value(0).pid;
    QVERIFY(bwrap > 0);

    QVERIFY(QFileInfo(state.filePath(u"layers/"_s + id)).isDir());

    runner.reset();
    QVERIFY(LocalRunner::recordedSandboxes(state.path()).isEmpty());
    QVERIFY(!cgroupExists(id));
    QVERIFY(::kill(pid_t(bwrap), 0) != 0);
    // Its writable root went with it.
    QVERIFY(QDir(state.filePath(u"layers"_s)).isEmpty());
}

void TestSandboxRecords::garbageOfACrashedRunnerIsCollected()
{
    QTemporaryDir state;
    QProcess holder;
    const QString id = startHolder(&holder, state.path());
    QVERIFY2(id.size() == 32, qPrintable(id));
    QVERIFY(cgroupExists(id));

    ::kill(pid_t(holder.processId()), SIGKILL);   // the runner crashes
    QVERIFY(holder.waitForFinished(10'000));
    // Its sandbox dies with it; the record and the cgroups stay behind.
    QTRY_VERIFY(!LocalRunner::recordedSandboxes(state.path()).value(0).alive);
    QCOMPARE(LocalRunner::recordedSandboxes(state.path()).value(0).runId, u"run-7"_s);
    QVERIFY(cgroupExists(id));
    QVERIFY(QFileInfo(state.filePath(u"layers/"_s + id)).isDir());

    QCOMPARE(LocalRunner::collectGarbage(state.path(), false), QStringList{id});
    QVERIFY(LocalRunner::recordedSandboxes(state.path()).isEmpty());
    QVERIFY(!cgroupExists(id));
    QVERIFY(!QFileInfo::exists(state.filePath(u"layers/"_s + id)));
}

void TestSandboxRecords::collectingEverythingKillsLiveSandboxes()
{
    QTemporaryDir state;
    QProcess holder;
    const QString id = startHolder(&holder, state.path());
    QVERIFY(id.size() == 32);
    const qint64 bwrap = LocalRunner::recordedSandboxes(state.path()).value(0).pid;
    QVERIFY(bwrap > 0);

    QCOMPARE(LocalRunner::collectGarbage(state.path(), true), QStringList{id});
    QTRY_VERIFY(::kill(pid_t(bwrap), 0) != 0);
    QVERIFY(!cgroupExists(id));
    QVERIFY(LocalRunner::recordedSandboxes(state.path()).isEmpty());
    holder.kill();
    holder.waitForFinished(10'000);
}

// Frozen, the sandbox's processes cannot die with their runner: its bubblewrap outlives it,
// and the sandbox must still count as left behind, and be collected.
void TestSandboxRecords::aPausedSandboxOfACrashedRunnerIsCollected()
{
    QTemporaryDir state;
    // Whatever fails below, nothing frozen is left behind, recorded nowhere.
    const auto cleanUp = qScopeGuard([&state] { LocalRunner::collectGarbage(state.path(), true); });
    QProcess holder;
    const QString id = startHolder(&holder, state.path(), {u"paused"_s});
    QVERIFY2(id.size() == 32, qPrintable(id));
    const qint64 bwrap = LocalRunner::recordedSandboxes(state.path()).value(0).pid;
    QVERIFY(bwrap > 0);

    ::kill(pid_t(holder.processId()), SIGKILL);   // the runner crashes
    QVERIFY(holder.waitForFinished(10'000));
    QTRY_VERIFY(!LocalRunner::recordedSandboxes(state.path()).value(0).alive);

    QCOMPARE(LocalRunner::collectGarbage(state.path(), false), QStringList{id});
    QTRY_VERIFY(::kill(pid_t(bwrap), 0) != 0);
    QVERIFY(!cgroupExists(id));
    QVERIFY(LocalRunner::recordedSandboxes(state.path()).isEmpty());
}

// Groups a runner could not remove, with no record of theirs anywhere this state directory
// knows: collected once empty and older than a minute, never while young (a sandbox being
// made has its groups a moment before its processes).
void TestSandboxRecords::emptyGroupsNoRecordNamesAreCollected()
{
    const QString old = u"0123456789abcdef0123456789abcdef"_s;
    const QString young = u"fedcba9876543210fedcba9876543210"_s;
    QStringList made;
    const auto removeMade = qScopeGuard([&made] {
        for (const QString &path : std::as_const(made))
            QDir().rmdir(path);
    });
    for (const QString &controller : {u"memory"_s, u"freezer"_s}) {
        for (const QString &name : {old, young}) {
            const QString path = u"/sys/fs/cgroup/%1/sandflow/%2"_s.arg(controller, name);
            if (!QDir().mkpath(path))
                QSKIP("cgroup v1 groups cannot be made here");
            made.append(path);
        }
        // A group's age is its directory's time.
        QVERIFY(QProcess::execute(u"touch"_s, {u"-d"_s, u"2 hours ago"_s,
                                               u"/sys/fs/cgroup/%1/sandflow/%2"_s.arg(controller, old)}) == 0);
    }
    QTemporaryDir state;
    QCOMPARE(LocalRunner::collectGarbage(state.path(), false), QStringList{old});
    QVERIFY(!QFileInfo::exists(u"/sys/fs/cgroup/memory/sandflow/"_s + old));
    QVERIFY(!QFileInfo::exists(u"/sys/fs/cgroup/freezer/sandflow/"_s + old));
    QVERIFY(QFileInfo::exists(u"/sys/fs/cgroup/memory/sandflow/"_s + young));
}

// A run or server killed outright leaves the record of where it listened: `gc` (and a server
// as it starts) removes it, and keeps those of processes that still listen.
void TestSandboxRecords::endpointsOfKilledProcessesAreCollected()
{
    QTemporaryDir state;
    QString error;
    const std::unique_ptr<ControlEndpointRegistration> live =
        ControlEndpointRegistration::publish(state.path(), {u"http://127.0.0.1:1"_s, {}, u"serve"_s, 0}, &error);
    QVERIFY2(live, qPrintable(error));
    QProcess ended;
    ended.start(u"true"_s, QStringList());
    QVERIFY(ended.waitForStarted(10'000));
    const qint64 pid = ended.processId();
    QVERIFY(ended.waitForFinished(10'000));
    const QString dead = state.filePath(u"endpoints/%1-1.json"_s.arg(pid));
    QFile file(dead);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QByteArrayLiteral("{\"url\": \"http://127.0.0.1:2\", \"owner\": \"serve\", \"pid\": ")
               + QByteArray::number(pid) + QByteArrayLiteral(", \"pidStartTicks\": 1}"));
    file.close();

    LocalRunner::collectGarbage(state.path(), false);
    QVERIFY(!QFileInfo::exists(dead));
    QCOMPARE(QDir(state.filePath(u"endpoints"_s)).entryList(QDir::Files).size(), 1);
}

// A runner killed while it wrote a record leaves the temporary it was to rename, named after
// itself: `gc` removes those of writers that are gone at once, and any older than a minute;
// a live writer's is about to be renamed and stays.
void TestSandboxRecords::recordWritesCutShortAreCollected()
{
    QTemporaryDir state;
    QVERIFY(QDir().mkpath(state.filePath(u"sandboxes"_s)));
    const auto writeTemporary = [&state](const QString &name, const QDateTime &modified) {
        QFile file(state.filePath(u"sandboxes/"_s + name));
        return file.open(QIODevice::WriteOnly) && file.write("{\"id\":") > 0 && file.flush()
               && file.setFileTime(modified, QFileDevice::FileModificationTime);
    };
    QProcess ended;
    ended.start(u"true"_s, QStringList());
    QVERIFY(ended.waitForStarted(10'000));
    const qint64 gone = ended.processId();
    QVERIFY(ended.waitForFinished(10'000));
    QFile stat(u"/proc/self/stat"_s);
    QVERIFY(stat.open(QIODevice::ReadOnly));
    const QList<QByteArray> fields = stat.readAll().split(')').last().trimmed().split(' ');
    const QString self = u"%1-%2"_s.arg(QCoreApplication::applicationPid()).arg(QString::fromLatin1(fields.at(19)));
    const QDateTime now = QDateTime::currentDateTime();
    QVERIFY(writeTemporary(u"aaaa.json.%1-1.tmp"_s.arg(gone), now));
    QVERIFY(writeTemporary(u"bbbb.json.%1.tmp"_s.arg(self), now));
    QVERIFY(writeTemporary(u"cccc.json.%1.tmp"_s.arg(self), now.addSecs(-120)));

    QCOMPARE(LocalRunner::collectGarbage(state.path(), false), QStringList());
    QCOMPARE(QDir(state.filePath(u"sandboxes"_s)).entryList(QDir::Files), QStringList{u"bbbb.json.%1.tmp"_s.arg(self)});
    // Never read as a sandbox's record, whole or cut short.
    QVERIFY(LocalRunner::recordedSandboxes(state.path()).isEmpty());
}

QTEST_GUILESS_MAIN(TestSandboxRecords)
#include "tst_sandboxrecords.moc"
