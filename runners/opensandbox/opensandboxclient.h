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

/// The port execd listens on in every sandbox.
inline constexpr int ExecdPort = 44772;

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
    SandboxJob *createSandbox(const OpenSandboxCreateRequest &request);
    /// GET /v1/sandboxes/{id}.
    SandboxJob *getSandbox(const QString &id);
    /// GET /v1/sandboxes: one page of the sandboxes matching `filter`, newest first.
    ResultJob<SandboxPage> *listSandboxes(const SandboxFilter &filter);
    /// DELETE /v1/sandboxes/{id}: the sandbox and everything in it goes away.
    AsyncJob *deleteSandbox(const QString &id);
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
    /// DELETE /command?id=: SIGTERM to the command's processes, SIGKILL 3 s later.
    AsyncJob *interruptCommand(const OpenSandboxEndpoint &execd, const QString &commandId);
    /// POST /files/upload: writes the local file `localPath` to `path` in the sandbox
    /// (parents are made), read from disk as it is sent.
    AsyncJob *uploadFile(const OpenSandboxEndpoint &execd, const QString &localPath, const QString &path,
                         const FilePermissions &permissions);
    /// GET /files/download: writes the file at `path` to `destination` (open for writing,
    /// not owned) as it arrives. On failure, part of it may have been written.
    AsyncJob *downloadFile(const OpenSandboxEndpoint &execd, const QString &path, QIODevice *destination);

private:
    std::unique_ptr<Internal::Transport> m_transport;
};

} // namespace Sandflow
