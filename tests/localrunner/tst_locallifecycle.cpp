// The lifecycle of local sandboxes through the Runner interface: lookups, listing with
// filters and pages, renewal, metadata and metrics.
#include "localrunnertesting.h"

#include <QThread>

using namespace Sandflow;
using namespace RunnerTesting;
using namespace Qt::StringLiterals;

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
    const SandboxMetrics idle = resultOf(runner.metrics(id));
    QCOMPARE(idle.cpuCount, 1.0);
    QCOMPARE(idle.memoryTotalMiB, 256.0);
    QVERIFY2(idle.cpuUsedPercent < 20, qPrintable(QString::number(idle.cpuUsedPercent)));
    QVERIFY(idle.timestamp.isValid());

    // A busy loop shows as CPU use, and files in the sandbox's tmpfs as memory.
    std::unique_ptr<CommandJob> spin(run(runner.runCommand(id, command(u"while :; do :; done"_s, [](CommandRequest &r) {
        r.background = true;
    }))));
    QVERIFY(!spin->error());
    QCOMPARE(shellOutput(&runner, id, u"head -c 50000000 /dev/zero > /tmp/fill && echo ok"_s), QByteArray("ok\n"));
    const SandboxMetrics busy = resultOf(runner.metrics(id));
    QVERIFY2(busy.cpuUsedPercent > 50, qPrintable(QString::number(busy.cpuUsedPercent)));
    QVERIFY2(busy.memoryUsedMiB >= 48, qPrintable(QString::number(busy.memoryUsedMiB)));
    QVERIFY(busy.memoryUsedMiB <= 256);
    QCOMPARE(errorCodeOf(runner.metrics(u"missing"_s)), u"SANDBOX_NOT_FOUND"_s);
}

QTEST_GUILESS_MAIN(TestLocalLifecycle)
#include "tst_locallifecycle.moc"
