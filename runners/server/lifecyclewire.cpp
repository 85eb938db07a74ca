// Everything of the lifecycle wire format but create requests: response bodies, the list
// query, metadata patches, renewals, endpoints and the errors handlers raise themselves.
#include "lifecyclewire_p.h"

#include "jsonbody_p.h"
#include "labelrules_p.h"
#include "wiretime_p.h"

#include <QJsonArray>
#include <QUrlQuery>

#include <limits>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;
using Need = BodyReader::Need;

namespace {

constexpr qint64 MaxPageSize = 200;

// What a created sandbox and a looked-up one have in common.
QJsonObject sandboxCore(const SandboxInfo &sandbox)
{
    QJsonObject status{{u"state"_s, sandboxStateName(sandbox.state)},
                       {u"lastTransitionAt"_s, formatTimestamp(sandbox.createdAt)}};
    if (!sandbox.reason.isEmpty())
        status.insert(u"reason"_s, sandbox.reason);

    QJsonObject json{{u"id"_s, sandbox.id},
                     {u"status"_s, status},
                     {u"entrypoint"_s, QJsonArray::fromStringList(sandbox.entrypoint)},
                     {u"createdAt"_s, formatTimestamp(sandbox.createdAt)}};
    if (!sandbox.metadata.isEmpty()) {
        QJsonObject metadata;
        for (auto it = sandbox.metadata.cbegin(); it != sandbox.metadata.cend(); ++it)
            metadata.insert(it.key(), it.value());
        json.insert(u"metadata"_s, metadata);
    }
    if (sandbox.expiresAt)
        json.insert(u"expiresAt"_s, formatTimestamp(*sandbox.expiresAt));
    return json;
}

// A query parameter given more than once counts with its last value, as on the real server.
std::optional<QString> lastQueryValue(const QUrlQuery &query, const QString &key)
{
    const QStringList values = query.allQueryItemValues(key, QUrl::FullyDecoded);
    return values.isEmpty() ? std::nullopt : std::optional(values.last());
}

int readPageParameter(BodyReader &reader, const QUrlQuery &query, const QString &key, int fallback,
                      std::optional<qint64> maximum)
{
    const std::optional<QString> text = lastQueryValue(query, key);
    if (!text)
        return fallback;
    const QJsonArray loc{u"query"_s, key};
    const std::optional<qint64> number = reader.integer(*text, loc);
    if (!number || !reader.atLeast(*number, 1, loc, *text))
        return fallback;
    if (maximum && !reader.atMost(*number, *maximum, loc, *text))
        return fallback;
    return int(std::min<qint64>(*number, std::numeric_limits<int>::max()));
}

// One side of a `k=v` pair of the metadata filter. The value was decoded once already as a
// query parameter and is decoded again as a form, so `+` is a space and `%20` too.
QString formDecoded(const QString &text)
{
    QString spaced = text;
    spaced.replace(u'+', u' ');
    return QString::fromUtf8(QByteArray::fromPercentEncoding(spaced.toUtf8()));
}

// The metadata filter's pairs, read as strictly as the real server reads them: every piece
// between `&` must contain `=`, so `a=1&broken`, `a=1&&b=2` and a trailing `&` are refused.
std::optional<QMap<QString, QString>> metadataPairs(const QString &text)
{
    QMap<QString, QString> pairs;
    if (text.isEmpty())
        return pairs;
    for (const QString &piece : text.split(u'&')) {
        const qsizetype equals = piece.indexOf(u'=');
        if (equals < 0)
            return std::nullopt;
        pairs.insert(formDecoded(piece.first(equals)), formDecoded(piece.sliced(equals + 1)));
    }
    return pairs;
}

} // namespace

QJsonObject sandboxJson(const SandboxInfo &sandbox)
{
    QJsonObject json = sandboxCore(sandbox);
    if (!sandbox.image.isEmpty())
        json.insert(u"image"_s, QJsonObject{{u"uri"_s, sandbox.image}});
    return json;
}

QJsonObject createResponseJson(const SandboxInfo &sandbox)
{
    return sandboxCore(sandbox);
}

QJsonObject pageJson(const SandboxPage &page)
{
    QJsonArray items;
    for (const SandboxInfo &sandbox : page.items)
        items.append(sandboxJson(sandbox));
    const QJsonObject pagination{{u"page"_s, page.page},
                                 {u"pageSize"_s, page.pageSize},
                                 {u"totalItems"_s, page.totalItems},
                                 {u"totalPages"_s, page.totalPages},
                                 {u"hasNextPage"_s, page.hasNextPage}};
    return {{u"items"_s, items}, {u"pagination"_s, pagination}};
}

Parsed<SandboxFilter> parseListQuery(const QUrlQuery &query)
{
    // The query's declared parameters are checked before the handler reads `metadata`.
    SandboxFilter filter;
    BodyReader reader;
    filter.page = readPageParameter(reader, query, u"page"_s, filter.page, std::nullopt);
    filter.pageSize = readPageParameter(reader, query, u"pageSize"_s, filter.pageSize, MaxPageSize);
    if (reader.hasIssues())
        return reader.error();

    filter.states = query.allQueryItemValues(u"state"_s, QUrl::FullyDecoded);
    if (const std::optional<QString> metadata = lastQueryValue(query, u"metadata"_s)) {
        const std::optional<QMap<QString, QString>> pairs = metadataPairs(*metadata);
        if (!pairs) {
            return ApiError::coded(400, u"INVALID_METADATA_FORMAT"_s,
                                   u"Invalid metadata filter '%1': it must be key=value pairs joined by '&'."_s
                                       .arg(*metadata));
        }
        filter.metadata = *pairs;
    }
    return filter;
}

