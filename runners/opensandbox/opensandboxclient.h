// A client of any OpenSandbox server: the lifecycle API (/v1/sandboxes...) and, through the
// endpoints it hands out, the execd API inside each sandbox (/ping, /command, /files...).
//
//   OpenSandboxClient client(OpenSandboxConfig::fromEnvironment());
//   auto *job = client.createSandbox({.image = u"ubuntu"_s});
//   connect(job, &AsyncJob::finished, ...);   // job->result().id once ready for commands
//   job->start();
//
// Every operation is an AsyncJob that has not started. Errors are JobError values whose
// context holds what the server said ("status", "serverCode", "serverMessage") and the
// X-Request-ID the client sent ("requestId"), so that a failure can be found in the
// server's logs; the message repeats the status, code and request id for people.
//
// The client behaves like the official SDKs where it matters for compatibility: the same
// defaults (entrypoint, resource limits, timeouts), the same create-then-wait-for-/ping
// sequence, the same reading of execd's event stream and of exit codes.
#pragma once

#include "runner.h"

#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QObject>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <chrono>
#include <memory>
#include <optional>

class QIODevice;

namespace Sandflow {

namespace Internal {
class Transport;
}

/// How the client tries a failed call again.
///
/// Only calls that may be sent twice are repeated: GET, HEAD, PUT, DELETE and OPTIONS
/// (a DELETE of a sandbox that answers 404 after an earlier attempt counts as done).
/// POSTs (commands, renewals, pause, resume) and streams never are. Creating a
/// sandbox is repeated too, yet stays single: each create carries a label of its own
/// (metadata `sandflow.dev/create-token`), and after a failure that may have made the
/// sandbox the client lists the sandboxes with that label and takes the one it finds
/// instead of posting again.
///
/// What is repeated: no connection or one that broke off, no answer within
/// OpenSandboxConfig::requestTimeout, 429, 500, 502, 503 and 504. Every attempt carries the
/// same X-Request-ID, so that the server logs the retries of one call under one id.
struct OpenSandboxRetryPolicy
{
    /// Attempts in all, the first included; 1 tries nothing again.
    int maxAttempts = 4;
    /// The longest wait before the second attempt; the limit doubles for each further one.
    std::chrono::milliseconds initialDelay{200};
    /// No wait is longer, not even one a server asks for with Retry-After.
    std::chrono::milliseconds maxDelay{10'000};
};

/// Where the server is and how to talk to it.
struct OpenSandboxConfig
{
    /// `host:port`, optionally with a scheme (which then replaces `protocol`) and a path
    /// prefix; a trailing `/v1` is dropped, as the SDKs do, since the client adds it.
    QString domain = QStringLiteral("localhost:8080");
    /// Sent as OPEN-SANDBOX-API-KEY on every request; empty: no key is sent.
    QString apiKey;
    /// `http` or `https`, for the server and for every sandbox endpoint it returns.
    QString protocol = QStringLiteral("http");
    /// A whole REST call must be answered within this; for streams and file transfers it
    /// is the longest silence allowed (execd sends a ping every 3 s on command streams).
    std::chrono::milliseconds requestTimeout{30'000};
    /// How long createSandbox waits for the new sandbox to be Running (servers may answer
    /// Pending) and its execd to answer /ping.
    std::chrono::milliseconds readyTimeout{30'000};
    /// Ask for endpoints that go through the server's proxy route instead of straight to
    /// the sandbox, for clients that cannot reach the sandboxes' network.
    bool useServerProxy = false;
    /// How failed calls are tried again; the limit on each attempt stays requestTimeout.
    OpenSandboxRetryPolicy retry;

    /// OPEN_SANDBOX_DOMAIN (default localhost:8080) and OPEN_SANDBOX_API_KEY.
    static OpenSandboxConfig fromEnvironment();

    /// The server's address as people write it, e.g. `http://localhost:8080`: the domain
    /// with its scheme, without `/v1`.
    QString serverAddress() const;
    /// Where the lifecycle API is: serverAddress() + `/v1`.
    QUrl lifecycleUrl() const;
    /// The scheme used for the server and for endpoints: the domain's, else `protocol`.
    QString effectiveProtocol() const;
};

/// A sandbox to create, as the SDKs send it. The defaults are the SDKs' defaults.
struct OpenSandboxCreateRequest
{
    QString image;
    /// The sandbox's main process; when it exits the sandbox is over.
    QStringList entrypoint = {QStringLiteral("tail"), QStringLiteral("-f"), QStringLiteral("/dev/null")};
    QMap<QString, QString> env;
    /// Labels, filterable in listSandboxes; Kubernetes label syntax (no spaces, ≤ 63 chars).
    QMap<QString, QString> metadata;
    /// Time to live in seconds (servers want at least 60); std::nullopt: until deleted.
    std::optional<int> timeoutSeconds = 600;
    /// `cpu` (cores or millicores, `500m`), `memory` (`2Gi`), `gpu`.
    QMap<QString, QString> resourceLimits = {{QStringLiteral("cpu"), QStringLiteral("1")},
                                             {QStringLiteral("memory"), QStringLiteral("2Gi")}};
    QList<SandboxVolume> volumes;
    /// Where the sandbox may connect; std::nullopt: the server's default (no policy).
    std::optional<SandboxNetworkPolicy> networkPolicy;
    /// Finish only once the sandbox's execd answers /ping, as the SDKs do; a sandbox that
    /// is not ready within OpenSandboxConfig::readyTimeout is deleted again.
    bool waitUntilReady = true;
};

/// How to reach a port of a sandbox: `endpoint` is `host:port[/path]` without a scheme,
/// and every request to it must carry `headers` (routing or access tokens).
struct OpenSandboxEndpoint
{
    QString endpoint;
    QList<QPair<QByteArray, QByteArray>> headers;

    /// `{protocol}://{endpoint}`: paths such as `/command` are appended to it.
    QUrl url(const QString &protocol) const;
};

/// What an error of OpenSandboxClient says about the HTTP exchange behind it, read back
/// from JobError::context.
struct OpenSandboxErrorDetails
{
    int status = 0;                 ///< the HTTP status; 0 when no answer came
    QString serverCode;             ///< the `code` of the server's error body, if it had one
    QString serverMessage;
    QString requestId;              ///< the X-Request-ID that was sent, as the server logs it
    bool execd = false;             ///< a sandbox's execd failed, not the lifecycle server
    bool connectionRefused = false; ///< nothing listens at the address
    int attempts = 1;               ///< how often the call was sent (see OpenSandboxRetryPolicy)

    static OpenSandboxErrorDetails of(const JobError &error);
    /// `404 DOCKER::SANDBOX_NOT_FOUND, request 1f2e…`: the status, the server's code and
    /// the request id, as the client's messages show them.
    QString label() const;
};

/// Creating a sandbox: the result describes it, and execd() says where its execd answers.
class OpenSandboxCreateJob : public SandboxJob
{
    Q_OBJECT

public:
    using SandboxJob::SandboxJob;
    /// The sandbox's execd endpoint, once the job has finished without error after waiting
    /// for the sandbox to be ready; empty without `waitUntilReady`.
    const OpenSandboxEndpoint &execd() const { return m_execd; }

protected:
    OpenSandboxEndpoint m_execd;
};

/// The port execd listens on in every sandbox.
inline constexpr int ExecdPort = 44772;
/// The port of the egress API (upstream's egress sidecar) of a sandbox created with a
/// network policy.
inline constexpr int EgressPort = 18080;

/// A code interpreter context of execd (/code): a kernel of one language whose state lasts
/// from one runCode to the next.
struct OpenSandboxCodeContext
{
    QString id;                     ///< empty: the language's default context
    QString language;               ///< `python`, `javascript`, ...; empty: code runs as a shell command
    QString cwd;                    ///< empty: execd's working directory
};

/// Code running in a context. Besides output, it reports the values the code evaluates to.
class CodeJob : public CommandJob
{
    Q_OBJECT

public:
    using CommandJob::CommandJob;

signals:
    /// A `result` event: MIME types mapped to values, `text/plain` named `text` as execd
    /// names it, e.g. {"text": "4", "text/html": "<b>4</b>"}.
    void result(const QJsonObject &data);
};

/// Talks to one OpenSandbox server. It owns the network connections its jobs use, so it
/// must outlive them. REST calls share one connection pool; command streams and file
/// transfers use others, so that long transfers never hold up short calls.
class OpenSandboxClient final : public QObject
{
    Q_OBJECT

public:
    explicit OpenSandboxClient(const OpenSandboxConfig &config, QObject *parent = nullptr);
    ~OpenSandboxClient() override;

    const OpenSandboxConfig &config() const;

    // Lifecycle API

    /// POST /v1/sandboxes; with `waitUntilReady`, then the execd endpoint and /ping until
    /// it answers. The result has the new id and the state the server reported.
    OpenSandboxCreateJob *createSandbox(const OpenSandboxCreateRequest &request);
    /// GET /v1/sandboxes/{id}.
    SandboxJob *getSandbox(const QString &id);
    /// GET /v1/sandboxes: one page of the sandboxes matching `filter`, newest first.
    ResultJob<SandboxPage> *listSandboxes(const SandboxFilter &filter);
    /// Every sandbox matching `filter`, newest first: pages of `filter.pageSize` from page 1
    /// on, while the server says more follow. A sandbox that a later page repeats (newer
    /// ones pushed it there) is listed once. The walk is bounded, since a faulty server could
    /// say "more" for ever: it fails with UNEXPECTED_RESPONSE, naming the server, when a page
    /// is not the one asked for, when a page says more follow but holds only sandboxes
    /// already listed, and after 1000 pages.
    ResultJob<QList<SandboxInfo>> *listAllSandboxes(const SandboxFilter &filter);
    /// DELETE /v1/sandboxes/{id}: the sandbox and everything in it goes away.
    AsyncJob *deleteSandbox(const QString &id);
    /// POST /v1/sandboxes/{id}/pause: every process of the sandbox stops (state Paused).
    AsyncJob *pauseSandbox(const QString &id);
    /// POST /v1/sandboxes/{id}/resume: its processes go on (state Running).
    AsyncJob *resumeSandbox(const QString &id);
    /// POST /v1/sandboxes/{id}/renew-expiration {"expiresAt"}: moves the expiry, earlier or
    /// later, as long as it is in the future; the result is the server's new expiry.
    ResultJob<QDateTime> *renewExpiration(const QString &id, const QDateTime &expiresAt);
    /// PATCH /v1/sandboxes/{id}/metadata, a JSON merge patch: each key with a value is added
    /// or replaced, each key with std::nullopt removed. The result is the whole sandbox as
    /// the server returns it.
    SandboxJob *patchMetadata(const QString &id, const QMap<QString, std::optional<QString>> &patch);
    /// GET /v1/sandboxes/{id}/endpoints/{port}: how to reach `port` inside the sandbox.
    ResultJob<OpenSandboxEndpoint> *endpoint(const QString &id, int port = ExecdPort);

    // execd API, at an endpoint of port ExecdPort

    /// GET /ping: finishes without error once execd answers.
    AsyncJob *ping(const OpenSandboxEndpoint &execd);
    /// POST /command, streamed. Each stdout or stderr event is one line; `output` gets it
    /// with a `\n` put back, so that the output reads as the bytes the command wrote
    /// (a last line without one gains it). The job finishes when the command has ended:
    /// without error for exit status 0, else with a Task error whose context has
    /// "exitCode" (or "signal" when it was killed: timeout or interrupt). Cancelling
    /// the job interrupts the command on the server, since execd would let it run on.
    /// `request.shell` is not sent: execd runs every command with `bash -c` (`sh -c` where
    /// there is no bash).
    CommandJob *runCommand(const OpenSandboxEndpoint &execd, const CommandRequest &request);
    /// A process to talk to, over execd's PTY route (POST /pty, then a WebSocket): with a
    /// terminal of the request's size, or with pipes. `argv` runs with `bash -c` (empty: an
    /// interactive shell); `uid`/`gid` cannot be asked for. The job ends as runCommand's
    /// does, and deletes the session; cancelling it kills the process.
    TerminalJob *openTerminal(const OpenSandboxEndpoint &execd, const TerminalRequest &request);
    /// DELETE /command?id=: SIGTERM to the command's processes, SIGKILL 3 s later.
    AsyncJob *interruptCommand(const OpenSandboxEndpoint &execd, const QString &commandId);
    /// GET /command/status/{id}: a foreground or background command, running or ended.
    ResultJob<CommandStatus> *commandStatus(const OpenSandboxEndpoint &execd, const QString &commandId);
    /// GET /command/{id}/logs?cursor=N: a background command's combined output from byte
    /// offset `cursor` to its current end; nextCursor comes from the
    /// EXECD-COMMANDS-TAIL-CURSOR header. A multi-byte character may be split between reads.
    ResultJob<CommandLogs> *commandLogs(const OpenSandboxEndpoint &execd, const QString &commandId, qint64 cursor);

    // Bash sessions: the working directory and exported variables last from run to run.

    /// POST /session {"cwd"?}: the result is the new session's id.
    ResultJob<QString> *createSession(const OpenSandboxEndpoint &execd, const QString &cwd = {});
    /// POST /session/{id}/run {"command", "cwd"?, "timeout"?}, streamed like runCommand; only
    /// `command`, `cwd` and `timeoutMs` of `request` are sent. stderr comes merged into
    /// stdout, and commandId() is the session's id. Cancelling the job closes the session,
    /// as the interrupt that stops the run does.
    CommandJob *runInSession(const OpenSandboxEndpoint &execd, const QString &sessionId, const CommandRequest &request);
    /// DELETE /session/{id}.
    AsyncJob *deleteSession(const OpenSandboxEndpoint &execd, const QString &sessionId);

    // Code contexts (/code): only sandboxes with a code interpreter image serve them.

    /// POST /code/context {"language", "cwd"?}.
    ResultJob<OpenSandboxCodeContext> *createCodeContext(const OpenSandboxEndpoint &execd, const QString &language,
                                                         const QString &cwd = {});
    /// GET /code/contexts?language=: the contexts of `language`; empty: of every language.
    ResultJob<QList<OpenSandboxCodeContext>> *listCodeContexts(const OpenSandboxEndpoint &execd,
                                                               const QString &language = {});
    /// DELETE /code/contexts/{id}.
    AsyncJob *deleteCodeContext(const OpenSandboxEndpoint &execd, const QString &contextId);
    /// POST /code {"context", "code"}, streamed: stdout and stderr as output() as the kernel
    /// writes them (chunks with their own line breaks; one line per event, as runCommand
    /// gives them, in a context without a language), each `result` event as
    /// CodeJob::result. The job ends like runCommand's: without error on
    /// execution_complete, else with the Task error CODE_FAILED whose context has "ename",
    /// "evalue" and "traceback". commandId() is the context's id. Cancelling the job
    /// interrupts the code (interruptCode).
    CodeJob *runCode(const OpenSandboxEndpoint &execd, const OpenSandboxCodeContext &context, const QString &code);
    /// DELETE /code?id=: interrupts the code running in the context.
    AsyncJob *interruptCode(const OpenSandboxEndpoint &execd, const QString &contextId);

    // Files and directories. Paths are absolute or relative to execd's working directory.

    /// GET /files/info?path=...: one FileInfo per path, in the order asked (links are not
    /// followed); FILE_NOT_FOUND when any of them is missing.
    ResultJob<QList<FileInfo>> *fileInfo(const OpenSandboxEndpoint &execd, const QStringList &paths);
    /// GET /files/search?path=&pattern=: the regular files below `directory` whose base name
    /// matches the glob `pattern` (`*.py`, `{a,b}.txt`; `**`: every file).
    ResultJob<QList<FileInfo>> *searchFiles(const OpenSandboxEndpoint &execd, const QString &directory,
                                            const QString &pattern);
    /// GET /directories/list?path=&depth=: the entries `depth` levels deep, each directory
    /// right before its contents.
    ResultJob<QList<FileInfo>> *listDirectory(const OpenSandboxEndpoint &execd, const QString &directory,
                                              int depth = 1);
    /// POST /files/replace?verbose=true: replaces every occurrence of `before` (not empty)
    /// with `after`; the result is how many there were.
    ResultJob<int> *replaceInFile(const OpenSandboxEndpoint &execd, const QString &path, const QString &before,
                                  const QString &after);
    /// POST /files/permissions. A mode of 0 leaves the mode as it is; execd gives the file
    /// to its own user when neither owner nor group is set.
    AsyncJob *setPermissions(const OpenSandboxEndpoint &execd, const QString &path, const FilePermissions &permissions);
    /// POST /files/mv: renames `from` to `to`, making the missing parents of `to`; fails
    /// when `to` exists.
    AsyncJob *moveFile(const OpenSandboxEndpoint &execd, const QString &from, const QString &to);
    /// DELETE /files?path=...: removes files and links; paths that do not exist are ignored.
    AsyncJob *removeFiles(const OpenSandboxEndpoint &execd, const QStringList &paths);
    /// POST /directories: `mkdir -p path`, then `permissions` as setPermissions applies them.
    AsyncJob *makeDirectory(const OpenSandboxEndpoint &execd, const QString &path, const FilePermissions &permissions);
    /// DELETE /directories?path=: the directory and everything in it; fine when it is not there.
    AsyncJob *removeDirectory(const OpenSandboxEndpoint &execd, const QString &path);
    /// POST /files/upload: writes the local file `localPath` to `path` in the sandbox
    /// (parents are made), read from disk as it is sent.
    AsyncJob *uploadFile(const OpenSandboxEndpoint &execd, const QString &localPath, const QString &path,
                         const FilePermissions &permissions);
    /// POST /files/upload: writes what `source` holds, from its start to its end, to `path`
    /// (parents are made). The job takes ownership of `source` and opens it for reading if
    /// it is not open. A random-access device is read as it is sent; a sequential one (a
    /// process, a socket) is read whole first, since each part must be sized before it is
    /// sent, until read() reports its end or it emits readChannelFinished.
    AsyncJob *uploadFile(const OpenSandboxEndpoint &execd, QIODevice *source, const QString &path,
                         const FilePermissions &permissions);
    /// GET /files/download: writes the file at `path` to `destination` (open for writing,
    /// not owned) as it arrives. On failure, part of it may have been written.
    AsyncJob *downloadFile(const OpenSandboxEndpoint &execd, const QString &path, QIODevice *destination);
    /// GET /files/download with `Range: bytes=offset-(offset+length-1)`: `length` bytes
    /// (-1: to the end) from `offset`, fewer when the file ends first; no Range header for
    /// the whole file. The bytes arrive as FileReadJob::data, in order, as they come. An
    /// offset at or past the end fails with status 416.
    FileReadJob *readFile(const OpenSandboxEndpoint &execd, const QString &path, qint64 offset = 0,
                          qint64 length = -1);

    // Metrics

    /// GET /metrics: CPU and memory figures (execd samples the CPU for about a second).
    ResultJob<SandboxMetrics> *metrics(const OpenSandboxEndpoint &execd);

    // Egress API, at an endpoint of port EgressPort. A sandbox created without a network
    // policy has none: its calls fail with EGRESS_POLICY_NOT_FOUND. Rules the API refuses
    // fail with EGRESS_RULE_INVALID.

    /// GET /policy: the policy the sandbox's connections follow now.
    ResultJob<SandboxNetworkPolicy> *egressPolicy(const OpenSandboxEndpoint &egress);
    /// PATCH /policy, which merges `rules` into the policy as networkpolicy.h's
    /// patchedPolicy() does, then GET /policy: the result is the policy it left, since the
    /// API answers a change with the policy's mode only.
    ResultJob<SandboxNetworkPolicy> *patchEgressRules(const OpenSandboxEndpoint &egress,
                                                      const QList<SandboxNetworkPolicy::Rule> &rules);
    /// DELETE /policy, which removes the rules for `targets`, then GET /policy.
    ResultJob<SandboxNetworkPolicy> *deleteEgressRules(const OpenSandboxEndpoint &egress, const QStringList &targets);

private:
    std::unique_ptr<Internal::Transport> m_transport;
};

} // namespace Sandflow
