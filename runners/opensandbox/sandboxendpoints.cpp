#include "sandboxendpoints_p.h"

namespace Sandflow::Internal {

SandboxEndpoints::SandboxEndpoints(OpenSandboxClient &client)
    : m_client(client)
{
}

quint64 SandboxEndpoints::resolve(const QString &sandboxId, Resolved resolved, quint16 port)
{
    const Key key{sandboxId, port};
    const quint64 ticket = ++m_lastTicket;
    if (const auto known = m_known.constFind(key); known != m_known.cend()) {
        resolved(std::nullopt, *known);
        return 0;
    }
    const bool asking = m_waiting.contains(key);
    m_waiting[key].append({ticket, std::move(resolved)});
    m_live.insert(ticket);
    if (!asking) {
        ResultJob<OpenSandboxEndpoint> *lookup = m_client.endpoint(sandboxId, port);
        // A child, so that a lookup under way ends with the runner.
        lookup->setParent(this);
        connect(lookup, &AsyncJob::finished, this, [this, key, lookup] { answered(key, lookup); });
        lookup->start();
    }
    return ticket;
}

void SandboxEndpoints::cancel(quint64 ticket)
{
    m_live.remove(ticket);
}

void SandboxEndpoints::remember(const QString &sandboxId, const OpenSandboxEndpoint &endpoint)
{
    m_known.insert({sandboxId, ExecdPort}, endpoint);
}

void SandboxEndpoints::forget(const QString &sandboxId)
{
    m_known.removeIf([&sandboxId](const auto &known) { return known.key().first == sandboxId; });
}

void SandboxEndpoints::answered(const Key &key, ResultJob<OpenSandboxEndpoint> *lookup)
{
    if (!lookup->error())
        m_known.insert(key, lookup->result());
    // Taken first: a callback may ask again, or end (and cancel) another waiter's job.
    const QList<Waiter> waiters = m_waiting.take(key);
    for (const Waiter &waiter : waiters) {
        if (m_live.remove(waiter.ticket))
            waiter.resolved(lookup->error(), lookup->result());
    }
}

} // namespace Sandflow::Internal
