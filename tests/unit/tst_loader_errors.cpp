// Every malformed workflow in tests/data/malformed/ must produce exactly the errors its
// header declares, at the exact line and column:
//
//   # expect: 12:7: unknown key `timout` in step 1 of job `build` (did you mean `timeout`?)
//   # expect-in datasets/dup.jsonl: 3:1: duplicate task id `a` (first at line 1)
//
// `expect` lines name positions in the case file itself; `expect-in FILE` lines name
// another file, relative to the case. Nothing else may be reported.
#include "stepplugin.h"
#include "workflowloader.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QTest>

using namespace Sandflow;
using namespace Qt::StringLiterals;

class TestLoaderErrors : public QObject
{
    Q_OBJECT

private slots:
    void malformedCases_data();
    void malformedCases();
    void everyErrorIsReported();
    void caseCount();

private:
    static QDir casesDir() { return QDir(QStringLiteral(SANDFLOW_TEST_DATA "/malformed")); }
    static QStringList expectedErrors(const QString &path);
    static QStringList actualErrors(const LoadResult &result, const QString &path);
};

QStringList TestLoaderErrors::expectedErrors(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    static const QRegularExpression expect(u"^#\\s*expect(?:-in\\s+(\\S+))?:\\s*(.*)$"_s);
    QStringList expected;
    while (!file.atEnd()) {
        const QString line = QString::fromUtf8(file.readLine()).trimmed();
        const QRegularExpressionMatch match = expect.match(line);
        if (!match.hasMatch())
            continue;
        const QString where = match.captured(1).isEmpty() ? QString() : match.captured(1) + u':';
        expected.append(where + match.captured(2));
    }
    return expected;
}

QStringList TestLoaderErrors::actualErrors(const LoadResult &result, const QString &path)
{
    // Positions in the case file are written without its name, others relative to it.
    const QDir dir = QFileInfo(path).dir();
    QStringList actual;
    for (const Diagnostic &d : result.diagnostics.items()) {
        const QString file = d.file == path ? QString() : dir.relativeFilePath(d.file) + u':';
        actual.append(d.pos.line > 0 ? u"%1%2:%3: %4"_s.arg(file).arg(d.pos.line).arg(d.pos.column).arg(d.message)
                                     : u"%1%2"_s.arg(file, d.message));
    }
    return actual;
}

void TestLoaderErrors::malformedCases_data()
{
    QTest::addColumn<QString>("path");
    const QStringList cases = casesDir().entryList({u"*.yaml"_s}, QDir::Files, QDir::Name);
    for (const QString &name : cases)
        QTest::newRow(qPrintable(name)) << casesDir().filePath(name);
}

void TestLoaderErrors::malformedCases()
{
    QFETCH(QString, path);
    const StepTypeRegistry stepTypes = StepTypeRegistry::builtin();
    const WorkflowLoader loader(stepTypes);
    const LoadResult result = loader.loadFile(path);
    const QStringList expected = expectedErrors(path);
    QVERIFY2(!expected.isEmpty(), "the case declares no expected error");
    QVERIFY2(!result.ok(), "a malformed workflow loaded");
    const QStringList actual = actualErrors(result, path);
    if (actual != expected) {
        qWarning().noquote() << u"expected:\n  "_s + expected.join(u"\n  "_s);
        qWarning().noquote() << u"actual:\n  "_s + actual.join(u"\n  "_s);
    }
    QCOMPARE(actual, expected);
}

// One file with many independent problems: all are reported, in file order.
void TestLoaderErrors::everyErrorIsReported()
{
    const QByteArray text = "version: 1\n"
                            "name: many\n"
                            "jobs:\n"
                            "  a:\n"
                            "    timeout: soon\n"
                            "    steps:\n"
                            "      - run: echo\n"
                            "        timout: 5s\n"
                            "  b:\n"
                            "    needs: [c]\n"
                            "    steps: []\n";
    const StepTypeRegistry stepTypes = StepTypeRegistry::builtin();
    const LoadResult result = WorkflowLoader(stepTypes).loadData(text, u"many.yaml"_s, u"."_s);
    QStringList lines;
    for (const Diagnostic &d : result.diagnostics.items())
        lines.append(d.toString());
    QCOMPARE(lines, QStringList({
        u"many.yaml:5:14: error: invalid duration `soon` for `timeout` (use e.g. 500ms, 30s, 5m, 2h)"_s,
        u"many.yaml:8:9: error: unknown key `timout` in step 1 of job `a` (did you mean `timeout`?)"_s,
        u"many.yaml:10:13: error: job `b` needs unknown job `c`"_s,
        u"many.yaml:11:12: error: job `b` has no steps"_s,
    }));
    QVERIFY(!result.ok());
}

// The suite is only as good as its cases: keep at least sixty.
void TestLoaderErrors::caseCount()
{
    QVERIFY(casesDir().entryList({u"*.yaml"_s}, QDir::Files).size() >= 60);
}

QTEST_GUILESS_MAIN(TestLoaderErrors)
#include "tst_loader_errors.moc"
