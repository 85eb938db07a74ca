// Runners create sandboxes and run commands in them. The interface mirrors the
// OpenSandbox lifecycle and execd APIs, so that the local runner, a remote OpenSandbox
// server and `sandflow serve` are interchangeable. Every operation is an AsyncJob.
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

class QIODevice;

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
    /// The backend's other settings as the workflow gives them, for runners that pass them
    /// on to a server: pvc `storageClass`, `storage`, `createIfNotExists`, ...; ossfs
    /// `bucket`, `endpoint`, `accessKeyId`, ... A list (`accessModes`, ossfs `options`)
    /// repeats its key once per item.
    QList<QPair<QString, QString>> settings;
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
    QString image;                  ///< a reference (docs/images.md); empty: the runner's default
    /// Credentials for the image's registry (OpenSandbox's `image.auth`); empty: none given.
    QString imageUsername;
    QString imagePassword;
    QStringList entrypoint;         ///< runs for the sandbox's lifetime; empty: none
    QMap<QString, QString> env;     ///< the sandbox's environment, inherited by every command
    QMap<QString, QString> metadata;
    std::optional<qint64> timeoutMs;   ///< time to live; std::nullopt: no expiry
    /// Where the sandbox may connect; none: the host's network, unfiltered. Given, even as
    /// allow-all, it is enforced: as in OpenSandbox, where a policy starts the egress filter.
    std::optional<SandboxNetworkPolicy> network;
    QList<SandboxVolume> volumes;
    /// Local runner: an unpacked root filesystem to run in instead of the host's system
    /// tree; empty: the host's.
    QString rootfs;
    std::optional<double> cpus;     ///< CPU time, in cores
    std::optional<qint64> memoryBytes;
    std::optional<double> gpus;     ///< GPU devices; the local runner has none to give
    std::optional<qint64> maxProcesses;   ///< std::nullopt: the runner's default
};

/// Sandbox states as OpenSandbox reports them; servers may report others (Unknown).
enum class SandboxState { Pending, Running, Paused, Terminated, Failed, Unknown };
QString sandboxStateName(SandboxState state);
/// The state a name says, in any case; Unknown for a name the protocol does not have.
SandboxState sandboxStateFromName(const QString &name);

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
    enum class Shell {
        Sh,         ///< `sh -c`
        Bash,       ///< `bash -c` where the sandbox has bash, else `sh -c`, as execd runs commands
    };

    QString command;                ///< run with `shell -c`
    Shell shell = Shell::Sh;
    QMap<QString, QString> env;     ///< added to the sandbox's environment
    QString cwd;                    ///< empty: the sandbox's working directory
    std::optional<qint64> timeoutMs;   ///< then the whole process group is killed
    /// Runs detached: the job finishes once the command has started, its stdout and stderr
    /// go (combined) to a log read with Runner::commandLogs, and it has no stdin.
    bool background = false;
    std::optional<uint> uid;        ///< run as this user (with its groups, unless `gid`)
    std::optional<uint> gid;        ///< needs `uid` too
};

/// What a runner knows about a command it ran, foreground or background.
struct CommandStatus
{
    QString id;
    QString command;
    bool running = false;
    std::optional<int> exitCode;    ///< once finished; -1 when a signal ended it
    QString error;                  ///< why it failed, e.g. "exit status 3"
    QDateTime startedAt;
    std::optional<QDateTime> finishedAt;
};

/// A slice of a background command's combined output.
struct CommandLogs
{
    QByteArray data;                ///< from the requested byte offset to the current end
    qint64 nextCursor = 0;          ///< the byte offset to ask for next time
};

/// Which sandboxes to list: a sandbox matches when its state is any of `states` and it
/// carries every pair of `metadata`. Results are newest first, one page at a time.
struct SandboxFilter
{
    QStringList states;             ///< compared case-insensitively; empty: any state
    QMap<QString, QString> metadata;
    int page = 1;                   ///< from 1
    int pageSize = 20;
};

struct SandboxPage
{
    QList<SandboxInfo> items;
    int page = 1;
    int pageSize = 20;
    int totalItems = 0;
    int totalPages = 0;
    bool hasNextPage = false;
};

/// Filters and pages `sandboxes` as OpenSandbox servers do (newest first).
SandboxPage selectSandboxes(QList<SandboxInfo> sandboxes, const SandboxFilter &filter);

/// A file, directory or link in a sandbox (never followed).
struct FileInfo
{
    enum class Type { File, Directory, Symlink, Other };

