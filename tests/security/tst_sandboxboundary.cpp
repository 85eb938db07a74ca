// Attacks from inside a sandbox on what surrounds it, against the local runner in this
// process and through a real `sandflow serve`: the runner's environment, its descriptors
// (the agent's pipes, its stderr, its terminal), the agent itself, and the kernel's knobs
// in /proc. Each case runs commands in a real sandbox and looks from there.
#include "localrunnertesting.h"
#include "opensandboxrunner.h"
#include "serveprocess.h"

#include "sandboxuserns_p.h"
#include "uniquefd_p.h"

#include <QDir>
#include <QFileInfo>
#include <QSet>
#include <QTemporaryDir>
#include <QTemporaryFile>

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Sandflow;
using namespace RunnerTesting;
using namespace Qt::StringLiterals;

namespace {

// In the environment of the test and of the server it starts: a sandbox must never see it.
constexpr char SecretName[] = "SANDFLOW_TEST_SECRET";
constexpr char SecretValue[] = "do-not-leak-7f3a9c";
const QString ApiKey = u"boundary-test-key"_s;

/// "DEV:INO" of every descriptor `pid` holds, except the harmless devices every sandbox gets
/// its own binding of anyway (/dev/null and friends).
QSet<QString> descriptorsOf(qint64 pid)
{
    static const QStringList harmless = {u"/dev/null"_s, u"/dev/zero"_s, u"/dev/full"_s, u"/dev/random"_s,
                                         u"/dev/urandom"_s};
    QSet<QString> identities;
    const QDir fds(u"/proc/%1/fd"_s.arg(pid));
    for (const QString &fd : fds.entryList(QDir::System | QDir::NoDotAndDotDot)) {
        const QString path = fds.filePath(fd);
        if (harmless.contains(QFileInfo(path).symLinkTarget()))
            continue;
        struct stat status;
        if (::stat(QFile::encodeName(path).constData(), &status) == 0)
            identities.insert(u"%1:%2"_s.arg(status.st_dev).arg(status.st_ino));
    }
    return identities;
}

} // namespace

class TestSandboxBoundary : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase_data();
    void initTestCase();
    void init();
    void cleanup();
    void cleanupTestCase();

    void runnerEnvironmentStaysOutside();
    void noDescriptorOfTheRunnerReachesTheSandbox();
    void agentIsClosedToCommands();
    void commandsCannotStopTheAgent();
    void kernelKnobsAreHidden();
    void linksInVolumesAreNotFollowed();
    void fileOperationsStayInside();
    void rootIsNotTheHostsRoot();
    void keyringsAndNewUserNamespacesAreClosed();
    void noMountsAndNoHostProcesses();
    void volumesMapOnlyTheSandboxesIds();
    void memoryIsBoundedByDefault();
    void tmpfsFilesCountAgainstTheLimit();

private:
    /// The runner of the current data row, and the process on the host that runs its
    /// sandboxes (this one, or the server).
    Runner *runner();
    qint64 hostProcess();
    QByteArray shell(const QString &text) { return shellOutput(runner(), m_id, text); }

    QTemporaryDir m_stateDir;       ///< serve's and the local runner's: pvc volumes live here
    ServeProcess m_server;
    std::unique_ptr<LocalRunner> m_local;
    std::unique_ptr<OpenSandboxRunner> m_remote;
    QString m_id;
};

// Every case runs against both.
void TestSandboxBoundary::initTestCase_data()
{
    QTest::addColumn<bool>("serve");
    QTest::newRow("local runner") << false;
    QTest::newRow("sandflow serve") << true;
}

Runner *TestSandboxBoundary::runner()
{
    QFETCH_GLOBAL(bool, serve);
    return serve ? static_cast<Runner *>(m_remote.get()) : m_local.get();
}

qint64 TestSandboxBoundary::hostProcess()
{
    QFETCH_GLOBAL(bool, serve);
    return serve ? m_server.process().processId() : ::getpid();
}

void TestSandboxBoundary::initTestCase()
{
    QVERIFY(m_stateDir.isValid());
    qputenv(SecretName, SecretValue);
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"OPEN_SANDBOX_API_KEY"_s, ApiKey);
    QVERIFY2(m_server.start(QStringLiteral(SANDFLOW_BINARY), m_stateDir.path(), ApiKey, {}, environment),
             qPrintable(m_server.failure()));
    LocalRunner::Options local = runnerOptions();
    local.stateDirectory = m_stateDir.path();
    m_local = std::make_unique<LocalRunner>(local);
    OpenSandboxRunner::Options options;
    options.server.domain = m_server.url();
    options.server.apiKey = ApiKey;
    m_remote = std::make_unique<OpenSandboxRunner>(options);
}

