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
#include <QString>
#include <QStringList>

#include <optional>

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

} // namespace Sandflow::Internal
