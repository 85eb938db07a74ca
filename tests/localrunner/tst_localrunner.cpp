// LocalRunner through the Runner interface, with real sandboxes: create until ready, run
// commands, interrupt them, delete, expire, and leave nothing running.
#include "localrunnertesting.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QUuid>
#include <QTest>

#include <algorithm>
#include <functional>

using namespace Sandflow;
using namespace RunnerTesting;
using namespace Qt::StringLiterals;

class TestLocalRunner : public QObject
{
    Q_OBJECT

private slots:
    void init() { TestWarnings::failOnAnyWarning(); }

    void createRunDelete();
    void commandsSeeTheSandboxEnvironment();
    void failuresAreValues();
    void interruptStopsTheProcessGroup();
    void expiryRemovesTheSandbox();
    void entrypointEndsTheSandbox();
    void unknownSandbox();
    void cancellingCreationLeavesNothing();
    void hostImagesAreSaidOncePerImage();
    void memoryHogIsOomKilled();
    void forkBombHitsTheProcessLimit();
    void pauseFreezesAndResumeContinues_data();
    void pauseFreezesAndResumeContinues();
    void deletingAPausedSandboxEndsItAtOnce_data();
    void deletingAPausedSandboxEndsItAtOnce();
    void hostVolumesMountWithinTheAllowedPaths();
    void volumesThatCouldEscapeAreRefused();
    void pvcVolumesOutliveTheirSandboxes();
    void aPolicyGivesANetworkOfItsOwn();
    void rootfsReplacesTheSystemTree();


private:
    /// Runs `script` in sandbox `id` and waits for it; `*exitCode` is its status.
    static Output shell(LocalRunner *runner, const QString &id, const QString &script, int *exitCode = nullptr);
    static SandboxVolume volume(SandboxVolume::Kind kind, const QString &source, const QString &mountPath,
                                const std::function<void(SandboxVolume &)> &set = {});
};

Output TestLocalRunner::shell(LocalRunner *runner, const QString &id, const QString &script, int *exitCode)
{
    std::unique_ptr<CommandJob> job(runner->runCommand(id, command(script)));
    const Output output = collect(job.get());
    if (exitCode)
        *exitCode = job->exitCode().value_or(-1);
    return output;
}

SandboxVolume TestLocalRunner::volume(SandboxVolume::Kind kind, const QString &source, const QString &mountPath,
                                      const std::function<void(SandboxVolume &)> &set)
{
    SandboxVolume volume;
    volume.name = u"vol"_s;
    volume.kind = kind;
    (kind == SandboxVolume::Kind::Pvc ? volume.claimName : volume.hostPath) = source;
    volume.mountPath = mountPath;
    if (set)
        set(volume);
    return volume;
}

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
    QVERIFY(failed->error());
    QCOMPARE(failed->exitCode(), std::optional<int>(3));
    QCOMPARE(failed->error()->kind, JobError::Kind::Task);
    QCOMPARE(failed->error()->context.value(u"exitCode"_s).toInt(), 3);

    std::unique_ptr<CommandJob> slow(runner.runCommand(id, command(u"sleep 30"_s, [](CommandRequest &r) { r.timeoutMs = 200; })));
    collect(slow.get());
    QVERIFY(slow->error());
    QCOMPARE(slow->error()->kind, JobError::Kind::Timeout);
    QCOMPARE(slow->exitCode(), std::nullopt);

    std::unique_ptr<CommandJob> badCwd(runner.runCommand(id, command(u"true"_s, [](CommandRequest &r) { r.cwd = u"/nonexistent"_s; })));
    collect(badCwd.get());
    QVERIFY(badCwd->error());
    QCOMPARE(badCwd->error()->code, u"COMMAND_START_FAILED"_s);
}