Parsed<QMap<QString, std::optional<QString>>> parseMetadataPatch(const QByteArray &body)
{
    const Parsed<QJsonValue> json = parseJsonBody(body);
    if (!json)
        return json.error();
    BodyReader reader;
    if (!json->isObject()) {
        reader.add({u"dict_type"_s, bodyLoc(), u"Input should be a valid dictionary"_s, json.value(), {}});
        return reader.error();
    }

    QMap<QString, std::optional<QString>> patch;
    const QJsonObject object = json->toObject();
    for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
        if (it->isNull())
            patch.insert(it.key(), std::nullopt);
        else if (const std::optional<QString> value = reader.string(*it, locAt(bodyLoc(), it.key())))
            patch.insert(it.key(), *value);
    }
    if (reader.hasIssues())
        return reader.error();

    for (auto it = patch.cbegin(); it != patch.cend(); ++it) {
        const QString problem = it.value() ? metadataEntryProblem(it.key(), *it.value())
                                           : metadataRemovalProblem(it.key());
        // Unlike create, which says SANDBOX::INVALID_METADATA_LABEL, PATCH's code has no namespace.
        if (!problem.isEmpty())
            return ApiError::coded(400, u"INVALID_METADATA_LABEL"_s, problem);
    }
    return patch;
}

Parsed<QDateTime> parseRenewRequest(const QByteArray &body, const QDateTime &now)
{
    const Parsed<QJsonObject> parsed = parseModelBody(body);
    if (!parsed)
        return parsed.error();
    const QJsonObject &object = parsed.value();
    BodyReader reader;
    const std::optional<QJsonValue> value = reader.member(object, u"expiresAt"_s, bodyLoc(), Need::Required);
    if (!value)
        return reader.error();

    const QJsonArray loc = locAt(bodyLoc(), u"expiresAt"_s);
    if (!value->isString()) {
        reader.add({u"datetime_type"_s, loc, u"Input should be a valid datetime"_s, *value, {}});
        return reader.error();
    }
    const QDateTime expiresAt = parseTimestamp(value->toString());
    if (!expiresAt.isValid()) {
        reader.add({u"datetime_parsing"_s, loc,
                    u"Input should be a valid datetime, such as 2026-06-12T10:00:00Z"_s, *value, {}});
        return reader.error();
    }
    if (expiresAt <= now) {
        return ApiError::coded(400, u"DOCKER::INVALID_EXPIRATION"_s,
                               u"New expiration time %1 must be in the future."_s.arg(formatTimestamp(expiresAt)));
    }
    return expiresAt.toUTC();
}

QJsonObject renewResponseJson(const QDateTime &expiresAt)
{
    return {{u"expiresAt"_s, formatTimestamp(expiresAt)}};
}

QJsonObject endpointJson(const QString &host, quint16 serverPort, const QString &sandboxId, quint16 port)
{
    QString authority = host.contains(u':') && !host.startsWith(u'[') ? u'[' + host + u']' : host;
    if (serverPort != 0)
        authority += u':' + QString::number(serverPort);
    return {{u"endpoint"_s, u"%1/sandboxes/%2/proxy/%3"_s.arg(authority, sandboxId).arg(port)}};
}

Parsed<quint16> parseEndpointPort(const QString &text)
{
    BodyReader reader;
    const std::optional<qint64> port = reader.integer(text, QJsonArray{u"path"_s, u"port"_s});
    if (!port)
        return reader.error();
    if (*port < 1 || *port > 65535) {
        return ApiError::coded(400, u"DOCKER::INVALID_PORT"_s,
                               u"Port %1 is out of range: it must be from 1 to 65535."_s.arg(text.trimmed()));
    }
    return quint16(*port);
}

ApiError notFoundError(const QString &sandboxId)
{
    return ApiError::coded(404, u"DOCKER::SANDBOX_NOT_FOUND"_s, u"Sandbox %1 not found."_s.arg(sandboxId));
}

ApiError notRunningError(const QString &sandboxId)
{
    return ApiError::coded(409, u"DOCKER::SANDBOX_NOT_RUNNING"_s,
                           u"Sandbox %1 is not running; only a running sandbox can be paused."_s.arg(sandboxId));
}

ApiError notPausedError(const QString &sandboxId)
{
    return ApiError::coded(409, u"DOCKER::SANDBOX_NOT_PAUSED"_s,
                           u"Sandbox %1 is not paused; only a paused sandbox can be resumed."_s.arg(sandboxId));
}

ApiError noExpiryError(const QString &sandboxId)
{
    return ApiError::coded(409, u"DOCKER::INVALID_EXPIRATION"_s,
                           u"Sandbox %1 has no expiration (manual cleanup), so it cannot be renewed."_s.arg(sandboxId));
}

ApiError missingApiKeyError()
{
    return ApiError::coded(401, u"MISSING_API_KEY"_s,
                           u"Authentication credentials were not provided: send the OPEN-SANDBOX-API-KEY header."_s);
}

ApiError invalidApiKeyError()
{
    return ApiError::coded(401, u"INVALID_API_KEY"_s, u"The API key in OPEN-SANDBOX-API-KEY is not valid."_s);
}

} // namespace Sandflow::Internal
