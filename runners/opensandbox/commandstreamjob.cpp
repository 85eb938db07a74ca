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
    if (answer.error)
        return end(answer.error);
    m_events.end([this](const QJsonObject &object) { handleEvent(object); });
    if (!isFinished())
        end(unexpectedResponse(m_stream->spec(), answer.requestId, answer.status,
                               u"the stream ended before the command did"_s));
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
    m_interrupt->start([this](const HttpResult &) {
        m_stream->abort();
        finish(cancelledError());
    });
}

} // namespace Sandflow::Internal
