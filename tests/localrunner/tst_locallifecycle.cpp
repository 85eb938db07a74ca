// The lifecycle of local sandboxes through the Runner interface: lookups, listing with
// filters and pages, renewal, metadata and metrics.
#include "localrunnertesting.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QThread>

using namespace Sandflow;
using namespace RunnerTesting;
using namespace Qt::StringLiterals;

namespace {

/// The runner measures CPU use over a window at least this long (a 250 ms timer between
/// its two readings of the cgroup).
constexpr double MinWindowNs = 250e6;
/// How far a reading of cpuacct.usage may lag behind: the kernel adds a running task's time
/// at its scheduler tick, at worst 10 ms apart (HZ=100).
constexpr double TickNs = 10e6;

/// CPU time used by the processes of sandbox `id`, from the cgroup the runner reads too.
qint64 cgroupCpuNs(const QString &id)
{
    QFile usage(u"/sys/fs/cgroup/cpuacct/sandflow/%1/cpuacct.usage"_s.arg(id));
    return usage.open(QIODevice::ReadOnly) ? usage.readAll().trimmed().toLongLong() : -1;
}

/// The metrics of a one-core sandbox whose processes use at most one core at a time, and
/// the range of CPU figures that the test's own readings of the cgroup, taken around the
/// runner's, leave possible, whatever share of a core the machine's load gave the sandbox.
struct BracketedMetrics
{
    SandboxMetrics metrics;
    double minPercent = 0;
    double maxPercent = 0;

    bool consistent() const { return metrics.cpuUsedPercent >= minPercent && metrics.cpuUsedPercent <= maxPercent; }
    QString text() const
    {
        return u"%1% reported, %2% to %3% possible"_s.arg(metrics.cpuUsedPercent).arg(minPercent).arg(maxPercent);
    }
};

BracketedMetrics measure(LocalRunner *runner, const QString &id, SourceLocation where = SourceLocation::current())
{
    QElapsedTimer wall;
    wall.start();
    const qint64 before = cgroupCpuNs(id);
    BracketedMetrics result;
    result.metrics = resultOf(runner->metrics(id), where);
    const double usedNs = double(cgroupCpuNs(id) - before);
    const double wallNs = double(wall.nsecsElapsed());
    // The runner's window lies within the test's and lasts at least MinWindowNs. So the CPU
    // time in it is at most what the test saw, and at least that less what one core could
    // use in the rest of the test's window; each pair of readings may be a tick apart.
    result.maxPercent = 100 * (usedNs + 2 * TickNs) / MinWindowNs;
    result.minPercent = 100 * (usedNs - (wallNs - MinWindowNs) - 2 * TickNs) / wallNs;
    return result;
}

} // namespace

class TestLocalLifecycle : public QObject
{
    Q_OBJECT

private slots:
    void init() { TestWarnings::failOnAnyWarning(); }

    void getDescribesTheSandbox();
    void listFiltersAndPages();
    void renewMovesTheExpiryBothWays();
    void renewNeedsAFutureTimeAndAnExpiry();
    void metadataIsPatched();
    void metricsComeFromTheSandboxCgroups();
};

