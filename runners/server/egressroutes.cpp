// The egress API of one sandbox, served by the server itself for the proxy route's port
// 18080, where upstream's egress sidecar listens: GET, PATCH and DELETE /policy over the
// runner's egress operations. It lives on the server's own listener, behind its API key,
// and never on a port of the sandbox: a sandbox cannot change its own policy.
#include "egresswire_p.h"
#include "runner.h"
#include "serverroutes_p.h"

using namespace Qt::StringLiterals;

namespace Sandflow::Internal {

namespace {

using PolicyJob = ResultJob<SandboxNetworkPolicy>;

/// The sidecar answers errors as Go's http.Error does: plain text.
void respondText(HttpExchange *exchange, int status, const QString &text, const HttpHeaders &extraHeaders = {})
{
    exchange->respond(status, "text/plain; charset=utf-8", text.toUtf8() + '\n', extraHeaders);
}

void respondInvalid(HttpExchange *exchange, const QString &problem)
{
    respondText(exchange, 400, u"invalid policy: "_s + problem);
}

/// The answer to a runner's error. A sandbox created without a policy has no sidecar
/// upstream, yet its 18080 endpoint is handed out all the same: 404 says the API is not
/// there for it, a client error that no client tries again.
void respondRunnerError(HttpExchange *exchange, const JobError &error)
{
    if (const std::optional<ApiError> sandboxError = sandboxStateError(error))
        return respondApiError(exchange, *sandboxError);
    if (error.code == u"EGRESS_POLICY_NOT_FOUND"_s)
        return respondText(exchange, 404, u"no egress policy: "_s + error.message);
    if (error.code == u"EGRESS_NOT_SUPPORTED"_s)
        return respondText(exchange, 501, u"egress policy not supported: "_s + error.message);
    if (error.kind == JobError::Kind::Invalid)
        return respondInvalid(exchange, error.message);
    respondText(exchange, 500, error.message);
}

/// Runs `job` and answers its policy as `toJson` writes it.
void respondWithPolicy(HttpExchange *exchange, PolicyJob *job, QJsonObject (*toJson)(const SandboxNetworkPolicy &))
{
    whenFinished<PolicyJob>(exchange, job, [toJson](HttpExchange *exchange, PolicyJob *job) {
        if (job->error())
            return respondRunnerError(exchange, *job->error());
        exchange->respondJson(200, toJson(job->result()));
    });
}

} // namespace

void routeEgress(const ServerContext &context, HttpExchange *exchange, const QString &sandboxId,
                 const QStringList &segments)
{
    if (segments != QStringList{u"policy"_s})
        return respondText(exchange, 404, u"404 page not found"_s);
    const HttpRequest &request = exchange->request();
    QString problem;
    if (request.method == "GET")
        return respondWithPolicy(exchange, context.runner->egressPolicy(sandboxId), &currentPolicyJson);
    if (request.method == "PATCH") {
        const auto rules = egressRulesFromBody(request.body, &problem);
        if (!rules)
            return respondInvalid(exchange, problem);
        return respondWithPolicy(exchange, context.runner->patchEgressRules(sandboxId, *rules), &policyStatusJson);
    }
    if (request.method == "DELETE") {
        const auto targets = egressTargetsFromBody(request.body, &problem);
        if (!targets)
            return respondInvalid(exchange, problem);
        return respondWithPolicy(exchange, context.runner->deleteEgressRules(sandboxId, *targets), &policyStatusJson);
    }
    // The sidecar's POST and PUT replace the whole policy; runners only merge and remove.
    respondText(exchange, 405, u"method not allowed"_s, {{"Allow", "GET, PATCH, DELETE"}});
}

} // namespace Sandflow::Internal
