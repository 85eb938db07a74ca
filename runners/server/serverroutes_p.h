// The routes of `sandflow serve`, split by API: the lifecycle API, the execd API of a
// sandbox (the proxy route's port 44772), its egress API (port 18080) and the relay to
// other ports.
#pragma once

#include "apierror_p.h"
#include "asyncjob.h"
#include "httpexchange_p.h"
#include "sandboxserver.h"

#include <QPointer>
#include <QStringList>

#include <functional>

namespace Sandflow {
class Runner;
}

namespace Sandflow::Internal {

/// The port execd listens on in an upstream sandbox; the server answers it itself.
inline constexpr quint16 ExecdPort = 44772;
/// The port upstream's egress sidecar serves the egress API on; the server answers it itself.
inline constexpr quint16 EgressPort = 18080;

class PtySessions;

struct ServerContext
{
    Runner *runner;
    const SandboxServer::Options *options;
    quint16 serverPort;     ///< the port it listens on (options may say 0)
    PtySessions *ptySessions;
};

void respondApiError(HttpExchange *exchange, const ApiError &error);
/// The answer to a runner's error about the sandbox itself, on any route of it (execd's
/// too): 404 DOCKER::SANDBOX_NOT_FOUND, as upstream's lifecycle API answers it, or 409
/// DOCKER::SANDBOX_NOT_RUNNING for one that is paused; std::nullopt for any other error.
std::optional<ApiError> sandboxStateError(const JobError &error);

/// `segments` follow `/sandboxes` (and `/v1`), e.g. {"ID", "pause"}.
void routeLifecycle(const ServerContext &context, HttpExchange *exchange, const QStringList &segments);
/// `segments` follow `/sandboxes/ID/proxy/44772`, e.g. {"files", "info"}.
void routeExecd(const ServerContext &context, HttpExchange *exchange, const QString &sandboxId,
                const QStringList &segments);
/// `segments` follow `/sandboxes/ID/proxy/18080`, e.g. {"policy"}.
void routeEgress(const ServerContext &context, HttpExchange *exchange, const QString &sandboxId,
                 const QStringList &segments);
/// Relays the request to `port` inside the sandbox; `path` starts with `/`.
void relayToService(const ServerContext &context, HttpExchange *exchange, const QString &sandboxId, quint16 port,
                    const QString &path);

/// Starlette's answers for an unknown route or method, which clients may rely on.
void respondNoRoute(HttpExchange *exchange);
void respondWrongMethod(HttpExchange *exchange);

/// Starts `job` and calls `done` once it has finished, unless the client has gone by then
/// (the job still runs to its end: a deletion is not undone by a client that hung up).
template <typename Job>
void whenFinished(HttpExchange *exchange, Job *job, std::function<void(HttpExchange *, Job *)> done)
{
    QPointer<HttpExchange> guard(exchange);
    QObject::connect(job, &AsyncJob::finished, exchange, [guard, job, done = std::move(done)] {
        if (guard)
            done(guard, job);
    });
    job->start();
}

} // namespace Sandflow::Internal
