#include "commandstreamjob_p.h"

#include "httperror_p.h"
#include "units.h"
#include "wirejson_p.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

RequestSpec eventStreamRequest(const Transport &transport, const OpenSandboxEndpoint &execd, const QString &path,
                               const QJsonObject &body)
{
    RequestSpec spec = withJsonBody(transport.execd(execd, "POST", path), QJsonDocument(body));
    spec.headers.append({QByteArray("Accept"), QByteArray("text/event-stream")});
    return spec;
}

template <typename Job>
CommandStreamJob<Job>::CommandStreamJob(Transport &transport, const OpenSandboxEndpoint &execd, EventStreamRoute route)
    : m_transport(transport)
    , m_execd(execd)
    , m_route(std::move(route))
{
    m_deadline.setSingleShot(true);
    QObject::connect(&m_deadline, &QTimer::timeout, this, [this] { deadlinePassed(); });
}

template <typename Job>
void CommandStreamJob<Job>::doStart()
{
    m_call = new StreamCall(m_transport, m_route.request, this);
    m_clock.start();
    // execd kills a command whose time is up and reports it at once; the request timeout
    // on top leaves room for a slow network and a loaded sandbox.
    if (m_route.timeoutMs)
        m_deadline.start(std::chrono::milliseconds(*m_route.timeoutMs) + m_transport.config().requestTimeout);
    m_call->start([this](const QByteArray &bytes) { received(bytes); },
                  [this](const HttpResult &answer) { streamEnded(answer); });
}

template <typename Job>
void CommandStreamJob<Job>::received(const QByteArray &bytes)
{
    const bool fits = m_events.add(bytes, [this](const QJsonObject &object) { handleEvent(object); });
    if (!fits && !this->isFinished())
        end(unexpectedResponse(m_call->spec(), m_call->requestId(), m_call->status(),
                               u"an event line larger than 64 MiB"_s));
}

template <typename Job>
void CommandStreamJob<Job>::streamEnded(const HttpResult &answer)
{
    const bool begun = answer.status >= 200 && answer.status <= 299;
    if (answer.error && !begun)
        return end(answer.error);
    // Silent past the pings: the connection is dead, the infrastructure's failure (which
    // `retry: {on: [infra]}` retries), not the command's time running out.
    if (answer.error && answer.error->code == ErrorCode::Timeout)
        return end(streamStopped(JobError::Kind::Infra, ErrorCode::ConnectionFailed,
                                 u"went silent for %1 s; execd pings every 3 s, so the connection is dead"_s.arg(
                                     double(m_transport.config().requestTimeout.count()) / 1000.0)));
    if (!answer.error)
        m_events.end([this](const QJsonObject &object) { handleEvent(object); });
    if (!this->isFinished())
        end(streamStopped(JobError::Kind::Infra, ErrorCode::ConnectionFailed,
                          u"broke off before the command ended"_s));
}

template <typename Job>
void CommandStreamJob<Job>::deadlinePassed()
{
    // A cancel under way ends the job itself, within the request timeout.
    if (this->isFinished() || m_interrupt)
        return;
    end(streamStopped(JobError::Kind::Timeout, ErrorCode::Timeout,
                      u"sent no final event within %1 after the command's time limit of %2 ran out"_s.arg(
                          formatDuration(m_transport.config().requestTimeout.count()),
                          formatDuration(*m_route.timeoutMs))));
}

template <typename Job>
JobError CommandStreamJob<Job>::streamStopped(JobError::Kind kind, const QString &code, const QString &what) const
{
    const QString requestId = m_call->requestId();
    QJsonObject context = requestContext(m_call->spec(), requestId);
    context.insert(u"commandId"_s, this->m_commandId);
    context.insert(ErrorKey::Status, m_call->status());
    const QString stream =
        this->m_commandId.isEmpty() ? u"the command stream"_s : u"the stream of command %1"_s.arg(this->m_commandId);
    return {kind, code, u"%1 from %2 %3 (request %4)"_s.arg(stream, m_call->spec().peer, what, requestId), context};
}

