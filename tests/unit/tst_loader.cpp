// What a valid workflow loads into: the model's values, defaults and resolved references.
// (Malformed input is tst_loader_errors' subject.)
#include "workflowloader.h"

#include <QDir>
#include <QTest>

using namespace Sandflow;
using namespace Qt::StringLiterals;

class TestLoader : public QObject
{
    Q_OBJECT

private slots:
    void mergeKeysAndExtensionKeys();
    void relativeHostPathsResolveAgainstTheWorkflow();
    void variablesCanBeOverridden();
    void variablesFromTheCommandLineArePlainText();
    void scalarsFollowYaml12();
    void conditionsMayBeBare();
    void stepsKeepTheirSettings();
    void lintsAreWarnings();
    void sandboxTemplatesAreCopiedIntoJobs();

private:
    Workflow load(const QByteArray &yaml, const QMap<QString, QString> &variables = {});
    const StepTypeRegistry m_stepTypes = StepTypeRegistry::builtin();
};

Workflow TestLoader::load(const QByteArray &yaml, const QMap<QString, QString> &variables)
{
    WorkflowLoader loader(m_stepTypes);
    for (auto it = variables.cbegin(); it != variables.cend(); ++it)
        loader.setVariable(it.key(), it.value());
    const LoadResult result = loader.loadData(yaml, u"t.yaml"_s, u"/srv/flows"_s);
    for (const Diagnostic &d : result.diagnostics.items())
        qWarning().noquote() << d.toString();
    if (!result.ok())
        QTest::qFail("the workflow did not load", __FILE__, __LINE__);
    return result.workflow.value_or(Workflow());
}

