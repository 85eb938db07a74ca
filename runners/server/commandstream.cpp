#include "commandstream_p.h"

#include "execderror_p.h"
#include "execdevents_p.h"
#include "httpexchange_p.h"
#include "serverroutes_p.h"

using namespace Qt::StringLiterals;

namespace Sandflow::Internal {

namespace {

int streamIndex(CommandJob::Stream stream)
{
    return stream == CommandJob::Stream::Stdout ? 0 : 1;
}

} // namespace

CommandStream::CommandStream(HttpExchange *exchange, CommandJob *job, Kind kind, QString sessionId)
    : QObject(exchange)
    , m_exchange(exchange)
    , m_job(job)
    , m_kind(kind)
    , m_sessionId(std::move(sessionId))
{
    m_ping.setInterval(3000);
    connect(&m_ping, &QTimer::timeout, this, [this] { m_exchange->writeChunk(pingEvent()); });
    connect(job, &CommandJob::started, this, &CommandStream::begin);
    connect(job, &CommandJob::output, this, &CommandStream::output);
    connect(job, &AsyncJob::finished, this, &CommandStream::end);
    job->start();
}

void CommandStream::begin(const QString &commandId)
{
    m_begun = true;
    m_clock.start();
    // Headers go out with the first event, so that an error before it is still a plain
    // JSON answer with its own status, as execd does it.
    m_exchange->beginStream(200, "text/event-stream",
                            {{"Cache-Control", "no-cache"}, {"Connection", "keep-alive"}, {"X-Accel-Buffering", "no"}});
    m_exchange->writeChunk(initEvent(m_kind == Kind::Session ? m_sessionId : commandId));
    m_exchange->writeChunk(pingEvent());
    m_ping.start();
}

void CommandStream::output(CommandJob::Stream stream, const QByteArray &data)
{
    // The lines that arrived together go out as one chunk: clients parse chunk framing one
    // byte at a time (Qt does), so a chunk per line costs them far more than the line.
    QByteArray events;
    m_lines[streamIndex(stream)].add(data, [&events, stream](const QByteArray &line) { events += outputEvent(stream, line); });
    m_exchange->writeChunk(events);
}

void CommandStream::end()
{
    m_ping.stop();
    const std::optional<JobError> error = m_job ? m_job->error() : std::nullopt;
    if (!m_begun) {
        // Nothing was streamed yet: execd answers a command it could not start with a
        // plain error, and the server one about the sandbox itself as on its other routes.
        const std::optional<ApiError> sandboxError = error ? sandboxStateError(*error) : std::nullopt;
        if (sandboxError)
            return m_exchange->respondJson(sandboxError->status, sandboxError->body);
        const QString message = error ? error->message : u"the command did not start"_s;
        // An unknown session is a runtime error to execd, not a bad request.
        const bool badRequest = error && error->kind == JobError::Kind::Invalid && error->code != u"SESSION_NOT_FOUND"_s;
        return m_exchange->respondJson(badRequest ? 400 : 500,
                                       execdErrorJson(badRequest ? u"INVALID_REQUEST_BODY"_s : u"RUNTIME_ERROR"_s, message));
    }
    QByteArray events;
    for (const CommandJob::Stream stream : {CommandJob::Stream::Stdout, CommandJob::Stream::Stderr}) {
        m_lines[streamIndex(stream)].flush(
            [&events, stream](const QByteArray &line) { events += outputEvent(stream, line); });
    }
    // The sandbox ended under the command: upstream's execd ends with its container, and its
    // clients see the stream cut, not a command that failed or could not start.
    if (error && error->code == u"SANDBOX_LOST"_s) {
        m_exchange->writeChunk(events);
        return m_exchange->abort();
    }
    const std::optional<int> exitCode = m_job ? m_job->exitCode() : std::nullopt;
    events += finalEvent(error, exitCode, m_clock.elapsed(),
                         m_kind == Kind::Session ? FailureWording::Session : FailureWording::Command);
    m_exchange->writeChunk(events);
    m_exchange->endStream();
}

} // namespace Sandflow::Internal
