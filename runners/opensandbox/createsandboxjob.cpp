#include "createsandboxjob_p.h"

#include "httperror_p.h"
#include "wirejson_p.h"

#include <QJsonDocument>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// How often the SDKs ping a new sandbox's execd.
constexpr auto PingInterval = std::chrono::milliseconds(200);

} // namespace

CreateSandboxJob::CreateSandboxJob(Transport &transport, OpenSandboxCreateRequest request)
    : m_transport(transport)
    , m_request(std::move(request))
{
    m_nextPing.setSingleShot(true);
    m_nextPing.setInterval(PingInterval);
    connect(&m_nextPing, &QTimer::timeout, this, &CreateSandboxJob::ping);
    m_readyDeadline.setSingleShot(true);
    connect(&m_readyDeadline, &QTimer::timeout, this, &CreateSandboxJob::notReady);
}

void CreateSandboxJob::doStart()
{
    RequestSpec spec = m_transport.lifecycle("POST", u"/sandboxes"_s);
    spec.contentType = "application/json";
    spec.body = QJsonDocument(createSandboxJson(m_request)).toJson(QJsonDocument::Compact);
    step(std::move(spec), [this](const HttpResult &answer) { created(answer); });
}

void CreateSandboxJob::step(RequestSpec spec, HttpCall::Done done)
{
    if (m_step)
        m_step->deleteLater();
    m_step = new HttpCall(m_transport, std::move(spec), this);
    m_step->start(std::move(done));
}

void CreateSandboxJob::created(const HttpResult &answer)
{
    if (answer.error)
        return finish(answer.error);
    QString problem;
    std::optional<SandboxInfo> info;
    if (const std::optional<QJsonObject> object = jsonObjectBody(answer.body, &problem))
        info = sandboxFromJson(*object, &problem);
    if (!info)
        return finish(unexpectedResponse(m_step->spec(), answer.requestId, answer.status, problem));
    m_result = *info;
    // The create answer has no image; it is the one asked for.
    if (m_result.image.isEmpty())
        m_result.image = m_request.image;
    if (!m_request.waitUntilReady)
        return finish();
    m_readyDeadline.start(m_transport.config().readyTimeout);
    const QString useServerProxy = m_transport.config().useServerProxy ? u"true"_s : u"false"_s;
    step(m_transport.lifecycle("GET", u"/sandboxes/%1/endpoints/%2"_s.arg(pathSegment(m_result.id)).arg(ExecdPort),
                               {{u"use_server_proxy"_s, useServerProxy}}),
         [this](const HttpResult &answer) { endpointResolved(answer); });
}

void CreateSandboxJob::endpointResolved(const HttpResult &answer)
{
    if (answer.error)
        return deleteAndFinish(*answer.error);
    QString problem;
    std::optional<OpenSandboxEndpoint> endpoint;
    if (const std::optional<QJsonObject> object = jsonObjectBody(answer.body, &problem))
        endpoint = endpointFromJson(*object, &problem);
    if (!endpoint)
        return deleteAndFinish(unexpectedResponse(m_step->spec(), answer.requestId, answer.status, problem));
    m_execd = *endpoint;
    ping();
}

void CreateSandboxJob::ping()
{
    step(m_transport.execd(m_execd, "GET", u"/ping"_s), [this](const HttpResult &answer) {
        if (!answer.error) {
            m_readyDeadline.stop();
            return finish();
        }
        // Not up yet: execd starts after the sandbox does.
        m_lastPingError = answer.error;
        m_nextPing.start();
    });
}

void CreateSandboxJob::notReady()
{
    m_nextPing.stop();
    const double seconds = double(m_transport.config().readyTimeout.count()) / 1000.0;
    QString message = u"sandbox %1 was created but its execd did not answer within %2 s"_s.arg(m_result.id).arg(seconds);
    QJsonObject context{{u"sandboxId"_s, m_result.id}, {u"endpoint"_s, m_execd.endpoint}};
    if (m_lastPingError) {
        message += u" (last: %1)"_s.arg(m_lastPingError->message);
        context.insert(u"lastError"_s, m_lastPingError->toJson());
    }
    if (!m_transport.config().useServerProxy)
        message += u"; if the sandboxes' network cannot be reached from here, try the server proxy"_s;
    deleteAndFinish({JobError::Kind::Timeout, u"SANDBOX_READY_TIMEOUT"_s, message, context});
}

void CreateSandboxJob::deleteAndFinish(JobError error)
{
    m_nextPing.stop();
    m_readyDeadline.stop();
    m_deleting = true;
    step(m_transport.lifecycle("DELETE", u"/sandboxes/%1"_s.arg(pathSegment(m_result.id))),
         [this, error](const HttpResult &answer) mutable {
             error.context.insert(u"sandboxDeleted"_s, !answer.error.has_value());
             finish(error);
         });
}

void CreateSandboxJob::doCancel()
{
    m_nextPing.stop();
    m_readyDeadline.stop();
    if (m_deleting)
        return;   // the deletion is under way; it finishes the job
    if (m_step)
        m_step->abort();
    // Once the server has made the sandbox, nobody else knows its id: remove it.
    if (!m_result.id.isEmpty())
        return deleteAndFinish(cancelledError());
    finish(cancelledError());
}

} // namespace Sandflow::Internal
