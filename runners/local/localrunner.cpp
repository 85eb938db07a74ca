#include "localrunner.h"

#include "controlendpoints.h"
#include "egressseccomp_p.h"
#include "immediatejob_p.h"
#include "localerrors_p.h"
#include "localsandbox_p.h"
#include "networkpolicy.h"
#include "sandboxegress_p.h"
#include "sandboxidmap_p.h"
#include "sandboxmountpoints_p.h"
#include "sandboxcgroup_p.h"
#include "sandboxrecords_p.h"
#include "sandboxrequest_p.h"
#include "sandboxrootlayer_p.h"
#include "sandboxseccomp_p.h"
#include "sandboxuserns_p.h"
#include "sandboxvolumes_p.h"

#include "imagestore.h"
#include "provideimagejob.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QThread>
#include <QtConcurrent/QtConcurrentRun>

#include <csignal>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace Sandflow {

using namespace Qt::StringLiterals;
using Internal::ImmediateJob;
using Internal::LocalSandbox;

namespace {

class CreateJob final : public SandboxJob
{
public:
    /// `image`: the image to provide before the sandbox starts; none: the host's system tree
    /// or the request's rootfs.
    CreateJob(LocalRunner *runner, LocalSandbox *sandbox, const LocalRunner::Options &options,
              std::optional<ImageReference> image, std::optional<Internal::RegistryCredentials> credentials)
        : m_runner(runner)
        , m_sandbox(sandbox)
        , m_options(options)
        , m_image(std::move(image))
        , m_credentials(std::move(credentials))
    {
    }

protected:
    void doStart() override
    {
        connect(m_sandbox, &LocalSandbox::ready, this, [this] {
            m_result = m_sandbox->info();
            finish();
        });
        connect(m_sandbox, &LocalSandbox::stopped, this, [this](const QString &reason) {
            finishOnceProvided(JobError{JobError::Kind::Infra, u"SANDBOX_CREATE_FAILED"_s,
                                        u"cannot create the sandbox: %1"_s.arg(reason), {{u"id"_s, m_sandbox->info().id}}});
        });
        if (!m_image) {
            startSandbox();
            return;
        }
        m_provide = std::make_unique<ProvideImageJob>(*m_image, m_runner->imageSettings(), m_credentials);
        m_provide->setAutoDelete(false);
        connect(m_provide.get(), &AsyncJob::finished, this, [this] { onImageProvided(); });
        m_provide->start();
    }

    // A half-made sandbox is removed before the job reports the cancellation.
    void doCancel() override
    {
        m_sandbox->disconnect(this);
        if (!m_sandbox->isStarted()) {
            m_runner->discardUnstarted(m_sandbox->info().id);
            finishOnceProvided(cancelledError());
            return;
        }
        connect(m_sandbox, &LocalSandbox::stopped, this, [this] { finish(cancelledError()); });
        m_sandbox->stop();
    }

private:
    void onImageProvided()
    {
        // Deleted meanwhile: its `stopped` is on its way, and ends the job.
        if (m_sandbox->isStopping())
            return;
        std::optional<JobError> error = m_provide->error();
        const bool canSwitchUsers = m_runner->canSwitchUsers();
        if (!error && !canSwitchUsers && !m_provide->result().config.user.isEmpty())
            m_runner->warnOnce(u"image %1 names the user `%2`, but this runner's sandboxes have one user only: commands "
                               u"run as it"_s.arg(m_image->canonical(), m_provide->result().config.user));
        if (!error)
            error = m_sandbox->useImage(m_provide->result(), canSwitchUsers);
        if (error) {
            abandon(std::move(*error));
            return;
        }
        startSandbox();
    }

    void startSandbox()
    {
        // Deleted before it could start: its `stopped` is on its way, and ends the job.
        if (m_sandbox->isStopping())
            return;
        const QString rootName = m_image ? m_image->canonical() : m_sandbox->layout().rootfs;
        if (std::optional<JobError> refusal = m_runner->prepareRoot(&m_sandbox->layout(), m_sandbox->info().id, rootName)) {
            abandon(std::move(*refusal));
            return;
        }
        QString warning;
        m_sandbox->start(m_options, &warning);
        if (!warning.isEmpty())
            m_runner->warnOnce(warning);
    }

