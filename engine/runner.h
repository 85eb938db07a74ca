// Runners create sandboxes and run commands in them. The interface mirrors the
// OpenSandbox lifecycle and execd APIs, so that the local runner, a remote OpenSandbox
// server and `sandflow serve` are interchangeable. Every operation is an AsyncJob.
// Operations join this interface as the runners implement them.
#pragma once

#include "asyncjob.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QMap>
#include <QObject>
#include <QString>
#include <QStringList>

#include <optional>

namespace Sandflow {

/// A volume mounted into a sandbox, as OpenSandbox's `volumes[]` entries: one backend,
/// its source fields, and where it appears inside.
struct SandboxVolume
{
    enum class Kind { Host, Pvc, Ossfs };

    QString name;                   ///< the volume's name in the workflow, for messages
    QString mountPath;              ///< where it appears: absolute, not `/` nor in the system tree
    bool readOnly = false;          ///< writes inside fail; the source stays untouched
    QString subPath;                ///< a relative path inside the volume (no `..`); empty: all of it
    Kind kind = Kind::Host;
    QString hostPath;               ///< Host: an absolute path on the runner's machine
    QString claimName;              ///< Pvc: the named volume, a DNS name; kept across sandboxes
};

/// Where a sandbox may connect, as OpenSandbox's egress NetworkPolicy: the first rule whose
/// target matches decides, else `defaultAction`.
struct SandboxNetworkPolicy
{
    enum class Action { Allow, Deny };

    struct Rule
    {
        Action action = Action::Allow;
        QString target;             ///< a host name, `*.domain`, an IP or a CIDR
    };

    Action defaultAction = Action::Allow;
    QList<Rule> egress;
};

/// A sandbox to create, fully resolved (no expressions left).
struct SandboxRequest
{
    QString image;                  ///< the local runner maps any image to the host's system tree
    QStringList entrypoint;         ///< runs for the sandbox's lifetime; empty: none
    QMap<QString, QString> env;     ///< the sandbox's environment, inherited by every command
    QMap<QString, QString> metadata;
    std::optional<qint64> timeoutMs;   ///< time to live; std::nullopt: no expiry
    SandboxNetworkPolicy network;   ///< by default, the host's network
    QList<SandboxVolume> volumes;
    /// Local runner: an unpacked root filesystem to run in instead of the host's system
    /// tree; empty: the host's.
    QString rootfs;
    std::optional<double> cpus;     ///< CPU time, in cores
    std::optional<qint64> memoryBytes;
    std::optional<qint64> maxProcesses;   ///< std::nullopt: the runner's default
};

/// Sandbox states as OpenSandbox reports them; servers may report others (Unknown).
enum class SandboxState { Pending, Running, Paused, Terminated, Failed, Unknown };
QString sandboxStateName(SandboxState state);

struct SandboxInfo
{
    QString id;
    SandboxState state = SandboxState::Unknown;
    QString reason;                 ///< e.g. "AGENT_READY", "ENTRYPOINT_EXITED"
    QString image;
    QStringList entrypoint;
    QMap<QString, QString> metadata;
    QDateTime createdAt;
    std::optional<QDateTime> expiresAt;
};

/// A command to run in a sandbox, as execd's POST /command takes it.
struct CommandRequest
{
    QString command;                ///< run with `sh -c`
    QMap<QString, QString> env;     ///< added to the sandbox's environment
    QString cwd;                    ///< empty: the sandbox's working directory
    std::optional<qint64> timeoutMs;   ///< then the whole process group is killed
};

/// Creating or looking up a sandbox; info() is valid once finished without error.
class SandboxJob : public AsyncJob
{
    Q_OBJECT

public:
    using AsyncJob::AsyncJob;
    const SandboxInfo &info() const { return m_info; }

protected:
    SandboxInfo m_info;
};

/// A running command. Output arrives as it is produced; the job finishes when the command
/// has exited: without error for exit status 0, else with a Task error (Timeout when its
/// time ran out) whose context holds "exitCode" or "signal".
class CommandJob : public AsyncJob
{
    Q_OBJECT

public:
    enum class Stream { Stdout, Stderr };
    Q_ENUM(Stream)

    using AsyncJob::AsyncJob;
    /// The exit status, once finished; std::nullopt when it never ran or died of a signal.
    std::optional<int> exitCode() const { return m_exitCode; }

signals:
    void output(Sandflow::CommandJob::Stream stream, const QByteArray &data);

protected:
    std::optional<int> m_exitCode;
};

class Runner : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;

    /// Creates a sandbox and finishes once it is ready for commands.
    virtual SandboxJob *createSandbox(const SandboxRequest &request) = 0;
    /// Removes a sandbox and everything running in it.
    virtual AsyncJob *deleteSandbox(const QString &id) = 0;
    /// Stops every process of a sandbox at once (state Paused), and lets them go on.
    virtual AsyncJob *pauseSandbox(const QString &id) = 0;
    virtual AsyncJob *resumeSandbox(const QString &id) = 0;
    virtual CommandJob *runCommand(const QString &sandboxId, const CommandRequest &request) = 0;

signals:
    /// Something the user should know that is not an error, e.g. limits that cannot be applied.
    void warning(const QString &message);
};

} // namespace Sandflow
