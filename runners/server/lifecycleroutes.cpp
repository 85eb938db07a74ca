// The lifecycle API: /sandboxes and everything below it but the proxy route.
#include "lifecyclewire_p.h"
#include "runner.h"
#include "ptysessions_p.h"
#include "serverroutes_p.h"

#include <QJsonObject>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace Sandflow::Internal {

namespace {

/// What a runner's error means to an OpenSandbox client.
ApiError lifecycleError(const JobError &error, const QString &sandboxId, const QByteArray &method,
                        const QString &action)
{
    if (error.code == u"SANDBOX_NOT_FOUND"_s)
        return notFoundError(sandboxId);
    if (error.code == u"INVALID_STATE"_s || error.code == u"SANDBOX_NOT_RUNNING"_s)
        return action == u"resume"_s ? notPausedError(sandboxId) : notRunningError(sandboxId);
    if (error.code == u"SANDBOX_NO_EXPIRY"_s)
        return noExpiryError(sandboxId);
    if (error.code == u"INVALID_EXPIRATION"_s)
        return ApiError::coded(400, u"DOCKER::INVALID_EXPIRATION"_s, error.message);
    if (error.code == u"VOLUME_HOST_PATH_NOT_ALLOWED"_s)
        return ApiError::coded(400, u"VOLUME::HOST_PATH_NOT_ALLOWED"_s, error.message);
    if (error.code == u"VOLUME_INVALID_SUBPATH"_s)
        return ApiError::coded(400, u"VOLUME::INVALID_SUB_PATH"_s, error.message);
    if (error.code == u"VOLUME_INVALID_MOUNT_PATH"_s)
        return ApiError::coded(400, u"VOLUME::INVALID_MOUNT_PATH"_s, error.message);
    if (error.code == u"VOLUME_INVALID_CLAIM_NAME"_s)
        return ApiError::coded(400, u"VOLUME::INVALID_PVC_NAME"_s, error.message);
    if (error.code.startsWith(u"VOLUME_"_s) || error.code == u"NETWORK_POLICY_NOT_SUPPORTED"_s
        || error.code == u"ROOTFS_NOT_FOUND"_s || error.kind == JobError::Kind::Invalid)
        return ApiError::coded(400, u"SANDBOX::INVALID_PARAMETER"_s, error.message);
    if (method == "POST" && action.isEmpty())
        return ApiError::coded(500, u"SANDBOX::START_FAILED"_s, error.message);
    return ApiError::coded(500, u"SANDBOX::"_s + error.code, error.message);
}

void respondJobError(HttpExchange *exchange, const JobError &error, const QString &sandboxId, const QString &action)
{
    respondApiError(exchange, lifecycleError(error, sandboxId, exchange->request().method, action));
}

void createSandbox(const ServerContext &context, HttpExchange *exchange)
{
    CreatePolicy policy;
    policy.maxTimeoutSeconds = context.options->maxTimeoutSeconds;
    const auto parsed = parseCreateRequest(exchange->request().body, policy);
    if (!parsed)
        return respondApiError(exchange, parsed.error());
    for (const QString &warning : parsed->warnings)
        emit context.runner->warning(warning);
    whenFinished<SandboxJob>(exchange, context.runner->createSandbox(parsed->sandbox), [](HttpExchange *exchange, SandboxJob *job) {
        if (job->error())
            return respondJobError(exchange, *job->error(), {}, {});
        exchange->respondJson(202, createResponseJson(job->result()));
    });
}

void listSandboxes(const ServerContext &context, HttpExchange *exchange)
{
    const auto filter = parseListQuery(exchange->request().query);
    if (!filter)
        return respondApiError(exchange, filter.error());
    whenFinished<ResultJob<SandboxPage>>(exchange, context.runner->listSandboxes(filter.value()),
                                         [](HttpExchange *exchange, ResultJob<SandboxPage> *job) {
        if (job->error())
            return respondJobError(exchange, *job->error(), {}, u"list"_s);
        exchange->respondJson(200, pageJson(job->result()));
    });
}

/// The sandbox as GET shows it, once `job` (any job about it) has succeeded.
void respondWithSandbox(const ServerContext &context, HttpExchange *exchange, const QString &id, int status)
{
    whenFinished<SandboxJob>(exchange, context.runner->getSandbox(id), [id, status](HttpExchange *exchange, SandboxJob *job) {
        if (job->error())
            return respondJobError(exchange, *job->error(), id, {});
        exchange->respondJson(status, sandboxJson(job->result()));
    });
}

/// Runs a job that answers with an empty body on success.
void respondEmptyWhenDone(HttpExchange *exchange, AsyncJob *job, int status, const QString &id, const QString &action)
{
    whenFinished<AsyncJob>(exchange, job, [status, id, action](HttpExchange *exchange, AsyncJob *job) {
        if (job->error())
            return respondJobError(exchange, *job->error(), id, action);
        exchange->respondEmpty(status);
    });
}

void renewSandbox(const ServerContext &context, HttpExchange *exchange, const QString &id)
{
    const auto expiresAt = parseRenewRequest(exchange->request().body, QDateTime::currentDateTimeUtc());
    if (!expiresAt)
        return respondApiError(exchange, expiresAt.error());
    whenFinished<ResultJob<QDateTime>>(exchange, context.runner->renewSandbox(id, expiresAt.value()),
                                       [id](HttpExchange *exchange, ResultJob<QDateTime> *job) {
        if (job->error())
            return respondJobError(exchange, *job->error(), id, u"renew"_s);
        exchange->respondJson(200, renewResponseJson(job->result()));
    });
}

void patchMetadata(const ServerContext &context, HttpExchange *exchange, const QString &id)
{
    const auto patch = parseMetadataPatch(exchange->request().body);
    if (!patch)
        return respondApiError(exchange, patch.error());
    whenFinished<SandboxJob>(exchange, context.runner->updateMetadata(id, patch.value()), [id](HttpExchange *exchange, SandboxJob *job) {
        if (job->error())
            return respondJobError(exchange, *job->error(), id, u"metadata"_s);
        exchange->respondJson(200, sandboxJson(job->result()));
    });
}

/// Every port of every sandbox is reached through this server's proxy route, so that each
/// sandbox has its own execd although they all share one address; port 18080 is the
/// server's own egress API. Unlike upstream's, that endpoint carries no
/// OPENSANDBOX-EGRESS-AUTH header: the proxy route asks for the API key as every route does.
void endpoint(const ServerContext &context, HttpExchange *exchange, const QString &id, const QString &portText)
{
    const auto port = parseEndpointPort(portText);
    if (!port)
        return respondApiError(exchange, port.error());
    // The endpoint names this server as the client reached it.
    // A Host without a port (a proxy in front, on 80 or 443) is kept so.
    const QUrl reached(u"http://"_s + QString::fromLatin1(exchange->request().header("host")));
    const QString host = reached.host().isEmpty() ? context.options->address.toString() : reached.host();
    const quint16 serverPort = reached.host().isEmpty() ? context.serverPort : quint16(qMax(reached.port(), 0));
    whenFinished<SandboxJob>(exchange, context.runner->getSandbox(id), [id, host, serverPort, port = port.value()](HttpExchange *exchange, SandboxJob *job) {
        if (job->error())
            return respondJobError(exchange, *job->error(), id, u"endpoint"_s);
        exchange->respondJson(200, endpointJson(host, serverPort, id, port));
    });
}

} // namespace

