// One live local sandbox: its bubblewrap process, the agent connection, its state and
// its expiry timer.
#pragma once

#include "agentconnection_p.h"
#include "commandtable_p.h"
#include "localrunner.h"
#include "runner.h"
#include "sandboxcgroup_p.h"
#include "sandboxegress_p.h"
#include "sandboxlayout_p.h"
#include "sessionscript_p.h"

#include "imageuser_p.h"
#include "provideimagejob.h"

#include <QHash>
#include <QObject>
#include <QSocketNotifier>
#include <QTimer>

namespace Sandflow::Internal {

class LocalSandbox final : public QObject
{
    Q_OBJECT

public:
    /// `layout` is what the request resolved to (see layoutForRequest); the sandbox adds its
    /// id and environment, and keeps the layout's descriptors until start().
    LocalSandbox(SandboxLayout layout, const SandboxRequest &request);

    const SandboxInfo &info() const { return m_info; }
    /// Until start(): what the sandbox will be, for the runner to give it its root (an image,
    /// its writable layer) and the id mappings that go with it.
    SandboxLayout &layout() { return m_layout; }
    /// Before start(): runs the sandbox in `image`, as its config says: its environment under
    /// the request's, its working directory, its user for commands that name none (where
    /// `canSwitchUsers`), and its entrypoint and command when the request gives no
    /// entrypoint. An error when the config names a user the image does not have.
    std::optional<JobError> useImage(const ProvidedImage &image, bool canSwitchUsers);
    /// The sandbox's writable layer (sandboxrootlayer_p.h), from start() on; empty: none. The
    /// runner removes it once the sandbox has stopped.
    const QString &rootLayerDirectory() const { return m_rootLayerDirectory; }
    /// Whether it is going away (deleted, expired, its entrypoint or its agent ended): to
    /// every operation it is gone already, as it will be once `stopped` comes.
    bool isStopping() const { return m_stopping; }
    /// Whether start() was called: before, there is no process to stop.
    bool isStarted() const { return m_startCalled; }
    AgentConnection &agent() { return m_agent; }
    /// The policy its connections follow; none: the host's network, unfiltered.
    const std::optional<SandboxNetworkPolicy> &networkPolicy() const { return m_networkPolicy; }
    /// Replaces the policy of a sandbox created with one; `networkPolicyChanged` follows.
    void setNetworkPolicy(const SandboxNetworkPolicy &policy);
    /// Before start(): the network that enforces the sandbox's policy. Its bubblewrap enters
    /// the network's namespace and installs the egress filter, whose listener comes back to it.
    void useEgress(std::unique_ptr<SandboxEgress> egress);
    /// A command's whole environment for the agent: `overrides` over the sandbox's, which
    /// is over a minimal base.
    QJsonObject commandEnvironment(const QMap<QString, QString> &overrides = {}) const;

    /// Starts bubblewrap and the agent, once; `ready` or `stopped` follows. `warning` is set
    /// when the resource limits cannot be applied.
    void start(const LocalRunner::Options &options, QString *warning);
    /// The sandbox's cgroups, or nullptr where limits are unavailable.
    const SandboxCgroup *cgroup() const { return m_cgroup.get(); }
    /// Stops or resumes every process of the sandbox: with the cgroup freezer, else with
    /// SIGSTOP and SIGCONT to each of the agent's descendants.
    void setPaused(bool paused);
    /// Closes the agent's control pipe: the agent kills every command and exits, and
    /// bubblewrap takes the namespaces down. `stopped` follows.
    void stop();

    /// Moves the expiry (the sandbox must have one).
    void setExpiry(const QDateTime &expiresAt);
    /// A merge patch: a value adds or replaces its key, no value removes it.
    void updateMetadata(const QMap<QString, std::optional<QString>> &patch);

    /// Starts a command through the agent and tracks it; returns its command id. `program`
    /// holds the agent's exec fields that say what runs and how its streams are joined
    /// ("argv" or "interactiveShell", "stdin", "pty": see agentprotocol.h); the request adds
    /// its environment, directory, user and limits. Output arrives on the agent's channel
    /// (CommandTable::Entry::channel), or in the log file for background commands.
    QString startCommand(const CommandRequest &request, const QJsonObject &program);
    /// The exec fields of a program that runs `argv`, for startCommand.
    static QJsonObject argvProgram(const QStringList &argv);
    /// How the request's shell runs its command in this sandbox: bash where its root has
    /// one, else sh.
    QStringList shellArguments(const CommandRequest &request) const;
    const CommandTable &commands() const { return m_commands; }
    /// SIGTERM to the command's process group, then SIGKILL three seconds later if it is
    /// still running. False when it is not running.
    bool interruptCommand(const QString &commandId);

    /// A new bash session starting in `cwd` (made on its first run); returns its id.
    QString addSession(const QString &cwd);
    SessionState *session(const QString &id);
    bool removeSession(const QString &id);

signals:
    /// As start() begins, before anything of the sandbox is on the host: whoever records
    /// sandboxes records it now, so that a runner killed at any later moment leaves nothing
    /// that no record names.
    void starting();
    void ready();
    void stopped(const QString &reason);
    void networkPolicyChanged();
    /// Its policy refused a name (`port` 0) or a connection.
    void egressDenied(const QString &target, int port);

private:
    void onReplied(quint32 channel, const QJsonObject &reply);
    void finishStopping(const QString &reason, int attempt);
    void onCommandExited(quint32 channel, const QJsonObject &status);
    void startExpiryTimer();
    void findBash();
    void signalCommand(quint32 channel, int signal);

    AgentConnection m_agent;
    SandboxInfo m_info;
    SandboxRequest m_request;
    QMap<QString, QString> m_environment;
    QTimer m_readyTimer;
    QTimer m_expiryTimer;
    std::chrono::milliseconds m_replyTimeout{0};   ///< the agent's, once it is ready
    bool m_frozen = false;   ///< paused by the cgroup freezer: the agent too is frozen
    bool m_stopping = false;
    bool m_startCalled = false;
    std::optional<SandboxNetworkPolicy> m_networkPolicy;
    std::unique_ptr<SandboxEgress> m_egress;
    /// The runner's end of the channel the egress filter's listener comes back over.
    UniqueFd m_egressChannel;
    std::unique_ptr<QSocketNotifier> m_egressChannelNotifier;
    quint32 m_pingChannel = 0;
    quint32 m_entrypointChannel = 0;
    SandboxLayout m_layout;
    QString m_rootLayerDirectory;
    /// What the image's config says (useImage): its default user, and the command that runs
    /// in the background from the start.
    std::optional<ImageUser> m_imageUser;
    QStringList m_imageCommand;
    std::shared_ptr<UniqueFd> m_imageHold;   ///< keeps the image's root from being pruned
    QString m_bashPath;          ///< bash inside the sandbox; empty: it has none
    QString m_stopReason;   // why the runner stopped it, when it did
    std::unique_ptr<SandboxCgroup> m_cgroup;
    CommandTable m_commands;
    QHash<QString, SessionState> m_sessions;
};

} // namespace Sandflow::Internal
