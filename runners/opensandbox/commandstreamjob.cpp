#include "commandstreamjob_p.h"

#include "httperror_p.h"
#include "units.h"
#include "wirejson_p.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

CommandStreamJob::CommandStreamJob(Transport &transport, const OpenSandboxEndpoint &execd, CommandRequest request)
    : m_transport(transport)
    , m_execd(execd)
    , m_request(std::move(request))
{
}

void CommandStreamJob::doStart()
{
    RequestSpec spec = m_transport.execd(m_execd, "POST", u"/command"_s);
    spec.contentType = "application/json";
    spec.body = QJsonDocument(commandJson(m_request)).toJson(QJsonDocument::Compact);
    spec.headers.append({QByteArray("Accept"), QByteArray("text/event-stream")});
    m_stream = new StreamCall(m_transport, std::move(spec), this);
    m_clock.start();
    m_stream->start([this](const QByteArray &bytes) { received(bytes); },
                    [this](const HttpResult &answer) { streamEnded(answer); });
}

void CommandStreamJob::received(const QByteArray &bytes)
{
    const bool fits = m_events.add(bytes, [this](const QJsonObject &object) { handleEvent(object); });
    if (!fits && !isFinished())
        end(unexpectedResponse(m_stream->spec(), m_stream->requestId(), m_stream->status(),
                               u"an event line larger than 64 MiB"_s));
}

void CommandStreamJob::streamEnded(const HttpResult &answer)
{
    const bool begun = answer.status >= 200 && answer.status <= 299;
    if (answer.error && !begun)
        return end(answer.error);
    if (answer.error && answer.error->code == ErrorCode::Timeout)
        return end(streamStopped(JobError::Kind::Timeout, ErrorCode::Timeout,
                                 u"went silent for %1 s; execd pings every 3 s, so the connection is dead"_s.arg(
                                     double(m_transport.config().requestTimeout.count()) / 1000.0)));
    if (!answer.error)
        m_events.end([this](const QJsonObject &object) { handleEvent(object); });
    if (!isFinished())
        end(streamStopped(JobError::Kind::Infra, ErrorCode::ConnectionFailed,
                          u"broke off before the command ended"_s));
}

JobError CommandStreamJob::streamStopped(JobError::Kind kind, const QString &code, const QString &what) const
{
    const QString requestId = m_stream->requestId();
    QJsonObject context = requestContext(m_stream->spec(), requestId);
    context.insert(u"commandId"_s, m_commandId);
    context.insert(ErrorKey::Status, m_stream->status());
    const QString stream =
        m_commandId.isEmpty() ? u"the command stream"_s : u"the stream of command %1"_s.arg(m_commandId);
    return {kind, code, u"%1 from %2 %3 (request %4)"_s.arg(stream, m_stream->spec().peer, what, requestId), context};
}

void CommandStreamJob::handleEvent(const QJsonObject &event)
{
    if (isFinished())
        return;
    const QString type = event.value("type"_L1).toString();
    if (type == "init"_L1) {
        m_commandId = event.value("text"_L1).toString();
        emit started(m_commandId);
    } else if (type == "stdout"_L1 || type == "stderr"_L1) {
        // One event per line, without its terminator; an empty line comes as "\n".
        const QString text = event.value("text"_L1).toString();
        const QByteArray line = text == "\n"_L1 ? QByteArray("\n") : text.toUtf8() + '\n';
        emit output(type == "stdout"_L1 ? Stream::Stdout : Stream::Stderr, line);
    } else if (type == "execution_complete"_L1) {
        m_exitCode = 0;
        end(std::nullopt);
    } else if (type == "error"_L1) {
        std::optional<JobError> error = failure(event.value("error"_L1).toObject());
        if (!error)
            m_exitCode = 0;
        end(std::move(error));
    }
    // ping, and the /code-only events, say nothing about a command.
}

std::optional<JobError> CommandStreamJob::failure(const QJsonObject &error) const
{
    const QString value = error.value("evalue"_L1).toString();
    QStringList traceback;
    for (const QJsonValue &line : error.value("traceback"_L1).toArray())
        traceback.append(line.toString());
    // The stream's request id: the server logged the command under it.
    const QString requestId = m_stream->requestId();
    QJsonObject context{{u"commandId"_s, m_commandId}, {u"requestId"_s, requestId}};
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
    if (m_request.timeoutMs && m_clock.elapsed() >= *m_request.timeoutMs)
        return JobError{JobError::Kind::Timeout, u"COMMAND_TIMEOUT"_s,
                        u"the command ran out of time after %1 (%2, request %3)"_s
                            .arg(formatDuration(*m_request.timeoutMs), signal, requestId),
                        context};
    return JobError{JobError::Kind::Task, u"COMMAND_KILLED"_s,
                    u"the command was stopped (%1, request %2)"_s.arg(signal, requestId), context};
}

void CommandStreamJob::end(std::optional<JobError> error)
{
    if (error && !m_exitCode) {
        if (const QJsonValue code = error->context.value("exitCode"_L1); code.isDouble())
            m_exitCode = code.toInt();
    }
    // execd keeps the stream open for a grace second after the last event; the answer is
    // complete, so stop listening now.
    m_stream->abort();
    finish(std::move(error));
}

void CommandStreamJob::doCancel()
{
    if (m_interrupt)
        return;
    // execd lets a command run on when its client leaves: stop it first.
    if (m_commandId.isEmpty()) {
        m_stream->abort();
        return finish(cancelledError());
    }
    m_interrupt = new HttpCall(m_transport, m_transport.execd(m_execd, "DELETE", u"/command"_s, {{u"id"_s, m_commandId}}),
                               this);
    // Someone waits for the cancel to end: one attempt, within the request limit.
    m_interrupt->setRetries(HttpCall::Retries::Once);
    m_interrupt->start([this](const HttpResult &) {
        m_stream->abort();
        finish(cancelledError());
    });
}

} // namespace Sandflow::Internal
