// The embedded default runner: bubblewrap sandboxes on this machine, no server, no Docker.
#pragma once

#include "imagereference.h"
#include "provideimagejob.h"
#include "runner.h"

#include <QByteArray>
#include <QHostAddress>
#include <QFuture>
#include <QList>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <functional>
#include <map>
#include <memory>
#include <optional>

namespace Sandflow {

namespace Internal {
class LocalSandbox;
class SandboxEgress;
class SandboxUserNamespaces;
struct SandboxLayout;
struct VolumeSources;
}

class LocalRunner final : public Runner
{
    Q_OBJECT

public:
    struct Options
    {
        QString agentPath;            ///< the sandflow-agent binary started in every sandbox
        qint64 readyTimeoutMs = 30'000;
        /// How long a sandbox's agent, once ready, may take to answer a request (start a
        /// command, signal one) or to exit when asked to; past it the sandbox is killed and
        /// whatever waited on it fails. A working agent answers in milliseconds, a machine
        /// loaded far past use in seconds: the bound is that generous, and still ends a
        /// stopped or taken-over agent's hold on a run.
        qint64 replyTimeoutMs = 30'000;
        /// Processes a sandbox may have at once unless its request says otherwise, so that a
        /// fork bomb stays inside its sandbox.
        qint64 defaultMaxProcesses = 4096;
        /// The memory limit of a sandbox whose request names none: what OpenSandbox's SDKs
        /// ask for by default, so that no sandbox can take the whole machine.
        qint64 defaultMemoryBytes = 2LL << 30;
        /// The size of each of a sandbox's tmpfs mounts (/tmp and /workspace), whose files
        /// live in memory; 0: the sandbox's memory limit. The pages they hold count against
        /// that limit too, as they are charged to the memory group of whoever wrote them.
        qint64 tmpfsSizeBytes = 0;
        /// false: sandboxes get no cgroups, so no cpu, memory or process limits and no
        /// metrics, and pausing stops their processes with SIGSTOP instead of freezing them.
        bool resourceLimits = true;
        /// Where each live sandbox is recorded for `sandflow ls` and `sandflow gc`, and where
        /// pvc volumes live (`volumes/CLAIM`); empty: nowhere, and pvc volumes are refused.
        QString stateDirectory;
        /// The host paths that host volumes may mount, as absolute prefixes (`/data` allows
        /// `/data/x`, not `/database`). Empty: every host volume is refused, as OpenSandbox does.
        QStringList allowedHostPaths;
        /// What the refusal of a host volume outside allowedHostPaths adds to say how to allow
        /// its path (the argument), such as the option that does; none: nothing.
        std::function<QString(const QString &path)> hostPathAdvice;
        /// Recorded with each sandbox, to tell which run left it.
        QString runId;
        /// Images (glob patterns over references, as written or canonical: `debian:*`,
        /// `*` for all) whose sandboxes run on this machine's system tree instead: for
        /// offline machines, tests, and clients such as the OpenSandbox SDKs that always
        /// name an image.
        QStringList hostImages;
        /// When a registry's image is pulled.
        PullPolicy pull = PullPolicy::Missing;
        /// How images are pulled: insecure registries, mirrors, Docker's config.json (a
        /// request's own credentials go over its).
        PullOptions pullOptions;
        /// The DNS server that sandboxes with a network policy have their allowed names
        /// resolved by; none: the host's resolver (so /etc/hosts entries count).
        std::optional<QHostAddress> dnsUpstream;
        quint16 dnsUpstreamPort = 53;
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
    /// its record. Also removes the endpoint records of runs and servers that are gone.
    /// Returns the ids of the sandboxes removed.
    static QStringList collectGarbage(const QString &stateDirectory, bool includeAlive);

    /// The default state directory: $SANDFLOW_STATE_DIR, else $XDG_STATE_HOME/sandflow,
    /// else ~/.local/state/sandflow.
    static QString defaultStateDirectory();

    explicit LocalRunner(Options options, QObject *parent = nullptr);
    /// Every sandbox still alive is ended with the runner: its processes, cgroups and record.
    ~LocalRunner() override;

    Capabilities capabilities() const override;

    SandboxJob *createSandbox(const SandboxRequest &request) override;
    SandboxJob *getSandbox(const QString &id) override;
    ResultJob<SandboxPage> *listSandboxes(const SandboxFilter &filter) override;
    AsyncJob *deleteSandbox(const QString &id) override;
    AsyncJob *pauseSandbox(const QString &id) override;
    AsyncJob *resumeSandbox(const QString &id) override;
    ResultJob<QDateTime> *renewSandbox(const QString &id, const QDateTime &expiresAt) override;
    SandboxJob *updateMetadata(const QString &id, const QMap<QString, std::optional<QString>> &patch) override;

    CommandJob *runCommand(const QString &sandboxId, const CommandRequest &request) override;
    ResultJob<CommandStatus> *commandStatus(const QString &sandboxId, const QString &commandId) override;
    ResultJob<CommandLogs> *commandLogs(const QString &sandboxId, const QString &commandId, qint64 cursor) override;
    AsyncJob *interruptCommand(const QString &sandboxId, const QString &commandId) override;
    TerminalJob *openTerminal(const QString &sandboxId, const TerminalRequest &request) override;

    ResultJob<QString> *createSession(const QString &sandboxId, const QString &cwd) override;
    CommandJob *runInSession(const QString &sandboxId, const QString &sessionId, const CommandRequest &request) override;
    AsyncJob *deleteSession(const QString &sandboxId, const QString &sessionId) override;

