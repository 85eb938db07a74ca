#include "localsandbox_p.h"

#include "egressseccomp_p.h"
#include "sandboxrequest_p.h"
#include "sandboxuserns_p.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QUuid>

#include <algorithm>
#include <csignal>
#include <limits>

#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// Ends the child that was to become bubblewrap, saying why on its stderr, which the runner
/// reads as the sandbox's diagnostics. Async-signal-safe, for the child between fork and exec.
template<size_t Size>
[[noreturn]] void failInChild(const char (&message)[Size])
{
    [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, message, Size - 1);
    ::_exit(126);
}

} // namespace

LocalSandbox::LocalSandbox(SandboxLayout layout, const SandboxRequest &request)
    : m_request(request)
    , m_layout(std::move(layout))
{
    m_info.id = QUuid::createUuid().toString(QUuid::Id128);
    m_info.state = SandboxState::Pending;
    m_info.image = request.image;
    m_info.entrypoint = request.entrypoint;
    m_info.metadata = request.metadata;
    m_networkPolicy = request.network;
    m_info.createdAt = QDateTime::currentDateTimeUtc();
    if (request.timeoutMs)
        m_info.expiresAt = m_info.createdAt.addMSecs(*request.timeoutMs);
    findBash();

    // What a login shell on a minimal system would have; the request adds to it.
    m_environment = {{u"PATH"_s, u"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"_s},
                     {u"HOME"_s, u"/workspace"_s},
                     {u"LANG"_s, u"C.UTF-8"_s}};
    m_environment.insert(request.env);

    m_readyTimer.setSingleShot(true);
    connect(&m_readyTimer, &QTimer::timeout, this, [this] {
        m_info.reason = u"READY_TIMEOUT"_s;
        m_stopReason = u"the sandbox did not become ready in time"_s;
        m_agent.kill();
    });
    m_expiryTimer.setSingleShot(true);
    connect(&m_expiryTimer, &QTimer::timeout, this, [this] {
        m_info.reason = u"EXPIRED"_s;
        stop();
    });
    connect(&m_agent, &AgentConnection::replied, this, &LocalSandbox::onReplied);
    connect(&m_agent, &AgentConnection::commandExited, this, &LocalSandbox::onCommandExited);
    connect(&m_agent, &AgentConnection::disconnected, this, [this](const QString &reason) {
        m_stopping = true;
        m_readyTimer.stop();
        m_expiryTimer.stop();
        if (m_info.state == SandboxState::Pending || m_info.state == SandboxState::Running
            || m_info.state == SandboxState::Paused)
            m_info.state = SandboxState::Terminated;
        finishStopping(m_stopReason.isEmpty() ? reason : m_stopReason, 0);
    });
}

// The sandbox sees the host's system tree or the rootfs, both readable from here.
void LocalSandbox::findBash()
{
    m_bashPath.clear();
    for (const QString &bash : {u"/bin/bash"_s, u"/usr/bin/bash"_s}) {
        if (m_bashPath.isEmpty() && QFileInfo(m_layout.rootfs + bash).isExecutable())
            m_bashPath = bash;
    }
}