void TestLocalRunner::interruptStopsTheProcessGroup()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner);
    // The shell ignores SIGTERM, so the interrupt has to escalate to SIGKILL.
    OwnedJob<CommandJob> job(runner.runCommand(id, command(u"trap '' TERM; sleep 100 & echo started; wait"_s)));
    job->setAutoDelete(false);
    QSignalSpy finished(job.get(), &AsyncJob::finished);
    QByteArray out;
    connect(job.get(), &CommandJob::output, this, [&](CommandJob::Stream, const QByteArray &data) { out += data; });
    job->start();
    QTRY_COMPARE(out, QByteArray("started\n"));
    job->cancel();
    QVERIFY(finished.wait(20'000));
    QVERIFY(job->error());
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
    QVERIFY(late->error());
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
    const std::optional<JobError> error = errorOf(runner.deleteSandbox(u"nope"_s));
    QVERIFY(error);
    QCOMPARE(error->code, u"SANDBOX_NOT_FOUND"_s);
    QCOMPARE(error->kind, JobError::Kind::Invalid);
}

void TestLocalRunner::cancellingCreationLeavesNothing()
{
    LocalRunner runner(runnerOptions());
    OwnedJob<SandboxJob> job(runner.createSandbox({}));
    job->setAutoDelete(false);
    QSignalSpy finished(job.get(), &AsyncJob::finished);
    job->start();
    QTest::qWait(1);   // let the start run, so the sandbox is on its way
    job->cancel();
    QVERIFY(finished.wait(20'000));
    QTRY_VERIFY(runner.sandboxes().isEmpty());
}

void TestLocalRunner::hostImagesAreSaidOncePerImage()
{
    LocalRunner::Options options = runnerOptions();
    options.hostImages = {u"python:*"_s, u"docker.io/library/debian:*"_s};
    LocalRunner runner(options);
    QSignalSpy warnings(&runner, &Runner::warning);
    // As written or in full, either matches.
    for (const QString &image : {u"python:3.11"_s, u"debian:12"_s, u"python:3.11"_s}) {
        const QString id = create(&runner, sandbox([&](SandboxRequest &r) { r.image = image; }));
        QVERIFY(!id.isEmpty());
        const QList<SandboxInfo> live = runner.sandboxes();
        const auto created = std::find_if(live.cbegin(), live.cend(), [&](const SandboxInfo &s) { return s.id == id; });
        QVERIFY(created != live.cend());
        QCOMPARE(created->image, image);
        QCOMPARE(shell(&runner, id, u"test -e /etc/debian_version && echo host-tree"_s).out, QByteArray("host-tree\n"));
    }
    QCOMPARE(warnings.size(), 2);
    QVERIFY(warnings.at(0).first().toString().contains(u"python:3.11 runs on this machine's read-only system tree"_s));
    QVERIFY(warnings.at(1).first().toString().contains(u"debian:12 runs on this machine's read-only system tree"_s));
    // An image no pattern names is the image: a malformed one is refused as such.
    QCOMPARE(errorCodeOf(runner.createSandbox(sandbox([](SandboxRequest &r) { r.image = u"Not An Image"_s; }))),
             u"IMAGE_INVALID"_s);
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

void TestLocalRunner::pauseFreezesAndResumeContinues_data()
{
    QTest::addColumn<bool>("resourceLimits");
    QTest::newRow("cgroup freezer") << true;
    // Without cgroups every process of the sandbox gets SIGSTOP, then SIGCONT.
    QTest::newRow("stop signals") << false;
}

namespace {

/// The pids of the host's processes whose command line holds `marker`.
QStringList processesWith(const QByteArray &marker)
{
    QStringList found;
    const QStringList pids = QDir(u"/proc"_s).entryList({u"[0-9]*"_s}, QDir::Dirs);
    for (const QString &pid : pids) {
        QFile cmdline(u"/proc/%1/cmdline"_s.arg(pid));
        if (cmdline.open(QIODevice::ReadOnly) && cmdline.readAll().contains(marker))
            found.append(pid);
    }
    return found;
}

/// Whether the kernel shows process `pid` as stopped by a signal (state T).
bool isStopped(const QString &pid)
{
    QFile stat(u"/proc/%1/stat"_s.arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return false;
    const QByteArray text = stat.readAll();
    return text.mid(text.lastIndexOf(')') + 1).trimmed().startsWith('T');   // after "pid (name)"
}

} // namespace

void TestLocalRunner::pauseFreezesAndResumeContinues()
{
    QFETCH(bool, resourceLimits);
    QTemporaryDir host;
    QVERIFY(host.isValid());
    LocalRunner::Options options = runnerOptions();
    options.resourceLimits = resourceLimits;
    options.allowedHostPaths = {host.path()};
    LocalRunner runner(options);
    const QString id = create(&runner, sandbox([&](SandboxRequest &r) {
        r.volumes = {volume(SandboxVolume::Kind::Host, host.path(), u"/mnt/probe"_s)};
    }));
    // A tick every 50 ms, in a file the test reads from outside: a paused sandbox runs no
    // command that could read it. The marker names the shell that writes the ticks. It waits
    // with bash's read on a fifo that never has data, so it starts no process of its own: a
    // child stopped between vfork and exec would leave the shell waiting in state D, not T.
    const QByteArray marker = "pause-counter-" + QUuid::createUuid().toByteArray(QUuid::Id128);
    OwnedJob<CommandJob> counter(runner.runCommand(
        id, command(u"mkfifo /tmp/never && exec 3<>/tmp/never;"
                    u" while :; do echo tick >> /mnt/probe/ticks; read -t 0.05 -u 3; done; : %1"_s.arg(QString::fromLatin1(marker)),
                    [](CommandRequest &r) { r.shell = CommandRequest::Shell::Bash; })));
    counter->setAutoDelete(false);
    counter->start();
    const auto ticks = [&] {
        QFile file(host.filePath(u"ticks"_s));
        return file.open(QIODevice::ReadOnly) ? file.readAll().count('\n') : 0;
    };
    // The kernel's word that the shell runs no more: its cgroup reads FROZEN, or it shows as
    // stopped by SIGSTOP. Either holds only once a write it had under way has ended.
    const auto stopped = [&] {
        if (resourceLimits) {
            QFile state(u"/sys/fs/cgroup/freezer/sandflow/%1/freezer.state"_s.arg(id));
            return state.open(QIODevice::ReadOnly) && state.readAll().trimmed() == "FROZEN";
        }
        const QStringList shells = processesWith(marker);
        return !shells.isEmpty() && std::all_of(shells.cbegin(), shells.cend(), isStopped);
    };
    QTRY_VERIFY(ticks() > 0);
    QVERIFY(!stopped());

    std::unique_ptr<AsyncJob> pause(run(runner.pauseSandbox(id)));
    QVERIFY(!pause->error());
    QCOMPARE(runner.sandboxes().first().state, SandboxState::Paused);
    std::unique_ptr<CommandJob> rejected(runner.runCommand(id, command(u"true"_s)));
    collect(rejected.get());
    QVERIFY(rejected->error());
    QCOMPARE(rejected->error()->code, u"SANDBOX_NOT_RUNNING"_s);
    QCOMPARE(errorCodeOf(runner.pauseSandbox(id)), u"INVALID_STATE"_s);

    // Once stopped, the count cannot move, however the machine schedules the test: two
    // readings some ticks apart are equal. (A pause that stops nothing never gets here.)
    QTRY_VERIFY_WITH_TIMEOUT(stopped(), 10'000);
    const qsizetype paused = ticks();
    QTest::qWait(300);
    QCOMPARE(ticks(), paused);

    std::unique_ptr<AsyncJob> resume(run(runner.resumeSandbox(id)));
    QVERIFY(!resume->error());
    QTRY_VERIFY_WITH_TIMEOUT(ticks() > paused, 10'000);
    counter->cancel();
    QTRY_VERIFY(counter->isFinished());
}

void TestLocalRunner::deletingAPausedSandboxEndsItAtOnce_data()
{
    pauseFreezesAndResumeContinues_data();
}

// A frozen agent cannot hear that it should exit: the deletion must not wait for it, but
// end the sandbox's processes itself.
void TestLocalRunner::deletingAPausedSandboxEndsItAtOnce()
{
    QFETCH(bool, resourceLimits);
    LocalRunner::Options options = runnerOptions();
    options.resourceLimits = resourceLimits;
    // Were the deletion to wait for a reply, it would wait this long, past the wait below.
    options.replyTimeoutMs = 10 * 60 * 1000;
    LocalRunner runner(options);
    const QString id = create(&runner);
    const QByteArray marker = "paused-deletion-" + QUuid::createUuid().toByteArray(QUuid::Id128);
    // A shell that waits on its child, with the marker in its own command line from its
    // start: no exec follows, while which its command line would read as empty.
    OwnedJob<CommandJob> sleeper(runner.runCommand(id, command(u"sleep 1000; : %1"_s.arg(QString::fromLatin1(marker)))));
    sleeper->setAutoDelete(false);
    sleeper->start();
    QTRY_VERIFY(!processesWith(marker).isEmpty());
    std::unique_ptr<AsyncJob> pause(run(runner.pauseSandbox(id)));
    QVERIFY(!pause->error());

    std::unique_ptr<AsyncJob> deletion(run(runner.deleteSandbox(id), 20'000));
    QVERIFY2(deletion->isFinished(), "the deletion of a paused sandbox did not finish");
    QVERIFY2(!deletion->error(), deletion->error() ? qPrintable(deletion->error()->message) : "");
    QVERIFY(runner.sandboxes().isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(processesWith(marker).isEmpty(), 5000);
    QTRY_VERIFY(sleeper->isFinished());
}

void TestLocalRunner::hostVolumesMountWithinTheAllowedPaths()
{
    QTemporaryDir host;
    QVERIFY(host.isValid());
    LocalRunner::Options withHostPaths = runnerOptions();
    withHostPaths.allowedHostPaths = {host.filePath(u"data"_s)};
    LocalRunner runner(withHostPaths);
    // `data/sets` is missing: the runner creates it, as OpenSandbox does.
    const QString sets = host.filePath(u"data/sets"_s);
    const QString id = create(&runner, sandbox([&](SandboxRequest &r) {
        r.volumes = {volume(SandboxVolume::Kind::Host, sets, u"/mnt/train"_s, [](SandboxVolume &v) { v.subPath = u"train"_s; }),
                     volume(SandboxVolume::Kind::Host, sets, u"/mnt/all"_s, [](SandboxVolume &v) { v.readOnly = true; })};
    }));
    QVERIFY(!id.isEmpty());
    int status = -1;
    shell(&runner, id, u"echo sample > /mnt/train/one"_s, &status);
    QCOMPARE(status, 0);
    QFile written(sets + u"/train/one"_s);
    QVERIFY(written.open(QIODevice::ReadOnly));
    QCOMPARE(written.readAll(), QByteArray("sample\n"));
    QCOMPARE(shell(&runner, id, u"cat /mnt/all/train/one"_s).out, QByteArray("sample\n"));
    shell(&runner, id, u"touch /mnt/all/two"_s, &status);
    QVERIFY(status != 0);
    QVERIFY(!QFile::exists(sets + u"/two"_s));
}

void TestLocalRunner::volumesThatCouldEscapeAreRefused()
{
    QTemporaryDir host;
    QVERIFY(host.isValid());
    const QString data = host.filePath(u"data"_s);
    QVERIFY(QDir().mkpath(data) && QDir().mkpath(host.filePath(u"database"_s))
            && QDir().mkpath(host.filePath(u"outside"_s)));
    QVERIFY(QFile::link(host.filePath(u"outside"_s), data + u"/link"_s));
    LocalRunner::Options withHostPaths = runnerOptions();
    withHostPaths.allowedHostPaths = {data};
    LocalRunner runner(withHostPaths);
    using Kind = SandboxVolume::Kind;
    const auto subPath = [](const QString &path) { return [path](SandboxVolume &v) { v.subPath = path; }; };
    const struct
    {
        SandboxVolume volume;
        QString code;
    } cases[] = {
        {volume(Kind::Host, host.filePath(u"database"_s), u"/mnt"_s), u"VOLUME_HOST_PATH_NOT_ALLOWED"_s},
        {volume(Kind::Host, data + u"/../outside"_s, u"/mnt"_s), u"VOLUME_HOST_PATH_NOT_ALLOWED"_s},
        {volume(Kind::Host, data + u"/link"_s, u"/mnt"_s), u"VOLUME_HOST_PATH_NOT_ALLOWED"_s},
        // Nothing may be created where the link leads, either.
        {volume(Kind::Host, data + u"/link/new"_s, u"/mnt"_s), u"VOLUME_HOST_PATH_NOT_ALLOWED"_s},
        {volume(Kind::Host, data, u"/mnt"_s, subPath(u"../outside"_s)), u"VOLUME_INVALID_SUBPATH"_s},
        {volume(Kind::Host, data, u"/mnt"_s, subPath(u"/etc"_s)), u"VOLUME_INVALID_SUBPATH"_s},
        {volume(Kind::Host, data, u"mnt"_s), u"VOLUME_INVALID_MOUNT_PATH"_s},
        {volume(Kind::Host, data, u"/"_s), u"VOLUME_INVALID_MOUNT_PATH"_s},
        {volume(Kind::Host, data, u"/usr/local/data"_s), u"VOLUME_INVALID_MOUNT_PATH"_s},
        {volume(Kind::Host, data, u"/.sandflow"_s), u"VOLUME_INVALID_MOUNT_PATH"_s},
        {volume(Kind::Pvc, u"cache"_s, u"/mnt"_s), u"VOLUME_NO_STATE_DIRECTORY"_s},
        {volume(Kind::Ossfs, QString(), u"/mnt"_s), u"VOLUME_NOT_SUPPORTED"_s},
    };
    for (const auto &refused : cases) {
        const std::optional<JobError> error = errorOf(runner.createSandbox(sandbox([&](SandboxRequest &r) { r.volumes = {refused.volume}; })));
        const QString what = refused.volume.hostPath + u" at "_s + refused.volume.mountPath;
        QVERIFY2(error, qPrintable(what));
        QVERIFY2(error->code == refused.code, qPrintable(what + u": "_s + error->code + u" "_s + error->message));
        QCOMPARE(error->kind, JobError::Kind::Invalid);
        QVERIFY(error->message.contains(u"`vol`"_s));
    }
    QVERIFY(!QFile::exists(host.filePath(u"outside/new"_s)));
    QVERIFY(runner.sandboxes().isEmpty());
    // The message says what is allowed; with nothing allowed, every host volume is refused.
    const std::optional<JobError> outside = errorOf(runner.createSandbox(sandbox([&](SandboxRequest &r) {
        r.volumes = {volume(Kind::Host, host.filePath(u"database"_s), u"/mnt"_s)};
    })));
    QVERIFY(outside);
    QVERIFY2(outside->message.contains(host.filePath(u"database"_s)) && outside->message.contains(data),
             qPrintable(outside->message));
    LocalRunner closed(runnerOptions());
    QCOMPARE(errorCodeOf(closed.createSandbox(sandbox([&](SandboxRequest &r) { r.volumes = {volume(Kind::Host, data, u"/mnt"_s)}; }))),
             u"VOLUME_HOST_PATH_NOT_ALLOWED"_s);
}

void TestLocalRunner::pvcVolumesOutliveTheirSandboxes()
{
    QTemporaryDir state;
    QVERIFY(state.isValid());
    LocalRunner::Options withState = runnerOptions();
    withState.stateDirectory = state.path();
    LocalRunner runner(withState);
    const SandboxVolume cache = volume(SandboxVolume::Kind::Pvc, u"pip-cache"_s, u"/cache"_s,
                                       [](SandboxVolume &v) { v.subPath = u"wheels"_s; });
    const QString first = create(&runner, sandbox([&](SandboxRequest &r) { r.volumes = {cache}; }));
    QVERIFY(!first.isEmpty());
    int status = -1;
    shell(&runner, first, u"echo built > /cache/numpy.whl"_s, &status);
    QCOMPARE(status, 0);
    std::unique_ptr<AsyncJob> removal(run(runner.deleteSandbox(first)));
    QVERIFY(!removal->error());
    QVERIFY(QFile::exists(state.filePath(u"volumes/pip-cache/wheels/numpy.whl"_s)));

    const QString second = create(&runner, sandbox([&](SandboxRequest &r) {
        r.volumes = {volume(SandboxVolume::Kind::Pvc, u"pip-cache"_s, u"/root/.cache"_s)};
    }));
    QCOMPARE(shell(&runner, second, u"cat /root/.cache/wheels/numpy.whl"_s).out, QByteArray("built\n"));

    // A link inside the volume cannot take a sub-path out of it; a claim is one DNS name.
    QVERIFY(QFile::link(QDir::rootPath(), state.filePath(u"volumes/pip-cache/escape"_s)));
    QCOMPARE(errorCodeOf(runner.createSandbox(sandbox([](SandboxRequest &r) {
                 r.volumes = {volume(SandboxVolume::Kind::Pvc, u"pip-cache"_s, u"/mnt"_s,
                                     [](SandboxVolume &v) { v.subPath = u"escape/etc"_s; })};
             }))),
             u"VOLUME_INVALID_SUBPATH"_s);
    QCOMPARE(errorCodeOf(runner.createSandbox(sandbox([](SandboxRequest &r) {
                 r.volumes = {volume(SandboxVolume::Kind::Pvc, u"../sandboxes"_s, u"/mnt"_s)};
             }))),
             u"VOLUME_INVALID_CLAIM_NAME"_s);
}

// Without a policy a sandbox has the host's network; with one, any (allow-all too), a
// namespace of its own with loopback alone (tst_localegress covers what passes through).
void TestLocalRunner::aPolicyGivesANetworkOfItsOwn()
{
    using Action = SandboxNetworkPolicy::Action;
    LocalRunner runner(runnerOptions());
    const QString interfaces = u"tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"_s;
    QProcess host;
    host.start(u"/bin/sh"_s, {u"-c"_s, interfaces});
    QVERIFY(host.waitForFinished());
    QCOMPARE(shell(&runner, create(&runner), interfaces).out, host.readAllStandardOutput());
    for (const Action defaultAction : {Action::Allow, Action::Deny}) {
        const QString id = create(&runner, sandbox([&](SandboxRequest &r) {
            r.network = SandboxNetworkPolicy{defaultAction, {{Action::Allow, u"*.example.com"_s}}};
        }));
        QCOMPARE(shell(&runner, id, interfaces).out, QByteArray("lo\n"));
    }
    const std::optional<JobError> error = errorOf(runner.createSandbox(sandbox([](SandboxRequest &r) {
        r.network = SandboxNetworkPolicy{Action::Deny, {{Action::Allow, u"10.0.0.0/33"_s}}};
    })));
    QVERIFY(error);
    QCOMPARE(error->code, u"EGRESS_RULE_INVALID"_s);
    QCOMPARE(error->kind, JobError::Kind::Invalid);
    QVERIFY2(error->message.contains(u"10.0.0.0/33"_s), qPrintable(error->message));
}

// A root filesystem with only dash, the libraries it loads and a marker. Its /bin is a
// relative link to usr/bin, as on merged-/usr systems, so the link must be kept as written.
static bool makeTinyRootfs(const QString &root)
{
    const QString shell = QFileInfo(u"/bin/sh"_s).canonicalFilePath();
    QProcess ldd;
    ldd.start(u"ldd"_s, {shell});
    if (!ldd.waitForFinished() || ldd.exitCode() != 0)
        return false;
    static const QRegularExpression library(u"(/\\S+)"_s);
    QStringList files;
    for (const QRegularExpressionMatch &match : library.globalMatch(QString::fromLocal8Bit(ldd.readAllStandardOutput())))
        files.append(match.captured(1));
    files.append(u"/usr/bin/sh"_s);
    for (const QString &file : files) {
        const QString copy = root + file;
        if (!QDir().mkpath(QFileInfo(copy).path())
            || !QFile::copy(file == u"/usr/bin/sh"_s ? shell : file, copy))
            return false;
    }
    QFile marker(root + u"/etc/marker"_s);
    return QDir().mkpath(root + u"/etc"_s) && QFile::link(u"usr/bin"_s, root + u"/bin"_s)
           && marker.open(QIODevice::WriteOnly) && marker.write("tiny\n") == 5;
}

void TestLocalRunner::rootfsReplacesTheSystemTree()
{
    QTemporaryDir rootfs;
    QVERIFY(rootfs.isValid());
    QVERIFY(makeTinyRootfs(rootfs.path()));
    // Root's alone, as /etc/shadow is in an image: the sandbox's root owns the rootfs's files
    // as a container's root does, whatever host ids its own are.
    QVERIFY(QFile::setPermissions(rootfs.filePath(u"etc/marker"_s), QFile::ReadOwner | QFile::WriteOwner));
    LocalRunner runner(runnerOptions());
    QSignalSpy warnings(&runner, &Runner::warning);
    const QString id = create(&runner, sandbox([&](SandboxRequest &r) {
        r.image = u"tiny"_s;
        r.rootfs = rootfs.path();
    }));
    QVERIFY(!id.isEmpty());
    // dash alone: its builtins, no cat or ls.
    int status = -1;
    const Output output = shell(&runner, id, u"read m < /etc/marker; echo $m; "
                                             u"test -e /etc/debian_version && echo host-etc; "
                                             u"test -e /usr/bin/env && echo host-usr; "
                                             u"echo w > /workspace/f && read w < /workspace/f && echo $w; "
                                             u"echo x > /etc/new && echo changed > /etc/marker && read m < /etc/marker "
                                             u"&& echo $m; test -d /var && test -d /root && echo usual-dirs"_s, &status);
    QCOMPARE(status, 0);
    QCOMPARE(output.out, QByteArray("tiny\nw\nchanged\nusual-dirs\n"));
    // The root is the sandbox's own: its writes land in its layer, never in the rootfs, and
    // the next sandbox of the same rootfs starts from the rootfs again.
    QVERIFY(!QFile::exists(rootfs.filePath(u"etc/new"_s)));
    QFile marker(rootfs.filePath(u"etc/marker"_s));
    QVERIFY(marker.open(QIODevice::ReadOnly));
    QCOMPARE(marker.readAll(), QByteArray("tiny\n"));
    const QString second = create(&runner, sandbox([&](SandboxRequest &r) { r.rootfs = rootfs.path(); }));
    QVERIFY(!second.isEmpty());
    QCOMPARE(shell(&runner, second, u"read m < /etc/marker; echo $m; test -e /etc/new || echo no-new"_s, &status).out,
             QByteArray("tiny\nno-new\n"));
    QVERIFY(warnings.isEmpty());

    QCOMPARE(errorCodeOf(runner.createSandbox(sandbox([&](SandboxRequest &r) { r.rootfs = rootfs.filePath(u"missing"_s); }))),
             u"ROOTFS_NOT_FOUND"_s);
    QCOMPARE(errorCodeOf(runner.createSandbox(sandbox([&](SandboxRequest &r) { r.rootfs = rootfs.filePath(u"etc/marker"_s); }))),
             u"ROOTFS_NOT_FOUND"_s);
}

QTEST_GUILESS_MAIN(TestLocalRunner)
#include "tst_localrunner.moc"
