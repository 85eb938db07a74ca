#include "sandboxreadiness_p.h"

#include "httperror_p.h"
#include "wirejson_p.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

/// How often the SDKs ping a new sandbox's execd.
constexpr auto PingInterval = 200ms;
/// A Pending sandbox is polled soon, then less often: a pod may take seconds to schedule
/// and pull its image, and many sandboxes of a batch poll one server.
constexpr auto FirstStatePoll = 200ms;
constexpr auto LongestStatePoll = 2s;

double seconds(std::chrono::milliseconds duration)
{
    return double(duration.count()) / 1000.0;
}

} // namespace

ServerStatus ServerStatus::of(const QJsonObject &sandbox)
{
    const QJsonObject status = sandbox.value("status"_L1).toObject();
    return {status.value("state"_L1).toString(), status.value("reason"_L1).toString(),
            status.value("message"_L1).toString()};
}

bool ServerStatus::running() const
{
    return is("Running"_L1) || is("Allocated"_L1);
}

bool ServerStatus::over() const
{
    return is("Failed"_L1) || is("Terminated"_L1);
}

bool ServerStatus::is(QLatin1StringView name) const
{
    // Servers match states case-insensitively; so does the client.
    return state.compare(name, Qt::CaseInsensitive) == 0;
}

SandboxReadiness::SandboxReadiness(Transport &transport, QObject *parent)
    : QObject(parent)
    , m_transport(transport)
{
    m_next.setSingleShot(true);
    connect(&m_next, &QTimer::timeout, this, [this] { m_phase == Phase::Pinging ? ping() : pollState(); });
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, &SandboxReadiness::deadlinePassed);
}

void SandboxReadiness::start(const SandboxInfo &sandbox, const ServerStatus &status, Done done)
{
    m_sandbox = sandbox;
    m_done = std::move(done);
    m_phase = Phase::Starting;
    m_pollDelay = FirstStatePoll;
    m_deadline.start(m_transport.config().readyTimeout);
    reached(status);
}

void SandboxReadiness::abort()
{
    m_done = nullptr;
    m_next.stop();
    m_deadline.stop();
    if (m_step)
        m_step->abort();
}

void SandboxReadiness::step(RequestSpec spec, HttpCall::Done done, HttpCall::Retries retries)
{
    nextStep(m_step, m_transport, std::move(spec), this)->setRetries(retries);
    // An answer lost on the way would otherwise be waited for the whole request timeout,
    // which by default is the whole ready limit: one lost ping, and a sandbox that was
    // ready counted as never ready. Each attempt gets a third of the limit at most, so that
    // the next ping, or the call's next attempt, still has time.
    const OpenSandboxConfig &config = m_transport.config();
    m_step->setAttemptTimeout(std::min(config.requestTimeout, config.readyTimeout / 3));
    m_step->start(std::move(done));
}

void SandboxReadiness::reached(const ServerStatus &status)
{
    m_status = status;
    if (status.running()) {
        m_sandbox.state = SandboxState::Running;
        return resolveEndpoint();
    }
    if (status.over()) {
        QString message = u"sandbox %1 is %2 instead of Running"_s.arg(m_sandbox.id, status.state);
        for (const QString &said : {status.reason, status.message}) {
            if (!said.isEmpty())
                message += u": "_s + said;
        }
        const QJsonObject context{{u"sandboxId"_s, m_sandbox.id}, {u"state"_s, status.state},
                                  {u"reason"_s, status.reason}, {u"message"_s, status.message}};
        const QString code = status.is("Failed"_L1) ? u"SANDBOX_FAILED"_s : u"SANDBOX_TERMINATED"_s;
        return end(JobError{JobError::Kind::Infra, code, message, context});
    }
    // Pending, or a state that a newer server may have: the server decides when it runs.
    m_next.start(m_pollDelay);
    m_pollDelay = std::min<std::chrono::milliseconds>(m_pollDelay * 2, LongestStatePoll);
}

