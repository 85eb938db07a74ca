// Leases on sandboxes created without a timeout. OpenSandbox offers "until deleted" for
// them, but a runner that dies (killed, crashed, lost its network) could then never delete
// them. Instead each gets a time to live that is renewed while the runner holds it: once the
// renewals stop, the server removes it within one lease.
#pragma once

#include "opensandboxclient.h"

#include <QSet>
#include <QTimer>

#include <chrono>
#include <functional>

namespace Sandflow::Internal {

class SandboxLeases final : public QObject
{
public:
    using Warn = std::function<void(const QString &message)>;

    /// Held sandboxes are renewed every `renewEvery` to expire `lease` later; `warn` is
    /// told of renewals that failed.
    SandboxLeases(OpenSandboxClient &client, std::chrono::seconds lease, std::chrono::milliseconds renewEvery,
                  Warn warn);

    std::chrono::seconds lease() const { return m_lease; }
    /// Renews `sandboxId` every third of the lease until release().
    void hold(const QString &sandboxId);
    void release(const QString &sandboxId);

private:
    void renewAll();
    void renewed(const QString &sandboxId, const AsyncJob *job);

    OpenSandboxClient &m_client;
    std::chrono::seconds m_lease;
    Warn m_warn;
    QSet<QString> m_held;
    QSet<QString> m_renewing;       ///< a renewal is under way; the next tick skips them
    QTimer m_tick;
};

} // namespace Sandflow::Internal