    // A pull or an unpack under way is stopped, and waited for, before the job ends: nothing
    // of it may outlive the job, nor run on to no purpose.
    void finishOnceProvided(JobError error)
    {
        if (!m_provide || m_provide->isFinished()) {
            finish(std::move(error));
            return;
        }
        m_provide->disconnect(this);
        connect(m_provide.get(), &AsyncJob::finished, this, [this, error] { finish(error); });
        m_provide->cancel();
    }

    // Before it started, the sandbox is nothing but the runner's entry and its layer.
    void abandon(JobError error)
    {
        m_sandbox->disconnect(this);
        m_runner->discardUnstarted(m_sandbox->info().id);
        finish(std::move(error));
    }

    LocalRunner *m_runner;
    LocalSandbox *m_sandbox;
    LocalRunner::Options m_options;
    std::optional<ImageReference> m_image;
    std::optional<Internal::RegistryCredentials> m_credentials;
    std::unique_ptr<ProvideImageJob> m_provide;
};

// A request the runner cannot serve: the job fails without a sandbox ever starting.
class RefusedCreateJob final : public SandboxJob
{
public:
    explicit RefusedCreateJob(JobError error) : m_error(std::move(error)) {}

protected:
    void doStart() override { finish(m_error); }

private:
    JobError m_error;
};

class DeleteJob final : public AsyncJob
{
public:
    DeleteJob(LocalRunner *runner, QString id) : m_runner(runner), m_id(std::move(id)) {}

protected:
    void doStart() override
    {
        LocalSandbox *sandbox = m_runner->find(m_id);
        if (!sandbox) {
            finish(Internal::sandboxNotFound(m_id));
            return;
        }
        connect(sandbox, &LocalSandbox::stopped, this, [this] { finish(); });
        sandbox->stop();
    }

private:
    LocalRunner *m_runner;
    QString m_id;
};

// Freezing or thawing a sandbox's cgroup: immediate, so the job finishes in doStart.
class PauseJob final : public AsyncJob
{
public:
    PauseJob(LocalRunner *runner, QString id, bool pause) : m_runner(runner), m_id(std::move(id)), m_pause(pause) {}

protected:
    void doStart() override
    {
        LocalSandbox *sandbox = m_runner->find(m_id);
        const SandboxState from = m_pause ? SandboxState::Running : SandboxState::Paused;
        if (!sandbox)
            finish(Internal::sandboxNotFound(m_id));
        else if (sandbox->info().state != from)
            finish(JobError{JobError::Kind::Invalid, u"INVALID_STATE"_s,
                            u"sandbox `%1` is %2, not %3"_s.arg(m_id, sandboxStateName(sandbox->info().state),
                                                                sandboxStateName(from)), {{u"id"_s, m_id}}});
        else {
            sandbox->setPaused(m_pause);
            finish();
        }
    }

private:
    LocalRunner *m_runner;
    QString m_id;
    bool m_pause;
};

} // namespace

LocalRunner::LocalRunner(Options options, QObject *parent)
    : Runner(parent)
    , m_options(std::move(options))
    , m_volumeSources(std::make_unique<const Internal::VolumeSources>(
          Internal::resolveVolumeSources(m_options.allowedHostPaths, m_options.stateDirectory,
                                        m_options.hostPathAdvice)))
{
}

LocalRunner::~LocalRunner()
{
    // Destroying a sandbox kills its processes and removes its cgroups (~SandboxCgroup,
    // ~AgentConnection), but no `stopped` comes to remove its record, which would then
    // read as left behind by a crash.
    const Internal::SandboxRecords records(m_options.stateDirectory);
    // Taken out first: nothing a dying sandbox does may reach the map being emptied.
    auto sandboxes = std::exchange(m_sandboxes, {});
    for (auto &[id, sandbox] : sandboxes) {
        const QString layer = sandbox->rootLayerDirectory();
        sandbox.reset();
        // At the runner's end: nothing waits on the event loop any more.
        if (!layer.isEmpty())
            Internal::removeRootLayer(layer);
        if (records.isEnabled())
            records.remove(id);
    }
    for (QFuture<int> &removal : m_layerRemovals)
        removal.waitForFinished();
    if (m_temporaryLayers)
        Internal::removeRootLayer(m_temporaryLayers->path());
}