void SandboxReadiness::pollState()
{
    step(m_transport.lifecycle("GET", u"/sandboxes/"_s + pathSegment(m_sandbox.id)),
         [this](const HttpResult &answer) { stateRead(answer); });
}

void SandboxReadiness::stateRead(const HttpResult &answer)
{
    if (answer.error)
        return end(answer.error);
    QString problem;
    const std::optional<QJsonObject> object = jsonObjectBody(answer.body, &problem);
    std::optional<SandboxInfo> info;
    if (object)
        info = sandboxFromJson(*object, &problem);
    if (!info)
        return end(unexpectedResponse(m_step->spec(), answer.requestId, answer.status, problem));
    const QString image = m_sandbox.image;
    m_sandbox = *info;
    if (m_sandbox.image.isEmpty())
        m_sandbox.image = image;
    reached(ServerStatus::of(*object));
}

void SandboxReadiness::resolveEndpoint()
{
    m_phase = Phase::Resolving;
    // Always sent, as the JS SDK does, so that servers see the same query either way.
    const QString useServerProxy = m_transport.config().useServerProxy ? u"true"_s : u"false"_s;
    step(m_transport.lifecycle("GET", u"/sandboxes/%1/endpoints/%2"_s.arg(pathSegment(m_sandbox.id)).arg(ExecdPort),
                               {{u"use_server_proxy"_s, useServerProxy}}),
         [this](const HttpResult &answer) { endpointResolved(answer); });
}

void SandboxReadiness::endpointResolved(const HttpResult &answer)
{
    if (answer.error)
        return end(answer.error);
    QString problem;
    std::optional<OpenSandboxEndpoint> endpoint;
    if (const std::optional<QJsonObject> object = jsonObjectBody(answer.body, &problem))
        endpoint = endpointFromJson(*object, &problem);
    if (!endpoint)
        return end(unexpectedResponse(m_step->spec(), answer.requestId, answer.status, problem));
    m_execd = *endpoint;
    ping();
}

void SandboxReadiness::ping()
{
    m_phase = Phase::Pinging;
    // Refusals are expected until execd has started: this loop is the retry.
    step(
        m_transport.execd(m_execd, "GET", u"/ping"_s),
        [this](const HttpResult &answer) {
            if (!answer.error)
                return end(std::nullopt);
            m_lastPingError = answer.error;
            m_next.start(PingInterval);
        },
        HttpCall::Retries::Once);
}

void SandboxReadiness::deadlinePassed()
{
    const double limit = seconds(m_transport.config().readyTimeout);
    QJsonObject context{{u"sandboxId"_s, m_sandbox.id}};
    QString message;
    if (m_phase == Phase::Starting) {
        message = u"sandbox %1 was created but was still %2 after %3 s"_s.arg(m_sandbox.id, m_status.state).arg(limit);
        if (!m_status.reason.isEmpty())
            message += u" (%1)"_s.arg(m_status.reason);
        context.insert(u"state"_s, m_status.state);
        context.insert(u"reason"_s, m_status.reason);
    } else {
        message = u"sandbox %1 was created but its execd did not answer within %2 s"_s.arg(m_sandbox.id).arg(limit);
        context.insert(u"endpoint"_s, m_execd.endpoint);
        if (m_lastPingError) {
            message += u" (last: %1)"_s.arg(m_lastPingError->message);
            context.insert(u"lastError"_s, m_lastPingError->toJson());
        }
        if (!m_transport.config().useServerProxy)
            message += u"; if the sandboxes' network cannot be reached from here, try the server proxy"_s;
    }
    end(JobError{JobError::Kind::Timeout, u"SANDBOX_READY_TIMEOUT"_s, message, context});
}

void SandboxReadiness::end(std::optional<JobError> error)
{
    m_next.stop();
    m_deadline.stop();
    if (m_step)
        m_step->abort();
    if (Done done = std::exchange(m_done, nullptr))
        done(std::move(error));
}

} // namespace Sandflow::Internal
