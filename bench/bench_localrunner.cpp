// Local sandboxes against bare bubblewrap, measured in the same run:
//   1. one at a time: create until ready, run `echo`, delete, against starting the same
//      bwrap command line with `true` instead of the agent (median of each);
//   2. 200 of them, 8 at a time, against 200 bare starts 8 at a time (total time);
//   3. what an idle sandbox costs: PSS of its bwrap processes and the agent;
//   4. one command printing 1 GiB to stdout, streamed through the Runner interface, against
//      reading the same command's output from a plain pipe on the host (QProcess).
// Prints figures; not a test.
#include "localrunner.h"
#include "localsandbox_p.h"
#include "runnercycles.h"
#include "sandboxlayout_p.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QProcess>

#include <algorithm>
#include <cstdio>
#include <functional>

using namespace Sandflow;
using Bench::runConcurrently;
using namespace Qt::StringLiterals;

namespace {

constexpr int SequentialRuns = 30;
constexpr int Batch = 200;
constexpr int Concurrency = 8;
constexpr qint64 StreamBytes = 1ll << 30;
const QString StreamCommand = u"head -c %1 /dev/zero"_s.arg(StreamBytes);

double median(QList<double> values)
{
    std::sort(values.begin(), values.end());
    return values.isEmpty() ? 0 : values.at(values.size() / 2);
}

/// The same command line as a sandbox, running `true` instead of the agent.
QStringList bareArguments()
{
    Internal::SandboxLayout layout;
    layout.id = u"bench"_s;
    layout.agentPath = QStringLiteral(SANDFLOW_AGENT_PATH);
    QStringList arguments = Internal::bwrapArguments(layout);
    arguments.last() = u"/bin/true"_s;
    return arguments;
}

void bareStart(const std::function<void()> &done)
{
    auto *process = new QProcess;
    QObject::connect(process, &QProcess::finished, process, [process, done] {
        process->deleteLater();
        done();
    });
    process->start(Internal::bwrapProgram(), bareArguments());
}

qint64 pssKb(qint64 pid)
{
    QFile rollup(u"/proc/%1/smaps_rollup"_s.arg(pid));
    if (!rollup.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : rollup.readAll().split('\n')) {
        if (line.startsWith("Pss:"))
            return line.mid(4).trimmed().split(' ').first().toLongLong();
    }
    return 0;
}

// The outer bwrap, its child (the sandbox's init) and that one's child (the agent).
QList<qint64> processTree(qint64 root)
{
    QList<qint64> pids = {root};
    for (int i = 0; i < pids.size(); ++i) {
        QFile children(u"/proc/%1/task/%1/children"_s.arg(pids.at(i)));
        if (children.open(QIODevice::ReadOnly)) {
            for (const QByteArray &child : children.readAll().split(' ')) {
                if (!child.trimmed().isEmpty())
                    pids.append(child.trimmed().toLongLong());
            }
        }
    }
    return pids;
}

} // namespace

double megabytesPerSecond(qint64 bytes, qint64 elapsedMs)
{
    return double(bytes) / (1024.0 * 1024.0) / (double(std::max<qint64>(elapsedMs, 1)) / 1000.0);
}

/// Reads the command's output on the host through a pipe, with the same event loop.
double pipeThroughput()
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
    return received == StreamBytes ? megabytesPerSecond(received, clock.elapsed()) : 0;
}

double sandboxThroughput(LocalRunner *runner, const QString &id)
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
    return received == StreamBytes ? megabytesPerSecond(received, clock.elapsed()) : 0;
}

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    LocalRunner::Options options;
    options.agentPath = QStringLiteral(SANDFLOW_AGENT_PATH);
    LocalRunner runner(options);

    QList<double> bare;
    QList<double> sandbox;
    for (int i = 0; i < SequentialRuns; ++i) {
        bare.append(runConcurrently(1, 1, bareStart));
        sandbox.append(runConcurrently(1, 1, [&](std::function<void()> done) { Bench::sandboxCycle(&runner, u"echo hello"_s, done); }));
    }
    std::printf("bench_localrunner: %d sequential runs, medians\n", SequentialRuns);
    std::printf("  baseline, bare bwrap start of `true`:           %7.2f ms\n", median(bare));
    std::printf("  sandbox create-to-ready + echo + delete:        %7.2f ms  (%.2fx baseline)\n", median(sandbox),
                median(sandbox) / median(bare));

    const double bareBatch = runConcurrently(Batch, Concurrency, bareStart);
    const double sandboxBatch = runConcurrently(Batch, Concurrency, [&](std::function<void()> done) {
        Bench::sandboxCycle(&runner, u"echo hello"_s, done);
    });
    std::printf("%d at concurrency %d, total\n", Batch, Concurrency);
    std::printf("  baseline, bare bwrap starts:                    %7.0f ms\n", bareBatch);
    std::printf("  sandboxes created, used and deleted:            %7.0f ms  (%.2fx baseline)\n", sandboxBatch,
                sandboxBatch / bareBatch);

    // One idle sandbox, measured from the host.
    SandboxJob *create = runner.createSandbox({});
    QEventLoop loop;
    QObject::connect(create, &AsyncJob::finished, &loop, &QEventLoop::quit);
    create->start();
    loop.exec();
    const QList<SandboxInfo> live = runner.sandboxes();
    if (!live.isEmpty()) {
        const qint64 bwrap = runner.find(live.first().id)->agent().processId();
        qint64 total = 0;
        std::printf("idle sandbox, PSS\n");
        for (qint64 pid : processTree(bwrap)) {
            const qint64 pss = pssKb(pid);
            total += pss;
            QFile comm(u"/proc/%1/comm"_s.arg(pid));
            comm.open(QIODevice::ReadOnly);
            std::printf("  %-20s %6lld kB\n", comm.readAll().trimmed().constData(), pss);
        }
        std::printf("  total                %6lld kB\n", total);

        const double pipe = pipeThroughput();
        const double streamed = sandboxThroughput(&runner, live.first().id);
        std::printf("1 GiB on stdout\n");
        std::printf("  baseline, plain pipe on the host:               %7.0f MB/s\n", pipe);
        std::printf("  through the Runner interface:                   %7.0f MB/s  (%.2fx baseline)\n", streamed,
                    streamed / pipe);
        AsyncJob *removal = runner.deleteSandbox(live.first().id);
        QObject::connect(removal, &AsyncJob::finished, &loop, &QEventLoop::quit);
        removal->start();
        loop.exec();
    }
    return 0;
}