SandboxJob *LocalRunner::createSandbox(const SandboxRequest &request)
{
    std::optional<ImageReference> image;
    if (std::optional<JobError> refusal = chooseImage(request, &image))
        return new RefusedCreateJob(std::move(*refusal));
    if (request.gpus)
        warnOnce(u"the local runner has no GPUs to give: sandboxes run without the `gpu` they ask for"_s);
    Internal::SandboxLayout layout;
    if (std::optional<JobError> refusal = Internal::layoutForRequest(request, m_options, *m_volumeSources, &layout))
        return new RefusedCreateJob(std::move(*refusal));
    mapIds(&layout);
    if (std::optional<JobError> refusal = filterSystemCalls(&layout))
        return new RefusedCreateJob(std::move(*refusal));
    std::unique_ptr<Internal::SandboxEgress> egress;
    if (request.network) {
        if (std::optional<JobError> refusal = filterEgress(*request.network, &layout, &egress))
            return new RefusedCreateJob(std::move(*refusal));
    }
    auto sandbox = std::make_unique<LocalSandbox>(std::move(layout), request);
    LocalSandbox *raw = sandbox.get();
    const QString id = raw->info().id;
    if (egress) {
        raw->useEgress(std::move(egress));
        connect(raw, &LocalSandbox::egressDenied, this,
                [this, id](const QString &target, int port) { emit egressDenied(id, target, port); });
    }
    // Whatever ends the sandbox, the runner forgets it at once (connected first, so that
    // whoever hears the signal after finds it gone: deleted means gone).
    connect(raw, &LocalSandbox::stopped, this, [this, id] { forget(id); });
    const Internal::SandboxRecords records(m_options.stateDirectory);
    if (records.isEnabled()) {
        // Recorded twice: before its cgroups and bubblewrap exist, with no process yet, so
        // that `gc` finds whatever a runner killed while making it left; then with bubblewrap's.
        const qint64 owner = QCoreApplication::applicationPid();
        const qint64 ownerStartTicks = Internal::SandboxRecords::processStartTicks(owner);
        const auto record = [this, raw, records, owner, ownerStartTicks](qint64 pid) {
            records.write({raw->info().id, m_options.runId, pid, Internal::SandboxRecords::processStartTicks(pid), owner,
                           ownerStartTicks, raw->info().image, raw->info().createdAt});
        };
        connect(raw, &LocalSandbox::starting, this, [record] { record(0); });
        connect(&raw->agent(), &Internal::AgentConnection::started, this,
                [record, raw] { record(raw->agent().processId()); });
        connect(raw, &LocalSandbox::stopped, this, [records, id] { records.remove(id); });
    }
    m_sandboxes.emplace(id, std::move(sandbox));
    std::optional<Internal::RegistryCredentials> credentials;
    if (!request.imageUsername.isEmpty() || !request.imagePassword.isEmpty())
        credentials = Internal::RegistryCredentials{request.imageUsername, request.imagePassword};
    return new CreateJob(this, raw, m_options, std::move(image), std::move(credentials));
}

const Internal::SandboxUserNamespaces &LocalRunner::userNamespaces()
{
    using Internal::SandboxUserNamespaces;
    if (!m_userNamespaces) {
        QString error;
        m_userNamespaces = std::make_unique<SandboxUserNamespaces>(SandboxUserNamespaces::create(&error));
        // Only root can have them; for anyone else this is how it is, not news.
        const bool root = geteuid() == 0;
        if (root && !m_userNamespaces->isValid()) {
            warnOnce(u"sandboxes get bubblewrap's own user namespace, so commands cannot run as other users: %1"_s
                         .arg(error));
        } else if (root && !m_userNamespaces->mapsRange()) {
            warnOnce(u"the sandboxes' users are the runner's own, so their root is the runner's root on the files "
                     u"it reaches: %1"_s.arg(error));
        }
    }
    return *m_userNamespaces;
}

