// The embedded default runner: bubblewrap sandboxes on this machine, no server, no Docker.
#pragma once

#include "runner.h"

#include <QList>
#include <QPointer>
#include <QString>
#include <QStringList>

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
        /// Where each live sandbox is recorded for `sandflow ls` and `sandflow gc`, and where
        /// pvc volumes live (`volumes/CLAIM`); empty: nowhere, and pvc volumes are refused.
        QString stateDirectory;
        /// The host paths that host volumes may mount, as absolute prefixes (`/data` allows
        /// `/data/x`, not `/database`). Empty: every host volume is refused, as OpenSandbox does.
        QStringList allowedHostPaths;
        /// Recorded with each sandbox, to tell which run left it.
        QString runId;
    };

    /// A sandbox recorded in a state directory, alive or left by a runner that crashed.
    struct RecordedSandbox
    {
        QString id;
        QString runId;
        qint64 pid = 0;
        bool alive = false;
        QString image;
        QDateTime createdAt;
    };
    /// The sandboxes recorded in `stateDirectory`.
    static QList<RecordedSandbox> recordedSandboxes(const QString &stateDirectory);
    /// Removes every sandbox recorded in `stateDirectory` whose runner is gone, or every
    /// recorded sandbox with `includeAlive`: kills its processes, removes its cgroups and
    /// its record. Returns the ids removed.
    static QStringList collectGarbage(const QString &stateDirectory, bool includeAlive);

    /// The default state directory: $SANDFLOW_STATE_DIR, else $XDG_STATE_HOME/sandflow,
    /// else ~/.local/state/sandflow.
    static QString defaultStateDirectory();

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
