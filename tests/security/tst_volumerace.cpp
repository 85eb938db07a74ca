// A volume's source against the sandboxes that can change it. A sandbox holding a volume
// swaps a directory and a link to the host's `/` under the name another sandbox's subPath
// names, as fast as it can, while sandboxes with that subPath are made: each must get the
// directory or be refused, never the host's root. Around that race, the rules it relies on:
// no link in a source is followed, missing directories are made inside the volume,
// read-only stays read-only, and no descriptor of a source is left in the sandbox or the
// runner.
#include "localrunnertesting.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>

#include <algorithm>

#include <sys/stat.h>

using namespace Sandflow;
using namespace RunnerTesting;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(Sandflow::SandboxVolume::Kind)

namespace {

using Kind = SandboxVolume::Kind;

// One volume of either kind and the runner options that let sandboxes have it: the pvc
// `c1` in the runner's state directory, or the host directory `data` under the allowed
// host paths.
class VolumeUnderTest
{
public:
    explicit VolumeUnderTest(Kind kind) : m_kind(kind)
    {
        QDir().mkpath(root());
    }

    bool isValid() const { return m_dir.isValid() && QFileInfo(root()).isDir(); }

    LocalRunner::Options options() const
    {
        LocalRunner::Options options = runnerOptions();
        options.stateDirectory = m_dir.filePath(u"state"_s);
        options.allowedHostPaths = {m_dir.filePath(u"data"_s)};
        return options;
    }

    /// The volume's directory on the host.
    QString root() const
    {
        return m_dir.filePath(m_kind == Kind::Pvc ? u"state/volumes/c1"_s : u"data"_s);
    }

    SandboxVolume volume(const QString &mountPath, const QString &subPath = {}, bool readOnly = false) const
    {
        SandboxVolume volume;
        volume.name = u"v"_s;
        volume.kind = m_kind;
        if (m_kind == Kind::Pvc)
            volume.claimName = u"c1"_s;
        else
            volume.hostPath = root();
        volume.mountPath = mountPath;
        volume.subPath = subPath;
        volume.readOnly = readOnly;
        return volume;
    }

    /// What a subPath through a link is refused with.
    QString linkRefusal() const
    {
        return m_kind == Kind::Pvc ? u"VOLUME_INVALID_SUBPATH"_s : u"VOLUME_HOST_PATH_NOT_ALLOWED"_s;
    }

private:
    Kind m_kind;
    QTemporaryDir m_dir;
};

// Device and inode: which file a path is (a descriptor's, for /proc/PID/fd/N), the same
// inside a sandbox (`stat -L -c %d:%i`) as on the host.
QByteArray identity(const QString &path)
{
    struct stat status = {};
    if (::stat(QFile::encodeName(path).constData(), &status) != 0)
        return {};
    return QByteArray::number(quint64(status.st_dev)) + ':' + QByteArray::number(quint64(status.st_ino));
}

// The swapping has begun once the host has seen `path` as the link and as the directory.
bool seenAsBoth(const QString &path)
{
    bool link = false;
    bool directory = false;
    QElapsedTimer elapsed;
    elapsed.start();
    while (!(link && directory) && elapsed.elapsed() < 10'000)
        (QFileInfo(path).isSymLink() ? link : directory) = true;
    return link && directory;
}

// What process `pid` (a number or `self`) holds open, by identity.
QList<QByteArray> openFiles(const QString &pid)
{
    const QDir descriptors(u"/proc/%1/fd"_s.arg(pid));
    QList<QByteArray> files;
    for (const QString &fd : descriptors.entryList(QDir::AllEntries | QDir::System | QDir::NoDotAndDotDot))
        files.append(identity(descriptors.filePath(fd)));
    return files;
}

// `root` and its descendants.
QList<qint64> processTree(qint64 root)
{
    QList<qint64> pids = {root};
    for (qsizetype i = 0; i < pids.size(); ++i) {
        const QDir tasks(u"/proc/%1/task"_s.arg(pids.at(i)));
        for (const QString &task : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
            QFile children(tasks.filePath(task + u"/children"_s));
            if (!children.open(QIODevice::ReadOnly))
                continue;
            for (const QByteArray &child : children.readAll().split(' ')) {
                if (!child.trimmed().isEmpty())
                    pids.append(child.trimmed().toLongLong());
            }
        }
    }
    return pids;
}

qsizetype openDescriptorCount()
{
    return openDescriptors().size();
}

// Whether the runner is done removing the sandboxes' layers under `layers`, which it does off
// the event loop, through descriptors of its own.
bool layersRemoved(const QString &layers)
{
    const QStringList targets = openDescriptors();
    return QDir(layers).isEmpty() && std::none_of(targets.cbegin(), targets.cend(), [&](const QString &target) {
        return target.startsWith(layers);
    });
}

// A sandbox with `volume`: its id, or none and the error.
QString createWith(LocalRunner *runner, const SandboxVolume &volume, std::optional<JobError> *error)
{
    std::unique_ptr<SandboxJob> job(run(runner->createSandbox(sandbox([&](SandboxRequest &r) {
        r.volumes = {volume};
    }))));
    *error = job->error();
    return job->error() ? QString() : job->result().id;
}

// Why a sandbox with `volume` is not made; empty when it is.
QString refusalOf(LocalRunner *runner, const SandboxVolume &volume)
{
    return errorCodeOf(runner->createSandbox(sandbox([&](SandboxRequest &r) { r.volumes = {volume}; })));
}

// bwrap 0.8.0 (with Debian's backport of --bind-fd) mounts the path the descriptor has when
// it reads it, then checks that what it mounted is the descriptor's file, and gives up when
// a rename got in between ("Race condition binding dirfd"): the sandbox is not made.
bool bwrapFoundTheSwap(const JobError &error)
{
    return error.code == u"SANDBOX_CREATE_FAILED"_s;
}

bool removed(LocalRunner *runner, const QString &id)
{
    return errorCodeOf(runner->deleteSandbox(id)).isEmpty();
}

void addKinds()
{
    QTest::addColumn<Kind>("kind");
    QTest::newRow("pvc") << Kind::Pvc;
    QTest::newRow("host") << Kind::Host;
}

// renameat2(AT_FDCWD (-100), "a", AT_FDCWD, "b", RENAME_EXCHANGE (2)) swaps the two names
// atomically, so each of them is always either the directory or the link.
const QString SwapForever = uR"(python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
os.chdir("/mnt/v")
while True:
    libc.renameat2(-100, b"a", -100, b"b", 2)
')"_s;

} // namespace

class TestVolumeRace : public QObject
{
    Q_OBJECT

private slots:
    void init() { TestWarnings::failOnAnyWarning(); }

