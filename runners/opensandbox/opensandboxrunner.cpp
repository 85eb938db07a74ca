#include "opensandboxrunner.h"

#include "describeduploadjob_p.h"
#include "sandboxendpoints_p.h"
#include "portrelayjob_p.h"
#include "sandboxleases_p.h"

#include <QIODevice>

#include <cmath>

namespace Sandflow {

using namespace Qt::StringLiterals;
using namespace Internal;

namespace {

/// The shortest time to live OpenSandbox servers accept.
constexpr int MinimumTimeoutSeconds = 60;

/// A client call on a sandbox's execd (or on its `port`), once its endpoint is known.
template <typename Make>
auto *onExecd(SandboxEndpoints &endpoints, const QString &sandboxId, Make make, quint16 port = ExecdPort)
{
    using Job = std::remove_pointer_t<std::invoke_result_t<Make, const OpenSandboxEndpoint &>>;
    return new ExecdJob<Job>(endpoints, sandboxId, std::move(make), port);
}

/// Cores as a Kubernetes quantity: `2`, or millicores (`500m`) for a fraction.
QString cpuQuantity(double cores)
{
    if (cores == std::floor(cores))
        return QString::number(qint64(cores));
    return u"%1m"_s.arg(std::llround(cores * 1000));
}

/// Bytes as a Kubernetes quantity: `512Mi` when whole mebibytes, else the bytes.
QString memoryQuantity(qint64 bytes)
{
    constexpr qint64 MiB = 1024 * 1024;
    return bytes % MiB == 0 ? u"%1Mi"_s.arg(bytes / MiB) : QString::number(bytes);
}

} // namespace

OpenSandboxRunner::OpenSandboxRunner(Options options, QObject *parent)
    : Runner(parent)
    , m_options(std::move(options))
    , m_client(m_options.server)
    , m_endpoints(std::make_unique<SandboxEndpoints>(m_client))
    , m_leases(std::make_unique<SandboxLeases>(
          m_client, m_options.lease,
          m_options.renewEvery.count() > 0 ? m_options.renewEvery
                                           : std::chrono::duration_cast<std::chrono::milliseconds>(m_options.lease) / 3,
          [this](const QString &message) { emit warning(message); }))
{
}

OpenSandboxRunner::~OpenSandboxRunner() = default;

OpenSandboxClient &OpenSandboxRunner::client()
{
    return m_client;
}

Runner::Capabilities OpenSandboxRunner::capabilities() const
{
    return Capability::Pause | Capability::HostVolumes | Capability::NamedVolumes | Capability::EgressRules
           | Capability::Images;
}

void OpenSandboxRunner::warnOnce(const QString &message)
{
    if (m_warned.contains(message))
        return;
    m_warned.insert(message);
    emit warning(message);
}

OpenSandboxCreateRequest OpenSandboxRunner::createRequest(const SandboxRequest &request)
{
    OpenSandboxCreateRequest create;
    create.image = request.image;
    if (!request.entrypoint.isEmpty())
        create.entrypoint = request.entrypoint;
    create.env = request.env;
    create.metadata = request.metadata;
    create.metadata.insert(m_options.labels);
    if (request.cpus)
        create.resourceLimits.insert(u"cpu"_s, cpuQuantity(*request.cpus));
    if (request.memoryBytes)
        create.resourceLimits.insert(u"memory"_s, memoryQuantity(*request.memoryBytes));
    if (request.gpus)
        create.resourceLimits.insert(u"gpu"_s, QString::number(*request.gpus));
    if (request.maxProcesses)
        warnOnce(u"OpenSandbox servers take no process limit: sandboxes get their runtime's default"_s);
    if (!request.rootfs.isEmpty())
        warnOnce(u"`rootfs` is for the local runner: OpenSandbox servers run the sandbox's image"_s);
    create.volumes = request.volumes;
    create.networkPolicy = request.network;
    if (!request.timeoutMs) {
        create.timeoutSeconds = int(m_leases->lease().count());
    } else {
        const qint64 seconds = (*request.timeoutMs + 999) / 1000;
        if (seconds < MinimumTimeoutSeconds)
            warnOnce(u"OpenSandbox servers keep a sandbox at least %1 s: shorter sandbox timeouts are raised to it"_s
                         .arg(MinimumTimeoutSeconds));
        create.timeoutSeconds = int(std::clamp<qint64>(seconds, MinimumTimeoutSeconds, std::numeric_limits<int>::max()));
    }
    return create;
}

SandboxJob *OpenSandboxRunner::createSandbox(const SandboxRequest &request)
{
    OpenSandboxCreateJob *job = m_client.createSandbox(createRequest(request));
    const bool leased = !request.timeoutMs;
    connect(job, &AsyncJob::finished, this, [this, job, leased] {
        if (job->error())
            return;
        // The creation pinged execd there: the first command needs no lookup.
        m_endpoints->remember(job->result().id, job->execd());
        if (leased)
            m_leases->hold(job->result().id);
    });
    return job;
}

SandboxJob *OpenSandboxRunner::getSandbox(const QString &id)
{
    return m_client.getSandbox(id);
}

ResultJob<SandboxPage> *OpenSandboxRunner::listSandboxes(const SandboxFilter &filter)
{
    return m_client.listSandboxes(filter);
}

AsyncJob *OpenSandboxRunner::deleteSandbox(const QString &id)
{
    m_leases->release(id);
    AsyncJob *job = m_client.deleteSandbox(id);
    connect(job, &AsyncJob::finished, this, [this, id] { m_endpoints->forget(id); });
    return trackDeletion(job);
}

AsyncJob *OpenSandboxRunner::pauseSandbox(const QString &id)
{
    return m_client.pauseSandbox(id);
}

AsyncJob *OpenSandboxRunner::resumeSandbox(const QString &id)
{
    // A resumed sandbox may answer somewhere else (a Kubernetes pod is scheduled anew).
    AsyncJob *job = m_client.resumeSandbox(id);
    connect(job, &AsyncJob::finished, this, [this, id] { m_endpoints->forget(id); });
    return job;
}

ResultJob<QDateTime> *OpenSandboxRunner::renewSandbox(const QString &id, const QDateTime &expiresAt)
{
    // An expiry set by hand is the caller's to keep: the lease would move it again.
    m_leases->release(id);
    return m_client.renewExpiration(id, expiresAt);
}

SandboxJob *OpenSandboxRunner::updateMetadata(const QString &id, const QMap<QString, std::optional<QString>> &patch)
{
    return m_client.patchMetadata(id, patch);
}

CommandJob *OpenSandboxRunner::runCommand(const QString &sandboxId, const CommandRequest &request)
{
    return onExecd(*m_endpoints, sandboxId,
                   [this, request](const OpenSandboxEndpoint &execd) { return m_client.runCommand(execd, request); });
}

ResultJob<CommandStatus> *OpenSandboxRunner::commandStatus(const QString &sandboxId, const QString &commandId)
{
    return onExecd(*m_endpoints, sandboxId, [this, commandId](const OpenSandboxEndpoint &execd) {
        return m_client.commandStatus(execd, commandId);
    });
}

ResultJob<CommandLogs> *OpenSandboxRunner::commandLogs(const QString &sandboxId, const QString &commandId, qint64 cursor)
{
    return onExecd(*m_endpoints, sandboxId, [this, commandId, cursor](const OpenSandboxEndpoint &execd) {
        return m_client.commandLogs(execd, commandId, cursor);
    });
}

AsyncJob *OpenSandboxRunner::interruptCommand(const QString &sandboxId, const QString &commandId)
{
    return onExecd(*m_endpoints, sandboxId, [this, commandId](const OpenSandboxEndpoint &execd) {
        return m_client.interruptCommand(execd, commandId);
    });
}

ResultJob<QString> *OpenSandboxRunner::createSession(const QString &sandboxId, const QString &cwd)
{
    return onExecd(*m_endpoints, sandboxId,
                   [this, cwd](const OpenSandboxEndpoint &execd) { return m_client.createSession(execd, cwd); });
}

CommandJob *OpenSandboxRunner::runInSession(const QString &sandboxId, const QString &sessionId,
                                            const CommandRequest &request)
{
    return onExecd(*m_endpoints, sandboxId, [this, sessionId, request](const OpenSandboxEndpoint &execd) {
        return m_client.runInSession(execd, sessionId, request);
    });
}

AsyncJob *OpenSandboxRunner::deleteSession(const QString &sandboxId, const QString &sessionId)
{
    return onExecd(*m_endpoints, sandboxId, [this, sessionId](const OpenSandboxEndpoint &execd) {
        return m_client.deleteSession(execd, sessionId);
    });
}

ResultJob<QList<FileInfo>> *OpenSandboxRunner::fileInfo(const QString &sandboxId, const QStringList &paths)
{
    return onExecd(*m_endpoints, sandboxId,
                   [this, paths](const OpenSandboxEndpoint &execd) { return m_client.fileInfo(execd, paths); });
}

ResultJob<FileInfo> *OpenSandboxRunner::uploadFile(const QString &sandboxId, const QString &path,
                                                   const FilePermissions &permissions, QIODevice *source)
{
    // The device is the job's from here on, also when the endpoint cannot be found.
    auto *job = new ExecdJob<ResultJob<FileInfo>>(
        *m_endpoints, sandboxId, [this, path, permissions, source](const OpenSandboxEndpoint &execd) {
            return new DescribedUploadJob(m_client, execd, path, permissions, source);
        });
    source->setParent(job);
    return job;
}

FileReadJob *OpenSandboxRunner::downloadFile(const QString &sandboxId, const QString &path, qint64 offset, qint64 length)
{
    return onExecd(*m_endpoints, sandboxId, [this, path, offset, length](const OpenSandboxEndpoint &execd) {
        return m_client.readFile(execd, path, offset, length);
    });
}

ResultJob<QList<FileInfo>> *OpenSandboxRunner::searchFiles(const QString &sandboxId, const QString &directory,
                                                           const QString &pattern)
{
    return onExecd(*m_endpoints, sandboxId, [this, directory, pattern](const OpenSandboxEndpoint &execd) {
        return m_client.searchFiles(execd, directory, pattern);
    });
}

ResultJob<QList<FileInfo>> *OpenSandboxRunner::listDirectory(const QString &sandboxId, const QString &directory,
                                                             int depth)
{
    return onExecd(*m_endpoints, sandboxId, [this, directory, depth](const OpenSandboxEndpoint &execd) {
        return m_client.listDirectory(execd, directory, depth);
    });
}

ResultJob<int> *OpenSandboxRunner::replaceInFile(const QString &sandboxId, const QString &path, const QString &before,
                                                 const QString &after)
{
    return onExecd(*m_endpoints, sandboxId, [this, path, before, after](const OpenSandboxEndpoint &execd) {
        return m_client.replaceInFile(execd, path, before, after);
    });
}

AsyncJob *OpenSandboxRunner::setPermissions(const QString &sandboxId, const QString &path,
                                            const FilePermissions &permissions)
{
    return onExecd(*m_endpoints, sandboxId, [this, path, permissions](const OpenSandboxEndpoint &execd) {
        return m_client.setPermissions(execd, path, permissions);
    });
}

AsyncJob *OpenSandboxRunner::moveFile(const QString &sandboxId, const QString &from, const QString &to)
{
    return onExecd(*m_endpoints, sandboxId,
                   [this, from, to](const OpenSandboxEndpoint &execd) { return m_client.moveFile(execd, from, to); });
}

AsyncJob *OpenSandboxRunner::removeFile(const QString &sandboxId, const QString &path)
{
    return onExecd(*m_endpoints, sandboxId,
                   [this, path](const OpenSandboxEndpoint &execd) { return m_client.removeFiles(execd, {path}); });
}

AsyncJob *OpenSandboxRunner::makeDirectory(const QString &sandboxId, const QString &path,
                                           const FilePermissions &permissions)
{
    return onExecd(*m_endpoints, sandboxId, [this, path, permissions](const OpenSandboxEndpoint &execd) {
        return m_client.makeDirectory(execd, path, permissions);
    });
}

AsyncJob *OpenSandboxRunner::removeDirectory(const QString &sandboxId, const QString &path)
{
    return onExecd(*m_endpoints, sandboxId,
                   [this, path](const OpenSandboxEndpoint &execd) { return m_client.removeDirectory(execd, path); });
}

ResultJob<SandboxMetrics> *OpenSandboxRunner::metrics(const QString &sandboxId)
{
    return onExecd(*m_endpoints, sandboxId, [this](const OpenSandboxEndpoint &execd) { return m_client.metrics(execd); });
}

ResultJob<SandboxNetworkPolicy> *OpenSandboxRunner::egressPolicy(const QString &sandboxId)
{
    return onExecd(*m_endpoints, sandboxId, [this](const OpenSandboxEndpoint &egress) {
        return m_client.egressPolicy(egress);
    }, EgressPort);
}

ResultJob<SandboxNetworkPolicy> *OpenSandboxRunner::patchEgressRules(const QString &sandboxId,
                                                                     const QList<SandboxNetworkPolicy::Rule> &rules)
{
    return onExecd(*m_endpoints, sandboxId, [this, rules](const OpenSandboxEndpoint &egress) {
        return m_client.patchEgressRules(egress, rules);
    }, EgressPort);
}

ResultJob<SandboxNetworkPolicy> *OpenSandboxRunner::deleteEgressRules(const QString &sandboxId, const QStringList &targets)
{
    return onExecd(*m_endpoints, sandboxId, [this, targets](const OpenSandboxEndpoint &egress) {
        return m_client.deleteEgressRules(egress, targets);
    }, EgressPort);
}

FileReadJob *OpenSandboxRunner::relayToPort(const QString &sandboxId, quint16 port, QIODevice *request)
{
    return new PortRelayJob(m_client, *m_endpoints, sandboxId, port, request);
}

} // namespace Sandflow
