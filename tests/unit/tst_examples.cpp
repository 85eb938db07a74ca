// The shipped workflows and the JSON Schema's negative cases, through the real loader:
//
// - every workflow under workflows/ (examples, reference) loads with no error and no warning;
// - every case in tests/data/schema-invalid/, which the JSON Schema rejects (see
//   tests/schema/check_schema.py), is rejected by the loader too, so that an editor and
//   `sandflow validate` agree on what is invalid.
#include "stepplugin.h"
#include "workflowloader.h"

#include <QDir>
#include <QDirIterator>
#include <QTest>

using namespace Sandflow;
using namespace Qt::StringLiterals;

class TestExamples : public QObject
{
    Q_OBJECT

private slots:
    void shippedWorkflowsLoadCleanly_data();
    void shippedWorkflowsLoadCleanly();
    void schemaInvalidCasesAreRejected_data();
    void schemaInvalidCasesAreRejected();
    void corpusIsNotEmpty();

private:
    static QString workflowsRoot() { return QStringLiteral(SANDFLOW_SOURCE_DIR "/workflows"); }
    static QString schemaInvalidDir() { return QStringLiteral(SANDFLOW_TEST_DATA "/schema-invalid"); }
    /// Relative paths of the YAML files below `root`, sorted.
    static QStringList yamlFiles(const QString &root, bool recursive);
    static QString describe(const Diagnostics &diagnostics);
};

QStringList TestExamples::yamlFiles(const QString &root, bool recursive)
{
    const QDir dir(root);
    QStringList files;
    QDirIterator it(root, {u"*.yaml"_s, u"*.yml"_s}, QDir::Files,
                    recursive ? QDirIterator::Subdirectories : QDirIterator::NoIteratorFlags);
    while (it.hasNext())
        files.append(dir.relativeFilePath(it.next()));
    files.sort();
    return files;
}

QString TestExamples::describe(const Diagnostics &diagnostics)
{
    QStringList lines;
    for (const Diagnostic &diagnostic : diagnostics.items())
        lines.append(diagnostic.toString());
    return lines.join(u'\n');
}

void TestExamples::shippedWorkflowsLoadCleanly_data()
{
    QTest::addColumn<QString>("path");
    const QDir root(workflowsRoot());
    for (const QString &file : yamlFiles(root.path(), true))
        QTest::newRow(qPrintable(file)) << root.filePath(file);
}

void TestExamples::shippedWorkflowsLoadCleanly()
{
    QFETCH(QString, path);
    const StepTypeRegistry stepTypes = StepTypeRegistry::builtin();
    const WorkflowLoader loader(stepTypes);
    const LoadResult result = loader.loadFile(path);
    // Not even a warning: the shipped files are what people copy.
    QVERIFY2(result.diagnostics.isEmpty(), qPrintable(u"unexpected diagnostics:\n"_s + describe(result.diagnostics)));
    QVERIFY(result.ok());
    QVERIFY(!result.workflow->jobs.isEmpty());
}

void TestExamples::schemaInvalidCasesAreRejected_data()
{
    QTest::addColumn<QString>("path");
    const QDir dir(schemaInvalidDir());
    for (const QString &file : yamlFiles(dir.path(), false))
        QTest::newRow(qPrintable(file)) << dir.filePath(file);
}

void TestExamples::schemaInvalidCasesAreRejected()
{
    QFETCH(QString, path);
    const StepTypeRegistry stepTypes = StepTypeRegistry::builtin();
    const WorkflowLoader loader(stepTypes);
    const LoadResult result = loader.loadFile(path);

    QVERIFY2(!result.ok(), "the JSON Schema rejects this case, but the loader accepts it");
    QVERIFY2(result.diagnostics.hasErrors(), qPrintable(describe(result.diagnostics)));
}

// A glob that matches nothing would make the data-driven tests above pass vacuously.
void TestExamples::corpusIsNotEmpty()
{
    const QStringList workflows = yamlFiles(workflowsRoot(), true);
    QVERIFY(workflows.contains(u"examples/hello.yaml"_s));
    QVERIFY(workflows.contains(u"examples/matrix.yaml"_s));
    QVERIFY(workflows.contains(u"reference/full.yaml"_s));
    QVERIFY(yamlFiles(schemaInvalidDir(), false).size() >= 20);
}

QTEST_GUILESS_MAIN(TestExamples)
#include "tst_examples.moc"