    QString path;
    Type type = Type::Other;
    qint64 size = 0;
    QDateTime modifiedAt;
    QDateTime changedAt;            ///< the inode's change time (what execd calls created_at)
    QString owner;                  ///< a user name, or the numeric id when it has none
    QString group;
    int mode = 0;                   ///< permission bits, 0 to 0777
};

/// A file or directory that is not there: FILE_NOT_FOUND, as this contract names it, or
/// NOT_FOUND, as the local runner's agent reports it.
bool isFileNotFound(const JobError &error);

QString fileTypeName(FileInfo::Type type);
/// The reverse of fileTypeName(); Other for a name it does not give.
FileInfo::Type fileTypeFromName(const QString &name);

/// A mode as execd sends it: the permission bits written in octal and read as a decimal
/// number, 0755 → 755. Bits above 0777 (setuid, setgid, sticky) are dropped, as execd
/// reports only the permission bits.
int modeToDigits(int mode);

/// The reverse: 755 → 0755, 0 → 0 ("leave the mode alone"). std::nullopt when `digits` is
/// negative, has a digit 8 or 9, or is above 7777. A fourth (special-bits) digit is
/// accepted and dropped, as FilePermissions holds permission bits only.
std::optional<int> modeFromDigits(qint64 digits);

/// Mode and ownership to give a file. Each part is optional.
struct FilePermissions
{
    int mode = 0;                   ///< permission bits; 0: leave as is
    QString owner;                  ///< a user name or numeric id; empty: leave as is
    QString group;
};

/// Live figures of a sandbox.
struct SandboxMetrics
{
    double cpuCount = 0;            ///< CPUs the sandbox may use (its limit, else the machine's)
    double cpuUsedPercent = 0;      ///< of cpuCount, over the last sampling interval
    double memoryTotalMiB = 0;      ///< its memory limit, else the machine's memory
    double memoryUsedMiB = 0;
    QDateTime timestamp;
};

/// A job that produces a value: result() is valid once finished without error.
template <typename T>
class ResultJob : public AsyncJob
{
public:
    using AsyncJob::AsyncJob;
    const T &result() const { return m_result; }

protected:
    T m_result{};
};

/// Creating or looking up a sandbox: the result describes it.
using SandboxJob = ResultJob<SandboxInfo>;

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
    /// The command's id, for status, logs and interrupts, once `started` was emitted.
    const QString &commandId() const { return m_commandId; }
    /// The exit status, once finished; std::nullopt when it never ran or died of a signal.
    std::optional<int> exitCode() const { return m_exitCode; }

signals:
    /// The command is running (execd's `init` event).
    void started(const QString &commandId);
    void output(Sandflow::CommandJob::Stream stream, const QByteArray &data);

protected:
    QString m_commandId;
    std::optional<int> m_exitCode;
};

/// A process to talk to in a sandbox, as execd's /pty session gives it: with a terminal
/// (a PTY: one output stream, the window size can change) or with pipes (stdin forwarded,
/// stdout and stderr apart).
struct TerminalRequest
{
    QStringList argv;               ///< empty: the sandbox user's login shell (bash if present, else sh), interactive
    QString cwd;                    ///< empty: the sandbox's working directory
    QMap<QString, QString> env;     ///< added to the sandbox's environment (TERM among them, from the client)
    bool pty = true;                ///< false: pipes
    int columns = 80;               ///< the window, with a PTY; see isTerminalSize()
    int rows = 24;
    std::optional<uint> uid;        ///< run as this user (with its groups, unless `gid`)
    std::optional<uint> gid;        ///< needs `uid` too
};

/// Whether a window of `columns` x `rows` is one a runner accepts: each from 1 to 10000.
/// Runners refuse a terminal of another size (INVALID_TERMINAL_SIZE) and ignore such a resize.
bool isTerminalSize(int columns, int rows);

/// The signals a terminal's client may send by name, as execd's PTY route takes them:
/// SIGINT, SIGTERM, SIGKILL, SIGQUIT and SIGHUP. The number of `name` (0 for any other),
/// and the name of `signal` (empty for any other).
int terminalSignalNamed(const QString &name);
QString terminalSignalName(int signal);

/// A running terminal process. Output arrives through CommandJob::output (Stdout only with
/// a PTY); the job finishes when the process exits, as a CommandJob does (exitCode()).
/// Input given before the job starts is kept and sent once it runs; calls after it has
/// finished do nothing.
class TerminalJob : public CommandJob
{
    Q_OBJECT

public:
    using CommandJob::CommandJob;