void TestSandboxBoundary::init()
{
    TestWarnings::failOnAnyWarning();
    // serve, as OpenSandbox servers do, wants an image; the local runner takes it as a label.
    m_id = create(runner(), sandbox([](SandboxRequest &request) { request.image = u"debian:12"_s; }));
    QVERIFY(!m_id.isEmpty());
}

void TestSandboxBoundary::cleanup()
{
    if (!m_id.isEmpty())
        QCOMPARE(errorCodeOf(runner()->deleteSandbox(m_id)), QString());
    m_id.clear();
}

void TestSandboxBoundary::cleanupTestCase()
{
    m_remote.reset();
    m_local.reset();
    QVERIFY2(m_server.stop(), qPrintable(m_server.failure()));
}

// bubblewrap is the sandbox's parent: whatever environment it was started with, a process
// of the sandbox could read from /proc/PID/environ.
void TestSandboxBoundary::runnerEnvironmentStaysOutside()
{
    const QByteArray environments = shell(u"cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'"_s);
    // The reading works: the sandbox's own variables are there.
    QVERIFY2(environments.contains("HOME=/workspace\n"), environments.constData());
    QVERIFY2(!environments.contains(SecretValue), environments.constData());
    QVERIFY2(!environments.contains(ApiKey.toUtf8()), environments.constData());
}

// The runner's pipes to the agent, its stderr (the run's log, or a terminal), its sockets:
// no process of the sandbox may hold or reach one, through /proc or by inheritance.
void TestSandboxBoundary::noDescriptorOfTheRunnerReachesTheSandbox()
{
    const QByteArray seen = shell(u"for f in /proc/[0-9]*/fd/*; do stat -L -c '%d:%i' \"$f\" 2>/dev/null; done"_s);
    const QStringList lines = QString::fromUtf8(seen).split(u'\n', Qt::SkipEmptyParts);
    const QSet<QString> inside(lines.cbegin(), lines.cend());
    // The command's own descriptors at least.
    QVERIFY2(!inside.isEmpty(), seen.constData());
    const QSet<QString> runners = descriptorsOf(hostProcess());
    QVERIFY(!runners.isEmpty());
    const QSet<QString> shared = inside & runners;
    QVERIFY2(shared.isEmpty(), qPrintable(QStringList(shared.cbegin(), shared.cend()).join(u", "_s)));
}

// The agent holds the runner's pipes: a command that opened them could answer the runner in
// the agent's place.
void TestSandboxBoundary::agentIsClosedToCommands()
{
    QCOMPARE(shell(u"cat /proc/1/cmdline | tr '\\0' ' '"_s).trimmed(), QByteArray("/.sandflow/agent"));
    QCOMPARE(shell(u"stat -L /proc/1/fd/0 >/dev/null 2>&1 && echo open || echo closed"_s), QByteArray("closed\n"));
    QCOMPARE(shell(u"test -r /proc/1/environ && cat /proc/1/environ >/dev/null 2>&1 && echo open || echo closed"_s),
             QByteArray("closed\n"));
    // Nor can a command attach to it, or to the file tool it starts.
    QCOMPARE(shell(u"python3 -c 'import ctypes; l=ctypes.CDLL(None); "
                   u"print(\"open\" if l.ptrace(16, 1, 0, 0) == 0 else \"closed\")'"_s),
             QByteArray("closed\n"));
}

// Init of a pid namespace ignores signals it has no handler for when they come from inside.
void TestSandboxBoundary::commandsCannotStopTheAgent()
{
    shell(u"for p in /proc/[0-9]*; do case \"$(tr '\\0' ' ' < $p/cmdline 2>/dev/null)\" in "
          u"'/.sandflow/agent ') kill -STOP ${p#/proc/}; kill -KILL ${p#/proc/};; esac; done; true"_s);
    std::unique_ptr<CommandJob> job(runner()->runCommand(m_id, command(u"echo alive"_s)));
    QCOMPARE(collect(job.get()).out, QByteArray("alive\n"));
}

