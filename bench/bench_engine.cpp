// The engine's own cost, against the runner used directly, measured in the same run:
//   1. 500 steps of `true` in one sandbox through `sandflow run`'s engine (WorkflowRun),
//      against the same 500 commands sent straight through the Runner interface;
//   2. a 200-instance matrix of one-step jobs at --max-sandboxes 16, against 200 bare
//      create/run/delete cycles through the runner at concurrency 16; and the engine's
//      peak resident memory.
// Each pair takes turns over several rounds (rounds.h). Exits non-zero, without figures,
// when any sandbox, command or workflow failed. Prints figures; not a test.
#include "localrunner.h"
#include "rounds.h"
#include "runnercycles.h"
#include "stepplugin.h"
#include "workflowloader.h"
#include "workflowrun.h"

#include <QCoreApplication>
#include <QFile>
#include <QTemporaryDir>

#include <cstdio>

using namespace Sandflow;
using namespace Qt::StringLiterals;

namespace {

constexpr int Steps = 500;
constexpr int Instances = 200;
constexpr int MaxSandboxes = 16;
constexpr int Rounds = 5;

QByteArray manyStepsWorkflow()
{
    QByteArray text = "version: 1\nname: steps\njobs:\n  steps:\n    sandbox: { image: debian:12 }\n    steps:\n";
    for (int i = 0; i < Steps; ++i)
        text += "      - run: \"true\"\n";
    return text;
}

QByteArray wideMatrixWorkflow()
{
    QByteArray axis;
    for (int i = 1; i <= Instances; ++i)
        axis += (i > 1 ? ", " : "") + QByteArray::number(i);
    return "version: 1\nname: matrix\njobs:\n  wide:\n    sandbox: { image: debian:12 }\n"
           "    strategy: { matrix: { i: [" + axis + "] }, fail-fast: false }\n"
           "    steps:\n      - run: \"true\"\n";
}

/// Runs `text` as a workflow; returns milliseconds. Not loading or not succeeding goes to
/// `errors`.
double runWorkflow(LocalRunner *runner, const QByteArray &text, const QString &runDirectory, int maxSandboxes,
                   Bench::Errors &errors)
{
    const StepTypeRegistry stepTypes = StepTypeRegistry::builtin();
    const WorkflowLoader loader(stepTypes);
    const LoadResult loaded = loader.loadData(text, u"bench.yaml"_s, runDirectory);
    if (!loaded.ok()) {
        errors.add(u"the workflow does not load"_s);
        return 0;
    }
    RunOptions options;
    options.runId = u"bench"_s;
    options.runDirectory = runDirectory;
    options.maxSandboxes = maxSandboxes;
    qint64 events = 0;
    WorkflowRun run(*loaded.workflow, runner, options, [&events](const RunEvent &) { ++events; });
    run.setAutoDelete(false);
    QEventLoop loop;
    QObject::connect(&run, &AsyncJob::finished, &loop, &QEventLoop::quit);
    QElapsedTimer timer;
    timer.start();
    run.start();
    if (!run.isFinished())
        loop.exec();
    errors.failed(&run, u"workflow"_s);
    return double(timer.nsecsElapsed()) / 1e6;
}

/// One sandbox, `Steps` commands of `true` one after another, straight through the runner.
/// The first failed command ends the sequence.
double runDirectly(LocalRunner *runner, Bench::Errors &errors)
{
    return Bench::runConcurrently(1, 1, [runner, &errors](std::function<void()> done) {
        SandboxJob *create = runner->createSandbox({});
        QObject::connect(create, &AsyncJob::finished, runner, [runner, create, &errors, done] {
            if (errors.failed(create, u"create"_s))
                return done();
            const QString id = create->result().id;
            auto remaining = std::make_shared<int>(Steps);
            auto next = std::make_shared<std::function<void()>>();
            *next = [runner, id, remaining, next, &errors, done] {
                if ((*remaining)-- == 0) {
                    AsyncJob *removal = runner->deleteSandbox(id);
                    QObject::connect(removal, &AsyncJob::finished, runner, [&errors, done, next](AsyncJob *job) {
                        *next = nullptr;   // breaks the cycle of the function holding itself
                        errors.failed(job, u"delete"_s);
                        done();
                    });
                    removal->start();
                    return;
                }
                CommandRequest request;
                request.command = u"true"_s;
                CommandJob *command = runner->runCommand(id, request);
                QObject::connect(command, &AsyncJob::finished, runner, [remaining, next, &errors](AsyncJob *job) {
                    if (errors.failed(job, u"run"_s))
                        *remaining = 0;
                    (*next)();
                });
                command->start();
            };
            (*next)();
        });
        create->start();
    });
}

qint64 peakResidentKb()
{
    QFile status(u"/proc/self/status"_s);
    if (!status.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong();
    }
    return 0;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QTemporaryDir directory;
    LocalRunner::Options options;
    options.agentPath = QStringLiteral(SANDFLOW_AGENT_PATH);
    LocalRunner runner(options);
    Bench::Errors errors;

    const Bench::Rounds steps = Bench::alternate(
        Rounds, [&] { return runDirectly(&runner, errors); },
        [&] { return runWorkflow(&runner, manyStepsWorkflow(), directory.path(), 0, errors); });
    const Bench::Rounds matrix = Bench::alternate(
        Rounds,
        [&] {
            return Bench::runConcurrently(Instances, MaxSandboxes, [&](std::function<void()> done) {
                Bench::sandboxCycle(&runner, u"true"_s, errors, done);
            });
        },
        [&] { return runWorkflow(&runner, wideMatrixWorkflow(), directory.path(), MaxSandboxes, errors); });
    if (errors.report("bench_engine"))
        return 1;

    std::printf("bench_engine: %d rounds, the two sides of each figure in alternating order, after one untimed "
                "run of each; medians\n", Rounds);
    std::printf("%d steps of `true` in one sandbox\n", Steps);
    Bench::printComparison(steps, "ms", "baseline, straight through the runner:", "through the engine (WorkflowRun):");
    std::printf("%d-instance matrix, one step each, %d sandboxes at once\n", Instances, MaxSandboxes);
    Bench::printComparison(matrix, "ms", "baseline, runner create/run/delete:", "through the engine (WorkflowRun):");
    std::printf("  peak resident memory of this process:          %9lld kB\n", peakResidentKb());
    return 0;
}