    /// Bytes typed or piped in; with a PTY they go through its line discipline (Ctrl-C is \x03).
    virtual void writeInput(const QByteArray &data) = 0;
    /// End of input: EOF on the stdin pipe; with a PTY, the terminal's EOF character. Input
    /// written after it is dropped.
    virtual void closeInput() = 0;
    /// The window changed size (PTY only; ignored with pipes, and for a size that
    /// isTerminalSize() refuses). The process group gets SIGWINCH.
    virtual void resize(int columns, int rows) = 0;
    /// Sends `signal` (e.g. SIGINT) to the process's group; with a PTY, to every process of
    /// its terminal's session (the shell's jobs too). Ignored for a number that is no signal.
    virtual void sendSignal(int signal) = 0;
    /// Bytes given to writeInput() that the process has not taken yet. A process that does
    /// not read its input holds them in the runner, not in the sandbox: whoever forwards a
    /// stream stops reading its source while this is high, and goes on at inputWritten().
    virtual qint64 pendingInput() const = 0;

signals:
    /// The process took some input: pendingInput() went down.
    void inputWritten();
};

/// Bytes read from a sandbox: a file, or a service's answer, arrive as `data`, in order.
class FileReadJob : public AsyncJob
{
    Q_OBJECT

public:
    using AsyncJob::AsyncJob;

signals:
    void data(const QByteArray &bytes);
};

/// The operations of OpenSandbox's lifecycle and execd APIs. Every call returns a job that
/// has not started; errors come as JobError values (SANDBOX_NOT_FOUND, INVALID_STATE,
/// FILE_NOT_FOUND, ...). Paths in a sandbox are absolute or relative to its working directory.
class Runner : public QObject
{
    Q_OBJECT

public:
    /// What a runner can do beyond the operations every runner has.
    enum class Capability {
        Pause = 0x1,
        HostVolumes = 0x2,
        NamedVolumes = 0x4,
        EgressRules = 0x8,          ///< per-domain network rules, beyond deny-all and allow-all
        Images = 0x10,              ///< sandboxes run the requested image
        Terminals = 0x20,           ///< openTerminal: interactive processes, with a PTY or pipes
    };
    Q_DECLARE_FLAGS(Capabilities, Capability)
    Q_FLAG(Capabilities)

    using QObject::QObject;

    virtual Capabilities capabilities() const = 0;

    // Lifecycle

    /// Creates a sandbox and finishes once it is ready for commands.
    virtual SandboxJob *createSandbox(const SandboxRequest &request) = 0;
    virtual SandboxJob *getSandbox(const QString &id) = 0;
    virtual ResultJob<SandboxPage> *listSandboxes(const SandboxFilter &filter) = 0;
    /// Removes a sandbox and everything running in it.
    virtual AsyncJob *deleteSandbox(const QString &id) = 0;
    /// Stops every process of a sandbox at once (state Paused), and lets them go on.
    virtual AsyncJob *pauseSandbox(const QString &id) = 0;
    virtual AsyncJob *resumeSandbox(const QString &id) = 0;
    /// Moves the expiry to `expiresAt`, earlier or later, as long as it is in the future.
    /// The result is the new expiry.
    virtual ResultJob<QDateTime> *renewSandbox(const QString &id, const QDateTime &expiresAt) = 0;
    /// Adds or replaces each key with a value, removes each key without one (a merge patch).
    virtual SandboxJob *updateMetadata(const QString &id, const QMap<QString, std::optional<QString>> &patch) = 0;

    // Commands

    virtual CommandJob *runCommand(const QString &sandboxId, const CommandRequest &request) = 0;
    virtual ResultJob<CommandStatus> *commandStatus(const QString &sandboxId, const QString &commandId) = 0;
    /// A background command's output from byte offset `cursor`.
    virtual ResultJob<CommandLogs> *commandLogs(const QString &sandboxId, const QString &commandId, qint64 cursor) = 0;
    /// SIGTERM to the command's process group, SIGKILL three seconds later if still there.
    virtual AsyncJob *interruptCommand(const QString &sandboxId, const QString &commandId) = 0;
    /// Starts a process to talk to (Capability::Terminals). Cancelling the job kills the
    /// process and everything it started. Without the capability, the job fails with
    /// TERMINALS_NOT_SUPPORTED.
    virtual TerminalJob *openTerminal(const QString &sandboxId, const TerminalRequest &request);

    // Bash sessions: the working directory and exported variables persist between runs.

    /// The result is the new session's id.
    virtual ResultJob<QString> *createSession(const QString &sandboxId, const QString &cwd) = 0;
    /// Runs `request.command` in the session; stderr is merged into stdout.
    virtual CommandJob *runInSession(const QString &sandboxId, const QString &sessionId,
                                     const CommandRequest &request) = 0;
    virtual AsyncJob *deleteSession(const QString &sandboxId, const QString &sessionId) = 0;

