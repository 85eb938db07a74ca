// Helpers for tests that drive a runner through the Runner interface with real sandboxes:
// run a job and wait for it, collect a command's output, make requests.
//
// A helper that cannot do its part (a job that does not finish in time, or fails where only
// success is asked for) fails the test at its caller's line and hands back a default value,
// with which the test goes on to its next check: a test that expects a failure asks errorOf()
// or errorCodeOf(), or inspects the job it had run().
#pragma once

#include "runner.h"
#include "warnings.h"

#include <QBuffer>
#include <QDir>
#include <QFile>
#include <QEventLoop>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>

#include <functional>
#include <memory>

namespace RunnerTesting {

/// Where a helper was called from, as SourceLocation says it: its default argument
/// `SourceLocation::current()` is the caller's line. (clang 14's standard library, the one the
/// project builds with, has no SourceLocation; the builtins behind it are there.)
struct SourceLocation
{
    static constexpr SourceLocation current(const char *file = __builtin_FILE(), int line = __builtin_LINE())
    {
        return {file, line};
    }
    constexpr const char *file_name() const { return m_file; }
    constexpr int line() const { return m_line; }

    const char *m_file = "";
    int m_line = 0;
};

/// How long a job may take unless a test says otherwise.
constexpr int DefaultTimeoutMs = 30'000;

namespace Detail {

/// Records a failure of the current test at `where`, a helper's caller.
inline void fail(const QString &message, const SourceLocation &where)
{
    QTest::qFail(qPrintable(message), where.file_name(), int(where.line()));
}

/// Waits up to `timeoutMs` for `job` to finish; whether it has. Not QSignalSpy::wait, which
/// returns at once once the test has failed: a test goes on after a failed check, and its
/// later jobs must still run to their end, not be destroyed while running.
inline bool waitForFinished(Sandflow::AsyncJob *job, int timeoutMs)
{
    if (job->isFinished())
        return true;
    QEventLoop loop;
    QObject::connect(job, &Sandflow::AsyncJob::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    loop.exec();
    return job->isFinished();
}

/// Deletes a job, cancelling it and waiting for its end first if it is still running.
struct FinishThenDelete
{
    void operator()(Sandflow::AsyncJob *job) const
    {
        if (job->isStarted() && !job->isFinished()) {
            job->cancel();
            waitForFinished(job, DefaultTimeoutMs);
        }
        delete job;
    }
};

/// Starts `job` and waits for it, as run() does; whether it finished in time.
template <typename Job>
bool runToEnd(Job *job, int timeoutMs, const SourceLocation &where)
{
    job->setAutoDelete(false);
    job->start();
    if (waitForFinished(job, timeoutMs))
        return true;
    fail(QStringLiteral("the job did not finish within %1 ms").arg(timeoutMs), where);
    job->cancel();
    // A job that ignores cancel() too is a bug of its own; deleting it will say so.
    if (!waitForFinished(job, DefaultTimeoutMs))
        fail(QStringLiteral("the job did not finish when cancelled either"), where);
    return false;
}

} // namespace Detail

/// Owns a job that a test starts and waits for itself. A check that fails on the way returns
/// from the test, and once the test has failed QTRY_* and QSignalSpy::wait no longer wait:
/// the job would be destroyed while running, which AsyncJob asserts against. This owner
/// cancels it and waits for its end first.
template <typename Job>
using OwnedJob = std::unique_ptr<Job, Detail::FinishThenDelete>;

/// Starts `job` and waits for it; the job stays alive for inspection, owned by the caller.
/// A job still running after `timeoutMs` fails the test and is cancelled, so that the caller
/// gets a finished job (with a Cancelled error) that it can inspect and delete.
template <typename Job>
Job *run(Job *job, int timeoutMs = DefaultTimeoutMs, SourceLocation where = SourceLocation::current())
{
    Detail::runToEnd(job, timeoutMs, where);
    return job;
}

/// Runs `job` and hands back its result. A job that fails fails the test, with its error
/// code and message, and hands back a default value.
template <typename Result>
Result resultOf(Sandflow::ResultJob<Result> *job, SourceLocation where = SourceLocation::current())
{
    std::unique_ptr<Sandflow::ResultJob<Result>> owned(job);
    // One that ran out of time has failed the test already.
    if (Detail::runToEnd(job, DefaultTimeoutMs, where) && job->error())
        Detail::fail(QStringLiteral("the job failed: %1: %2").arg(job->error()->code, job->error()->message), where);
    return job->error() ? Result{} : job->result();
}

/// Runs `job` and hands back its error: none when it succeeded. For jobs that may fail.
inline std::optional<Sandflow::JobError> errorOf(Sandflow::AsyncJob *job,
                                                 SourceLocation where = SourceLocation::current())
{
    std::unique_ptr<Sandflow::AsyncJob> owned(run(job, DefaultTimeoutMs, where));
    return owned->error();
}

/// Runs `job` and hands back its error code (empty on success).
inline QString errorCodeOf(Sandflow::AsyncJob *job, SourceLocation where = SourceLocation::current())
{
    const std::optional<Sandflow::JobError> error = errorOf(job, where);
    return error ? error->code : QString();
}

struct Output
{
    QByteArray out;
    QByteArray err;
};

/// Runs a command job to its end and returns what it printed; how it ended is the caller's
/// to check.
inline Output collect(Sandflow::CommandJob *job, SourceLocation where = SourceLocation::current())
{
    auto output = std::make_shared<Output>();
    QObject::connect(job, &Sandflow::CommandJob::output, job,
                     [output](Sandflow::CommandJob::Stream stream, const QByteArray &data) {
                         (stream == Sandflow::CommandJob::Stream::Stdout ? output->out : output->err) += data;
                     });
    run(job, DefaultTimeoutMs, where);
    return *output;
}

/// Runs a command job that must succeed (exit with status 0) and returns what it printed;
/// anything else fails the test, with the job's error and the command's stderr.
inline Output outputOf(Sandflow::CommandJob *job, SourceLocation where = SourceLocation::current())
{
    const Output output = collect(job, where);
    if (job->error())
        Detail::fail(QStringLiteral("the command failed: %1: %2\n%3")
                           .arg(job->error()->code, job->error()->message, QString::fromUtf8(output.err)),
                       where);
    return output;
}

/// Everything a read job delivered, in how many pieces, and how it ended.
struct Read
{
    QByteArray data;
    int chunks = 0;
    std::optional<Sandflow::JobError> error;
};

/// Runs a download or relay job to its end (and deletes it) and returns what it read and
/// how it ended, for the caller to check.
inline Read readAll(Sandflow::FileReadJob *job, int timeoutMs = DefaultTimeoutMs,
                    SourceLocation where = SourceLocation::current())
{
    auto read = std::make_shared<Read>();
    QObject::connect(job, &Sandflow::FileReadJob::data, job, [read](const QByteArray &data) {
        read->data += data;
        ++read->chunks;
    });
    std::unique_ptr<Sandflow::FileReadJob> owned(run(job, timeoutMs, where));
    read->error = owned->error();
    return *read;
}

/// Runs a download or relay job that must succeed and returns what it read; an error fails
/// the test.
inline QByteArray dataOf(Sandflow::FileReadJob *job, SourceLocation where = SourceLocation::current())
{
    const Read read = readAll(job, DefaultTimeoutMs, where);
    if (read.error)
        Detail::fail(QStringLiteral("the read failed: %1: %2").arg(read.error->code, read.error->message), where);
    return read.data;
}

/// `data` as a device to upload or relay, for jobs that take ownership of one.
inline QIODevice *bytes(const QByteArray &data)
{
    auto *buffer = new QBuffer;
    buffer->setData(data);
    buffer->open(QIODevice::ReadOnly);
    return buffer;
}

/// What this process holds open (the targets of /proc/self/fd), but the event dispatchers'
/// eventfds: each Qt thread has one, and the thread pool's threads (which remove sandboxes'
/// layers) come and go on their own time.
inline QStringList openDescriptors()
{
    QStringList targets;
    const QStringList fds = QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::System);
    for (const QString &fd : fds) {
        const QString target = QFile::symLinkTarget(QStringLiteral("/proc/self/fd/") + fd);
        if (!target.endsWith(QStringLiteral("anon_inode:[eventfd]")))
            targets.append(target);
    }
    return targets;
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

/// Creates a sandbox and returns its id; a failure fails the test and gives an empty id.
inline QString create(Sandflow::Runner *runner, const Sandflow::SandboxRequest &request = {},
                      SourceLocation where = SourceLocation::current())
{
    return resultOf(runner->createSandbox(request), where).id;
}

/// Runs a shell command in the sandbox and returns its stdout. Whatever its exit status (a
/// test may ask `grep -c` for a count of 0), the command must have run to one: a command that
/// could not start, ran out of time or was killed fails the test.
inline QByteArray shellOutput(Sandflow::Runner *runner, const QString &sandboxId, const QString &text,
                              SourceLocation where = SourceLocation::current())
{
    std::unique_ptr<Sandflow::CommandJob> job(runner->runCommand(sandboxId, command(text)));
    const Output output = collect(job.get(), where);
    if (!job->exitCode()) {
        const QString why = job->error() ? job->error()->code + QStringLiteral(": ") + job->error()->message
                                         : QStringLiteral("no exit status");
        Detail::fail(QStringLiteral("`%1` did not run to its end: %2").arg(text, why), where);
    }
    return output.out;
}

} // namespace RunnerTesting
