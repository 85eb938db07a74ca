// The embedded default runner: bubblewrap sandboxes on this machine, no server, no Docker.
#pragma once

#include "runner.h"

#include <QList>
#include <QPointer>
#include <QString>

#include <map>
#include <memory>

namespace Sandflow {

namespace Internal { class LocalSandbox; }

class LocalRunner final : public Runner
{
    Q_OBJECT

public:
    struct Options
    {
        QString agentPath;            ///< the sandflow-agent binary started in every sandbox
        qint64 readyTimeoutMs = 30'000;
        /// Processes a sandbox may have at once unless its request says otherwise, so that a
        /// fork bomb stays inside its sandbox.
        qint64 defaultMaxProcesses = 4096;
    };

    explicit LocalRunner(Options options, QObject *parent = nullptr);
    /// Every sandbox still alive is killed with the runner (bubblewrap --die-with-parent).
    ~LocalRunner() override;

    SandboxJob *createSandbox(const SandboxRequest &request) override;
    AsyncJob *deleteSandbox(const QString &id) override;
    AsyncJob *pauseSandbox(const QString &id) override;
    AsyncJob *resumeSandbox(const QString &id) override;
    CommandJob *runCommand(const QString &sandboxId, const CommandRequest &request) override;

    QList<SandboxInfo> sandboxes() const;

    /// The sandbox, while it exists (for the runner's own jobs).
    Internal::LocalSandbox *find(const QString &id) const;
    /// Emits `warning` the first time a message comes up (for the runner's own jobs).
    void warnOnce(const QString &message);

private:
    void forget(const QString &id);

    Options m_options;
    QStringList m_warned;
    std::map<QString, std::unique_ptr<Internal::LocalSandbox>> m_sandboxes;
};

} // namespace Sandflow
