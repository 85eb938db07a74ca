// Real sandboxes from bwrapArguments(), with the real agent as their first process: the
// isolation a sandbox promises, checked from inside it.
#include "agentconnection_p.h"
#include "sandboxlayout_p.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <functional>

#include <fcntl.h>

using namespace Qt::StringLiterals;
using namespace Sandflow::Internal;

namespace {

// A mount of the host's `path`, opened as the runner opens volume sources.
BindMount bindMount(const QString &path, const QString &target, bool readOnly)
{
    return {UniqueFd(::open(QFile::encodeName(path).constData(), O_PATH | O_CLOEXEC)), target, readOnly, {}};
}

struct Result
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

// One sandbox for the length of a test.
class Sandbox
{
public:
    /// `adjust` changes the default layout: isolated network, the host's system tree.
    explicit Sandbox(const std::function<void(SandboxLayout &)> &adjust = {})
    {
        SandboxLayout layout;
        layout.id = u"sandbox-test"_s;
        layout.agentPath = QStringLiteral(SANDFLOW_AGENT_PATH);
        layout.env = {u"PATH=/usr/local/bin:/usr/bin:/bin"_s, u"HOME=/workspace"_s};
        if (adjust)
            adjust(layout);
        QObject::connect(&connection, &AgentConnection::output, &connection,
                         [this](quint32, AgentConnection::Stream stream, const QByteArray &data) {
                             (stream == AgentConnection::Stream::Stdout ? current.out : current.err) += data;
                         });
        connection.start(bwrapProgram(), bwrapArguments(layout), [inherited = layout.inheritedDescriptors()] {
            for (const int fd : inherited)
                inheritAcrossExec(fd);
        });
    }

