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
    };

    explicit LocalRunner(Options options, QObject *parent = nullptr);
    /// Every sandbox still alive is killed with the runner (bubblewrap --die-with-parent).
    ~LocalRunner() override;

    SandboxJob *createSandbox(const SandboxRequest &request) override;
    AsyncJob *deleteSandbox(const QString &id) override;
    CommandJob *runCommand(const QString &sandboxId, const CommandRequest &request) override;

    QList<SandboxInfo> sandboxes() const;

    /// The sandbox, while it exists (for the runner's own jobs).
    Internal::LocalSandbox *find(const QString &id) const;

private:
    void forget(const QString &id);

    Options m_options;
    std::map<QString, std::unique_ptr<Internal::LocalSandbox>> m_sandboxes;
};

} // namespace Sandflow