std::optional<JobError> LocalSandbox::useImage(const ProvidedImage &image, bool canSwitchUsers)
{
    m_layout.rootfs = image.root;
    m_imageHold = image.hold;
    m_bashPath = image.bashPath;
    const ImageConfig &config = image.config;
    // The image's environment (its PATH above all) over the minimal base, the request's over it.
    for (const QString &assignment : config.env) {
        const qsizetype equals = assignment.indexOf(u'=');
        if (equals > 0 && !m_request.env.contains(assignment.left(equals)))
            m_environment.insert(assignment.left(equals), assignment.mid(equals + 1));
    }
    if (!config.workingDir.isEmpty())
        m_layout.workingDirectory = config.workingDir;
    if (!config.user.isEmpty() && canSwitchUsers) {
        QString error = image.userError;
        m_imageUser = image.user;
        // Where the sandboxes' ids are a range, no other id exists in a sandbox.
        if (m_imageUser && m_layout.sandboxNamespaceFd >= 0
            && (m_imageUser->uid >= SandboxUserNamespaces::MappedIds || m_imageUser->gid >= SandboxUserNamespaces::MappedIds)) {
            error = u"the image's user `%1` is %2:%3, beyond the %4 ids a sandbox has"_s.arg(config.user)
                        .arg(m_imageUser->uid).arg(m_imageUser->gid).arg(SandboxUserNamespaces::MappedIds);
            m_imageUser.reset();
        }
        if (!m_imageUser)
            return JobError{JobError::Kind::Invalid, u"IMAGE_USER_UNKNOWN"_s,
                            u"image %1: %2"_s.arg(image.image.reference, error), {{u"image"_s, image.image.reference}}};
    }
    if (m_request.entrypoint.isEmpty())
        m_imageCommand = config.entrypoint + config.cmd;
    return std::nullopt;
}

// The sandbox is stopped once nothing of it is left: its cgroups can only be removed after
// the kernel has torn down its last process, which follows bubblewrap's exit closely.
void LocalSandbox::finishStopping(const QString &reason, int attempt)
{
    constexpr int retryMs = 1;
    constexpr int attempts = 5000;
    if (m_cgroup && !m_cgroup->remove() && attempt < attempts) {
        QTimer::singleShot(retryMs, this, [this, reason, attempt] { finishStopping(reason, attempt + 1); });
        return;
    }
    // Nothing runs in the image's root any more: prune may take it.
    m_imageHold.reset();
    emit stopped(reason);
}

void LocalSandbox::setPaused(bool paused)
{
    const bool byFreezer = m_cgroup && m_cgroup->setFrozen(paused);
    // A frozen agent hears nothing, not even that it should exit: stop() ends it from outside.
    m_frozen = paused && byFreezer;
    if (!byFreezer) {
        // Target 0: every descendant of the agent, wherever it went.
        m_agent.request({{u"op"_s, u"signal"_s}, {u"target"_s, 0}, {u"signal"_s, paused ? SIGSTOP : SIGCONT}});
    }
    // A frozen agent answers nothing until it thaws; then its requests get their whole time.
    m_agent.setReplyTimeout(paused ? std::chrono::milliseconds::zero() : m_replyTimeout);
    m_info.state = paused ? SandboxState::Paused : SandboxState::Running;
    m_info.reason = paused ? u"PAUSED"_s : u"RESUMED"_s;
}

