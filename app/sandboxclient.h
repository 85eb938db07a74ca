// What the `sandflow sandbox` commands share: the client made from --server and --api-key,
// waiting for a job with Ctrl-C cancelling it, and one-line error messages.
#pragma once

#include "command.h"
#include "opensandboxclient.h"

#include <QMap>

#include <memory>

namespace Sandflow::Cli {

/// The client the options ask for: `base` with --server and --api-key put over it. The
/// default base is the environment's: $OPEN_SANDBOX_DOMAIN (else localhost:8080) and
/// $OPEN_SANDBOX_API_KEY.
OpenSandboxConfig clientConfig(const QCommandLineParser &parser,
                               OpenSandboxConfig base = OpenSandboxConfig::fromEnvironment());

/// How waiting for a job ended.
struct Waited
{
    std::optional<JobError> error;
    bool interrupted = false;       ///< Ctrl-C cancelled it
};

/// Starts `job` (made with setAutoDelete(false)) unless it was, and runs the event loop
/// until it finishes.
/// The first Ctrl-C cancels it; a second one stops waiting for the cancellation.
Waited waitForJob(AsyncJob &job);

/// waitForJob() for a job the caller owns. A job still running after a second Ctrl-C is
/// let go: destroying it would be a bug, and the program is about to end anyway.
template <typename Job>
Waited waitFor(std::unique_ptr<Job> &job)
{
    const Waited waited = waitForJob(*job);
    if (!job->isFinished())
        (void)job.release();
    return waited;
}

/// `sandflow sandbox SUB: MESSAGE` for a failed job, with the advice that fits: how to start
/// a server when none listens, which option sets the API key. `subject` names what was
/// asked for (e.g. "sandbox abc") and makes 404s read "sandbox abc not found (404 ...)".
QString errorLine(const QString &where, const JobError &error, const OpenSandboxConfig &config,
                  const QString &subject = {});

/// `K=V` pairs of a repeatable option, e.g. --env; std::nullopt (and a usage error printed)
/// when one has no `=` or an empty key.
std::optional<QMap<QString, QString>> keyValues(const QCommandLineParser &parser, const QString &option,
                                                const QString &where, const Terminal &terminal);

/// True when the options or the environment name the server (--server, $OPEN_SANDBOX_DOMAIN).
bool serverNamed(const QCommandLineParser &parser);

/// A server `sandflow sandbox` may ask, and whose it is ("run RUN-ID", "serve"; empty for
/// the one the options and the environment give).
struct LocalServer
{
    OpenSandboxConfig config;
    QString owner;
};

/// The servers to ask: the named one alone when serverNamed(); else this machine's runs and
/// servers that recorded themselves (controlendpoints.h), oldest first, then the default.
QList<LocalServer> candidateServers(const QCommandLineParser &parser);

/// A sandbox found: the server that has it, and its whole id.
struct FoundSandbox
{
    OpenSandboxConfig server;
    QString id;
};

/// The sandbox `given` names (a whole id, or a unique start of one) on the servers
/// candidateServers() gives. Nothing, after saying why, when none or several match;
/// `*exitCode` is then the status to exit with.
std::optional<FoundSandbox> findSandbox(const QCommandLineParser &parser, const QString &given, const QString &where,
                                        const Terminal &terminal, int *exitCode);

/// Prints a usage error as every command does; returns ExitUsage.
int sandboxUsageError(const Terminal &terminal, const QString &where, const QString &message);

/// Runs `request` in sandbox `id` over execd's PTY route: with a terminal the size of this
/// window (request.pty; the local terminal is in raw mode meanwhile) or with pipes, this
/// process's stdin going to it until its end. Returns the exit status to exit with.
int execInTerminal(OpenSandboxClient &client, const OpenSandboxEndpoint &execd, const QString &id,
                   TerminalRequest request, std::optional<qint64> timeoutMs, const QString &where,
                   const Terminal &terminal);

int sandboxCreate(const QCommandLineParser &parser, const Terminal &terminal);
int sandboxList(const QCommandLineParser &parser, const Terminal &terminal);
int sandboxRemove(const QCommandLineParser &parser, const Terminal &terminal);
int sandboxPause(const QCommandLineParser &parser, const Terminal &terminal);
int sandboxResume(const QCommandLineParser &parser, const Terminal &terminal);
int sandboxInspect(const QCommandLineParser &parser, const Terminal &terminal);
int sandboxExec(const QCommandLineParser &parser, const Terminal &terminal);
int sandboxCopy(const QCommandLineParser &parser, const Terminal &terminal);

} // namespace Sandflow::Cli
