#include "execdendpoints_p.h"

namespace Sandflow::Internal {

ExecdEndpoints::ExecdEndpoints(OpenSandboxClient &client)
    : m_client(client)
{
}

quint64 ExecdEndpoints::resolve(const QString &sandboxId, Resolved resolved)
{
    const quint64 ticket = ++m_lastTicket;
    if (const auto known = m_known.constFind(sandboxId); known != m_known.cend()) {
        resolved(std::nullopt, *known);
        return 0;
    }
    const bool asking = m_waiting.contains(sandboxId);
    m_waiting[sandboxId].append({ticket, std::move(resolved)});
    m_live.insert(ticket);
    if (!asking) {
        ResultJob<OpenSandboxEndpoint> *lookup = m_client.endpoint(sandboxId, ExecdPort);
        // A child, so that a lookup under way ends with the runner.
        lookup->setParent(this);
        connect(lookup, &AsyncJob::finished, this, [this, sandboxId, lookup] { answered(sandboxId, lookup); });
        lookup->start();
    }
    return ticket;
}

void ExecdEndpoints::cancel(quint64 ticket)
{
    m_live.remove(ticket);
}

void ExecdEndpoints::remember(const QString &sandboxId, const OpenSandboxEndpoint &endpoint)
{
    m_known.insert(sandboxId, endpoint);
}

void ExecdEndpoints::forget(const QString &sandboxId)
{
    m_known.remove(sandboxId);
}

void ExecdEndpoints::answered(const QString &sandboxId, ResultJob<OpenSandboxEndpoint> *lookup)
{
    if (!lookup->error())
        m_known.insert(sandboxId, lookup->result());
    // Taken first: a callback may ask again, or end (and cancel) another waiter's job.
    const QList<Waiter> waiters = m_waiting.take(sandboxId);
    for (const Waiter &waiter : waiters) {
        if (m_live.remove(waiter.ticket))
            waiter.resolved(lookup->error(), lookup->result());
    }
}

} // namespace Sandflow::Internal