    // Stopped the way the runner stops a sandbox: close the control pipe, wait for it.
    ~Sandbox()
    {
        if (!connection.isRunning())
            return;
        QSignalSpy disconnected(&connection, &AgentConnection::disconnected);
        connection.closeControl();
        disconnected.wait(20'000);
    }

    /// Runs `script` with sh inside the sandbox and waits for it.
    Result run(const QString &script)
    {
        current = {};
        QSignalSpy exited(&connection, &AgentConnection::commandExited);
        connection.request({{u"op"_s, u"exec"_s},
                            {u"argv"_s, QJsonArray{u"/bin/sh"_s, u"-c"_s, script}},
                            {u"cwd"_s, u"/workspace"_s}});
        if (!exited.wait(20'000))
            qWarning("no exit for: %s", qPrintable(script));
        if (!exited.isEmpty())
            current.exitCode = exited.first().at(1).toJsonObject()[u"exitCode"_s].toInt(-1);
        return current;
    }

    AgentConnection connection;
    Result current;
};

} // namespace

class TestSandboxLayout : public QObject
{
    Q_OBJECT

private slots:
    void theAgentIsTheFirstProcessAndHostProcessesAreHidden();
    void theSystemTreeIsReadOnlyAndWorkspaceWritable();
    void hostFilesStayOutside();
    void noCapabilitiesNoNewPrivileges();
    void withoutAPolicyTheNetworkIsTheHosts();
    void bindMountsKeepTheirModeOnTheReadOnlyRoot();
    void closingTheControlPipeRemovesTheSandbox();
};

void TestSandboxLayout::theAgentIsTheFirstProcessAndHostProcessesAreHidden()
{
    Sandbox sandbox;
    const Result result = sandbox.run(u"ls /proc | grep -E '^[0-9]+$' | wc -l; cat /proc/1/cmdline | tr '\\0' ' '"_s);
    QCOMPARE(result.exitCode, 0);
    const QList<QByteArray> lines = result.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 2);
    // The agent (pid 1: no bwrap process inside), the shell and its two pipeline commands
    // at most.
    QVERIFY2(lines.at(0).toInt() <= 5, result.out.constData());
    QCOMPARE(lines.at(1).trimmed(), QByteArray(AgentPathInSandbox));
}

void TestSandboxLayout::theSystemTreeIsReadOnlyAndWorkspaceWritable()
{
    Sandbox sandbox;
    QVERIFY(sandbox.run(u"touch /usr/sandflow-test"_s).exitCode != 0);
    QVERIFY(sandbox.run(u"touch /etc/sandflow-test"_s).exitCode != 0);
    const Result workspace = sandbox.run(u"echo kept > /workspace/f && cat /workspace/f && pwd"_s);
    QCOMPARE(workspace.exitCode, 0);
    QCOMPARE(workspace.out, QByteArray("kept\n/workspace\n"));
    QCOMPARE(sandbox.run(u"echo x > /tmp/f && cat /tmp/f"_s).out, QByteArray("x\n"));
}

void TestSandboxLayout::hostFilesStayOutside()
{
    // A file the host has in /tmp and in its home, and a secret from /etc.
    QTemporaryDir hostDir(QDir::tempPath() + u"/sandflow-host-XXXXXX"_s);
    QVERIFY(hostDir.isValid());
    QFile marker(hostDir.filePath(u"marker"_s));
    QVERIFY(marker.open(QIODevice::WriteOnly));
    marker.close();
    Sandbox sandbox;
    const Result result = sandbox.run(u"test -e '%1' && echo visible; test -e /etc/shadow && echo shadow; "
                                      u"ls -A /root 2>/dev/null | wc -l; ls /home 2>/dev/null | wc -l"_s
                                          .arg(marker.fileName()));
    QCOMPARE(result.exitCode, 0);
    QCOMPARE(result.out, QByteArray("0\n0\n"));
}

void TestSandboxLayout::noCapabilitiesNoNewPrivileges()
{
    Sandbox sandbox;
    const Result result = sandbox.run(u"grep -E '^(CapEff|CapPrm|NoNewPrivs)' /proc/self/status"_s);
    QCOMPARE(result.exitCode, 0);
    QVERIFY2(result.out.contains("CapEff:\t0000000000000000"), result.out.constData());
    QVERIFY2(result.out.contains("CapPrm:\t0000000000000000"), result.out.constData());
    QVERIFY2(result.out.contains("NoNewPrivs:\t1"), result.out.constData());
}

// A sandbox without a network policy has the host's network (tst_egress covers the others).
void TestSandboxLayout::withoutAPolicyTheNetworkIsTheHosts()
{
    Sandbox open;
    QFile hostDev(u"/proc/net/dev"_s);
    QVERIFY(hostDev.open(QIODevice::ReadOnly));
    const int hostInterfaces = int(hostDev.readAll().trimmed().split('\n').size()) - 2;
    const Result shared = open.run(u"tail -n +3 /proc/net/dev | wc -l"_s);
    QCOMPARE(shared.out.trimmed().toInt(), hostInterfaces);
}

void TestSandboxLayout::bindMountsKeepTheirModeOnTheReadOnlyRoot()
{
    QTemporaryDir host;
    QVERIFY(host.isValid());
    QVERIFY(QDir(host.path()).mkpath(u"ro"_s) && QDir(host.path()).mkpath(u"rw"_s));
    QFile file(host.filePath(u"settings"_s));
    QVERIFY(file.open(QIODevice::WriteOnly) && file.write("v1\n") == 3);
    file.close();
    // Mount points that neither the host's tree nor the root tmpfs has yet, two levels deep.
    Sandbox sandbox([&host](SandboxLayout &layout) {
        layout.mounts.push_back(bindMount(host.filePath(u"ro"_s), u"/data/ro"_s, true));
        layout.mounts.push_back(bindMount(host.filePath(u"rw"_s), u"/data/rw"_s, false));
        layout.mounts.push_back(bindMount(host.filePath(u"settings"_s), u"/config/settings"_s, true));
    });
    QVERIFY(sandbox.run(u"touch /data/ro/f"_s).exitCode != 0);
    QVERIFY(sandbox.run(u"echo v2 > /config/settings"_s).exitCode != 0);
    QCOMPARE(sandbox.run(u"cat /config/settings"_s).out, QByteArray("v1\n"));
    QCOMPARE(sandbox.run(u"echo written > /data/rw/f"_s).exitCode, 0);
    QFile written(host.filePath(u"rw/f"_s));
    QVERIFY(written.open(QIODevice::ReadOnly));
    QCOMPARE(written.readAll(), QByteArray("written\n"));
    QVERIFY(!QFile::exists(host.filePath(u"ro/f"_s)));
    // The mount points went onto the root before it turned read-only.
    QVERIFY(sandbox.run(u"touch /data/new"_s).exitCode != 0);
    QVERIFY(sandbox.run(u"touch /new"_s).exitCode != 0);
}

void TestSandboxLayout::closingTheControlPipeRemovesTheSandbox()
{
    Sandbox sandbox;
    const Result started = sandbox.run(u"sleep 300 >/dev/null 2>&1 & echo $!; readlink /proc/self/ns/pid"_s);
    QCOMPARE(started.exitCode, 0);
    const qint64 bwrap = sandbox.connection.processId();
    QVERIFY(bwrap > 0);
    const QString namespaceId = QString::fromUtf8(started.out.split('\n').value(1));
    QVERIFY(namespaceId.startsWith(u"pid:["_s));
    const auto survivors = [&] {
        QStringList found;
        const QStringList pids = QDir(u"/proc"_s).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        for (const QString &pid : pids) {
            if (QFileInfo(u"/proc/%1/ns/pid"_s.arg(pid)).symLinkTarget().endsWith(namespaceId))
                found.append(pid);
        }
        return found;
    };
    // The agent, which is the sandbox's init, and the sleep, seen from the host.
    QVERIFY(survivors().size() >= 2);
    QSignalSpy disconnected(&sandbox.connection, &AgentConnection::disconnected);
    sandbox.connection.closeControl();
    QVERIFY(disconnected.wait(20'000));
    QTRY_VERIFY(::kill(pid_t(bwrap), 0) != 0);
    // The kernel tears the namespace down as its last processes are reaped.
    QTRY_COMPARE_WITH_TIMEOUT(survivors(), QStringList(), 10'000);
}

QTEST_GUILESS_MAIN(TestSandboxLayout)
#include "tst_sandboxlayout.moc"
