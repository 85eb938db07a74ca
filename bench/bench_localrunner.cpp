// Local sandboxes against bare bubblewrap, measured in the same run:
//   1. one at a time: create until ready, run `echo`, delete, against starting the same
//      bwrap command line with `true` instead of the agent;
//   2. turnover: 200 of them, 8 at a time, against 200 bare starts 8 at a time, in cycles
//      per second;
//   3. what an idle sandbox costs: PSS of its processes (bwrap and the agent), against the
//      same bwrap command line running `sleep infinity`, summed the same way;
//   4. one command printing 1 GiB to stdout, streamed through the Runner interface, against
//      reading the same command's output from a plain pipe on the host (QProcess).
// The two sides of 1, 2 and 4 take turns over several rounds (rounds.h). Exits non-zero,
// without figures, when any sandbox, command or bare start failed. Prints figures; not a test.
#include "localrunner.h"
#include "localsandbox_p.h"
#include "rounds.h"
#include "processmemory.h"
#include "runnercycles.h"
#include "sandboxlayout_p.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QProcess>
#include <QThread>

#include <algorithm>
#include <cstdio>
#include <functional>

using namespace Sandflow;
using Bench::runConcurrently;
using Bench::treePss;
using Bench::TreePss;
using Bench::waitForProcess;
using namespace Qt::StringLiterals;