void LocalSandbox::start(const LocalRunner::Options &options, QString *warning)
{
    Q_ASSERT(!m_stopping);   // one deleted before it started never starts
    m_startCalled = true;
    emit starting();
    if (options.resourceLimits) {
        SandboxCgroup::Limits limits;
        limits.cpus = m_request.cpus;
        limits.memoryBytes = memoryLimit(m_request, options);
        limits.maxProcesses = m_request.maxProcesses.value_or(options.defaultMaxProcesses);
        m_cgroup = SandboxCgroup::create(m_info.id, limits, warning);
    }
    // bwrap gets its own copies of the layout's descriptors as it starts (or fails to): the
    // runner's close when this returns.
    SandboxLayout layout = std::move(m_layout);
    layout.id = m_info.id.left(12);
    if (layout.rootLayer)
        m_rootLayerDirectory = layout.rootLayer->directory;
    std::optional<OverlayMount> overlay = layout.rootLayer ? layout.rootLayer->overlay : std::nullopt;
    for (auto it = m_environment.cbegin(); it != m_environment.cend(); ++it)
        layout.env.append(it.key() + u'=' + it.value());
    m_readyTimer.start(int(std::min<qint64>(options.readyTimeoutMs, std::numeric_limits<int>::max())));
    m_replyTimeout = std::chrono::milliseconds(options.replyTimeoutMs);
    const SandboxCgroup *cgroup = m_cgroup.get();
    const bool rangeOfIds = layout.sandboxNamespaceFd >= 0;
    // The egress filter's listener comes back over a socket pair: the child sends it before
    // it starts bubblewrap, which never holds it.
    UniqueFd egressChannelForChild;
    if (m_egress) {
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0) {
            m_egressChannel = UniqueFd(pair[0]);
            egressChannelForChild = UniqueFd(pair[1]);
        }
        layout.networkNamespaceFd = m_egress->namespaceFd();
        layout.egressChannel = egressChannelForChild.get();
        m_egressChannelNotifier = std::make_unique<QSocketNotifier>(m_egressChannel.get(), QSocketNotifier::Read);
        connect(m_egressChannelNotifier.get(), &QSocketNotifier::activated, this, [this] {
            UniqueFd listener = receiveDescriptor(m_egressChannel.get());
            m_egressChannelNotifier.reset();
            m_egressChannel = UniqueFd();
            // Without it every connect of the sandbox would wait forever: it is stopped.
            if (!listener.isValid()) {
                m_stopReason = u"the sandbox's egress filter did not come back to the runner"_s;
                m_agent.kill();
                return;
            }
            m_egress->attachFilter(std::move(listener));
        });
    }
    // Between fork and exec: async-signal-safe calls only.
    m_agent.start(bwrapProgram(), bwrapArguments(layout),
                  [cgroup, rangeOfIds, inherited = layout.inheritedDescriptors(),
                   attachments = layout.idmappedAttachments(), overlay = std::move(overlay),
                   network = layout.networkNamespaceFd, egressProgram = layout.egressProgram,
                   egressChannel = layout.egressChannel] {
        // Out of the runner's process group: a Ctrl-C on the terminal is for the runner,
        // which cancels commands as it should, not for every sandbox at once.
        ::setsid();
        if (cgroup)
            cgroup->joinFromChild();
        if (network >= 0 && ::setns(network, CLONE_NEWNET) != 0)
            failInChild("cannot enter the sandbox's network namespace\n");
        for (const int fd : inherited)
            inheritAcrossExec(fd);
        // Last, once nothing needs the runner's own ids. bubblewrap must not go on as the
        // host's root where the ids are a range: the sandbox it made would have the host's
        // root as its own.
        if ((!attachments.empty() || overlay) && !enterOwnMountNamespace())
            failInChild("cannot make the sandbox's mount namespace\n");
        if (!attachIdmappedClones(attachments))
            failInChild("cannot attach the volumes' id-mapped mounts\n");
        // Over the image's root as the sandbox sees it: attached id-mapped just before.
        if (overlay && !mountOverlay(*overlay))
            failInChild("cannot mount the sandbox's writable root (overlay)\n");
        if (rangeOfIds && !SandboxUserNamespaces::becomeSandboxRoot())
            failInChild("cannot become the sandboxes' root user\n");
        // Last: the filter holds this process's own connects too, and there are none left.
        if (!egressProgram.isEmpty()) {
            const int listener = installEgressFilter(egressProgram);
            if (listener < 0 || !sendDescriptor(egressChannel, listener))
                failInChild("cannot install the sandbox's egress filter\n");
            ::close(listener);
        }
    });
    // Ready means the agent answered, as OpenSandbox clients poll execd's /ping.
    m_pingChannel = m_agent.request({{u"op"_s, u"ping"_s}});
}

QJsonObject LocalSandbox::commandEnvironment(const QMap<QString, QString> &overrides) const
{
    QMap<QString, QString> environment = m_environment;
    environment.insert(overrides);
    QJsonObject env;
    for (auto it = environment.cbegin(); it != environment.cend(); ++it)
        env.insert(it.key(), it.value());
    return env;
}