    // Files and directories

    virtual ResultJob<QList<FileInfo>> *fileInfo(const QString &sandboxId, const QStringList &paths) = 0;
    /// Writes `source` (read to its end; the job takes ownership) to `path`, making missing
    /// parent directories. The result describes the written file.
    virtual ResultJob<FileInfo> *uploadFile(const QString &sandboxId, const QString &path,
                                            const FilePermissions &permissions, QIODevice *source) = 0;
    /// Reads `length` bytes (-1: to the end) from `offset`.
    virtual FileReadJob *downloadFile(const QString &sandboxId, const QString &path, qint64 offset, qint64 length) = 0;
    /// The regular files below `directory` whose base name matches the glob `pattern`.
    virtual ResultJob<QList<FileInfo>> *searchFiles(const QString &sandboxId, const QString &directory,
                                                    const QString &pattern) = 0;
    /// Entries below `directory`, `depth` levels deep, parents before their children.
    virtual ResultJob<QList<FileInfo>> *listDirectory(const QString &sandboxId, const QString &directory, int depth) = 0;
    /// Replaces every occurrence of `before`; the result is how many there were.
    virtual ResultJob<int> *replaceInFile(const QString &sandboxId, const QString &path, const QString &before,
                                          const QString &after) = 0;
    virtual AsyncJob *setPermissions(const QString &sandboxId, const QString &path, const FilePermissions &permissions) = 0;
    virtual AsyncJob *moveFile(const QString &sandboxId, const QString &from, const QString &to) = 0;
    /// Removes a file or link; not a directory.
    virtual AsyncJob *removeFile(const QString &sandboxId, const QString &path) = 0;
    /// Makes `path` and missing parents (`mkdir -p`); new directories get `permissions`.
    virtual AsyncJob *makeDirectory(const QString &sandboxId, const QString &path, const FilePermissions &permissions) = 0;
    /// Removes a directory and everything in it.
    virtual AsyncJob *removeDirectory(const QString &sandboxId, const QString &path) = 0;

    // Metrics

    virtual ResultJob<SandboxMetrics> *metrics(const QString &sandboxId) = 0;

    // Services

    /// Connects to `port` on the sandbox's own loopback (where a service listening inside the
    /// sandbox on 127.0.0.1:port is reached), sends all of `request` (read to its end; the job
    /// takes ownership), then half-closes the connection, and streams back as `data` everything
    /// the service sends until it closes. Fails with PORT_UNREACHABLE when nothing accepts there.
    virtual FileReadJob *relayToPort(const QString &sandboxId, quint16 port, QIODevice *request) = 0;

    // Egress (OpenSandbox's egress API; runners with Capability::EgressRules)

    /// The network policy the sandbox's connections follow now. Fails with
    /// EGRESS_POLICY_NOT_FOUND when the sandbox was created without one (its network is the
    /// host's), EGRESS_NOT_SUPPORTED where the runner cannot filter.
    virtual ResultJob<SandboxNetworkPolicy> *egressPolicy(const QString &sandboxId);
    /// Merges `rules` into the policy as patchedPolicy() does (networkpolicy.h); the new
    /// policy is the result. New connections follow it within a second.
    virtual ResultJob<SandboxNetworkPolicy> *patchEgressRules(const QString &sandboxId,
                                                              const QList<SandboxNetworkPolicy::Rule> &rules);
    /// Removes the policy's rules for `targets` (policyWithoutTargets()); the new policy is
    /// the result.
    virtual ResultJob<SandboxNetworkPolicy> *deleteEgressRules(const QString &sandboxId, const QStringList &targets);

    /// Whether deletions started through this runner are still under way: a program that is
    /// about to end waits for them (see deletionsSettled), or what they remove could be left.
    bool isDeleting() const { return !m_deleting.isEmpty(); }

signals:
    /// Something the user should know that is not an error, e.g. limits that cannot be applied.
    void warning(const QString &message);
    /// A sandbox's policy denied a connection or a name: `target` is the name asked for, or
    /// the address connected to; `port` is the port (0 for a name).
    void egressDenied(const QString &sandboxId, const QString &target, int port);
    /// The last deletion under way has finished (or failed).
    void deletionsSettled();

protected:
    /// Counts `job`, a deletion, as under way until it finishes; returns it.
    AsyncJob *trackDeletion(AsyncJob *job);

private:
    QList<AsyncJob *> m_deleting;
};

Q_DECLARE_OPERATORS_FOR_FLAGS(Runner::Capabilities)

} // namespace Sandflow
