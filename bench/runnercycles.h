// What the runner benchmarks share: running tasks at a fixed concurrency, one sandbox's
// whole life through the Runner interface, and the errors met on the way.
#pragma once

#include "runner.h"

#include <QElapsedTimer>
#include <QEventLoop>

#include <cstdio>
#include <functional>

namespace Bench {

/// The errors of a measurement's jobs. A figure over failed jobs measures the failure (a
/// sandbox that was never created is quick to use and delete), so each error is counted,
/// and a benchmark that met any prints no figure and exits non-zero.
class Errors
{
public:
    void add(const QString &what)
    {
        if (m_count++ == 0)
            m_first = what;
    }

    /// Counts `job`'s error, if it has one, as one of `step`; true when it had one.
    bool failed(const Sandflow::AsyncJob *job, const QString &step)
    {
        if (job->error())
            add(step + QStringLiteral(": ") + job->error()->message);
        return job->error().has_value();
    }

    /// When there were errors: says how many, and the first, on stderr; true then.
    bool report(const char *benchmark) const
    {
        if (m_count > 0)
            std::fprintf(stderr, "%s: %d errors; the first: %s\n", benchmark, m_count, qPrintable(m_first));
        return m_count > 0;
    }

private:
    int m_count = 0;
    QString m_first;
};

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

/// Starts `job` (deleted once finished) and waits for its end.
inline void waitFor(Sandflow::AsyncJob *job)
{
    QEventLoop loop;
    QObject::connect(job, &Sandflow::AsyncJob::finished, &loop, &QEventLoop::quit);
    job->start();
    loop.exec();
}

/// Creates a sandbox of `request` and waits until it is ready: its id, or empty with the
/// error counted in `errors`.
inline QString createAndWait(Sandflow::Runner *runner, const Sandflow::SandboxRequest &request, Errors &errors)
{
    using namespace Sandflow;
    SandboxJob *create = runner->createSandbox(request);
    QString id;
    QObject::connect(create, &AsyncJob::finished, create, [&](AsyncJob *job) {
        if (!errors.failed(job, QStringLiteral("create")))
            id = static_cast<SandboxJob *>(job)->result().id;
    });
    waitFor(create);
    return id;
}

/// Creates a sandbox (of `request`), runs `command` in it, deletes it, then calls `done`. A
/// failed step, a command exiting non-zero among them, goes to `errors`; the sandbox is
/// deleted all the same once it was created.
inline void sandboxCycle(Sandflow::Runner *runner, const QString &command, Errors &errors,
                         const std::function<void()> &done, const Sandflow::SandboxRequest &request = {})
{
    using namespace Sandflow;
    SandboxJob *create = runner->createSandbox(request);
    QObject::connect(create, &AsyncJob::finished, runner, [runner, command, &errors, done](AsyncJob *job) {
        if (errors.failed(job, QStringLiteral("create")))
            return done();
        const QString id = static_cast<SandboxJob *>(job)->result().id;
        CommandRequest request;
        request.command = command;
        CommandJob *run = runner->runCommand(id, request);
        QObject::connect(run, &AsyncJob::finished, runner, [runner, id, &errors, done](AsyncJob *job) {
            errors.failed(job, QStringLiteral("run"));
            AsyncJob *removal = runner->deleteSandbox(id);
            QObject::connect(removal, &AsyncJob::finished, runner, [&errors, done](AsyncJob *job) {
                errors.failed(job, QStringLiteral("delete"));
                done();
            });
            removal->start();
        });
        run->start();
    });
    create->start();
}

} // namespace Bench