void TestLoader::mergeKeysAndExtensionKeys()
{
    const Workflow workflow = load("version: 1\nname: m\n"
                                   "x-base: &base {image: base, env: {A: a}}\n"
                                   "x-one: &one {<<: *base, image: one}\n"
                                   "x-two: &two {image: two, timeout: 5m, env: {B: b}}\n"
                                   "jobs:\n"
                                   "  a:\n"
                                   "    x-note: ignored anywhere\n"
                                   "    sandbox:\n"
                                   "      <<: [*one, *two]\n"
                                   "      metadata: {k: v}\n"
                                   "    steps: [{run: x, x-why: also ignored}]\n");
    const SandboxSpec &sandbox = workflow.jobs.first().sandbox;
    // A mapping's own keys win over its merges; earlier merged mappings over later ones.
    QCOMPARE(sandbox.image.source(), u"one"_s);
    QCOMPARE(sandbox.env.size(), 1);
    QCOMPARE(sandbox.env.first().key, u"A"_s);
    QCOMPARE(sandbox.timeout.literal, std::optional<Duration>(300'000));
    QCOMPARE(sandbox.metadata.first().value.source(), u"v"_s);
}

void TestLoader::relativeHostPathsResolveAgainstTheWorkflow()
{
    const Workflow workflow = load("version: 1\nname: v\nvolumes:\n"
                                   "  data: {host: {path: ./data/../train}}\n"
                                   "  abs: {host: {path: /mnt/x}}\n"
                                   "jobs: {a: {steps: [{run: x}]}}\n");
    QCOMPARE(workflow.volume(u"data"_s)->hostPath.source(), u"/srv/flows/train"_s);
    QCOMPARE(workflow.volume(u"abs"_s)->hostPath.source(), u"/mnt/x"_s);
}

void TestLoader::variablesCanBeOverridden()
{
    const Workflow workflow = load("version: 1\nname: v\nvars: {greeting: hello, name: world}\n"
                                   "jobs: {a: {steps: [{run: x}]}}\n",
                                   {{u"greeting"_s, u"hi there"_s}});
    QCOMPARE(workflow.vars.size(), 2);
    QCOMPARE(workflow.vars.at(0).value.source(), u"hi there"_s);
    QCOMPARE(workflow.vars.at(1).value.source(), u"world"_s);
}

void TestLoader::variablesFromTheCommandLineArePlainText()
{
    WorkflowLoader loader(m_stepTypes);
    loader.setVariable(u"tag"_s, u"${{ secrets.X }}"_s);
    const LoadResult result = loader.loadData("version: 1\nname: v\nvars: {tag: a}\njobs: {a: {steps: [{run: x}]}}\n",
                                              u"t.yaml"_s, u"."_s);
    QVERIFY(!result.ok());
    QCOMPARE(result.diagnostics.items().size(), 1);
    QCOMPARE(result.diagnostics.items().first().toString(),
             u"t.yaml: error: --var tag: values given on the command line are plain text and cannot hold `${{`"_s);
}

// YAML 1.2 core schema: unquoted 3.10 is the number 3.1 (as in GitHub Actions), `yes` is
// a string, quoted values are always strings.
void TestLoader::scalarsFollowYaml12()
{
    const Workflow workflow = load("version: 1\nname: s\njobs:\n  a:\n    strategy:\n"
                                   "      matrix: {v: [3.10, \"3.10\", yes, true, null, 0x10, 1e3]}\n"
                                   "    steps: [{run: x}]\n");
    const QJsonArray values = workflow.jobs.first().strategy.matrix.axes.first().second;
    QCOMPARE(values, QJsonArray({3.1, u"3.10"_s, u"yes"_s, true, QJsonValue::Null, 16, 1000}));
}

void TestLoader::conditionsMayBeBare()
{
    const Workflow workflow = load("version: 1\nname: c\njobs:\n  a:\n    steps:\n"
                                   "      - {run: x, if: failure() || cancelled()}\n"
                                   "      - {run: y, if: \"${{ always() }}\"}\n");
    const QList<Step> &steps = workflow.jobs.first().steps;
    QCOMPARE(steps.at(0).condition.value.segments().size(), 1);
    QCOMPARE(steps.at(0).condition.value.segments().first().expression.calls().size(), 2);
    QCOMPARE(steps.at(1).condition.value.segments().first().expression.calls().first().function, u"always"_s);
}

void TestLoader::stepsKeepTheirSettings()
{
    const Workflow workflow = load(
        "version: 1\nname: s\njobs:\n  a:\n    steps:\n"
        "      - {id: w, write: {path: /w/c.json, content: '{}', mode: \"0600\"}}\n"
        "      - {upload: {from: /etc, to: /workspace}}\n"
        "      - id: t\n        run: make test\n        cwd: /workspace\n        timeout: 90s\n"
        "        retry: {attempts: 3, backoff: 2s, on: [1, 137, infra]}\n"
        "        continue-on-error: true\n        background: true\n"
        "      - {uses: http-wait, with: {port: 8080, timeout: 30s}}\n");
    const QList<Step> &steps = workflow.jobs.first().steps;
    QCOMPARE(steps.size(), 4);
    QCOMPARE(steps.at(0).kind, Step::Kind::Write);
    QCOMPARE(steps.at(0).mode.source(), u"0600"_s);
    QCOMPARE(steps.at(1).kind, Step::Kind::Upload);
    QCOMPARE(steps.at(1).displayId(1), u"step-2"_s);
    const Step &test = steps.at(2);
    QCOMPARE(test.timeout.literal, std::optional<Duration>(90'000));
    QCOMPARE(test.retry.attempts, 3);
    QCOMPARE(test.retry.backoff, 2'000);
    QCOMPARE(test.retry.exitCodes, QList<int>({1, 137}));
    QVERIFY(test.retry.onInfra);
    QCOMPARE(test.continueOnError.literal, std::optional<bool>(true));
    QVERIFY(test.background);
    QCOMPARE(steps.at(3).kind, Step::Kind::Uses);
    QCOMPARE(steps.at(3).with.size(), 2);
}

// What is valid but most likely not meant is a warning: the workflow still loads.
void TestLoader::lintsAreWarnings()
{
    const QByteArray yaml = "version: 1\nname: l\njobs:\n  a:\n    if: false\n    strategy:\n"
                            "      matrix: {python: [3.9, 3.10, '3.11'], n: [10, 1e3]}\n    steps:\n"
                            "      - run: echo\n        if: ${{ matrix.python }} == '3.9'\n"
                            "      - run: echo\n        if: ${{ false }}\n"
                            "      - run: echo\n        if: ${{ matrix.python == '3.9' }}\n";
    const LoadResult result = WorkflowLoader(m_stepTypes).loadData(yaml, u"l.yaml"_s, u"/srv/flows"_s);
    QVERIFY(result.ok());
    QStringList warnings;
    for (const Diagnostic &d : result.diagnostics.items()) {
        QCOMPARE(d.severity, Diagnostic::Severity::Warning);
        warnings.append(d.toString());
    }
    QCOMPARE(warnings, (QStringList{
        u"l.yaml:5:9: warning: this `if` is always false: what it guards never runs"_s,
        u"l.yaml:7:30: warning: `3.10` is the number 3.1 here; quote it (\"3.10\") to keep it as written"_s,
        u"l.yaml:7:53: warning: `1e3` is the number 1000 here; quote it (\"1e3\") to keep it as written"_s,
        u"l.yaml:10:13: warning: this `if` is always true: the text outside `${{ }}` makes it a non-empty string; "
        u"write the whole condition inside one, e.g. `${{ a == 'b' }}`"_s,
        u"l.yaml:12:13: warning: this `if` is always false: what it guards never runs"_s}));
}

void TestLoader::sandboxTemplatesAreCopiedIntoJobs()
{
    const Workflow workflow = load("version: 1\nname: t\n"
                                   "networks: {offline: {defaultAction: deny}}\n"
                                   "sandboxes:\n  py: {image: python:3.11, network: offline, timeout: none}\n"
                                   "jobs:\n  a: {sandbox: py, steps: [{run: x}]}\n");
    const Job &job = workflow.jobs.first();
    QCOMPARE(job.sandboxName, u"py"_s);
    QCOMPARE(job.sandbox.image.source(), u"python:3.11"_s);
    QCOMPARE(job.sandbox.networkName, u"offline"_s);
    QCOMPARE(job.sandbox.timeout.literal, std::optional<Duration>(NoExpiry));
}

QTEST_GUILESS_MAIN(TestLoader)
#include "tst_loader.moc"
