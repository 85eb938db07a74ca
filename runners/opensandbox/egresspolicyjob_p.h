// A call of a sandbox's egress API: an optional change of the policy (PATCH or DELETE
// /policy), then a read of it (GET /policy), with the API's plain-text refusals turned into
// errors that say what they mean.
#pragma once

#include "runner.h"

namespace Sandflow::Internal {

class EgressPolicyJob final : public ResultJob<SandboxNetworkPolicy>
{
public:
    /// Runs `change`, when given, then `read`, whose result becomes this job's. Takes
    /// ownership of both, which must not have started.
    EgressPolicyJob(AsyncJob *change, ResultJob<SandboxNetworkPolicy> *read);

protected:
    void doStart() override;
    void doCancel() override;

private:
    void run(AsyncJob *job);
    void stepFinished(AsyncJob *job);

    AsyncJob *m_change;
    ResultJob<SandboxNetworkPolicy> *m_read;
    AsyncJob *m_running = nullptr;
};

/// `error` of an egress API call as the runner reports it. The lifecycle server's own errors
/// (a sandbox it does not know, a wrong API key) carry its code and stay as they are. The
/// API's plain-text 404 means the sandbox has no egress API, being created without a
/// policy: EGRESS_POLICY_NOT_FOUND; its 400, rules it refuses: EGRESS_RULE_INVALID.
JobError egressError(JobError error);

} // namespace Sandflow::Internal