void routeLifecycle(const ServerContext &context, HttpExchange *exchange, const QStringList &segments)
{
    const QByteArray &method = exchange->request().method;
    if (segments.isEmpty()) {
        if (method == "POST")
            return createSandbox(context, exchange);
        if (method == "GET")
            return listSandboxes(context, exchange);
        return respondWrongMethod(exchange);
    }
    const QString &id = segments.first();
    const QString action = segments.value(1);
    if (segments.size() == 1) {
        if (method == "GET")
            return respondWithSandbox(context, exchange, id, 200);
        if (method == "DELETE") {
            // Its PTY sessions go with it: their processes are the sandbox's.
            context.ptySessions->removeAll(id);
            return respondEmptyWhenDone(exchange, context.runner->deleteSandbox(id), 204, id, u"delete"_s);
        }
        return respondWrongMethod(exchange);
    }
    if (segments.size() == 2) {
        if (action == u"pause"_s || action == u"resume"_s) {
            if (method != "POST")
                return respondWrongMethod(exchange);
            AsyncJob *job = action == u"pause"_s ? context.runner->pauseSandbox(id) : context.runner->resumeSandbox(id);
            return respondEmptyWhenDone(exchange, job, 202, id, action);
        }
        if (action == u"renew-expiration"_s)
            return method == "POST" ? renewSandbox(context, exchange, id) : respondWrongMethod(exchange);
        if (action == u"metadata"_s)
            return method == "PATCH" ? patchMetadata(context, exchange, id) : respondWrongMethod(exchange);
    }
    if (segments.size() == 3 && action == u"endpoints"_s)
        return method == "GET" ? endpoint(context, exchange, id, segments.at(2)) : respondWrongMethod(exchange);
    respondNoRoute(exchange);
}

} // namespace Sandflow::Internal