    ResultJob<QList<FileInfo>> *fileInfo(const QString &sandboxId, const QStringList &paths) override;
    ResultJob<FileInfo> *uploadFile(const QString &sandboxId, const QString &path, const FilePermissions &permissions,
                                    QIODevice *source) override;
    FileReadJob *downloadFile(const QString &sandboxId, const QString &path, qint64 offset, qint64 length) override;
    ResultJob<QList<FileInfo>> *searchFiles(const QString &sandboxId, const QString &directory,
                                            const QString &pattern) override;
    ResultJob<QList<FileInfo>> *listDirectory(const QString &sandboxId, const QString &directory, int depth) override;
    ResultJob<int> *replaceInFile(const QString &sandboxId, const QString &path, const QString &before,
                                  const QString &after) override;
    AsyncJob *setPermissions(const QString &sandboxId, const QString &path, const FilePermissions &permissions) override;
    AsyncJob *moveFile(const QString &sandboxId, const QString &from, const QString &to) override;
    AsyncJob *removeFile(const QString &sandboxId, const QString &path) override;
    AsyncJob *makeDirectory(const QString &sandboxId, const QString &path, const FilePermissions &permissions) override;
    AsyncJob *removeDirectory(const QString &sandboxId, const QString &path) override;

    ResultJob<SandboxMetrics> *metrics(const QString &sandboxId) override;

    FileReadJob *relayToPort(const QString &sandboxId, quint16 port, QIODevice *request) override;

    ResultJob<SandboxNetworkPolicy> *egressPolicy(const QString &sandboxId) override;
    ResultJob<SandboxNetworkPolicy> *patchEgressRules(const QString &sandboxId,
                                                      const QList<SandboxNetworkPolicy::Rule> &rules) override;
    ResultJob<SandboxNetworkPolicy> *deleteEgressRules(const QString &sandboxId, const QStringList &targets) override;

    /// The sandboxes that are not on their way out.
    QList<SandboxInfo> sandboxes() const;

    /// The sandbox, while it exists and is not on its way out (for the runner's own jobs).
    Internal::LocalSandbox *find(const QString &id) const;
    /// Emits `warning` the first time a message comes up (for the runner's own jobs).
    void warnOnce(const QString &message);
    /// Gives `layout` its root as the sandbox starts: the rootfs or image's id-mapped clone
    /// and the sandbox's writable layer, once the root (`rootName` in messages) is found safe
    /// to build the sandbox in (for the runner's own jobs).
    std::optional<JobError> prepareRoot(Internal::SandboxLayout *layout, const QString &sandboxId,
                                        const QString &rootName);
    /// Forgets a sandbox that never started, and whatever of its layer was made (for the
    /// runner's own jobs).
    void discardUnstarted(const QString &id);
    /// Where and how the runner gets images (for the runner's own jobs).
    ImageSettings imageSettings();
    /// Whether commands can run as another user than the sandbox's root (for the runner's
    /// own jobs).
    bool canSwitchUsers();

private:
    void forget(const QString &id);
    /// The user namespaces every sandbox of this runner shares, made on first use.
    const Internal::SandboxUserNamespaces &userNamespaces();
    /// Gives `layout` the user namespaces and, where the ids are a range, its volumes their
    /// id-mapped clones.
    void mapIds(Internal::SandboxLayout *layout);
    /// The image `request` runs in: none for a rootfs, no image, or a host image (each said
    /// once); an error when the reference is malformed.
    std::optional<JobError> chooseImage(const SandboxRequest &request, std::optional<ImageReference> *image);
    /// Where the sandboxes' writable layers are: the state directory's `layers`, or a
    /// directory of the runner's own without one.
    QString layersDirectory();
    /// Whether the runner can mount overlays; said once when not.
    bool overlaysAvailable();
    /// Removes a stopped sandbox's layer off the event loop.
    void removeRootLayerLater(const QString &directory);
    /// Gives `layout` the system call filter; an error where there can be none.
    std::optional<JobError> filterSystemCalls(Internal::SandboxLayout *layout);
    /// Gives a sandbox with a network policy its network (egress/sandboxegress_p.h): into
    /// `layout`, the egress filter and resolv.conf; an error where there can be none.
    std::optional<JobError> filterEgress(const SandboxNetworkPolicy &policy, Internal::SandboxLayout *layout,
                                         std::unique_ptr<Internal::SandboxEgress> *egress);

    Options m_options;
    /// What volumes may use, the links in the operator's paths resolved when the runner is made.
    std::unique_ptr<const Internal::VolumeSources> m_volumeSources;
    QStringList m_warned;
    std::unique_ptr<Internal::SandboxUserNamespaces> m_userNamespaces;
    /// The sandboxes' seccomp filter, made on first use, or why it could not be.
    QByteArray m_seccompProgram;
    QString m_seccompError;
    /// The egress filter's program (egress/egressseccomp_p.h), likewise.
    QByteArray m_egressProgram;
    QString m_egressError;
    std::map<QString, std::unique_ptr<Internal::LocalSandbox>> m_sandboxes;
    std::unique_ptr<QTemporaryDir> m_temporaryLayers;
    std::optional<int> m_overlayError;   ///< 0: overlays work; checked on first use
    QList<QFuture<int>> m_layerRemovals;  ///< still going, waited for at the runner's end
};

} // namespace Sandflow
