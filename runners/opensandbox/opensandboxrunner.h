// The runner for OpenSandbox servers: workflows run in sandboxes that a server (Docker or
// Kubernetes runtime, or `sandflow serve`) creates, addressed by sandbox id as every
// Runner is. It is OpenSandboxClient plus what the client leaves to its user:
//
// - each sandbox's execd endpoint is resolved once and kept until the sandbox is deleted
//   (or stops answering there, when it is resolved again);
// - a sandbox created without a timeout gets a lease instead of "until deleted": the runner
//   renews it while it runs, so that sandboxes of a runner that dies expire on the server
//   instead of running forever;
// - every sandbox is labelled with the runner's labels (e.g. the run id), so that a
//   listing by label finds what a run left.
//
//   OpenSandboxRunner runner({.server = OpenSandboxConfig::fromEnvironment()});
//   auto *job = runner.createSandbox({.image = u"debian:12"_s});
#pragma once

#include "opensandboxclient.h"
#include "runner.h"

#include <QMap>
#include <QSet>

#include <chrono>
#include <memory>

namespace Sandflow {

namespace Internal {
class SandboxEndpoints;
class SandboxLeases;
}

class OpenSandboxRunner final : public Runner
{
    Q_OBJECT

public:
    struct Options
    {
        OpenSandboxConfig server;
        /// Metadata added to every sandbox this runner creates; Kubernetes label syntax.
        QMap<QString, QString> labels;
        /// How long a sandbox created without a timeout lives past the runner's last renewal
        /// (servers take at least 60 s).
        std::chrono::seconds lease{600};
        /// How often held sandboxes are renewed; zero: every third of the lease, so that two
        /// renewals can fail in a row before a sandbox expires.
        std::chrono::milliseconds renewEvery{0};
    };

    /// The metadata key under which runs label their sandboxes.
    static constexpr QLatin1StringView RunIdLabel{"sandflow.dev/run-id"};

    explicit OpenSandboxRunner(Options options, QObject *parent = nullptr);
    ~OpenSandboxRunner() override;

    /// The client the runner talks through, for what the Runner interface does not cover
    /// (endpoints of other ports, code contexts).
    OpenSandboxClient &client();

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

private:
    /// The create request the server gets for `request`, with the runner's labels and lease.
    OpenSandboxCreateRequest createRequest(const SandboxRequest &request);
    /// Says `message` once for the runner's life, not once per sandbox.
    void warnOnce(const QString &message);

    Options m_options;
    OpenSandboxClient m_client;
    std::unique_ptr<Internal::SandboxEndpoints> m_endpoints;
    std::unique_ptr<Internal::SandboxLeases> m_leases;
    QSet<QString> m_warned;
};

} // namespace Sandflow