// A running agent has its reply time to exit (past it the cgroup's removal kills what is
// left). A frozen one is killed with all its processes, as a paused container is removed.
void LocalSandbox::stop()
{
    // Deleted while its image was still on its way: nothing of it runs yet.
    if (!m_startCalled) {
        if (!m_stopping) {
            m_stopping = true;
            m_info.state = SandboxState::Terminated;
            QTimer::singleShot(0, this, [this] { emit stopped(u"deleted before it started"_s); });
        }
        return;
    }
    m_stopping = true;
    if (m_frozen) {
        m_cgroup->killFrozen();
        m_frozen = false;
    }
    m_agent.setReplyTimeout(m_replyTimeout);
    m_agent.closeControl();
}

void LocalSandbox::startExpiryTimer()
{
    if (m_info.expiresAt)
        m_expiryTimer.start(int(std::clamp<qint64>(QDateTime::currentDateTimeUtc().msecsTo(*m_info.expiresAt), 0,
                                                   std::numeric_limits<int>::max())));
}

void LocalSandbox::setExpiry(const QDateTime &expiresAt)
{
    m_info.expiresAt = expiresAt;
    if (m_info.state != SandboxState::Pending)
        startExpiryTimer();
}

void LocalSandbox::setNetworkPolicy(const SandboxNetworkPolicy &policy)
{
    Q_ASSERT(m_networkPolicy);
    m_networkPolicy = policy;
    if (m_egress)
        m_egress->setPolicy(policy);
    emit networkPolicyChanged();
}

void LocalSandbox::useEgress(std::unique_ptr<SandboxEgress> egress)
{
    m_egress = std::move(egress);
    connect(m_egress.get(), &SandboxEgress::denied, this, &LocalSandbox::egressDenied);
}

void LocalSandbox::updateMetadata(const QMap<QString, std::optional<QString>> &patch)
{
    for (auto it = patch.cbegin(); it != patch.cend(); ++it) {
        if (it.value())
            m_info.metadata.insert(it.key(), *it.value());
        else
            m_info.metadata.remove(it.key());
    }
}

QStringList LocalSandbox::shellArguments(const CommandRequest &request) const
{
    // execd's choice: bash where there is one, sh where there is none.
    if (request.shell == CommandRequest::Shell::Bash && !m_bashPath.isEmpty())
        return {m_bashPath, u"-c"_s, request.command};
    return {u"/bin/sh"_s, u"-c"_s, request.command};
}

QJsonObject LocalSandbox::argvProgram(const QStringList &argv)
{
    return {{u"argv"_s, QJsonArray::fromStringList(argv)}};
}

QString LocalSandbox::startCommand(const CommandRequest &request, const QJsonObject &program)
{
    QJsonObject exec = program;
    exec.insert(u"op"_s, u"exec"_s);
    exec.insert(u"env"_s, commandEnvironment(request.env));
    if (!request.cwd.isEmpty())
        exec.insert(u"cwd"_s, request.cwd);
    if (request.timeoutMs)
        exec.insert(u"timeoutMs"_s, *request.timeoutMs);
    if (request.uid)
        exec.insert(u"uid"_s, qint64(*request.uid));
    else if (m_imageUser)
        exec.insert(u"uid"_s, qint64(m_imageUser->uid));
    if (request.gid)
        exec.insert(u"gid"_s, qint64(*request.gid));
    else if (m_imageUser && !request.uid)
        exec.insert(u"gid"_s, qint64(m_imageUser->gid));
    // The channel is known before the request is written, so the table can name the log.
    const quint32 channel = m_agent.nextChannel();
    const QString id = m_commands.add(channel, request.command, request.background);
    if (request.background)
        exec.insert(u"output"_s, m_commands.find(id)->logPath);
    m_agent.request(exec);
    return id;
}