    void aSwappedSubPathNeverMountsTheHostRoot_data() { addKinds(); }
    void aSwappedSubPathNeverMountsTheHostRoot();
    void linksInSourcesAreRefused_data() { addKinds(); }
    void linksInSourcesAreRefused();
    void missingSubPathsAreMadeInsideTheVolume_data() { addKinds(); }
    void missingSubPathsAreMadeInsideTheVolume();
    void readOnlyVolumesStayReadOnly_data() { addKinds(); }
    void readOnlyVolumesStayReadOnly();
    void noSourceDescriptorIsOpenInTheSandbox();
    void noSourceDescriptorIsLeftInTheRunner();
};

void TestVolumeRace::aSwappedSubPathNeverMountsTheHostRoot()
{
    QFETCH(Kind, kind);
    const VolumeUnderTest under(kind);
    QVERIFY(under.isValid());
    QVERIFY(QDir(under.root()).mkdir(u"a"_s));
    QVERIFY(QFile::link(u"/"_s, under.root() + u"/b"_s));
    const QByteArray directory = identity(under.root() + u"/a"_s);
    LocalRunner runner(under.options());

    const QString attacker = create(&runner, sandbox([&](SandboxRequest &r) { r.volumes = {under.volume(u"/mnt/v"_s)}; }));
    QVERIFY(!attacker.isEmpty());
    if (shellOutput(&runner, attacker, u"python3 -c 'import ctypes' && echo yes"_s) != "yes\n")
        QSKIP("the sandbox needs python3 with ctypes to swap the names");
    std::unique_ptr<CommandJob> swapping(run(runner.runCommand(attacker, command(SwapForever, [](CommandRequest &r) {
        r.background = true;
    }))));
    QVERIFY(!swapping->error());
    QVERIFY2(seenAsBoth(under.root() + u"/a"_s), "the sandbox did not start swapping");

    // Bounded by count and by time: two shared cores, one of them busy swapping. Refusals
    // are quick and come in runs (while the swapping process waits for a core), so only
    // sandboxes that were made count.
    constexpr int wanted = 150;
    constexpr qint64 budgetMs = 25'000;
    QElapsedTimer elapsed;
    elapsed.start();
    int mounted = 0;
    int refused = 0;
    int stoppedByBwrap = 0;
    while (mounted < wanted && elapsed.elapsed() < budgetMs) {
        std::optional<JobError> error;
        const QString victim = createWith(&runner, under.volume(u"/mnt/v"_s, u"a"_s), &error);
        if (victim.isEmpty()) {
            QVERIFY2(error->code == under.linkRefusal() || bwrapFoundTheSwap(*error),
                     qPrintable(error->code + u": "_s + error->message));
            ++(error->code == under.linkRefusal() ? refused : stoppedByBwrap);
            continue;
        }
        const QByteArray seen = shellOutput(&runner, victim, u"stat -c %d:%i /mnt/v"_s).trimmed();
        if (seen != directory) {
            const QByteArray listing = shellOutput(&runner, victim, u"ls /mnt/v | head -n 12 | tr '\\n' ' '"_s);
            removed(&runner, victim);
            QFAIL(qPrintable(u"sandbox %1 (after %2 refused, %3 ms) has %4 at /mnt/v instead of the volume's `a` "
                             u"(%5): %6"_s.arg(mounted + 1).arg(refused + stoppedByBwrap).arg(elapsed.elapsed())
                                 .arg(QString::fromLatin1(seen), QString::fromLatin1(directory),
                                      QString::fromUtf8(listing))));
        }
        ++mounted;
        QVERIFY(removed(&runner, victim));
    }
    qInfo("%d sandboxes got the directory, %d were refused and %d stopped by bwrap, in %lld ms", mounted, refused,
          stoppedByBwrap, elapsed.elapsed());
    // The race was on while sandboxes were made, and some of them still got their volume.
    QVERIFY(mounted > 0);
    QVERIFY(refused + stoppedByBwrap > 0);
    QVERIFY(removed(&runner, attacker));
    QTRY_VERIFY(runner.sandboxes().isEmpty());
}

void TestVolumeRace::linksInSourcesAreRefused()
{
    QFETCH(Kind, kind);
    const VolumeUnderTest under(kind);
    QVERIFY(under.isValid());
    const QDir root(under.root());
    QVERIFY(root.mkdir(u"sibling"_s));
    QVERIFY(QFile::link(u"/"_s, root.filePath(u"to-root"_s)));
    // Relative, so it stays inside the volume: still a link, still refused.
    QVERIFY(QFile::link(u"sibling"_s, root.filePath(u"to-sibling"_s)));
    LocalRunner runner(under.options());
    for (const QString &subPath : {u"to-root"_s, u"to-sibling"_s, u"to-sibling/new"_s, u"to-root/tmp"_s}) {
        const QString refusal = refusalOf(&runner, under.volume(u"/mnt/v"_s, subPath));
        QVERIFY2(refusal == under.linkRefusal(), qPrintable(subPath + u": "_s + refusal));
    }
    QVERIFY(!root.exists(u"sibling/new"_s));
    if (kind == Kind::Host) {
        // The host path itself, not only its subPath.
        SandboxVolume throughLink = under.volume(u"/mnt/v"_s);
        throughLink.hostPath = root.filePath(u"to-sibling"_s);
        QCOMPARE(refusalOf(&runner, throughLink), u"VOLUME_HOST_PATH_NOT_ALLOWED"_s);
    }
    QVERIFY(runner.sandboxes().isEmpty());
}

void TestVolumeRace::missingSubPathsAreMadeInsideTheVolume()
{
    QFETCH(Kind, kind);
    const VolumeUnderTest under(kind);
    QVERIFY(under.isValid());
    LocalRunner runner(under.options());
    const QString id = create(&runner, sandbox([&](SandboxRequest &r) {
        r.volumes = {under.volume(u"/mnt/deep"_s, u"x/y/z"_s), under.volume(u"/mnt/x"_s, u"x"_s)};
    }));
    QVERIFY(!id.isEmpty());
    QVERIFY(QFileInfo(under.root() + u"/x/y/z"_s).isDir());
    QCOMPARE(shellOutput(&runner, id, u"echo nested > /mnt/deep/f && cat /mnt/x/y/z/f"_s), QByteArray("nested\n"));
    QFile written(under.root() + u"/x/y/z/f"_s);
    QVERIFY(written.open(QIODevice::ReadOnly));
    QCOMPARE(written.readAll(), QByteArray("nested\n"));
    QVERIFY(removed(&runner, id));
}

void TestVolumeRace::readOnlyVolumesStayReadOnly()
{
    QFETCH(Kind, kind);
    const VolumeUnderTest under(kind);
    QVERIFY(under.isValid());
    QVERIFY(QDir(under.root()).mkdir(u"ro"_s));
    QFile file(under.root() + u"/ro/kept"_s);
    QVERIFY(file.open(QIODevice::WriteOnly) && file.write("v1\n") == 3);
    file.close();
    LocalRunner runner(under.options());
    const QString id = create(&runner, sandbox([&](SandboxRequest &r) {
        r.volumes = {under.volume(u"/mnt/ro"_s, u"ro"_s, true)};
    }));
    QVERIFY(!id.isEmpty());
    QCOMPARE(shellOutput(&runner, id, u"cat /mnt/ro/kept; echo v2 > /mnt/ro/kept || echo refused; "
                                       u"touch /mnt/ro/new || echo refused; mkdir /mnt/ro/d || echo refused"_s),
             QByteArray("v1\nrefused\nrefused\nrefused\n"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), QByteArray("v1\n"));
    QCOMPARE(QDir(under.root() + u"/ro"_s).entryList(QDir::NoDotAndDotDot | QDir::AllEntries), QStringList{u"kept"_s});
    QVERIFY(removed(&runner, id));
}

// A descriptor of a source left open in a sandbox's process would lead out of it:
// `openat(fd, "..")` walks up the host's tree from there.
void TestVolumeRace::noSourceDescriptorIsOpenInTheSandbox()
{
    const VolumeUnderTest pvc(Kind::Pvc);
    const VolumeUnderTest host(Kind::Host);
    QVERIFY(pvc.isValid() && host.isValid());
    LocalRunner::Options options = pvc.options();
    options.allowedHostPaths = host.options().allowedHostPaths;
    LocalRunner runner(options);
    const QString id = create(&runner, sandbox([&](SandboxRequest &r) {
        r.volumes = {pvc.volume(u"/mnt/pvc"_s), host.volume(u"/mnt/host"_s, QString(), true)};
    }));
    QVERIFY(!id.isEmpty());
    const QList<QByteArray> sources = {identity(pvc.root()), identity(host.root())};
    const auto holdsASource = [&sources](const QList<QByteArray> &files) {
        return std::any_of(sources.cbegin(), sources.cend(), [&files](const QByteArray &source) {
            return files.contains(source);
        });
    };

    // As the sandbox sees it: what its processes hold, as far as it may look.
    const QByteArray listing = shellOutput(&runner, id, u"ls -l /proc/[0-9]*/fd/"_s);
    const QByteArray inside = shellOutput(&runner, id, u"stat -L -c %d:%i /proc/[0-9]*/fd/* 2>/dev/null"_s);
    // The reading works: the command's own descriptors at least.
    QVERIFY2(!inside.trimmed().isEmpty(), listing.constData());
    QVERIFY2(!holdsASource(inside.split('\n')), listing.constData());

    // As the host sees it: bwrap's outer process, the agent and its commands, and the runner.
    const QList<LocalRunner::RecordedSandbox> recorded = LocalRunner::recordedSandboxes(options.stateDirectory);
    const auto record = std::find_if(recorded.cbegin(), recorded.cend(),
                                     [&id](const LocalRunner::RecordedSandbox &r) { return r.id == id; });
    QVERIFY(record != recorded.cend());
    const QList<qint64> processes = processTree(record->pid);
    QVERIFY2(processes.size() >= 2, "bwrap and the agent");
    for (const qint64 pid : processes)
        QVERIFY2(!holdsASource(openFiles(QString::number(pid))), qPrintable(u"process %1"_s.arg(pid)));
    QVERIFY(!holdsASource(openFiles(u"self"_s)));
    QVERIFY(removed(&runner, id));
}

void TestVolumeRace::noSourceDescriptorIsLeftInTheRunner()
{
    const VolumeUnderTest under(Kind::Pvc);
    QVERIFY(under.isValid());
    QVERIFY(QFile::link(u"/"_s, under.root() + u"/to-root"_s));
    LocalRunner runner(under.options());
    // The first sandbox opens what the runner keeps for all (its user namespace).
    const QString first = create(&runner);
    QVERIFY(removed(&runner, first));
    QTRY_VERIFY(runner.sandboxes().isEmpty());
    const QString layers = under.options().stateDirectory + u"/layers"_s;
    QTRY_VERIFY(layersRemoved(layers));
    const qsizetype before = openDescriptorCount();
    for (int round = 0; round < 5; ++round) {
        const QString id = create(&runner, sandbox([&](SandboxRequest &r) {
            r.volumes = {under.volume(u"/mnt/a"_s, u"a"_s), under.volume(u"/mnt/b"_s, u"b"_s, true)};
        }));
        QVERIFY(!id.isEmpty());
        QVERIFY(removed(&runner, id));
        // The first volume is opened before the second is refused.
        QCOMPARE(errorCodeOf(runner.createSandbox(sandbox([&](SandboxRequest &r) {
                     r.volumes = {under.volume(u"/mnt/a"_s, u"a"_s), under.volume(u"/mnt/b"_s, u"to-root"_s)};
                 }))),
                 u"VOLUME_INVALID_SUBPATH"_s);
    }
    QTRY_VERIFY(runner.sandboxes().isEmpty());
    QTRY_VERIFY(layersRemoved(layers));
    QCOMPARE(openDescriptorCount(), before);
}

QTEST_GUILESS_MAIN(TestVolumeRace)
#include "tst_volumerace.moc"
