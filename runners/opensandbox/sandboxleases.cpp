#include "sandboxleases_p.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

SandboxLeases::SandboxLeases(OpenSandboxClient &client, std::chrono::seconds lease,
                             std::chrono::milliseconds renewEvery, Warn warn)
    : m_client(client)
    , m_lease(lease)
    , m_warn(std::move(warn))
{
    m_tick.setInterval(renewEvery);
    connect(&m_tick, &QTimer::timeout, this, &SandboxLeases::renewAll);
}

void SandboxLeases::hold(const QString &sandboxId)
{
    m_held.insert(sandboxId);
    if (!m_tick.isActive())
        m_tick.start();
}

void SandboxLeases::release(const QString &sandboxId)
{
    m_held.remove(sandboxId);
    if (m_held.isEmpty())
        m_tick.stop();
}

void SandboxLeases::renewAll()
{
    const QDateTime expiresAt = QDateTime::currentDateTimeUtc().addSecs(m_lease.count());
    for (const QString &sandboxId : std::as_const(m_held)) {
        if (m_renewing.contains(sandboxId))
            continue;
        m_renewing.insert(sandboxId);
        AsyncJob *job = m_client.renewExpiration(sandboxId, expiresAt);
        job->setParent(this);
        connect(job, &AsyncJob::finished, this, [this, sandboxId](AsyncJob *job) { renewed(sandboxId, job); });
        job->start();
    }
}

void SandboxLeases::renewed(const QString &sandboxId, const AsyncJob *job)
{
    m_renewing.remove(sandboxId);
    if (!job->error() || !m_held.contains(sandboxId))
        return;
    if (OpenSandboxErrorDetails::of(*job->error()).status == 404) {
        release(sandboxId);   // gone: deleted elsewhere, or expired
        return;
    }
    m_warn(u"could not renew the lease of sandbox %1 (it expires %2 s after the last renewal): %3"_s
               .arg(sandboxId)
               .arg(m_lease.count())
               .arg(job->error()->message));
}

} // namespace Sandflow::Internal
