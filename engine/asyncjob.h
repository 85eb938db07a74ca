// The one asynchronous job contract of Sandflow (after KDE's KJob): creating a sandbox,
// running a command, uploading a file and running a whole step are all AsyncJobs.
//
//   auto *job = runner->createSandbox(spec);
//   connect(job, &AsyncJob::finished, this, [](AsyncJob *job) { ... job->error() ... });
//   job->start();
//
// - start() returns at once; the work happens on the event loop.
// - finished is emitted exactly once, also after cancel(); a job deletes itself after
//   emitting it unless setAutoDelete(false).
// - errors are values (code, message, context), never exceptions.
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QString>

#include <optional>

namespace Sandflow {

/// What went wrong, as data that can be logged, shown and serialised.
struct JobError
{
    /// Failure classes that retry policies and reports tell apart.
    enum class Kind {
        Task,        ///< the work itself failed (a command exited non-zero)
        Infra,       ///< the machinery failed (sandbox lost, connection lost, creation failed)
        Timeout,     ///< a time limit ran out
        Cancelled,   ///< cancel() was called
        Invalid,     ///< the request was malformed (a bug or bad input, never retried)
    };

    Kind kind = Kind::Task;
    QString code;          ///< a stable identifier, e.g. "SANDBOX_NOT_FOUND"
    QString message;       ///< one sentence for people
    QJsonObject context;   ///< details: ids, paths, exit codes

    static QString kindName(Kind kind);
    QJsonObject toJson() const;
};

class AsyncJob : public QObject
{
    Q_OBJECT

public:
    explicit AsyncJob(QObject *parent = nullptr);
    ~AsyncJob() override;

    /// Starts the job; returns at once. Starting twice is a programming error.
    void start();
    /// Asks the job to stop. It finishes soon after with a Cancelled error (or with its
    /// result, if that was already on the way). Does nothing once finished.
    void cancel();

    bool isStarted() const { return m_started; }
    bool isFinished() const { return m_finished; }
    /// Set once finished unsuccessfully.
    const std::optional<JobError> &error() const { return m_error; }

    bool autoDelete() const { return m_autoDelete; }
    void setAutoDelete(bool autoDelete) { m_autoDelete = autoDelete; }

signals:
    /// Emitted exactly once, when the job has finished, successfully or not.
    void finished(Sandflow::AsyncJob *job);

protected:
    virtual void doStart() = 0;
    /// Stops the work. The default finishes at once with a Cancelled error; jobs holding
    /// resources release them first and then call finish().
    virtual void doCancel();

    /// Ends the job: records the outcome and emits finished. Later calls are ignored, so a
    /// late result after a cancellation cannot finish a job twice.
    void finish(std::optional<JobError> error = std::nullopt);
    /// A Cancelled error for this job, for doCancel implementations.
    static JobError cancelledError();

private:
    std::optional<JobError> m_error;
    bool m_started = false;
    bool m_running = false;   // doStart() has been called
    bool m_finished = false;
    bool m_cancelling = false;
    bool m_autoDelete = true;
};

} // namespace Sandflow