// What a container runtime hides or makes read-only in /proc (runc's masked and read-only
// paths): host memory, kernel keys and timers, and every writable kernel knob.
void TestSandboxBoundary::kernelKnobsAreHidden()
{
    // Each of them that this kernel has is covered by a mount of its own: the checks of
    // their contents below cannot pass merely because a host lacks a file or leaves it empty.
    const QByteArray uncovered = shell(
        u"n=0; for p in /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list /proc/timer_stats "
        u"/proc/sched_debug /proc/sysrq-trigger /proc/acpi /proc/asound /proc/scsi /proc/sys; do "
        u"[ -e $p ] || continue; n=$((n+1)); awk -v p=$p '$5 == p {f=1} END {exit !f}' /proc/self/mountinfo "
        u"|| echo \"uncovered $p\"; done; echo \"checked $n\""_s);
    QVERIFY2(uncovered.startsWith("checked ") && !uncovered.startsWith("checked 0"), uncovered.constData());
    QCOMPARE(shell(u"head -c 16 /proc/kcore 2>/dev/null | wc -c"_s).trimmed(), QByteArray("0"));
    QCOMPARE(shell(u"cat /proc/keys /proc/timer_list /proc/sched_debug 2>/dev/null | wc -c"_s).trimmed(),
             QByteArray("0"));
    QCOMPARE(shell(u"ls -A /proc/acpi /proc/scsi 2>/dev/null | grep -v ':$' | grep -c . || true"_s).trimmed(),
             QByteArray("0"));
    // Read-only, as root in the sandbox would otherwise try to write them.
    for (const QString &knob : {u"/proc/sys/kernel/core_pattern"_s, u"/proc/sysrq-trigger"_s,
                                u"/proc/sys/dev/tty/legacy_tiocsti"_s}) {
        const QByteArray written = shell(u"if [ -e %1 ]; then (printf x > %1) 2>/dev/null && echo written || "
                                         u"echo refused; else echo refused; fi"_s.arg(knob));
        QVERIFY2(written == "refused\n", qPrintable(knob));
    }
    // Not hidden: what programs need.
    QVERIFY(shell(u"cat /proc/meminfo /proc/cpuinfo /proc/self/status | wc -l"_s).trimmed().toInt() > 10);
}

// A link in a volume, planted by a sandbox that shares it, is not followed for the next
// sandbox, not even to a place inside the volume: a sandbox can swap what a link leads to
// (tst_volumerace runs that race on the same resolution, which serve shares).
void TestSandboxBoundary::linksInVolumesAreNotFollowed()
{
    const QString volume = m_stateDir.filePath(u"volumes/shared"_s);
    QVERIFY(QDir().mkpath(volume + u"/inner"_s));
    QFile::remove(volume + u"/escape"_s);
    QVERIFY(QFile::link(u"inner"_s, volume + u"/escape"_s));
    SandboxVolume escape;
    escape.name = u"shared"_s;
    escape.kind = SandboxVolume::Kind::Pvc;
    escape.claimName = u"shared"_s;
    escape.mountPath = u"/mnt/v"_s;
    escape.subPath = u"escape"_s;
    std::unique_ptr<SandboxJob> job(run(runner()->createSandbox(sandbox([&](SandboxRequest &request) {
        request.image = u"debian:12"_s;
        request.volumes = {escape};
    }))));
    QVERIFY2(job->error(), "a sandbox was made through a link in its volume");
    QVERIFY2(job->error()->message.contains(u"escape"_s), qPrintable(job->error()->message));
}

