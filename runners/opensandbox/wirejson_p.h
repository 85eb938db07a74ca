// The lifecycle and execd request and answer bodies, field names exactly as on the wire
// (camelCase for the lifecycle API, snake_case for execd).
#pragma once

#include "opensandboxclient.h"
#include "transport_p.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <optional>

namespace Sandflow::Internal {

/// The metadata key of the label that marks the sandboxes of one create. It is the
/// client's bookkeeping, not the user's metadata: sandboxes are read without it.
inline constexpr QLatin1StringView CreateTokenKey{"sandflow.dev/create-token"};

/// POST /v1/sandboxes.
QJsonObject createSandboxJson(const OpenSandboxCreateRequest &request);
/// The query of GET /v1/sandboxes: `state` repeated, `metadata` as one `k=v&k2=v2` value.
QueryItems listSandboxesQuery(const SandboxFilter &filter);
/// POST /v1/sandboxes/{id}/renew-expiration: {"expiresAt"} in UTC.
QJsonObject renewExpirationJson(const QDateTime &expiresAt);
/// PATCH /v1/sandboxes/{id}/metadata: a merge patch, `null` for each key to remove.
QJsonObject metadataPatchJson(const QMap<QString, std::optional<QString>> &patch);
/// POST /command.
QJsonObject commandJson(const CommandRequest &request);

/// `spec` with `body` as its JSON body.
RequestSpec withJsonBody(RequestSpec spec, const QJsonDocument &body);

/// A Sandbox or CreateSandboxResponse object; std::nullopt (and `problem`) when it lacks
/// an id. States the protocol does not name become Unknown.
std::optional<SandboxInfo> sandboxFromJson(const QJsonObject &object, QString *problem);
/// ListSandboxesResponse: {items, pagination}.
std::optional<SandboxPage> sandboxPageFromJson(const QJsonObject &object, QString *problem);
/// Endpoint: {endpoint, headers?}.
std::optional<OpenSandboxEndpoint> endpointFromJson(const QJsonObject &object, QString *problem);
/// RenewSandboxExpirationResponse: {expiresAt}.
std::optional<QDateTime> expiresAtFromJson(const QJsonObject &object, QString *problem);

/// An ISO-8601 time; one without an offset is UTC, as the server means it.
QDateTime timeFromJson(const QString &text);

} // namespace Sandflow::Internal
