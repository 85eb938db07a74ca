// The default of `run --max-sandboxes`, for machines of every size: four sandboxes per core,
// but no more than one per 512 MiB of memory.
#include "maxsandboxes.h"

#include <QTest>

using namespace Sandflow::Cli;

class TestMaxSandboxes : public QObject
{
    Q_OBJECT

private slots:
    void defaults_data();
    void defaults();
};

void TestMaxSandboxes::defaults_data()
{
    constexpr qint64 GiB = 1024LL * 1024 * 1024;
    QTest::addColumn<int>("cores");
    QTest::addColumn<qint64>("memoryBytes");
    QTest::addColumn<int>("expected");
    QTest::newRow("cores decide") << 2 << 24 * GiB << 8;
    QTest::newRow("memory decides") << 16 << 8 * GiB << 16;
    QTest::newRow("both the same") << 4 << 8 * GiB << 16;
    QTest::newRow("a part of 512 MiB does not count") << 8 << (4 * GiB - 1) << 7;
    QTest::newRow("less than 512 MiB still runs one") << 4 << 256 * 1024 * 1024LL << 1;
    QTest::newRow("no cores reported") << 0 << 8 * GiB << 1;
    QTest::newRow("unknown memory: 4 GiB") << 16 << qint64(0) << 8;
    QTest::newRow("at most 256") << 128 << 1024 * GiB << 256;
}

void TestMaxSandboxes::defaults()
{
    QFETCH(int, cores);
    QFETCH(qint64, memoryBytes);
    QFETCH(int, expected);
    QCOMPARE(defaultMaxSandboxes(cores, memoryBytes), expected);
}

QTEST_GUILESS_MAIN(TestMaxSandboxes)
#include "tst_maxsandboxes.moc"
