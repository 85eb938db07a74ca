#include "egresspolicyjob_p.h"

#include "opensandboxclient.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

EgressPolicyJob::EgressPolicyJob(AsyncJob *change, ResultJob<SandboxNetworkPolicy> *read)
    : m_change(change)
    , m_read(read)
{
    for (AsyncJob *job : {m_change, static_cast<AsyncJob *>(m_read)}) {
        if (!job)
            continue;
        job->setParent(this);
        job->setAutoDelete(false);
        connect(job, &AsyncJob::finished, this, [this, job] { stepFinished(job); });
    }
}

void EgressPolicyJob::doStart()
{
    run(m_change ? m_change : m_read);
}

void EgressPolicyJob::doCancel()
{
    m_running->cancel();   // it finishes cancelled, and so does this job
}

void EgressPolicyJob::run(AsyncJob *job)
{
    m_running = job;
    job->start();
}

void EgressPolicyJob::stepFinished(AsyncJob *job)
{
    if (job->error())
        return finish(egressError(*job->error()));
    if (job == m_change)
        return run(m_read);
    m_result = m_read->result();
    finish();
}

JobError egressError(JobError error)
{
    const OpenSandboxErrorDetails details = OpenSandboxErrorDetails::of(error);
    if (!details.serverCode.isEmpty())
        return error;
    if (details.status == 404) {
        error.code = u"EGRESS_POLICY_NOT_FOUND"_s;
        error.message = u"the sandbox has no egress API, so no network policy to read or change (it was created "
                        u"without one): "_s + error.message;
    } else if (details.status == 400) {
        error.code = u"EGRESS_RULE_INVALID"_s;
        error.message = u"the egress API refused the rules: "_s + error.message;
    }
    return error;
}

} // namespace Sandflow::Internal
