// Creating a sandbox the way the SDKs do: POST /v1/sandboxes, then the execd endpoint, then
// GET /ping every 200 ms until execd answers. The server's create may return before the
// sandbox can run anything; only a ping says it can.
#pragma once

#include "httpcall_p.h"

#include <QElapsedTimer>
#include <QTimer>

namespace Sandflow::Internal {

class CreateSandboxJob final : public SandboxJob
{
public:
    CreateSandboxJob(Transport &transport, OpenSandboxCreateRequest request);

protected:
    void doStart() override;
    void doCancel() override;

private:
    /// Runs `spec` as the current step; a step replaces the previous one.
    void step(RequestSpec spec, HttpCall::Done done);
    void created(const HttpResult &answer);
    void endpointResolved(const HttpResult &answer);
    void ping();
    void notReady();
    /// A sandbox was made but cannot be handed over: delete it, then finish with `error`.
    void deleteAndFinish(JobError error);

    Transport &m_transport;
    OpenSandboxCreateRequest m_request;
    HttpCall *m_step = nullptr;
    OpenSandboxEndpoint m_execd;
    QTimer m_nextPing;
    QTimer m_readyDeadline;
    std::optional<JobError> m_lastPingError;
    bool m_deleting = false;
};

} // namespace Sandflow::Internal
