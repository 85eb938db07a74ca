#include "httpwaitjob.h"

#include "shellquote.h"

#include <QRegularExpression>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

HttpWaitJob::HttpWaitJob(StepContext context, Target target)
    : m_context(std::move(context))
    , m_target(std::move(target))
{
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, &HttpWaitJob::ask);
}

QString HttpWaitJob::url() const
{
    return u"http://%1:%2%3"_s.arg(m_target.host).arg(m_target.port).arg(m_target.path);
}

void HttpWaitJob::doStart()
{
    m_clock.start();
    m_context.log(u"waiting for %1 (up to %2 ms)"_s.arg(url()).arg(m_target.timeoutMs));
    ask();
}

void HttpWaitJob::ask()
{
    // HTTP/1.0 with the connection closed: the status line is all that is read.
    const QString request = u"GET %1 HTTP/1.0\\r\\nHost: %2\\r\\nConnection: close\\r\\n\\r\\n"_s.arg(m_target.path,
                                                                                                    m_target.host);
    const QString script = u"exec 3<>/dev/tcp/%1/%2 && printf '%3' >&3 && head -n 1 <&3"_s
                               .arg(m_target.host)
                               .arg(m_target.port)
                               .arg(request);
    CommandRequest command;
    command.command = u"bash -c "_s + shellQuoted(script);
    command.timeoutMs = std::max<qint64>(1000, m_target.intervalMs * 5);
    m_request = m_context.runner->runCommand(m_context.sandboxId, command);
    auto output = std::make_shared<QByteArray>();
    connect(m_request, &CommandJob::output, this, [output](CommandJob::Stream stream, const QByteArray &data) {
        if (stream == CommandJob::Stream::Stdout)
            *output += data;
    });
    connect(m_request, &AsyncJob::finished, this, [this, output](AsyncJob *job) {
        m_request = nullptr;
        static const QRegularExpression statusLine(u"^HTTP/\\d(?:\\.\\d)?\\s+(\\d{3})"_s);
        const QRegularExpressionMatch match = statusLine.match(QString::fromLatin1(*output));
        if (!job->error() && match.hasMatch()) {
            const int status = match.captured(1).toInt();
            if (status < 500) {
                m_context.log(u"%1 answered %2 after %3 ms"_s.arg(url()).arg(status).arg(m_clock.elapsed()));
                finish();
                return;
            }
            m_lastProblem = u"status %1"_s.arg(status);
        } else {
            m_lastProblem = job->error() ? u"no connection"_s : u"no HTTP answer"_s;
        }
        if (m_clock.elapsed() + m_target.intervalMs > m_target.timeoutMs) {
            finish(JobError{JobError::Kind::Task, u"HTTP_WAIT_TIMEOUT"_s,
                            u"%1 did not answer within %2 ms (last: %3)"_s.arg(url()).arg(m_target.timeoutMs)
                                .arg(m_lastProblem),
                            {{u"url"_s, url()}}});
            return;
        }
        m_retry.start(int(m_target.intervalMs));
    });
    m_request->start();
}

void HttpWaitJob::doCancel()
{
    m_retry.stop();
    if (m_request)
        m_request->cancel();
    finish(cancelledError());
}

} // namespace Sandflow::Internal