namespace {

constexpr int SequentialRuns = 30;
constexpr int Batch = 200;
constexpr int Concurrency = 8;
constexpr int Rounds = 5;
constexpr qint64 StreamBytes = 1ll << 30;
const QString StreamCommand = u"head -c %1 /dev/zero"_s.arg(StreamBytes);

/// The same command line as a sandbox, running `command` instead of the agent.
QStringList bareArguments(const QStringList &command)
{
    Internal::SandboxLayout layout;
    layout.id = u"bench"_s;
    layout.agentPath = QStringLiteral(SANDFLOW_AGENT_PATH);
    QStringList arguments = Internal::bwrapArguments(layout);
    arguments.removeLast();
    return arguments + command;
}

void bareStart(Bench::Errors &errors, const std::function<void()> &done)
{
    auto *process = new QProcess;
    QObject::connect(process, &QProcess::finished, process, [process, &errors, done] {
        if (process->exitStatus() != QProcess::NormalExit || process->exitCode() != 0)
            errors.add(u"bare bwrap: "_s + QString::fromUtf8(process->readAllStandardError()).trimmed());
        process->deleteLater();
        done();
    });
    QObject::connect(process, &QProcess::errorOccurred, process, [process, &errors, done](QProcess::ProcessError error) {
        if (error != QProcess::FailedToStart)
            return;
        errors.add(u"bare bwrap: "_s + process->errorString());
        process->deleteLater();
        done();
    });
    process->start(Internal::bwrapProgram(), bareArguments({u"/bin/true"_s}));
}

double megabytesPerSecond(qint64 bytes, qint64 elapsedMs)
{
    return double(bytes) / (1024.0 * 1024.0) / (double(std::max<qint64>(elapsedMs, 1)) / 1000.0);
}

/// Reads the command's output on the host through a pipe, with the same event loop.
double pipeThroughput(Bench::Errors &errors)
{
    QProcess process;
    qint64 received = 0;
    QObject::connect(&process, &QProcess::readyReadStandardOutput, &process, [&] {
        received += process.readAllStandardOutput().size();
    });
    QEventLoop loop;
    QObject::connect(&process, &QProcess::finished, &loop, &QEventLoop::quit);
    QElapsedTimer clock;
    clock.start();
    process.start(u"/bin/sh"_s, {u"-c"_s, StreamCommand});
    loop.exec();
    received += process.readAllStandardOutput().size();
    if (received != StreamBytes)
        errors.add(u"plain pipe: %1 bytes, not %2"_s.arg(received).arg(StreamBytes));
    return megabytesPerSecond(received, clock.elapsed());
}

double sandboxThroughput(LocalRunner *runner, const QString &id, Bench::Errors &errors)
{
    CommandRequest request;
    request.command = StreamCommand;
    CommandJob *job = runner->runCommand(id, request);
    qint64 received = 0;
    QObject::connect(job, &CommandJob::output, job, [&](CommandJob::Stream, const QByteArray &data) {
        received += data.size();
    });
    QEventLoop loop;
    QObject::connect(job, &AsyncJob::finished, &loop, &QEventLoop::quit);
    QElapsedTimer clock;
    clock.start();
    job->start();
    loop.exec();
    if (!errors.failed(job, u"stream"_s) && received != StreamBytes)
        errors.add(u"stream: %1 bytes, not %2"_s.arg(received).arg(StreamBytes));
    return megabytesPerSecond(received, clock.elapsed());
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    LocalRunner::Options options;
    options.agentPath = QStringLiteral(SANDFLOW_AGENT_PATH);
    LocalRunner runner(options);
    Bench::Errors errors;
    const auto sandboxCycle = [&](std::function<void()> done) {
        Bench::sandboxCycle(&runner, u"echo hello"_s, errors, done);
    };
    const auto bare = [&](std::function<void()> done) { bareStart(errors, done); };

    const Bench::Rounds sequential = Bench::alternate(
        SequentialRuns, [&] { return runConcurrently(1, 1, bare); }, [&] { return runConcurrently(1, 1, sandboxCycle); });
    const auto perSecond = [](double milliseconds) { return Batch / (milliseconds / 1000); };
    const Bench::Rounds turnover = Bench::alternate(
        Rounds, [&] { return perSecond(runConcurrently(Batch, Concurrency, bare)); },
        [&] { return perSecond(runConcurrently(Batch, Concurrency, sandboxCycle)); });

    // One idle sandbox and one idle bare bwrap, both up at once, measured from the host.
    const QString id = Bench::createAndWait(&runner, {}, errors);
    if (errors.report("bench_localrunner"))
        return 1;
    QProcess idleBare;
    idleBare.start(Internal::bwrapProgram(), bareArguments({u"/bin/sleep"_s, u"infinity"_s}));
    if (!idleBare.waitForStarted() || !waitForProcess(idleBare.processId(), "sleep")) {
        std::fprintf(stderr, "bench_localrunner: the bare bwrap running `sleep infinity` did not start: %s\n",
                     idleBare.readAllStandardError().constData());
        return 1;
    }
    const TreePss idleSandbox = treePss(runner.find(id)->agent().processId());
    const TreePss idleBaseline = treePss(idleBare.processId());
    idleBare.kill();
    idleBare.waitForFinished();

    const Bench::Rounds stream = Bench::alternate(
        Rounds, [&] { return pipeThroughput(errors); }, [&] { return sandboxThroughput(&runner, id, errors); });
    Bench::waitFor(runner.deleteSandbox(id));
    if (errors.report("bench_localrunner"))
        return 1;

    std::printf("bench_localrunner: the two sides of each figure in alternating order, after one untimed run of "
                "each; medians\n");
    std::printf("one at a time, %d runs of each\n", SequentialRuns);
    Bench::printComparison(sequential, "ms", "baseline, bare bwrap start of `true`:",
                           "sandbox create-to-ready + echo + delete:");
    std::printf("turnover, %d at concurrency %d, %d rounds\n", Batch, Concurrency, Rounds);
    Bench::printComparison(turnover, "/s", "baseline, bare bwrap starts of `true`:",
                           "sandboxes created, used and deleted:");
    std::printf("idle, PSS summed over the process tree\n");
    std::printf("  baseline, bare bwrap running `sleep infinity`: %9lld kB   (%s)\n", idleBaseline.totalKb,
                qPrintable(idleBaseline.parts));
    std::printf("  idle sandbox:                                  %9lld kB   (%s)  %.2fx baseline\n",
                idleSandbox.totalKb, qPrintable(idleSandbox.parts),
                double(idleSandbox.totalKb) / double(std::max<qint64>(idleBaseline.totalKb, 1)));
    std::printf("1 GiB on stdout, %d rounds\n", Rounds);
    Bench::printComparison(stream, "MB/s", "baseline, plain pipe on the host:", "through the Runner interface:");
    return 0;
}
