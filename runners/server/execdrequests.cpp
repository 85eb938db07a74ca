#include "execdrequests_p.h"

#include "execdjsonreader_p.h"

#include <QJsonArray>

#include <limits>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

// Above 2^53 a JSON number is no longer an exact integer.
constexpr qint64 MaxJsonInteger = qint64(1) << 53;

Parsed<QJsonObject> objectBody(const QByteArray &body)
{
    QString error;
    const std::optional<QJsonValue> value = parseExecdJson(body, &error);
    if (!value)
        return invalidRequestBody(error);
    if (!value->isObject())
        return invalidRequestBody(u"the body must be a JSON object"_s);
    return value->toObject();
}

std::optional<qint64> timeout(ExecdFieldReader &fields)
{
    return fields.integer("timeout"_L1, 0, MaxJsonInteger, u"a number of milliseconds, 0 or more"_s);
}

QString requiredString(ExecdFieldReader &fields, QLatin1StringView key)
{
    const QString value = fields.string(key);
    if (value.isEmpty())
        fields.fail(u"`%1` is required"_s.arg(key));
    return value;
}

/// A {"<path>": {...}} body: each path with its object, or the error.
Parsed<QList<std::pair<QString, QJsonObject>>> pathMap(const QByteArray &body, const QString &entryShape)
{
    const Parsed<QJsonObject> object = objectBody(body);
    if (!object.ok())
        return object.error();
    QList<std::pair<QString, QJsonObject>> entries;
    for (auto it = object->begin(); it != object->end(); ++it) {
        if (it.key().isEmpty())
            return invalidRequestBody(u"a path is empty"_s);
        if (!it->isObject())
            return invalidRequestBody(u"`%1` must map to an object %2"_s.arg(it.key(), entryShape));
        entries.append({it.key(), it->toObject()});
    }
    return entries;
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/// `text` decoded as an HTML form encodes it: `+` is a space, %XX a byte.
std::optional<QByteArray> formDecoded(QByteArrayView text)
{
    QByteArray decoded;
    decoded.reserve(text.size());
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+') {
            decoded += ' ';
        } else if (c == '%') {
            const int high = i + 2 < text.size() ? hexValue(text[i + 1]) : -1;
            const int low = i + 2 < text.size() ? hexValue(text[i + 2]) : -1;
            if (high < 0 || low < 0)
                return std::nullopt;
            decoded += char(high << 4 | low);
            i += 2;
        } else {
            decoded += c;
        }
    }
    return decoded;
}

} // namespace

Parsed<CommandRequest> parseCommandBody(const QByteArray &body)
{
    const Parsed<QJsonObject> object = objectBody(body);
    if (!object.ok())
        return object.error();
    ExecdFieldReader fields(object.value());
    CommandRequest request;
    request.command = requiredString(fields, "command"_L1);
    request.cwd = fields.string("cwd"_L1);
    request.env = fields.stringMap("envs"_L1);
    if (const std::optional<qint64> ms = timeout(fields); ms && *ms > 0)
        request.timeoutMs = *ms;
    const qint64 maxId = std::numeric_limits<uint>::max();
    if (const std::optional<qint64> uid = fields.integer("uid"_L1, 0, maxId, u"a user id, 0 or more"_s))
        request.uid = uint(*uid);
    if (const std::optional<qint64> gid = fields.integer("gid"_L1, 0, maxId, u"a group id, 0 or more"_s))
        request.gid = uint(*gid);
    request.background = fields.boolean("background"_L1);
    if (request.gid && !request.uid)
        fields.fail(u"`gid` needs `uid` too"_s);
    if (!fields.ok())
        return invalidRequestBody(fields.error());
    return request;
}

Parsed<QString> parseSessionBody(const QByteArray &body)
{
    if (body.trimmed().isEmpty())
        return QString();
    const Parsed<QJsonObject> object = objectBody(body);
    if (!object.ok())
        return object.error();
    ExecdFieldReader fields(object.value());
    const QString cwd = fields.string("cwd"_L1);
    if (!fields.ok())
        return invalidRequestBody(fields.error());
    return cwd;
}