// Root in a sandbox is not the host's root: its ids are a range of the sandboxes' own. A
// service of the host that trusts uid 0 (here, one on an abstract socket, which a sandbox on
// the host's network reaches) finds another id at the other end.
void TestSandboxBoundary::rootIsNotTheHostsRoot()
{
    if (::geteuid() != 0)
        QSKIP("a runner maps its sandboxes to a range of ids when it runs as root");
    // Listening, not accepting: the kernel keeps the peer's credentials of the time it
    // connected, whenever the connection is accepted.
    const Internal::UniqueFd service(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    QVERIFY(service.isValid());
    const QByteArray name = "sandflow-boundary-" + QByteArray::number(::getpid());
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::copy(name.cbegin(), name.cend(), address.sun_path + 1);   // abstract: a leading NUL
    const auto length = socklen_t(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    QCOMPARE(::bind(service.get(), reinterpret_cast<sockaddr *>(&address), length), 0);
    QCOMPARE(::listen(service.get(), 1), 0);
    QCOMPARE(shell(u"id -u; python3 -c \"import socket; s = socket.socket(socket.AF_UNIX); "
                   u"s.connect('\\0%1'); print('connected')\""_s.arg(QString::fromLatin1(name))),
             QByteArray("0\nconnected\n"));
    const Internal::UniqueFd peer(::accept4(service.get(), nullptr, nullptr, SOCK_CLOEXEC));
    QVERIFY(peer.isValid());
    ucred credentials{};
    socklen_t credentialsLength = sizeof credentials;
    QCOMPARE(::getsockopt(peer.get(), SOL_SOCKET, SO_PEERCRED, &credentials, &credentialsLength), 0);
    QCOMPARE(credentials.uid, Internal::SandboxUserNamespaces::FirstHostId);
    QCOMPARE(credentials.gid, Internal::SandboxUserNamespaces::FirstHostId);
}

// The kernel's keyrings are not namespaced per sandbox: sandboxes of one runner share root's
// user keyring, so what one stored there the next could read. Inside a new user namespace a
// command would hold every capability again. The sandbox's seccomp filter closes both, as
// Docker's default profile does.
void TestSandboxBoundary::keyringsAndNewUserNamespacesAreClosed()
{
    // add_key("user", "sandflow-boundary", "secret", 6, KEY_SPEC_USER_KEYRING), and
    // keyctl(KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user", "sandflow-boundary", 0).
    const QString python = u"python3 -c \"import ctypes, os; l = ctypes.CDLL(None, use_errno=True); "
                           u"r = l.syscall(%1); print('%2' if r >= 0 else os.strerror(ctypes.get_errno()))\""_s;
    const QString store = python.arg(u"%1, b'user', b'sandflow-boundary', b'secret', 6, -4"_s.arg(SYS_add_key),
                                     u"stored"_s);
    const QString search = python.arg(u"%1, 10, -4, b'user', b'sandflow-boundary', 0"_s.arg(SYS_keyctl),
                                      u"found"_s);
    QCOMPARE(shell(store), QByteArray("Operation not permitted\n"));
    const QString other = create(runner(), sandbox([](SandboxRequest &request) { request.image = u"debian:12"_s; }));
    QVERIFY(!other.isEmpty());
    const QByteArray searched = shellOutput(runner(), other, search);
    QCOMPARE(errorCodeOf(runner()->deleteSandbox(other)), QString());
    QCOMPARE(searched, QByteArray("Operation not permitted\n"));
    QCOMPARE(shell(u"unshare --user true 2>/dev/null && echo made || echo refused"_s), QByteArray("refused\n"));
}

// Root in a sandbox mounts nothing, not even over its own writable directories, and sees no
// process of the host to signal or trace: only its own pid namespace's.
void TestSandboxBoundary::noMountsAndNoHostProcesses()
{
    QCOMPARE(shell(u"mount -t tmpfs none /workspace 2>/dev/null && echo mounted || echo refused; "
                   u"mount --bind /tmp /workspace 2>/dev/null && echo bound || echo refused"_s),
             QByteArray("refused\nrefused\n"));
    // The host process that runs the sandbox is not there to be seen, traced or killed.
    const qint64 host = hostProcess();
    // Its pid, inside, is nobody or one of the sandbox's own processes.
    QCOMPARE(shell(u"kill -0 %1 2>/dev/null && grep -qa sandflow /proc/%1/cmdline && echo reached || echo unreached"_s
                       .arg(host)),
             QByteArray("unreached\n"));
}

// A volume is mapped to the sandboxes' ids: its files keep their owners inside, what the
// sandbox's root writes there is the host's root's, as in a container, and a file of a host
// id beyond the range stays nobody's, out of the sandbox's reach even for its root.
void TestSandboxBoundary::volumesMapOnlyTheSandboxesIds()
{
    if (::geteuid() != 0)
        QSKIP("a runner maps its sandboxes to a range of ids when it runs as root");
    const QString volume = m_stateDir.filePath(u"volumes/owners"_s);
    QVERIFY(QDir().mkpath(volume));
    // Writable for the sandbox's user 1234 too.
    QCOMPARE(::chmod(QFile::encodeName(volume).constData(), 01777), 0);
    const auto plant = [&volume](const QString &name, uid_t owner) {
        QFile file(volume + u'/' + name);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write("secret\n") != 7)
            return false;
        file.close();
        const QByteArray path = QFile::encodeName(file.fileName());
        return ::chown(path.constData(), owner, owner) == 0 && ::chmod(path.constData(), 0600) == 0;
    };
    QVERIFY(plant(u"user"_s, 1234));
    QVERIFY(plant(u"beyond"_s, 70000));
    SandboxVolume owners;
    owners.name = u"owners"_s;
    owners.kind = SandboxVolume::Kind::Pvc;
    owners.claimName = u"owners"_s;
    owners.mountPath = u"/mnt/v"_s;
    const QString id = create(runner(), sandbox([&](SandboxRequest &request) {
        request.image = u"debian:12"_s;
        request.volumes = {owners};
    }));
    QVERIFY(!id.isEmpty());
    const QByteArray seen = shellOutput(runner(), id,
        u"cd /mnt/v; stat -c '%u %n' user beyond; cat user; cat beyond 2>/dev/null || echo refused; "
        u"(echo mine > root-made && setpriv --reuid 1234 --regid 1234 --clear-groups sh -c 'echo u > user-made') "
        u"2>&1"_s);
    QCOMPARE(errorCodeOf(runner()->deleteSandbox(id)), QString());
    QCOMPARE(seen, QByteArray("1234 user\n65534 beyond\nsecret\nrefused\n"));
    for (const auto &[name, owner] : {std::pair{u"root-made"_s, 0u}, std::pair{u"user-made"_s, 1234u}}) {
        struct stat status;
        QCOMPARE(::stat(QFile::encodeName(volume + u'/' + name).constData(), &status), 0);
        QCOMPARE(status.st_uid, owner);
    }
}

// The file operations of the API act inside the sandbox, whatever path a client names: `..`
// climbs no higher than the sandbox's root, and a link or /proc leads to the sandbox's own
// files, never the host's.
void TestSandboxBoundary::fileOperationsStayInside()
{
    const QString name = u"sandflow-boundary-%1"_s.arg(::getpid());
    const QString climbing = u"/workspace/../../../../../../tmp/"_s + name;
    resultOf(runner()->uploadFile(m_id, climbing, FilePermissions{}, bytes("inside\n")));
    QVERIFY2(!QFile::exists(u"/tmp/"_s + name), "an upload climbed out of its sandbox");
    QCOMPARE(shell(u"cat /tmp/"_s + name), QByteArray("inside\n"));
    // Through a link to `/` and through /proc, the file is the sandbox's, which the host has
    // not. The agent's own root (/proc/1/root) may also be closed: no answer is no escape.
    shell(u"ln -s / /workspace/root-link"_s);
    for (const QString &path : {u"/workspace/root-link/tmp/"_s + name, u"/proc/self/root/tmp/"_s + name,
                                u"/proc/1/root/tmp/"_s + name}) {
        const Read read = readAll(runner()->downloadFile(m_id, path, 0, -1));
        QVERIFY2(read.data == "inside\n" || (read.error && read.data.isEmpty()),
                 qPrintable(path + u": "_s + QString::fromUtf8(read.data)));
    }
}

// A request that names no memory gets 2 GiB, as OpenSandbox's SDKs ask by default, through
// serve too; /tmp and /workspace (tmpfs: memory) are that size, not half the machine's.
void TestSandboxBoundary::memoryIsBoundedByDefault()
{
    const SandboxMetrics metrics = resultOf(runner()->metrics(m_id));
    QCOMPARE(metrics.memoryTotalMiB, 2048.0);
    QCOMPARE(shell(u"df -k --output=size /tmp /workspace | tail -n +2 | tr -d ' '"_s), QByteArray("2097152\n2097152\n"));
}

// Files in /tmp are memory, charged to the sandbox's memory group: even with a tmpfs larger
// than its limit, a sandbox cannot hold more than the limit in them.
void TestSandboxBoundary::tmpfsFilesCountAgainstTheLimit()
{
    QFETCH_GLOBAL(bool, serve);
    if (serve)
        QSKIP("the limit's size is the runner's option; serve's default is checked above");
    LocalRunner::Options options = runnerOptions();
    options.defaultMemoryBytes = 64 << 20;
    options.tmpfsSizeBytes = 1 << 30;
    LocalRunner small(options);
    const QString id = create(&small, sandbox([](SandboxRequest &request) { request.image = u"debian:12"_s; }));
    QVERIFY(!id.isEmpty());
    // The write ends with the command killed for memory (the kernel may pick any command of
    // the sandbox, so nothing is asked of a shell around it) or refused: it does not finish.
    std::unique_ptr<CommandJob> fill(small.runCommand(id, command(u"head -c 200M /dev/zero > /tmp/fill"_s)));
    collect(fill.get());
    QVERIFY2(fill->error() || fill->exitCode() != std::optional<int>(0),
             qPrintable(u"exit %1"_s.arg(fill->exitCode().value_or(-1))));
    // What the file holds stays in the sandbox's memory, within its limit, seen from outside:
    // a command inside would find that memory taken.
    const SandboxMetrics metrics = resultOf(small.metrics(id));
    QCOMPARE(metrics.memoryTotalMiB, 64.0);
    QVERIFY2(metrics.memoryUsedMiB <= 64, qPrintable(QString::number(metrics.memoryUsedMiB)));
    QCOMPARE(errorCodeOf(small.deleteSandbox(id)), QString());
}

QTEST_GUILESS_MAIN(TestSandboxBoundary)
#include "tst_sandboxboundary.moc"
