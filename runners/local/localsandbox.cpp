#include "localsandbox_p.h"

#include <QJsonArray>
#include <QUuid>

#include <algorithm>
#include <limits>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

LocalSandbox::LocalSandbox(const SandboxLayout &layout, const SandboxRequest &request)
    : m_request(request)
    , m_layout(layout)
{
    m_info.id = QUuid::createUuid().toString(QUuid::Id128);
    m_info.state = SandboxState::Pending;
    m_info.image = request.image;
    m_info.entrypoint = request.entrypoint;
    m_info.metadata = request.metadata;
    m_info.createdAt = QDateTime::currentDateTimeUtc();
    if (request.timeoutMs)
        m_info.expiresAt = m_info.createdAt.addMSecs(*request.timeoutMs);

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
        m_readyTimer.stop();
        m_expiryTimer.stop();
        if (m_info.state == SandboxState::Pending || m_info.state == SandboxState::Running
            || m_info.state == SandboxState::Paused)
            m_info.state = SandboxState::Terminated;
        finishStopping(m_stopReason.isEmpty() ? reason : m_stopReason, 0);
    });
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
    emit stopped(reason);
}

bool LocalSandbox::setPaused(bool paused)
{
    if (!m_cgroup || !m_cgroup->setFrozen(paused))
        return false;
    m_info.state = paused ? SandboxState::Paused : SandboxState::Running;
    m_info.reason = paused ? u"PAUSED"_s : u"RESUMED"_s;
    return true;
}

void LocalSandbox::start(qint64 readyTimeoutMs, qint64 defaultMaxProcesses, QString *warning)
{
    SandboxCgroup::Limits limits;
    limits.cpus = m_request.cpus;
    limits.memoryBytes = m_request.memoryBytes;
    limits.maxProcesses = m_request.maxProcesses.value_or(defaultMaxProcesses);
    m_cgroup = SandboxCgroup::create(m_info.id, limits, warning);
    SandboxLayout layout = m_layout;
    layout.id = m_info.id.left(12);
    for (auto it = m_environment.cbegin(); it != m_environment.cend(); ++it)
        layout.env.append(it.key() + u'=' + it.value());
    m_readyTimer.start(int(std::min<qint64>(readyTimeoutMs, std::numeric_limits<int>::max())));
    const SandboxCgroup *cgroup = m_cgroup.get();
    m_agent.start(bwrapProgram(), bwrapArguments(layout), cgroup ? std::function<void()>([cgroup] {
        cgroup->joinFromChild();
    }) : std::function<void()>());
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

void LocalSandbox::stop()
{
    m_agent.closeControl();
}

void LocalSandbox::onReplied(quint32 channel, const QJsonObject &reply)
{
    if (channel == m_entrypointChannel && !reply.value(u"ok"_s).toBool()) {
        m_info.state = SandboxState::Failed;
        m_info.reason = u"ENTRYPOINT_FAILED"_s;
        return;
    }
    if (channel != m_pingChannel || m_info.state != SandboxState::Pending)
        return;
    m_readyTimer.stop();
    m_info.state = SandboxState::Running;
    m_info.reason = u"AGENT_READY"_s;
    if (m_info.expiresAt)
        m_expiryTimer.start(int(std::clamp<qint64>(QDateTime::currentDateTimeUtc().msecsTo(*m_info.expiresAt), 0,
                                                   std::numeric_limits<int>::max())));
    if (!m_request.entrypoint.isEmpty()) {
        m_entrypointChannel = m_agent.request({{u"op"_s, u"exec"_s},
                                               {u"argv"_s, QJsonArray::fromStringList(m_request.entrypoint)},
                                               {u"env"_s, commandEnvironment()}});
    }
    emit ready();
}

// As in OpenSandbox, the sandbox lives as long as its entrypoint: when it ends, the sandbox
// is Terminated (status 0) or Failed, and goes away.
void LocalSandbox::onCommandExited(quint32 channel, const QJsonObject &status)
{
    if (channel != m_entrypointChannel || m_entrypointChannel == 0)
        return;
    const bool clean = status.contains(u"exitCode"_s) && status.value(u"exitCode"_s).toInt() == 0;
    m_info.state = clean ? SandboxState::Terminated : SandboxState::Failed;
    m_info.reason = clean ? u"ENTRYPOINT_EXITED"_s : u"ENTRYPOINT_EXITED_ERROR"_s;
    stop();
}

} // namespace Sandflow::Internal
