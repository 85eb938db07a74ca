#include "sandboxcgroup_p.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QRegularExpression>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

static const QString CgroupRoot = u"/sys/fs/cgroup"_s;

static bool writeValue(const QString &path, const QByteArray &value)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(value) == value.size();
}

/// SIGKILL to every process in the group at `path`.
static void killEvery(const QString &path)
{
    QFile procs(path + u"/cgroup.procs"_s);
    if (!procs.open(QIODevice::ReadOnly))
        return;
    for (const QByteArray &pid : procs.readAll().split('\n')) {
        if (!pid.isEmpty())
            ::kill(pid_t(pid.toLongLong()), SIGKILL);
    }
}

QString SandboxCgroup::controllerPath(const QString &controller) const
{
    return u"%1/%2/sandflow/%3"_s.arg(CgroupRoot, controller, m_name);
}

std::unique_ptr<SandboxCgroup> SandboxCgroup::create(const QString &name, const Limits &limits, QString *warning)
{
    if (QFile::exists(CgroupRoot + u"/cgroup.controllers"_s)) {
        *warning = u"cgroup v2 is not supported yet: sandboxes run without cpu, memory and process limits"_s;
        return nullptr;
    }
    std::unique_ptr<SandboxCgroup> group(new SandboxCgroup);
    group->m_name = name;
    group->m_limits = limits;
    // Each group costs a mkdir now and an rmdir at the end, on every sandbox: the cpu group
    // only when there is a cpu limit to enforce (cpuacct, for metrics, is a separate hierarchy).
    QStringList controllers = {u"memory"_s, u"pids"_s, u"freezer"_s, u"cpuacct"_s};
    if (limits.cpus)
        controllers.append(u"cpu"_s);
    for (const QString &controller : std::as_const(controllers)) {
        const QString path = group->controllerPath(controller);
        if (!QDir().mkpath(path)) {
            // Named by the controller's directory, not the sandbox's group: the runner says a
            // warning once per text, and this one holds for every sandbox of the run.
            *warning = u"cannot create cgroups in %1/%2/sandflow (no writable cgroup v1 %2 controller): sandboxes "
                       u"run without cpu, memory and process limits"_s.arg(CgroupRoot, controller);
            group->remove();
            return nullptr;
        }
        group->m_controllers.append(controller);
        group->m_procsFiles.push_back((path + u"/cgroup.procs"_s).toStdString());
    }
    bool ok = true;
    if (limits.memoryBytes) {
        // The same limit for memory and memory plus swap, so a sandbox cannot swap its way past it.
        const QByteArray bytes = QByteArray::number(*limits.memoryBytes);
        ok &= writeValue(group->controllerPath(u"memory"_s) + u"/memory.limit_in_bytes"_s, bytes);
        writeValue(group->controllerPath(u"memory"_s) + u"/memory.memsw.limit_in_bytes"_s, bytes);
    }
    if (limits.maxProcesses > 0)
        ok &= writeValue(group->controllerPath(u"pids"_s) + u"/pids.max"_s, QByteArray::number(limits.maxProcesses));
    if (limits.cpus) {
        constexpr qint64 period = 100'000;
        ok &= writeValue(group->controllerPath(u"cpu"_s) + u"/cpu.cfs_period_us"_s, QByteArray::number(period));
        ok &= writeValue(group->controllerPath(u"cpu"_s) + u"/cpu.cfs_quota_us"_s,
                         QByteArray::number(std::max<qint64>(1000, std::llround(*limits.cpus * period))));
    }
    if (!ok) {
        *warning = u"cannot set the limits of cgroup %1: sandboxes run without limits"_s.arg(name);
        group->remove();
        return nullptr;
    }
    return group;
}

// Reached with processes left only when a runner is destroyed with live sandboxes (the
// program is ending): the killed processes leave their groups within milliseconds, and
// waiting for that here is what keeps the machine clean.
/// Every controller a sandbox may have a group in.
static const QStringList &sandboxControllers()
{
    static const QStringList controllers{u"memory"_s, u"pids"_s, u"cpu"_s, u"cpuacct"_s, u"freezer"_s};
    return controllers;
}

bool SandboxCgroup::removeLeftover(const QString &name)
{
    SandboxCgroup group;
    group.m_name = name;
    group.m_controllers = sandboxControllers();
    const bool removed = group.remove();
    group.m_removed = true;   // one attempt here; the caller decides about retrying
    return removed;
}

QStringList SandboxCgroup::emptyLeftovers(const QDateTime &madeBefore)
{
    static const QRegularExpression sandboxId(u"^[0-9a-f]{32}$"_s);
    QStringList names;
    for (const QString &controller : sandboxControllers()) {
        const QDir groups(u"%1/%2/sandflow"_s.arg(CgroupRoot, controller));
        for (const QFileInfo &group : groups.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot)) {
            if (names.contains(group.fileName()) || !sandboxId.match(group.fileName()).hasMatch()
                || group.lastModified() >= madeBefore)
                continue;
            QFile procs(group.filePath() + u"/cgroup.procs"_s);
            if (procs.open(QIODevice::ReadOnly) && procs.readAll().trimmed().isEmpty())
                names.append(group.fileName());
        }
    }
    return names;
}

SandboxCgroup::~SandboxCgroup()
{
    constexpr int attempts = 200;
    for (int i = 0; i < attempts && !remove(); ++i)
        ::usleep(5'000);
}

void SandboxCgroup::joinFromChild() const
{
    for (const std::string &file : m_procsFiles) {
        const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            // "0" is the writing process itself.
            [[maybe_unused]] const ssize_t written = ::write(fd, "0", 1);
            ::close(fd);
        }
    }
}

int SandboxCgroup::oomKills() const
{
    QFile control(controllerPath(u"memory"_s) + u"/memory.oom_control"_s);
    if (!control.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : control.readAll().split('\n')) {
        if (line.startsWith("oom_kill "))
            return line.mid(9).trimmed().toInt();
    }
    return 0;
}

static std::optional<qint64> readNumber(const QString &path)
{
    QFile file(path);
    bool ok = false;
    const qint64 value = file.open(QIODevice::ReadOnly) ? file.readAll().trimmed().toLongLong(&ok) : 0;
    return ok ? std::optional<qint64>(value) : std::nullopt;
}

std::optional<qint64> SandboxCgroup::cpuUsageNs() const
{
    return readNumber(controllerPath(u"cpuacct"_s) + u"/cpuacct.usage"_s);
}

std::optional<qint64> SandboxCgroup::memoryUsageBytes() const
{
    return readNumber(controllerPath(u"memory"_s) + u"/memory.usage_in_bytes"_s);
}

bool SandboxCgroup::setFrozen(bool frozen) const
{
    return writeValue(controllerPath(u"freezer"_s) + u"/freezer.state"_s, frozen ? "FROZEN" : "THAWED");
}

void SandboxCgroup::killFrozen() const
{
    killEvery(controllerPath(u"freezer"_s));
    setFrozen(false);
}

bool SandboxCgroup::remove()
{
    if (m_removed)
        return true;
    bool removed = true;
    for (const QString &controller : std::as_const(m_controllers)) {
        const QString path = controllerPath(controller);
        // A sandbox that ended left its groups empty: one rmdir each, on every deletion.
        if (::rmdir(QFile::encodeName(path).constData()) == 0 || errno == ENOENT)
            continue;
        // A frozen process dies only once thawed.
        if (controller == u"freezer"_s)
            setFrozen(false);
        killEvery(path);
        removed &= QDir().rmdir(path);
    }
    m_removed = removed;
    return removed;
}

} // namespace Sandflow::Internal
