// Something run through one of execd's event streams (POST /command, /session/{id}/run and
// /code): the events become CommandJob's started, output and finished, and the exit code is
// read as the SDKs read it. The routes differ in their request, in how output is cut and in
// the route that stops what runs; the events are read the same way for all of them.
#pragma once

#include "execdevents_p.h"
#include "streamcall_p.h"

#include <QElapsedTimer>
#include <QTimer>

namespace Sandflow::Internal {

/// What sets one event-stream route apart from the others.
struct EventStreamRoute
{
    RequestSpec request;            ///< the POST that starts it and streams its events
    /// execd's `/command` and `/session` events carry one line each without its terminator;
    /// a code kernel's carry chunks with their own line breaks.
    bool outputInLines = true;
    QString interruptPath;          ///< DELETE {interruptPath}?id={commandId} stops it
    std::optional<qint64> timeoutMs;   ///< the limit asked for, to tell a timeout from an interrupt
};

/// `path` at `execd`, POSTed with `body`, asking for an event stream.
RequestSpec eventStreamRequest(const Transport &transport, const OpenSandboxEndpoint &execd, const QString &path,
                               const QJsonObject &body);

/// `Job` is CommandJob or one derived from it (CodeJob).
template <typename Job>
class CommandStreamJob : public Job
{
public:
    CommandStreamJob(Transport &transport, const OpenSandboxEndpoint &execd, EventStreamRoute route);

protected:
    void doStart() override;
    void doCancel() override;

    /// An event other than init, ping, output and the final ones.
    virtual void otherEvent(const QString &type, const QJsonObject &event);
    /// The final `error` event: how it ended; std::nullopt for exit status 0.
    virtual std::optional<JobError> failure(const QJsonObject &error) const;
    /// The stream's request id: the server logged the run under it.
    QString requestId() const { return m_call->requestId(); }

private:
    void received(const QByteArray &bytes);
    void streamEnded(const HttpResult &answer);
    /// The command's time limit, and the request timeout after it, passed without the final
    /// event: a stream that pings on for ever must not hold the job for ever.
    void deadlinePassed();
    /// The stream's answer had begun but stopped before the final event; `what` says how.
    JobError streamStopped(JobError::Kind kind, const QString &code, const QString &what) const;
    void handleEvent(const QJsonObject &event);
    /// The stream's last event came: the job ends, the stream is let end on its own.
    void commandEnded(std::optional<JobError> error);
    /// The job ends and the stream is dropped.
    void end(std::optional<JobError> error);

    Transport &m_transport;
    OpenSandboxEndpoint m_execd;
    EventStreamRoute m_route;
    StreamCall *m_call = nullptr;
    ExecdEventReader m_events;
    QElapsedTimer m_clock;
    QTimer m_deadline;
    HttpCall *m_interrupt = nullptr;
};

extern template class CommandStreamJob<CommandJob>;
extern template class CommandStreamJob<CodeJob>;

} // namespace Sandflow::Internal
