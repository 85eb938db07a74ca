// The plan: stages from `needs`, instances from matrix and dataset fan-out, and the
// sandbox each instance creates, with values planning can know filled in.
#include "plan.h"
#include "workflowloader.h"

#include <QFile>
#include <QJsonArray>
#include <QTemporaryDir>
#include <QTest>

using namespace Sandflow;
using namespace Qt::StringLiterals;

class TestPlan : public QObject
{
    Q_OBJECT

private slots:
    void stagesFollowNeeds();
    void matrixInstances();
    void datasetCrossedWithMatrix();
    void planningLeavesRunTimeValuesAsWritten();
    void jsonTotals();
    void largeDataset();

private:
    std::optional<Workflow> load(const QByteArray &yaml);
    static QStringList instanceNames(const PlannedJob &job);
    static QStringList images(const Plan &plan, const QString &jobId);

    const StepTypeRegistry m_stepTypes = StepTypeRegistry::builtin();
    QTemporaryDir m_dir;
};

std::optional<Workflow> TestPlan::load(const QByteArray &yaml)
{
    const LoadResult result = WorkflowLoader(m_stepTypes).loadData(yaml, u"plan.yaml"_s, m_dir.path());
    for (const Diagnostic &d : result.diagnostics.items())
        qWarning().noquote() << d.toString();
    return result.workflow;
}

QStringList TestPlan::instanceNames(const PlannedJob &job)
{
    QStringList names;
    for (qsizetype i = 0; i < job.instanceCount; ++i)
        names.append(job.instanceName(job.instance(i)));
    return names;
}

QStringList TestPlan::images(const Plan &plan, const QString &jobId)
{
    QStringList result;
    for (const QJsonValue &job : plan.toJson().value(u"jobs"_s).toArray()) {
        if (job[u"id"_s].toString() != jobId)
            continue;
        for (const QJsonValue &instance : job[u"instances"_s].toArray())
            result.append(instance[u"sandbox"_s][u"image"_s].toString());
    }
    return result;
}

void TestPlan::stagesFollowNeeds()
{
    const auto workflow = load("version: 1\nname: diamond\njobs:\n"
                               "  d: {needs: [b, c], steps: [{run: x}]}\n"
                               "  b: {needs: a, steps: [{run: x}]}\n"
                               "  a: {steps: [{run: x}]}\n"
                               "  c: {needs: a, steps: [{run: x}]}\n"
                               "  e: {steps: [{run: x}]}\n");
    QVERIFY(workflow);
    const Plan plan = Plan::build(*workflow);
    QStringList stages;
    for (const auto &stage : plan.stages()) {
        QStringList ids;
        for (const PlannedJob *job : stage)
            ids.append(job->job->id);
        stages.append(ids.join(u','));
    }
    // Within a stage, file order.
    QCOMPARE(stages, QStringList({u"a,e"_s, u"b,c"_s, u"d"_s}));
    QCOMPARE(plan.toJson().value(u"stages"_s).toArray().size(), 3);
}

void TestPlan::matrixInstances()
{
    const auto workflow = load("version: 1\nname: m\njobs:\n"
                               "  test:\n"
                               "    strategy:\n"
                               "      matrix:\n"
                               "        py: [\"3.10\", \"3.11\"]\n"
                               "        os: [linux, bsd]\n"
                               "        exclude: [{py: \"3.10\", os: bsd}]\n"
                               "        include: [{py: \"3.12\", experimental: true}, {os: linux, extra: x}]\n"
                               "    sandbox: {image: \"python:${{ matrix.py }}-${{ matrix.os }}\"}\n"
                               "    steps: [{run: x}]\n");
    QVERIFY(workflow);
    const Plan plan = Plan::build(*workflow);
    QCOMPARE(plan.jobs().size(), 1);
    QCOMPARE(instanceNames(plan.jobs().first()),
             QStringList({u"test (3.10, linux, x)"_s, u"test (3.11, linux, x)"_s, u"test (3.11, bsd)"_s,
                          u"test (3.12, true)"_s}));
    QCOMPARE(images(plan, u"test"_s),
             QStringList({u"python:3.10-linux"_s, u"python:3.11-linux"_s, u"python:3.11-bsd"_s, u"python:3.12-"_s}));
}

