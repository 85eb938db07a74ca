// The engine's own cost, against the runner used directly, measured in the same run:
//   1. 1,000 steps of `true` in one sandbox through `sandflow run`'s engine (WorkflowRun),
//      against the same 1,000 commands sent straight through the Runner interface;
//   2. a 500-instance matrix of one-step jobs at --max-sandboxes 16, against 500 bare
//      create/run/delete cycles through the runner at concurrency 16; and the engine's
//      peak resident memory.
// Prints figures; not a test.
#include "localrunner.h"
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

constexpr int Steps = 1000;
constexpr int Instances = 500;
constexpr int MaxSandboxes = 16;

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

/// Runs `text` as a workflow; returns milliseconds, or -1 when it did not succeed.
double runWorkflow(LocalRunner *runner, const QByteArray &text, const QString &runDirectory, int maxSandboxes)
{
    const StepTypeRegistry stepTypes = StepTypeRegistry::builtin();
    const WorkflowLoader loader(stepTypes);
    const LoadResult loaded = loader.loadData(text, u"bench.yaml"_s, runDirectory);
    if (!loaded.ok())
        return -1;
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
    return run.error() ? -1 : double(timer.nsecsElapsed()) / 1e6;
}

/// One sandbox, `Steps` commands of `true` one after another, straight through the runner.
double runDirectly(LocalRunner *runner)
{
    return Bench::runConcurrently(1, 1, [runner](std::function<void()> done) {
        SandboxJob *create = runner->createSandbox({});
        QObject::connect(create, &AsyncJob::finished, runner, [runner, create, done] {
            const QString id = create->result().id;
            auto remaining = std::make_shared<int>(Steps);
            auto next = std::make_shared<std::function<void()>>();
            *next = [runner, id, remaining, next, done] {
                if ((*remaining)-- == 0) {
                    AsyncJob *removal = runner->deleteSandbox(id);
                    QObject::connect(removal, &AsyncJob::finished, runner, [done, next] {
                        *next = nullptr;   // breaks the cycle of the function holding itself
                        done();
                    });
                    removal->start();
                    return;
                }
                CommandRequest request;
                request.command = u"true"_s;
                CommandJob *command = runner->runCommand(id, request);
                QObject::connect(command, &AsyncJob::finished, runner, [next] { (*next)(); });
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

    const double direct = runDirectly(&runner);
    const double engine = runWorkflow(&runner, manyStepsWorkflow(), directory.path(), 0);
    std::printf("bench_engine: %d steps of `true` in one sandbox\n", Steps);
    std::printf("  baseline, straight through the runner:  %8.0f ms\n", direct);
    std::printf("  through the engine (WorkflowRun):       %8.0f ms  (%.2fx baseline)\n", engine, engine / direct);

    const double bare = Bench::runConcurrently(Instances, MaxSandboxes, [&runner](std::function<void()> done) {
        Bench::sandboxCycle(&runner, u"true"_s, done);
    });
    const double matrix = runWorkflow(&runner, wideMatrixWorkflow(), directory.path(), MaxSandboxes);
    std::printf("%d-instance matrix, one step each, %d sandboxes at once\n", Instances, MaxSandboxes);
    std::printf("  baseline, runner create/run/delete:     %8.0f ms\n", bare);
    std::printf("  through the engine (WorkflowRun):       %8.0f ms  (%.2fx baseline)\n", matrix, matrix / bare);
    std::printf("  peak resident memory of this process:   %8lld kB\n", peakResidentKb());
    return 0;
}