template <typename Job>
void CommandStreamJob<Job>::handleEvent(const QJsonObject &event)
{
    if (this->isFinished())
        return;
    const QString type = event.value("type"_L1).toString();
    if (type == "init"_L1) {
        this->m_commandId = event.value("text"_L1).toString();
        emit this->started(this->m_commandId);
    } else if (type == "stdout"_L1 || type == "stderr"_L1) {
        const QString text = event.value("text"_L1).toString();
        QByteArray bytes = text.toUtf8();
        // One event per line, without its terminator; an empty line comes as "\n".
        if (m_route.outputInLines)
            bytes = text == "\n"_L1 ? QByteArray("\n") : bytes + '\n';
        emit this->output(type == "stdout"_L1 ? CommandJob::Stream::Stdout : CommandJob::Stream::Stderr, bytes);
    } else if (type == "execution_complete"_L1) {
        this->m_exitCode = 0;
        commandEnded(std::nullopt);
    } else if (type == "error"_L1) {
        std::optional<JobError> error = failure(event.value("error"_L1).toObject());
        if (!error)
            this->m_exitCode = 0;
        commandEnded(std::move(error));
    } else if (type != "ping"_L1) {
        otherEvent(type, event);
    }
}

template <typename Job>
void CommandStreamJob<Job>::otherEvent(const QString &, const QJsonObject &)
{
    // status and execution_count say nothing about how a command ends.
}

template <typename Job>
std::optional<JobError> CommandStreamJob<Job>::failure(const QJsonObject &error) const
{
    const QString value = error.value("evalue"_L1).toString();
    QStringList traceback;
    for (const QJsonValue &line : error.value("traceback"_L1).toArray())
        traceback.append(line.toString());
    const QString requestId = this->requestId();
    QJsonObject context{{u"commandId"_s, this->m_commandId}, {u"requestId"_s, requestId}};
    bool numeric = false;
    const int code = value.trimmed().toInt(&numeric);
    if (!numeric) {
        // execd could not start it: evalue is the system's reason.
        context.insert(u"reason"_s, value);
        return JobError{JobError::Kind::Task, u"COMMAND_START_FAILED"_s,
                        u"the command did not start: %1 (request %2)"_s.arg(value, requestId), context};
    }
    if (code == 0)
        return std::nullopt;
    if (code > 0) {
        context.insert(u"exitCode"_s, code);
        return JobError{JobError::Kind::Task, u"COMMAND_FAILED"_s, u"exit status %1 (request %2)"_s.arg(code).arg(requestId),
                        context};
    }
    // -1: a signal ended it, after an interrupt or when its time ran out.
    const QString signal = traceback.isEmpty() ? u"signal"_s : traceback.first();
    context.insert(u"signal"_s, signal);
    const std::optional<qint64> &timeoutMs = m_route.timeoutMs;
    if (timeoutMs && m_clock.elapsed() >= *timeoutMs)
        return JobError{JobError::Kind::Timeout, u"COMMAND_TIMEOUT"_s,
                        u"the command ran out of time after %1 (%2, request %3)"_s
                            .arg(formatDuration(*timeoutMs), signal, requestId),
                        context};
    return JobError{JobError::Kind::Task, u"COMMAND_KILLED"_s,
                    u"the command was stopped (%1, request %2)"_s.arg(signal, requestId), context};
}

template <typename Job>
void CommandStreamJob<Job>::commandEnded(std::optional<JobError> error)
{
    m_deadline.stop();
    if (error && !this->m_exitCode) {
        if (const QJsonValue code = error->context.value("exitCode"_L1); code.isDouble())
            this->m_exitCode = code.toInt();
    }
    // execd keeps a command's stream open for a grace second after the last event; the
    // command is over, so the job is too, and the stream is left to end on its own.
    m_call->letEnd();
    // Once a cancel has asked the server to stop the command, the command's end is the
    // cancel's doing, and the job is cancelled as asked: execd may report the signal before
    // it answers the interrupt.
    if (m_interrupt)
        return this->finish(AsyncJob::cancelledError());
    this->finish(std::move(error));
}

template <typename Job>
void CommandStreamJob<Job>::end(std::optional<JobError> error)
{
    m_deadline.stop();
    m_call->abort();
    this->finish(std::move(error));
}

template <typename Job>
void CommandStreamJob<Job>::doCancel()
{
    if (m_interrupt)
        return;
    // execd lets what runs go on when its client leaves: stop it first.
    if (this->m_commandId.isEmpty()) {
        m_call->abort();
        return this->finish(AsyncJob::cancelledError());
    }
    m_interrupt = new HttpCall(
        m_transport, m_transport.execd(m_execd, "DELETE", m_route.interruptPath, {{u"id"_s, this->m_commandId}}), this);
    // Someone waits for the cancel to end: one attempt, within the request limit.
    m_interrupt->setRetries(HttpCall::Retries::Once);
    m_interrupt->start([this](const HttpResult &) {
        m_call->abort();
        this->finish(AsyncJob::cancelledError());
    });
}

template class CommandStreamJob<CommandJob>;
template class CommandStreamJob<CodeJob>;

} // namespace Sandflow::Internal
