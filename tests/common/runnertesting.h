// Helpers for tests that drive a runner through the Runner interface with real sandboxes:
// run a job and wait for it, collect a command's output, make requests.
#pragma once

#include "runner.h"

#include <QBuffer>
#include <QSignalSpy>
#include <QTest>

#include <functional>
#include <memory>

namespace RunnerTesting {

/// Starts `job` and waits for it; the job stays alive for inspection.
template <typename Job>
Job *run(Job *job, int timeoutMs = 30'000)
{
    job->setAutoDelete(false);
    QSignalSpy finished(job, &Sandflow::AsyncJob::finished);
    job->start();
    if (!finished.wait(timeoutMs))
        qWarning("job did not finish");
    return job;
}

/// Runs `job` and hands back its result (a default value, with a warning, on error).
template <typename Result>
Result resultOf(Sandflow::ResultJob<Result> *job)
{
    std::unique_ptr<Sandflow::ResultJob<Result>> owned(run(job));
    if (owned->error())
        qWarning("%s: %s", qPrintable(owned->error()->code), qPrintable(owned->error()->message));
    return owned->result();
}

/// Runs `job` and hands back its error code (empty on success).
inline QString errorCodeOf(Sandflow::AsyncJob *job)
{
    std::unique_ptr<Sandflow::AsyncJob> owned(run(job));
    return owned->error() ? owned->error()->code : QString();
}

struct Output
{
    QByteArray out;
    QByteArray err;
};

/// Runs a command job to its end and returns what it printed.
inline Output collect(Sandflow::CommandJob *job)
{
    auto output = std::make_shared<Output>();
    QObject::connect(job, &Sandflow::CommandJob::output, job,
                     [output](Sandflow::CommandJob::Stream stream, const QByteArray &data) {
                         (stream == Sandflow::CommandJob::Stream::Stdout ? output->out : output->err) += data;
                     });
    run(job);
    return *output;
}

/// Everything a read job delivered, in how many pieces, and how it ended.
struct Read
{
    QByteArray data;
    int chunks = 0;
    std::optional<Sandflow::JobError> error;
};

/// Runs a download or relay job to its end (and deletes it) and returns what it read.
inline Read readAll(Sandflow::FileReadJob *job, int timeoutMs = 30'000)
{
    auto read = std::make_shared<Read>();
    QObject::connect(job, &Sandflow::FileReadJob::data, job, [read](const QByteArray &data) {
        read->data += data;
        ++read->chunks;
    });
    std::unique_ptr<Sandflow::FileReadJob> owned(run(job, timeoutMs));
    read->error = owned->error();
    return *read;
}

/// `data` as a device to upload or relay, for jobs that take ownership of one.
inline QIODevice *bytes(const QByteArray &data)
{
    auto *buffer = new QBuffer;
    buffer->setData(data);
    buffer->open(QIODevice::ReadOnly);
    return buffer;
}

inline Sandflow::SandboxRequest sandbox(const std::function<void(Sandflow::SandboxRequest &)> &set)
{
    Sandflow::SandboxRequest request;
    set(request);
    return request;
}

inline Sandflow::CommandRequest command(const QString &text,
                                        const std::function<void(Sandflow::CommandRequest &)> &set = {})
{
    Sandflow::CommandRequest request;
    request.command = text;
    if (set)
        set(request);
    return request;
}

/// Creates a sandbox and returns its id (empty, with a warning, on failure).
inline QString create(Sandflow::Runner *runner, const Sandflow::SandboxRequest &request = {})
{
    std::unique_ptr<Sandflow::SandboxJob> job(run(runner->createSandbox(request)));
    if (job->error())
        qWarning("%s", qPrintable(job->error()->message));
    return job->error() ? QString() : job->result().id;
}

/// Runs a shell command in the sandbox and returns its stdout.
inline QByteArray shellOutput(Sandflow::Runner *runner, const QString &sandboxId, const QString &text)
{
    std::unique_ptr<Sandflow::CommandJob> job(runner->runCommand(sandboxId, command(text)));
    return collect(job.get()).out;
}

} // namespace RunnerTesting
