// The OpenSandbox lifecycle API's wire format, as the upstream server really speaks it:
// request bodies, queries and path parameters in, response and error bodies out. Pure
// functions, no HTTP and no runner: the handlers of `sandflow serve` call them on both sides
// of a Runner call.
//
// Error codes are upstream's Docker runtime codes (DOCKER::SANDBOX_NOT_FOUND, ...), even
// where nothing here is Docker: clients only read `code` and `message`, so scripts written
// against an upstream server keep working against this one.
#pragma once

#include "apierror_p.h"
#include "runner.h"

#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>
#include <QMap>
#include <QString>
#include <QStringList>

#include <optional>

class QUrlQuery;

namespace Sandflow::Internal {

// Create: POST /sandboxes

/// What the server allows beyond the API's own rules.
struct CreatePolicy
{
    /// `server.max_sandbox_timeout_seconds`: a longer `timeout` is refused with 400;
    /// std::nullopt: no cap.
    std::optional<qint64> maxTimeoutSeconds;
    /// The only `platform.arch` accepted (`amd64` or `arm64`): sandboxes run on this machine.
    QString hostArch = hostPlatformArch();

    /// This machine's architecture as the API names it; empty when it has no such name.
    static QString hostPlatformArch();
};

/// A create request that passed every check.
struct CreateRequest
{
    SandboxRequest sandbox;
    /// What was accepted but has no effect, one sentence each, for the server's log and the
    /// runner's warnings: unreadable or unsupported `resourceLimits`, `credentialProxy`, ...
    QStringList warnings;
    /// `extensions["access.renew.extend.seconds"]` (300 to 86400): the client asks that each
    /// request through the sandbox proxy extends its expiry by this much. Not part of
    /// SandboxRequest; the server may honour it.
    std::optional<int> renewOnAccessSeconds;
};

/// Reads a CreateSandboxRequest body. Failures, in the order the real server finds them:
/// - 422 `detail` for a body that is not JSON or does not fit the model (types, `timeout` under
///   60, volume names, mount paths, claim names and ossfs fields), every misfit at once; then
///   for a broken rule across fields: not exactly one of `image` and `snapshotId`, `image`
///   without `entrypoint`, no `resourceLimits`, `credentialProxy.enabled` without
///   `networkPolicy`, `snapshotId` or `credentialProxy` with `extensions.poolRef`;
/// - 400 `{code, message}`: SANDBOX::INVALID_PARAMETER for a bad
///   `access.renew.extend.seconds`, SANDBOX::UNSUPPORTED_POOL_REF, SANDBOX::API_NOT_SUPPORTED
///   for `snapshotId` (this server keeps no snapshots), DOCKER::INVALID_ENTRYPOINT for an empty
///   entrypoint, SANDBOX::INVALID_METADATA_LABEL, SANDBOX::INVALID_PARAMETER for a platform
///   other than linux on this machine's architecture, for a `timeout` above the policy's cap
///   (or past the year 9999) and for `secureAccess: true`, then VOLUME::DUPLICATE_NAME,
///   VOLUME::INVALID_SUB_PATH and VOLUME::INVALID_HOST_PATH.
/// Unknown members are ignored. Whether a host path is allowed is the runner's decision, and
/// ossfs volumes are passed on for the runner to refuse.
Parsed<CreateRequest> parseCreateRequest(const QByteArray &body, const CreatePolicy &policy);

// Responses

/// A Sandbox, as GET, list items and PATCH metadata return it: `{id, image: {uri},
/// status: {state, reason, lastTransitionAt}, metadata, entrypoint, expiresAt, createdAt}`.
/// Members without a value are left out, never null: `image` without an image, `reason`
/// without one, `metadata` when empty, `expiresAt` without expiry. `lastTransitionAt` is the
/// creation time, as SandboxInfo records no later transition.
QJsonObject sandboxJson(const SandboxInfo &sandbox);

/// A CreateSandboxResponse: the same without `image`.
QJsonObject createResponseJson(const SandboxInfo &sandbox);

/// A ListSandboxesResponse: `{items, pagination: {page, pageSize, totalItems, totalPages,
/// hasNextPage}}`.
QJsonObject pageJson(const SandboxPage &page);

// List: GET /sandboxes

/// Reads the list query: `state` repeated (any of them); `metadata` once, its decoded value
/// a form-encoded `k1=v1&k2=v2` (all pairs; blank values kept, a pair without `=` is a 400
/// INVALID_METADATA_FORMAT); `page` at least 1 (default 1) and `pageSize` 1 to 200
/// (default 20), else a 422. Of a parameter given more than once (other than `state`), the
/// last counts.
Parsed<SandboxFilter> parseListQuery(const QUrlQuery &query);

// Metadata: PATCH /sandboxes/{id}/metadata

/// Reads a JSON merge patch of metadata: a value adds or replaces its key, null removes it.
/// 422 for a body that is not an object of strings and nulls; 400 INVALID_METADATA_LABEL
/// (without a namespace, unlike create) for a reserved key or a key or value that breaks the
/// label rules. Only the keys and values being set are checked against the rules.
Parsed<QMap<QString, std::optional<QString>>> parseMetadataPatch(const QByteArray &body);

// Renew: POST /sandboxes/{id}/renew-expiration

/// Reads `{"expiresAt": "<RFC 3339>"}`; a timestamp without an offset is UTC. 422 when it is
/// missing or not a timestamp; 400 DOCKER::INVALID_EXPIRATION unless it is after `now`. An
/// earlier expiry than the current one is fine: clients shorten sandboxes' lives this way.
Parsed<QDateTime> parseRenewRequest(const QByteArray &body, const QDateTime &now);

/// `{"expiresAt": "..."}`, in UTC.
QJsonObject renewResponseJson(const QDateTime &expiresAt);

// Endpoints: GET /sandboxes/{id}/endpoints/{port}

/// `{"endpoint": "HOST:SERVERPORT/sandboxes/ID/proxy/PORT"}`: the server's own proxy route,
/// without a scheme (clients add theirs) and without `/v1`, ending in `/PORT` as clients
/// check. An IPv6 `host` is put in brackets; `serverPort` 0 leaves the port out (the client
/// reached the server on its scheme's default port).
QJsonObject endpointJson(const QString &host, quint16 serverPort, const QString &sandboxId, quint16 port);

/// The `{port}` path parameter: 422 when it is not an integer, 400 DOCKER::INVALID_PORT
/// when it is outside 1 to 65535.
Parsed<quint16> parseEndpointPort(const QString &text);

// Errors that do not come from reading a request

/// 404 DOCKER::SANDBOX_NOT_FOUND.
ApiError notFoundError(const QString &sandboxId);
/// 409 DOCKER::SANDBOX_NOT_RUNNING: pausing a sandbox that is not running.
ApiError notRunningError(const QString &sandboxId);
/// 409 DOCKER::SANDBOX_NOT_PAUSED: resuming a sandbox that is not paused.
ApiError notPausedError(const QString &sandboxId);
/// 409 DOCKER::INVALID_EXPIRATION: renewing a sandbox that has no expiry.
ApiError noExpiryError(const QString &sandboxId);
/// 401 MISSING_API_KEY: no OPEN-SANDBOX-API-KEY header.
ApiError missingApiKeyError();
/// 401 INVALID_API_KEY: a key other than the server's.
ApiError invalidApiKeyError();

} // namespace Sandflow::Internal