void TestPlan::datasetCrossedWithMatrix()
{
    QFile tasks(m_dir.filePath(u"tasks.jsonl"_s));
    QVERIFY(tasks.open(QIODevice::WriteOnly));
    tasks.write("{\"id\": \"t1\", \"image\": \"alpine\"}\n{\"id\": \"t2\", \"image\": \"debian\"}\n"
                "{\"id\": \"t3\", \"image\": \"ubuntu\"}\n");
    tasks.close();
    const auto workflow = load("version: 1\nname: eval\njobs:\n"
                               "  solve:\n"
                               "    strategy:\n"
                               "      dataset: tasks.jsonl\n"
                               "      matrix: {agent: [baseline, tuned]}\n"
                               "    sandbox: {image: \"${{ task.image }}\", metadata: {agent: \"${{ matrix.agent }}\"}}\n"
                               "    steps: [{run: x}]\n");
    QVERIFY(workflow);
    const Plan plan = Plan::build(*workflow);
    const PlannedJob &job = plan.jobs().first();
    QCOMPARE(job.instanceCount, 6);
    QCOMPARE(instanceNames(job), QStringList({u"solve (t1, baseline)"_s, u"solve (t1, tuned)"_s,
                                              u"solve (t2, baseline)"_s, u"solve (t2, tuned)"_s,
                                              u"solve (t3, baseline)"_s, u"solve (t3, tuned)"_s}));
    QCOMPARE(job.instance(3).row, 1);
    QCOMPARE(job.instance(3).combination, 1);
    QCOMPARE(images(plan, u"solve"_s),
             QStringList({u"alpine"_s, u"alpine"_s, u"debian"_s, u"debian"_s, u"ubuntu"_s, u"ubuntu"_s}));
    const QJsonObject first = plan.toJson()[u"jobs"_s][0][u"instances"_s][1].toObject();
    QCOMPARE(first[u"task"_s].toString(), u"t1"_s);
    QCOMPARE(first[u"sandbox"_s][u"metadata"_s][u"agent"_s].toString(), u"tuned"_s);
    // A dataset fans out with fail-fast off unless the workflow says otherwise.
    QCOMPARE(plan.toJson()[u"jobs"_s][0][u"strategy"_s][u"failFast"_s].toBool(), false);
}

void TestPlan::planningLeavesRunTimeValuesAsWritten()
{
    const auto workflow = load("version: 1\nname: p\nvars: {tag: \"3.11\"}\nsecrets: [TOKEN]\njobs:\n"
                               "  a:\n    outputs: {img: \"${{ steps.s.outputs.img }}\"}\n"
                               "    steps: [{id: s, run: x}]\n"
                               "  b:\n    needs: a\n"
                               "    sandbox:\n"
                               "      image: \"${{ needs.a.outputs.img }}\"\n"
                               "      env: {TOKEN: \"${{ secrets.TOKEN }}\", TAG: \"py${{ vars.tag }}\"}\n"
                               "    steps: [{run: x}]\n");
    QVERIFY(workflow);
    const QJsonObject sandbox = Plan::build(*workflow).toJson()[u"jobs"_s][1][u"instances"_s][0][u"sandbox"_s].toObject();
    QCOMPARE(sandbox[u"image"_s].toString(), u"${{ needs.a.outputs.img }}"_s);
    QCOMPARE(sandbox[u"env"_s][u"TOKEN"_s].toString(), u"***"_s);   // never read while planning
    QCOMPARE(sandbox[u"env"_s][u"TAG"_s].toString(), u"py3.11"_s);
}

void TestPlan::jsonTotals()
{
    const auto workflow = load("version: 1\nname: t\njobs:\n"
                               "  a: {strategy: {matrix: {n: [1, 2, 3]}}, steps: [{run: x}]}\n"
                               "  b: {needs: a, steps: [{run: x}, {run: y}]}\n");
    QVERIFY(workflow);
    const QJsonObject json = Plan::build(*workflow).toJson();
    QCOMPARE(json[u"totals"_s][u"jobs"_s].toInt(), 2);
    QCOMPARE(json[u"totals"_s][u"instances"_s].toInt(), 4);
    QCOMPARE(json[u"totals"_s][u"sandboxes"_s].toInt(), 4);
    QCOMPARE(json[u"jobs"_s][1][u"steps"_s].toArray().size(), 2);
    QCOMPARE(json[u"jobs"_s][1][u"steps"_s][1][u"id"_s].toString(), u"step-2"_s);
    QCOMPARE(json[u"jobs"_s][1][u"needs"_s].toArray(), QJsonArray({u"a"_s}));
}

// Instances refer to rows by index: ten thousand rows are one dataset, not ten thousand copies.
void TestPlan::largeDataset()
{
    QFile tasks(m_dir.filePath(u"large.csv"_s));
    QVERIFY(tasks.open(QIODevice::WriteOnly));
    tasks.write("id,prompt\n");
    for (int i = 0; i < 10'000; ++i)
        tasks.write(QByteArray("task-") + QByteArray::number(i) + ",do " + QByteArray::number(i) + "\n");
    tasks.close();
    const auto workflow = load("version: 1\nname: big\njobs:\n"
                               "  solve:\n    strategy: {dataset: large.csv, max-parallel: 50}\n"
                               "    steps: [{run: \"echo ${{ task.prompt }}\"}]\n");
    QVERIFY(workflow);
    const Plan plan = Plan::build(*workflow);
    const PlannedJob &job = plan.jobs().first();
    QCOMPARE(job.instanceCount, 10'000);
    QCOMPARE(job.instanceName(job.instance(9'999)), u"solve (task-9999)"_s);
    QVERIFY(plan.toText(false).contains(u"... and 9992 more"_s));
}

QTEST_GUILESS_MAIN(TestPlan)
#include "tst_plan.moc"
