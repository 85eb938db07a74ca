// Resource limits and usage of one sandbox through the cgroup v1 controllers memory, pids,
// cpu, cpuacct and freezer, which these machines mount writable. The sandbox's first process joins them
// between fork and exec, so everything it ever starts is counted and limited.
#pragma once

#include <QDateTime>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace Sandflow::Internal {

class SandboxCgroup
{
public:
    struct Limits
    {
        std::optional<double> cpus;          ///< CPU time as a number of cores
        std::optional<qint64> memoryBytes;
        qint64 maxProcesses = 0;             ///< 0: no limit
    };

    /// Creates the sandbox's groups below `sandflow/` in each controller. Returns nullptr,
    /// with `warning` set, where cgroup v1 controllers cannot be written (cgroup v2 only,
    /// or no permission): the sandbox then runs without limits.
    static std::unique_ptr<SandboxCgroup> create(const QString &name, const Limits &limits, QString *warning);
    /// Removes the groups, waiting up to a second for killed processes to leave them.
    ~SandboxCgroup();

    /// Removes the groups a sandbox left behind (its runner crashed); false while any of them
    /// still holds a process.
    static bool removeLeftover(const QString &name);
    /// The sandboxes whose groups are there, hold no process, and were made before
    /// `madeBefore`: what a runner left that could not finish its clean-up. A live sandbox's
    /// groups hold its processes from the moment it starts.
    static QStringList emptyLeftovers(const QDateTime &madeBefore);

    /// Joins the calling process to every group. Async-signal-safe: it runs in the child
    /// between fork and exec.
    void joinFromChild() const;

    /// How many processes the kernel killed for running out of the memory limit.
    int oomKills() const;
    const Limits &limits() const { return m_limits; }
    /// CPU time used by the sandbox's processes so far, dead ones included.
    std::optional<qint64> cpuUsageNs() const;
    /// Memory charged to the sandbox now (its processes and its tmpfs files).
    std::optional<qint64> memoryUsageBytes() const;
    /// Stops or resumes every process of the sandbox at once.
    bool setFrozen(bool frozen) const;
    /// Ends a frozen sandbox: every process gets SIGKILL while frozen, then the group thaws,
    /// so that none of them runs its own code again (a frozen agent cannot hear that it
    /// should exit).
    void killFrozen() const;
    /// Kills what is left in the groups and removes them; false while a process is still
    /// being torn down (try again shortly).
    bool remove();

private:
    SandboxCgroup() = default;
    QString controllerPath(const QString &controller) const;

    QString m_name;
    Limits m_limits;
    QStringList m_controllers;
    std::vector<std::string> m_procsFiles;   // kept as C strings for joinFromChild
    bool m_removed = false;
};

} // namespace Sandflow::Internal