Parsed<PtyRequest> parsePtyBody(const QByteArray &body)
{
    // Go decodes an empty body and `null` alike: nothing asked.
    if (body.trimmed().isEmpty() || body.trimmed() == "null")
        return PtyRequest{};
    const Parsed<QJsonObject> object = objectBody(body);
    if (!object.ok())
        return object.error();
    ExecdFieldReader fields(object.value());
    PtyRequest request;
    request.cwd = fields.string("cwd"_L1);
    request.command = fields.string("command"_L1);
    request.env = fields.stringMap("envs"_L1);
    if (!fields.ok())
        return invalidRequestBody(fields.error());
    return request;
}

Parsed<CommandRequest> parseSessionRunBody(const QByteArray &body)
{
    const Parsed<QJsonObject> object = objectBody(body);
    if (!object.ok())
        return object.error();
    ExecdFieldReader fields(object.value());
    CommandRequest request;
    request.command = requiredString(fields, "command"_L1);
    request.cwd = fields.string("cwd"_L1);
    const std::optional<qint64> ms = timeout(fields);
    request.timeoutMs = ms && *ms > 0 ? *ms : SessionRunDefaultTimeoutMs;
    if (!fields.ok())
        return invalidRequestBody(fields.error());
    return request;
}

Parsed<QList<PathPermissions>> parsePermissionsBody(const QByteArray &body)
{
    const auto entries = pathMap(body, u"{owner, group, mode}"_s);
    if (!entries.ok())
        return entries.error();
    QList<PathPermissions> list;
    for (const auto &[path, object] : entries.value()) {
        ExecdFieldReader fields(object, u"`%1`"_s.arg(path));
        list.append({path, fields.permissions()});
        if (!fields.ok())
            return invalidRequestBody(fields.error());
    }
    return list;
}

Parsed<QList<FileMove>> parseMoveBody(const QByteArray &body)
{
    QString error;
    const std::optional<QJsonValue> value = parseExecdJson(body, &error);
    if (!value)
        return invalidRequestBody(error);
    if (!value->isArray())
        return invalidRequestBody(u"the body must be a JSON array of {src, dest}"_s);
    const QJsonArray items = value->toArray();
    QList<FileMove> moves;
    for (qsizetype i = 0; i < items.size(); ++i) {
        if (!items[i].isObject())
            return invalidRequestBody(u"item %1 must be an object {src, dest}"_s.arg(i + 1));
        ExecdFieldReader fields(items[i].toObject(), u"item %1"_s.arg(i + 1));
        FileMove move;
        move.source = requiredString(fields, "src"_L1);
        move.destination = requiredString(fields, "dest"_L1);
        if (!fields.ok())
            return invalidRequestBody(fields.error());
        moves.append(move);
    }
    return moves;
}

Parsed<QList<FileReplacement>> parseReplaceBody(const QByteArray &body)
{
    const auto entries = pathMap(body, u"{old, new}"_s);
    if (!entries.ok())
        return entries.error();
    QList<FileReplacement> list;
    for (const auto &[path, object] : entries.value()) {
        ExecdFieldReader fields(object, u"`%1`"_s.arg(path));
        FileReplacement replacement{path, fields.string("old"_L1), fields.string("new"_L1)};
        if (fields.ok() && replacement.before.isEmpty())
            fields.fail(u"`old` must not be empty"_s);
        if (!fields.ok())
            return invalidRequestBody(fields.error());
        list.append(replacement);
    }
    return list;
}

QStringList queryValues(QByteArrayView encodedQuery, QByteArrayView name)
{
    QStringList values;
    qsizetype start = 0;
    while (start <= encodedQuery.size()) {
        qsizetype end = encodedQuery.indexOf('&', start);
        if (end < 0)
            end = encodedQuery.size();
        const QByteArrayView pair = encodedQuery.sliced(start, end - start);
        start = end + 1;
        const qsizetype equals = pair.indexOf('=');
        const std::optional<QByteArray> key = formDecoded(equals < 0 ? pair : pair.first(equals));
        const std::optional<QByteArray> value = formDecoded(equals < 0 ? QByteArrayView() : pair.sliced(equals + 1));
        if (key && value && *key == name)
            values.append(QString::fromUtf8(*value));
    }
    return values;
}

Parsed<QStringList> parsePathQuery(QByteArrayView encodedQuery)
{
    QStringList paths = queryValues(encodedQuery, "path");
    paths.removeAll(QString());
    if (paths.isEmpty())
        return execdError(400, u"MISSING_QUERY"_s, u"missing query parameter `path`"_s);
    return paths;
}

} // namespace Sandflow::Internal