void TestLocalLifecycle::getDescribesTheSandbox()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, sandbox([](SandboxRequest &r) {
        r.metadata = {{u"team"_s, u"ml"_s}};
        r.timeoutMs = 60'000;
    }));
    const SandboxInfo info = resultOf(runner.getSandbox(id));
    QCOMPARE(info.id, id);
    QCOMPARE(info.state, SandboxState::Running);
    QCOMPARE(info.metadata, (QMap<QString, QString>{{u"team"_s, u"ml"_s}}));
    QCOMPARE(info.expiresAt, info.createdAt.addMSecs(60'000));
    QCOMPARE(errorCodeOf(runner.getSandbox(u"missing"_s)), u"SANDBOX_NOT_FOUND"_s);
}

void TestLocalLifecycle::listFiltersAndPages()
{
    LocalRunner runner(runnerOptions());
    QStringList ids;   // oldest first
    const QList<QMap<QString, QString>> metadata = {{{u"team"_s, u"a"_s}, {u"tier"_s, u"gold"_s}},
                                                    {{u"team"_s, u"a"_s}, {u"tier"_s, u"free"_s}},
                                                    {{u"team"_s, u"b"_s}, {u"tier"_s, u"gold"_s}}};
    for (const QMap<QString, QString> &pairs : metadata) {
        ids.append(create(&runner, sandbox([&pairs](SandboxRequest &r) { r.metadata = pairs; })));
        QThread::msleep(5);   // distinct creation times, so the order is defined
    }
    QCOMPARE(errorCodeOf(runner.pauseSandbox(ids[1])), QString());

    const auto list = [&](const std::function<void(SandboxFilter &)> &set) {
        SandboxFilter filter;
        set(filter);
        QStringList found;
        for (const SandboxInfo &info : resultOf(runner.listSandboxes(filter)).items)
            found.append(info.id);
        return found;
    };
    QCOMPARE(list([](SandboxFilter &) {}), (QStringList{ids[2], ids[1], ids[0]}));
    QCOMPARE(list([](SandboxFilter &f) { f.states = {u"running"_s}; }), (QStringList{ids[2], ids[0]}));
    QCOMPARE(list([](SandboxFilter &f) { f.states = {u"Paused"_s, u"RUNNING"_s}; }), (QStringList{ids[2], ids[1], ids[0]}));
    QCOMPARE(list([](SandboxFilter &f) { f.metadata = {{u"team"_s, u"a"_s}}; }), (QStringList{ids[1], ids[0]}));
    QCOMPARE(list([](SandboxFilter &f) { f.metadata = {{u"team"_s, u"a"_s}, {u"tier"_s, u"gold"_s}}; }),
             (QStringList{ids[0]}));
    QCOMPARE(list([](SandboxFilter &f) {
                 f.metadata = {{u"team"_s, u"a"_s}};
                 f.states = {u"Running"_s};
             }),
             (QStringList{ids[0]}));
    QCOMPARE(list([](SandboxFilter &f) { f.metadata = {{u"team"_s, u""_s}}; }), QStringList());

    SandboxFilter paged;
    paged.pageSize = 2;
    paged.page = 2;
    const SandboxPage page = resultOf(runner.listSandboxes(paged));
    QCOMPARE(page.items.size(), 1);
    QCOMPARE(page.items.first().id, ids[0]);
    QCOMPARE(page.totalItems, 3);
    QCOMPARE(page.totalPages, 2);
    QCOMPARE(page.hasNextPage, false);
    paged.page = 1;
    QCOMPARE(resultOf(runner.listSandboxes(paged)).hasNextPage, true);
    paged.page = 5;
    const SandboxPage beyond = resultOf(runner.listSandboxes(paged));
    QVERIFY(beyond.items.isEmpty());
    QCOMPARE(beyond.totalItems, 3);
}

void TestLocalLifecycle::renewMovesTheExpiryBothWays()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, sandbox([](SandboxRequest &r) { r.timeoutMs = 60'000; }));
    const QDateTime later = QDateTime::currentDateTimeUtc().addSecs(3600);
    QCOMPARE(resultOf(runner.renewSandbox(id, later)), later);
    QCOMPARE(resultOf(runner.getSandbox(id)).expiresAt, later);

    // Shortening is allowed: the sandbox then goes at the new time.
    const QDateTime soon = QDateTime::currentDateTimeUtc().addMSecs(300);
    QCOMPARE(resultOf(runner.renewSandbox(id, soon)), soon);
    QTRY_COMPARE_WITH_TIMEOUT(errorCodeOf(runner.getSandbox(id)), u"SANDBOX_NOT_FOUND"_s, 10'000);
}

void TestLocalLifecycle::renewNeedsAFutureTimeAndAnExpiry()
{
    LocalRunner runner(runnerOptions());
    const QString expiring = create(&runner, sandbox([](SandboxRequest &r) { r.timeoutMs = 60'000; }));
    QCOMPARE(errorCodeOf(runner.renewSandbox(expiring, QDateTime::currentDateTimeUtc().addSecs(-1))),
             u"INVALID_EXPIRATION"_s);
    QCOMPARE(errorCodeOf(runner.renewSandbox(expiring, QDateTime())), u"INVALID_EXPIRATION"_s);
    const QString unlimited = create(&runner);
    QCOMPARE(errorCodeOf(runner.renewSandbox(unlimited, QDateTime::currentDateTimeUtc().addSecs(60))),
             u"SANDBOX_NO_EXPIRY"_s);
    QCOMPARE(errorCodeOf(runner.renewSandbox(u"missing"_s, QDateTime::currentDateTimeUtc().addSecs(60))),
             u"SANDBOX_NOT_FOUND"_s);
}

void TestLocalLifecycle::metadataIsPatched()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, sandbox([](SandboxRequest &r) { r.metadata = {{u"a"_s, u"1"_s}, {u"b"_s, u"2"_s}}; }));
    const SandboxInfo patched = resultOf(runner.updateMetadata(
        id, {{u"b"_s, std::nullopt}, {u"c"_s, u"3"_s}, {u"a"_s, u"one"_s}, {u"absent"_s, std::nullopt}}));
    const QMap<QString, QString> expected = {{u"a"_s, u"one"_s}, {u"c"_s, u"3"_s}};
    QCOMPARE(patched.metadata, expected);
    QCOMPARE(resultOf(runner.getSandbox(id)).metadata, expected);
    QCOMPARE(resultOf(runner.updateMetadata(id, {})).metadata, expected);
}

void TestLocalLifecycle::metricsComeFromTheSandboxCgroups()
{
    LocalRunner runner(runnerOptions());
    const QString id = create(&runner, sandbox([](SandboxRequest &r) {
        r.cpus = 1;
        r.memoryBytes = 256ll << 20;
    }));
    const BracketedMetrics idle = measure(&runner, id);
    QCOMPARE(idle.metrics.cpuCount, 1.0);
    QCOMPARE(idle.metrics.memoryTotalMiB, 256.0);
    QVERIFY2(idle.consistent(), qPrintable(idle.text()));
    QVERIFY2(idle.metrics.cpuUsedPercent < 20, qPrintable(idle.text()));
    QVERIFY(idle.metrics.timestamp.isValid());

    // A busy loop shows as CPU use, and files in the sandbox's tmpfs as memory.
    std::unique_ptr<CommandJob> spin(run(runner.runCommand(id, command(u"while :; do :; done"_s, [](CommandRequest &r) {
        r.background = true;
    }))));
    QVERIFY(!spin->error());
    QCOMPARE(shellOutput(&runner, id, u"head -c 50000000 /dev/zero > /tmp/fill && echo ok"_s), QByteArray("ok\n"));
    // How much of a core the loop gets depends on the machine's load, so no reading is
    // expected to reach a fixed share. Each must fit what the test saw the cgroup use around
    // it; readings go on until one in which the loop provably had a fifth of the core, which
    // load only delays (the loop gets some share of a core even beside many others).
    BracketedMetrics busy;
    const QDeadlineTimer deadline(60'000);
    do {
        busy = measure(&runner, id);
        QVERIFY2(busy.consistent(), qPrintable(busy.text()));
    } while (busy.minPercent < 20 && !deadline.hasExpired());
    QVERIFY2(busy.minPercent >= 20, qPrintable(busy.text()));
    QVERIFY2(busy.metrics.memoryUsedMiB >= 48, qPrintable(QString::number(busy.metrics.memoryUsedMiB)));
    QVERIFY(busy.metrics.memoryUsedMiB <= 256);
    QCOMPARE(errorCodeOf(runner.metrics(u"missing"_s)), u"SANDBOX_NOT_FOUND"_s);
}

QTEST_GUILESS_MAIN(TestLocalLifecycle)
#include "tst_locallifecycle.moc"
