// What the runner benchmarks share: running tasks at a fixed concurrency, and one sandbox's
// whole life through the Runner interface.
#pragma once

#include "runner.h"

#include <QElapsedTimer>
#include <QEventLoop>

#include <functional>

namespace Bench {

/// Runs `count` tasks, at most `concurrency` at once; each calls its `done` when finished.
/// Returns the total time in milliseconds.
inline double runConcurrently(int count, int concurrency, const std::function<void(std::function<void()>)> &task)
{
    QEventLoop loop;
    int started = 0;
    int finished = 0;
    QElapsedTimer timer;
    timer.start();
    std::function<void()> next = [&] {
        if (started == count)
            return;
        ++started;
        task([&] {
            if (++finished == count)
                loop.quit();
            else
                next();
        });
    };
    for (int i = 0; i < concurrency; ++i)
        next();
    loop.exec();
    return double(timer.nsecsElapsed()) / 1e6;
}

/// Creates a sandbox, runs `command` in it, deletes it, then calls `done`.
inline void sandboxCycle(Sandflow::Runner *runner, const QString &command, const std::function<void()> &done)
{
    using namespace Sandflow;
    SandboxJob *create = runner->createSandbox({});
    QObject::connect(create, &AsyncJob::finished, runner, [runner, command, done](AsyncJob *job) {
        const QString id = static_cast<SandboxJob *>(job)->result().id;
        CommandRequest request;
        request.command = command;
        CommandJob *run = runner->runCommand(id, request);
        QObject::connect(run, &AsyncJob::finished, runner, [runner, id, done] {
            AsyncJob *removal = runner->deleteSandbox(id);
            QObject::connect(removal, &AsyncJob::finished, runner, [done] { done(); });
            removal->start();
        });
        run->start();
    });
    create->start();
}

} // namespace Bench
