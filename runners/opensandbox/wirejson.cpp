#include "wirejson_p.h"

#include "networkpolicyjson.h"
#include "sandboxspecjson_p.h"

#include <QJsonArray>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

QJsonObject stringMapJson(const QMap<QString, QString> &map)
{
    QJsonObject object;
    for (auto it = map.cbegin(); it != map.cend(); ++it)
        object.insert(it.key(), it.value());
    return object;
}

QMap<QString, QString> stringMapFromJson(const QJsonValue &value)
{
    QMap<QString, QString> map;
    const QJsonObject object = value.toObject();
    for (auto it = object.constBegin(); it != object.constEnd(); ++it)
        map.insert(it.key(), it.value().toString());
    return map;
}

} // namespace

QJsonObject createSandboxJson(const OpenSandboxCreateRequest &request)
{
    // The same fields the SDKs send, so that servers validating them see nothing new.
    QJsonObject object{{u"image"_s, QJsonObject{{u"uri"_s, request.image}}},
                       {u"entrypoint"_s, QJsonArray::fromStringList(request.entrypoint)},
                       {u"resourceLimits"_s, stringMapJson(request.resourceLimits)},
                       {u"env"_s, stringMapJson(request.env)},
                       {u"metadata"_s, stringMapJson(request.metadata)},
                       {u"secureAccess"_s, false},
                       {u"extensions"_s, QJsonObject()}};
    if (!request.volumes.isEmpty())
        object.insert(u"volumes"_s, volumesJson(request.volumes));
    if (request.networkPolicy)
        object.insert(u"networkPolicy"_s, networkPolicyJson(*request.networkPolicy));
    // Absent, not null, means "until deleted".
    if (request.timeoutSeconds)
        object.insert(u"timeout"_s, *request.timeoutSeconds);
    return object;
}

QueryItems listSandboxesQuery(const SandboxFilter &filter)
{
    QueryItems query;
    for (const QString &state : filter.states)
        query.append({u"state"_s, state});
    if (!filter.metadata.isEmpty()) {
        // One parameter holding a form-encoded string; keys and values are label-safe, so
        // they are joined unescaped as the SDKs do, and the whole value is encoded once.
        QStringList pairs;
        for (auto it = filter.metadata.cbegin(); it != filter.metadata.cend(); ++it)
            pairs.append(it.key() + u'=' + it.value());
        query.append({u"metadata"_s, pairs.join(u'&')});
    }
    query.append({u"page"_s, QString::number(filter.page)});
    query.append({u"pageSize"_s, QString::number(filter.pageSize)});
    return query;
}

QJsonObject renewExpirationJson(const QDateTime &expiresAt)
{
    return {{u"expiresAt"_s, expiresAt.toUTC().toString(Qt::ISODateWithMs)}};
}

QJsonObject metadataPatchJson(const QMap<QString, std::optional<QString>> &patch)
{
    QJsonObject object;
    for (auto it = patch.cbegin(); it != patch.cend(); ++it)
        object.insert(it.key(), it.value() ? QJsonValue(*it.value()) : QJsonValue(QJsonValue::Null));
    return object;
}

QJsonObject commandJson(const CommandRequest &request)
{
    QJsonObject object{{u"command"_s, request.command}, {u"background"_s, request.background}};
    if (!request.cwd.isEmpty())
        object.insert(u"cwd"_s, request.cwd);
    if (!request.env.isEmpty())
        object.insert(u"envs"_s, stringMapJson(request.env));
    if (request.timeoutMs)
        object.insert(u"timeout"_s, *request.timeoutMs);   // execd counts milliseconds here
    if (request.uid)
        object.insert(u"uid"_s, qint64(*request.uid));
    if (request.gid)
        object.insert(u"gid"_s, qint64(*request.gid));
    return object;
}

RequestSpec withJsonBody(RequestSpec spec, const QJsonDocument &body)
{
    spec.contentType = "application/json";
    spec.body = body.toJson(QJsonDocument::Compact);
    return spec;
}

QDateTime timeFromJson(const QString &text)
{
    QDateTime time = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (time.isValid() && time.timeSpec() == Qt::LocalTime)
        time.setTimeSpec(Qt::UTC);
    return time;
}

std::optional<SandboxInfo> sandboxFromJson(const QJsonObject &object, QString *problem)
{
    SandboxInfo info;
    info.id = object.value("id"_L1).toString();
    if (info.id.isEmpty()) {
        *problem = u"a sandbox without an `id`"_s;
        return std::nullopt;
    }
    const QJsonObject status = object.value("status"_L1).toObject();
    info.state = sandboxStateFromName(status.value("state"_L1).toString());
    info.reason = status.value("reason"_L1).toString();
    info.image = object.value("image"_L1).toObject().value("uri"_L1).toString();
    for (const QJsonValue &argument : object.value("entrypoint"_L1).toArray())
        info.entrypoint.append(argument.toString());
    info.metadata = stringMapFromJson(object.value("metadata"_L1));
    info.metadata.remove(CreateTokenKey);
    info.createdAt = timeFromJson(object.value("createdAt"_L1).toString());
    if (const QJsonValue expires = object.value("expiresAt"_L1); expires.isString())
        info.expiresAt = timeFromJson(expires.toString());
    return info;
}

std::optional<SandboxPage> sandboxPageFromJson(const QJsonObject &object, QString *problem)
{
    if (!object.value("items"_L1).isArray()) {
        *problem = u"a sandbox list without `items`"_s;
        return std::nullopt;
    }
    SandboxPage page;
    for (const QJsonValue &item : object.value("items"_L1).toArray()) {
        std::optional<SandboxInfo> info = sandboxFromJson(item.toObject(), problem);
        if (!info)
            return std::nullopt;
        page.items.append(*info);
    }
    const QJsonObject pagination = object.value("pagination"_L1).toObject();
    page.page = pagination.value("page"_L1).toInt(1);
    page.pageSize = pagination.value("pageSize"_L1).toInt(int(page.items.size()));
    page.totalItems = pagination.value("totalItems"_L1).toInt(int(page.items.size()));
    page.totalPages = pagination.value("totalPages"_L1).toInt(page.items.isEmpty() ? 0 : 1);
    page.hasNextPage = pagination.value("hasNextPage"_L1).toBool(false);
    return page;
}

std::optional<OpenSandboxEndpoint> endpointFromJson(const QJsonObject &object, QString *problem)
{
    OpenSandboxEndpoint endpoint;
    endpoint.endpoint = object.value("endpoint"_L1).toString();
    if (endpoint.endpoint.isEmpty()) {
        *problem = u"an endpoint without `endpoint`"_s;
        return std::nullopt;
    }
    const QJsonObject headers = object.value("headers"_L1).toObject();
    for (auto it = headers.constBegin(); it != headers.constEnd(); ++it)
        endpoint.headers.append({it.key().toLatin1(), it.value().toString().toUtf8()});
    return endpoint;
}

std::optional<QDateTime> expiresAtFromJson(const QJsonObject &object, QString *problem)
{
    const QDateTime expiresAt = timeFromJson(object.value("expiresAt"_L1).toString());
    if (!expiresAt.isValid()) {
        *problem = u"a renewal answer without a valid `expiresAt`"_s;
        return std::nullopt;
    }
    return expiresAt;
}

} // namespace Sandflow::Internal