void LocalRunner::mapIds(Internal::SandboxLayout *layout)
{
    const Internal::SandboxUserNamespaces &namespaces = userNamespaces();
    layout->enterNamespaceFd = namespaces.enterFd();
    layout->sandboxNamespaceFd = namespaces.sandboxFd();
    if (!namespaces.mapsRange())
        return;
    for (Internal::BindMount &mount : layout->mounts) {
        int error = 0;
        mount.idmapped = Internal::idmappedClone(mount.source.get(), namespaces.sandboxFd(), &error);
        // Bound as it is, the volume's files belong to nobody the sandbox knows: it reads
        // what others may read and writes nothing.
        if (!mount.idmapped.isValid())
            warnOnce(u"volume at %1: the kernel cannot mount %2 id-mapped (%3), so the sandbox sees its files as "
                     u"nobody's and can write only what anyone may"_s
                         .arg(mount.target, Internal::pathOfDescriptor(mount.source.get()),
                              QString::fromLocal8Bit(strerror(error))));
    }
}

std::optional<JobError> LocalRunner::prepareRoot(Internal::SandboxLayout *layout, const QString &sandboxId,
                                                const QString &rootName)
{
    const Internal::SandboxUserNamespaces &namespaces = userNamespaces();
    if (!layout->rootfs.isEmpty() && namespaces.mapsRange()) {
        int error = 0;
        layout->rootfsSource = Internal::UniqueFd(
            ::open(QFile::encodeName(layout->rootfs).constData(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        layout->rootfsIdmapped = Internal::idmappedClone(layout->rootfsSource.get(), namespaces.sandboxFd(), &error);
        if (!layout->rootfsIdmapped.isValid())
            warnOnce(u"the kernel cannot mount the root filesystem %1 id-mapped (%2), so the sandbox sees its files "
                     u"as nobody's"_s.arg(layout->rootfs, QString::fromLocal8Bit(strerror(error ? error : errno))));
    }
    // Before anything of the sandbox is made: an image that would lead bubblewrap out of it.
    if (!layout->rootfs.isEmpty()) {
        if (const std::optional<QString> why = Internal::unsafeMountPoint(layout->rootfs, layout->mountPoints()))
            return JobError{JobError::Kind::Invalid, u"ROOTFS_UNSAFE"_s,
                            u"the sandbox's root (%1) cannot be used: %2"_s.arg(rootName, *why), {{u"id"_s, sandboxId}}};
    }
    const bool overlay = !layout->rootfs.isEmpty() && overlaysAvailable();
    // The sandbox's root writes its root directory: in a range of ids it is the range's first.
    const uid_t owner = namespaces.mapsRange() ? Internal::SandboxUserNamespaces::FirstHostId : ::geteuid();
    QString error;
    layout->rootLayer = Internal::SandboxRootLayer::create(layersDirectory(), sandboxId, layout->rootfs, overlay,
                                                           owner, &error);
    if (!layout->rootLayer)
        return JobError{JobError::Kind::Infra, u"ROOT_LAYER_FAILED"_s,
                        u"cannot make the sandbox's writable root: %1"_s.arg(error), {{u"id"_s, sandboxId}}};
    return std::nullopt;
}

std::optional<JobError> LocalRunner::chooseImage(const SandboxRequest &request, std::optional<ImageReference> *image)
{
    // A rootfs stands for the image.
    if (!request.rootfs.isEmpty())
        return std::nullopt;
    // Said once per runner (one runner serves a whole run), not once per sandbox.
    if (request.image.isEmpty()) {
        warnOnce(u"sandboxes without an `image` run on this machine's read-only system tree"_s);
        return std::nullopt;
    }
    QString error;
    std::optional<ImageReference> reference = ImageReference::parse(request.image, &error);
    if (!reference)
        return JobError{JobError::Kind::Invalid, u"IMAGE_INVALID"_s, error, {{u"image"_s, request.image}}};
    for (const QString &pattern : m_options.hostImages) {
        const QRegularExpression glob(QRegularExpression::wildcardToRegularExpression(pattern));
        if (glob.match(request.image).hasMatch() || glob.match(reference->canonical()).hasMatch()) {
            warnOnce(u"image %1 runs on this machine's read-only system tree instead (host image `%2`)"_s
                         .arg(request.image, pattern));
            return std::nullopt;
        }
    }
    *image = std::move(reference);
    return std::nullopt;
}

ImageSettings LocalRunner::imageSettings()
{
    // Without a state directory, the runner's images live as long as its layers.
    const QString directory = m_options.stateDirectory.isEmpty() ? layersDirectory() + u"/.images"_s
                                                                 : ImageStore::directoryIn(m_options.stateDirectory);
    return {directory, m_options.pull, m_options.pullOptions};
}

bool LocalRunner::canSwitchUsers()
{
    return userNamespaces().isValid();
}

QString LocalRunner::layersDirectory()
{
    if (!m_options.stateDirectory.isEmpty())
        return m_options.stateDirectory + u"/layers"_s;
    // Without a state directory, the layers live as long as the runner.
    if (!m_temporaryLayers) {
        m_temporaryLayers = std::make_unique<QTemporaryDir>(QDir::tempPath() + u"/sandflow-layers-XXXXXX"_s);
        // Removed by the runner once every layer's removal is done (see ~LocalRunner).
        m_temporaryLayers->setAutoRemove(false);
    }
    // Invalid: an empty path, which every use then fails to make anything in (no `/ID`).
    return m_temporaryLayers->isValid() ? m_temporaryLayers->path() : QDir::tempPath() + u"/sandflow-layers-unavailable"_s;
}

bool LocalRunner::overlaysAvailable()
{
    if (!m_overlayError)
        m_overlayError = Internal::overlayMountsRefused(
            layersDirectory(), userNamespaces().mapsRange() ? userNamespaces().sandboxFd() : -1);
    if (*m_overlayError != 0)
        warnOnce(u"this runner cannot mount overlays (%1): a sandbox's image or rootfs is its root read-only, "
                 u"only new top-level directories are writable"_s
                     .arg(QString::fromLocal8Bit(strerror(*m_overlayError))));
    return *m_overlayError == 0;
}

void LocalRunner::removeRootLayerLater(const QString &directory)
{
    if (directory.isEmpty())
        return;
    m_layerRemovals.removeIf([](const QFuture<int> &removal) { return removal.isFinished(); });
    m_layerRemovals.append(QtConcurrent::run(Internal::removeRootLayer, directory));
}

std::optional<JobError> LocalRunner::filterSystemCalls(Internal::SandboxLayout *layout)
{
    if (m_seccompProgram.isEmpty() && m_seccompError.isEmpty())
        m_seccompProgram = Internal::sandboxSeccompProgram(&m_seccompError);
    // Without its filter a sandbox would be less of one than documented: none is made.
    if (m_seccompProgram.isEmpty())
        return JobError{JobError::Kind::Infra, u"SECCOMP_UNAVAILABLE"_s,
                        u"cannot make the sandbox's system call filter: %1"_s.arg(m_seccompError), {}};
    layout->seccompProgram = Internal::seccompProgramDescriptor(m_seccompProgram);
    if (!layout->seccompProgram.isValid())
        return JobError{JobError::Kind::Infra, u"SECCOMP_UNAVAILABLE"_s,
                        u"cannot pass the system call filter to bubblewrap: %1"_s.arg(
                            QString::fromLocal8Bit(strerror(errno))),
                        {}};
    return std::nullopt;
}

std::optional<JobError> LocalRunner::filterEgress(const SandboxNetworkPolicy &policy, Internal::SandboxLayout *layout,
                                                std::unique_ptr<Internal::SandboxEgress> *egress)
{
    for (const SandboxNetworkPolicy::Rule &rule : policy.egress) {
        if (const std::optional<QString> reason = invalidTargetReason(rule.target))
            return JobError{JobError::Kind::Invalid, u"EGRESS_RULE_INVALID"_s, u"network policy: %1"_s.arg(*reason),
                            {{u"target"_s, rule.target}}};
    }
    if (m_egressProgram.isEmpty() && m_egressError.isEmpty())
        m_egressProgram = Internal::egressFilterProgram(&m_egressError);
    QString error = m_egressError;
    std::optional<Internal::SandboxNetwork> network;
    if (!m_egressProgram.isEmpty())
        network = Internal::SandboxNetwork::create(&error);
    if (!network)
        return JobError{JobError::Kind::Infra, u"EGRESS_UNAVAILABLE"_s,
                        u"cannot give the sandbox its network policy: %1"_s.arg(error), {}};
    layout->egressProgram = m_egressProgram;
    layout->resolvConf = Internal::SandboxNetwork::resolvConfDescriptor();
    Internal::SandboxEgress::Settings settings;
    settings.upstream = m_options.dnsUpstream;
    settings.upstreamPort = m_options.dnsUpstreamPort;
    *egress = std::make_unique<Internal::SandboxEgress>(std::move(*network), policy, settings);
    return std::nullopt;
}

LocalRunner::Capabilities LocalRunner::capabilities() const
{
    return Capability::Pause | Capability::HostVolumes | Capability::NamedVolumes | Capability::Terminals
           | Capability::EgressRules;
}

SandboxJob *LocalRunner::getSandbox(const QString &id)
{
    return new ImmediateJob<SandboxInfo>([this, id](SandboxInfo &info) -> std::optional<JobError> {
        const LocalSandbox *sandbox = find(id);
        if (!sandbox)
            return Internal::sandboxNotFound(id);
        info = sandbox->info();
        return std::nullopt;
    });
}

ResultJob<SandboxPage> *LocalRunner::listSandboxes(const SandboxFilter &filter)
{
    return new ImmediateJob<SandboxPage>([this, filter](SandboxPage &page) -> std::optional<JobError> {
        page = selectSandboxes(sandboxes(), filter);
        return std::nullopt;
    });
}

// As OpenSandbox: any time in the future will do, earlier than the current expiry too; a
// sandbox created without expiry keeps living until it is deleted.
ResultJob<QDateTime> *LocalRunner::renewSandbox(const QString &id, const QDateTime &expiresAt)
{
    return new ImmediateJob<QDateTime>([this, id, expiresAt](QDateTime &result) -> std::optional<JobError> {
        LocalSandbox *sandbox = find(id);
        if (!sandbox)
            return Internal::sandboxNotFound(id);
        if (!sandbox->info().expiresAt)
            return JobError{JobError::Kind::Invalid, u"SANDBOX_NO_EXPIRY"_s,
                            u"sandbox `%1` was created without a timeout and does not expire"_s.arg(id), {{u"id"_s, id}}};
        if (!expiresAt.isValid() || expiresAt <= QDateTime::currentDateTimeUtc())
            return JobError{JobError::Kind::Invalid, u"INVALID_EXPIRATION"_s,
                            u"the new expiry of sandbox `%1` must be in the future"_s.arg(id), {{u"id"_s, id}}};
        sandbox->setExpiry(expiresAt.toUTC());
        result = expiresAt.toUTC();
        return std::nullopt;
    });
}

SandboxJob *LocalRunner::updateMetadata(const QString &id, const QMap<QString, std::optional<QString>> &patch)
{
    return new ImmediateJob<SandboxInfo>([this, id, patch](SandboxInfo &info) -> std::optional<JobError> {
        LocalSandbox *sandbox = find(id);
        if (!sandbox)
            return Internal::sandboxNotFound(id);
        sandbox->updateMetadata(patch);
        info = sandbox->info();
        return std::nullopt;
    });
}

AsyncJob *LocalRunner::deleteSandbox(const QString &id)
{
    return trackDeletion(new DeleteJob(this, id));
}

AsyncJob *LocalRunner::pauseSandbox(const QString &id)
{
    return new PauseJob(this, id, true);
}

AsyncJob *LocalRunner::resumeSandbox(const QString &id)
{
    return new PauseJob(this, id, false);
}

void LocalRunner::warnOnce(const QString &message)
{
    if (m_warned.contains(message))
        return;
    m_warned.append(message);
    emit warning(message);
}

QString LocalRunner::defaultStateDirectory()
{
    const QString explicitDirectory = qEnvironmentVariable("SANDFLOW_STATE_DIR");
    if (!explicitDirectory.isEmpty())
        return explicitDirectory;
    const QString xdg = qEnvironmentVariable("XDG_STATE_HOME");
    return (xdg.isEmpty() ? QDir::homePath() + u"/.local/state"_s : xdg) + u"/sandflow"_s;
}

QList<LocalRunner::RecordedSandbox> LocalRunner::recordedSandboxes(const QString &stateDirectory)
{
    QList<RecordedSandbox> result;
    for (const Internal::SandboxRecord &record : Internal::SandboxRecords(stateDirectory).all())
        result.append({record.id, record.runId, record.pid, record.isAlive(), record.image, record.createdAt});
    return result;
}

QStringList LocalRunner::collectGarbage(const QString &stateDirectory, bool includeAlive)
{
    const Internal::SandboxRecords records(stateDirectory);
    QStringList removed;
    for (const Internal::SandboxRecord &record : records.all()) {
        if (record.isAlive() && !includeAlive)
            continue;
        // Killing bubblewrap's outer process takes the sandbox down (--die-with-parent and
        // the pid namespace); the cgroups then only wait for the kernel's teardown. A frozen
        // sandbox dies once its cgroup's removal thaws it.
        if (record.processRemains())
            ::kill(pid_t(record.pid), SIGKILL);
        bool cgroupsGone = false;
        for (int attempt = 0; attempt < 200 && !cgroupsGone; ++attempt) {
            cgroupsGone = Internal::SandboxCgroup::removeLeftover(record.id);
            if (!cgroupsGone)
                QThread::msleep(5);
        }
        if (!cgroupsGone)
            continue;
        Internal::removeRootLayer(stateDirectory + u"/layers/"_s + record.id);
        records.remove(record.id);
        removed.append(record.id);
    }
    // Groups no record names, empty and older than a minute (a sandbox being made has its
    // groups a moment before its processes): left by a runner that could not finish.
    const QStringList recorded = [&records] {
        QStringList ids;
        for (const Internal::SandboxRecord &record : records.all())
            ids.append(record.id);
        return ids;
    }();
    for (const QString &name : Internal::SandboxCgroup::emptyLeftovers(QDateTime::currentDateTime().addSecs(-60))) {
        if (!recorded.contains(name) && Internal::SandboxCgroup::removeLeftover(name))
            removed.append(name);
    }
    // Layers no record names, older than a minute (a sandbox's layer is made a moment before
    // its record), and overlay probes (`.probe-*`) as old: left by a runner killed while it
    // made or removed them.
    const QFileInfoList layers = QDir(stateDirectory + u"/layers"_s).entryInfoList(QDir::Dirs | QDir::Hidden | QDir::NoDotAndDotDot);
    for (const QFileInfo &layer : layers) {
        const bool probe = layer.fileName().startsWith(u".probe-"_s);
        if (!recorded.contains(layer.fileName()) && (probe || !layer.fileName().startsWith(u'.'))
            && layer.lastModified() < QDateTime::currentDateTime().addSecs(-60)
            && Internal::removeRootLayer(layer.filePath()) == 0)
            removed.append(layer.fileName());
    }
    records.removeAbandonedTemporaries();
    // Where killed runs and servers listened: no client may look for them there again.
    removeDeadControlEndpoints(stateDirectory);
    return removed;
}

QList<SandboxInfo> LocalRunner::sandboxes() const
{
    QList<SandboxInfo> result;
    for (const auto &[id, sandbox] : m_sandboxes) {
        if (!sandbox->isStopping())
            result.append(sandbox->info());
    }
    return result;
}

// A sandbox on its way out answers nothing more: a command or a pause could only race its
// end (a pause would freeze an agent that is exiting, and the deletion would wait forever).
Internal::LocalSandbox *LocalRunner::find(const QString &id) const
{
    const auto it = m_sandboxes.find(id);
    return it == m_sandboxes.end() || it->second->isStopping() ? nullptr : it->second.get();
}

void LocalRunner::discardUnstarted(const QString &id)
{
    removeRootLayerLater(layersDirectory() + u'/' + id);
    forget(id);
}

void LocalRunner::forget(const QString &id)
{
    const auto it = m_sandboxes.find(id);
    if (it == m_sandboxes.end())
        return;
    removeRootLayerLater(it->second->rootLayerDirectory());
    // Freed once its `stopped` signal, still being delivered, has reached everyone.
    it->second.release()->deleteLater();
    m_sandboxes.erase(it);
}

} // namespace Sandflow
