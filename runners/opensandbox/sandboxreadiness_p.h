// Waiting until a new sandbox runs commands: its state Running (a server on Kubernetes may
// answer the create with Pending and get there later), then its execd endpoint, then GET
// /ping every 200 ms until execd answers, as the SDKs do. The server's create may return
// before the sandbox can run anything; only a ping says it can.
#pragma once

#include "httpcall_p.h"

#include <QTimer>

namespace Sandflow::Internal {

/// The `status` of a Sandbox object as the server wrote it, state names the protocol does
/// not know included.
struct ServerStatus
{
    QString state;
    QString reason;
    QString message;

    static ServerStatus of(const QJsonObject &sandbox);
    /// Running, or Kubernetes' Allocated (an address but not ready yet), which the
    /// server's own create reports as Running; /ping tells when it is ready.
    bool running() const;
    /// Failed or Terminated: it will not run.
    bool over() const;
    bool is(QLatin1StringView name) const;
};

class SandboxReadiness final : public QObject
{
public:
    /// The end: std::nullopt once the sandbox is ready, else why it is not.
    using Done = std::function<void(std::optional<JobError> error)>;

    /// `parent` must not outlive `transport`.
    SandboxReadiness(Transport &transport, QObject *parent);

    /// Waits for `sandbox`, whose create answer said `status`, within the client's
    /// readyTimeout; `done` is called once, unless abort() came first.
    void start(const SandboxInfo &sandbox, const ServerStatus &status, Done done);
    void abort();
    /// The sandbox as the server last described it.
    const SandboxInfo &sandbox() const { return m_sandbox; }
    /// Where its execd answered, once ready.
    const OpenSandboxEndpoint &execd() const { return m_execd; }

private:
    enum class Phase { Starting, Resolving, Pinging };

    void step(RequestSpec spec, HttpCall::Done done, HttpCall::Retries retries = HttpCall::Retries::ByPolicy);
    void reached(const ServerStatus &status);
    void pollState();
    void stateRead(const HttpResult &answer);
    void resolveEndpoint();
    void endpointResolved(const HttpResult &answer);
    void ping();
    void deadlinePassed();
    void end(std::optional<JobError> error);

    Transport &m_transport;
    SandboxInfo m_sandbox;
    ServerStatus m_status;
    Done m_done;
    Phase m_phase = Phase::Starting;
    HttpCall *m_step = nullptr;
    OpenSandboxEndpoint m_execd;
    QTimer m_next;   ///< the next state poll or ping
    std::chrono::milliseconds m_pollDelay{0};
    QTimer m_deadline;
    std::optional<JobError> m_lastPingError;
};

} // namespace Sandflow::Internal