void LocalSandbox::signalCommand(quint32 channel, int signal)
{
    m_agent.request({{u"op"_s, u"signal"_s}, {u"target"_s, qint64(channel)}, {u"signal"_s, signal}});
}

bool LocalSandbox::interruptCommand(const QString &commandId)
{
    const CommandTable::Entry *entry = m_commands.find(commandId);
    if (!entry || !entry->status.running)
        return false;
    const quint32 channel = entry->channel;
    signalCommand(channel, SIGTERM);
    // Precise: a coarse timer may fire 5% early, and the grace period is a promise.
    QTimer::singleShot(3000, Qt::PreciseTimer, this, [this, commandId, channel] {
        const CommandTable::Entry *entry = m_commands.find(commandId);
        if (entry && entry->status.running)
            signalCommand(channel, SIGKILL);
    });
    return true;
}

QString LocalSandbox::addSession(const QString &cwd)
{
    const QString id = QUuid::createUuid().toString(QUuid::Id128);
    SessionState state;
    state.cwd = cwd;
    state.createCwd = !cwd.isEmpty();
    m_sessions.insert(id, state);
    return id;
}

SessionState *LocalSandbox::session(const QString &id)
{
    const auto it = m_sessions.find(id);
    return it == m_sessions.end() ? nullptr : &*it;
}

bool LocalSandbox::removeSession(const QString &id)
{
    return m_sessions.remove(id) > 0;
}

void LocalSandbox::onReplied(quint32 channel, const QJsonObject &reply)
{
    if (!reply.value(u"ok"_s).toBool())
        m_commands.failedToStart(channel, reply.value(u"error"_s).toString());
    // Channel 0 is no request's: a reply there, from an agent that lies, says nothing.
    if (m_entrypointChannel != 0 && channel == m_entrypointChannel && !reply.value(u"ok"_s).toBool()) {
        m_info.state = SandboxState::Failed;
        m_info.reason = u"ENTRYPOINT_FAILED"_s;
        return;
    }
    // One deleted before it was ready is never ready: its creation fails once it has stopped.
    if (channel != m_pingChannel || m_info.state != SandboxState::Pending || m_stopping)
        return;
    m_readyTimer.stop();
    // From here on every request has its bound; the first one had the ready timer's.
    m_agent.setReplyTimeout(m_replyTimeout);
    m_info.state = SandboxState::Running;
    m_info.reason = u"AGENT_READY"_s;
    startExpiryTimer();
    if (!m_request.entrypoint.isEmpty()) {
        m_entrypointChannel = m_agent.request({{u"op"_s, u"exec"_s},
                                               {u"argv"_s, QJsonArray::fromStringList(m_request.entrypoint)},
                                               {u"env"_s, commandEnvironment()}});
    }
    // The image's own command, as a container would start it: a server image's server runs.
    // In the background, with its log, and not the sandbox's life: a workflow's sandbox
    // outlives a shell that ends at once for want of input.
    if (!m_imageCommand.isEmpty()) {
        CommandRequest imageCommand;
        imageCommand.command = m_imageCommand.join(u' ');
        imageCommand.background = true;
        startCommand(imageCommand, argvProgram(m_imageCommand));
    }
    emit ready();
}

// As in OpenSandbox, the sandbox lives as long as its entrypoint: when it ends, the sandbox
// is Terminated (status 0) or Failed, and goes away.
void LocalSandbox::onCommandExited(quint32 channel, const QJsonObject &status)
{
    m_commands.exited(channel, status);
    if (channel != m_entrypointChannel || m_entrypointChannel == 0)
        return;
    const bool clean = status.contains(u"exitCode"_s) && status.value(u"exitCode"_s).toInt() == 0;
    m_info.state = clean ? SandboxState::Terminated : SandboxState::Failed;
    m_info.reason = clean ? u"ENTRYPOINT_EXITED"_s : u"ENTRYPOINT_EXITED_ERROR"_s;
    stop();
}

} // namespace Sandflow::Internal
