#include "execdbodies_p.h"

#include "wirejson_p.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// Each object of `array` read by `itemFromJson`; std::nullopt at the first it cannot read.
template <typename T>
std::optional<QList<T>> listFromJson(const QJsonArray &array, std::optional<T> (*itemFromJson)(const QJsonObject &, QString *),
                                     QString *problem)
{
    QList<T> items;
    for (const QJsonValue &value : array) {
        std::optional<T> item = itemFromJson(value.toObject(), problem);
        if (!item)
            return std::nullopt;
        items.append(std::move(*item));
    }
    return items;
}


std::optional<QDateTime> optionalTime(const QJsonObject &object, QLatin1StringView key)
{
    const QJsonValue value = object.value(key);
    if (!value.isString())
        return std::nullopt;
    return timeFromJson(value.toString());
}

} // namespace

QJsonObject permissionsJson(const FilePermissions &permissions)
{
    QJsonObject object{{u"mode"_s, modeToDigits(permissions.mode)}};
    if (!permissions.owner.isEmpty())
        object.insert(u"owner"_s, permissions.owner);
    if (!permissions.group.isEmpty())
        object.insert(u"group"_s, permissions.group);
    return object;
}

QJsonObject uploadMetadataJson(const QString &path, const FilePermissions &permissions)
{
    QJsonObject object = permissionsJson(permissions);
    object.insert(u"path"_s, path);
    return object;
}

QJsonObject sessionJson(const QString &cwd)
{
    return cwd.isEmpty() ? QJsonObject() : QJsonObject{{u"cwd"_s, cwd}};
}

QJsonObject sessionRunJson(const CommandRequest &request)
{
    QJsonObject object{{u"command"_s, request.command}};
    if (!request.cwd.isEmpty())
        object.insert(u"cwd"_s, request.cwd);
    if (request.timeoutMs)
        object.insert(u"timeout"_s, *request.timeoutMs);
    return object;
}

QJsonObject codeContextJson(const QString &language, const QString &cwd)
{
    QJsonObject object{{u"language"_s, language}};
    if (!cwd.isEmpty())
        object.insert(u"cwd"_s, cwd);
    return object;
}

QJsonObject runCodeJson(const OpenSandboxCodeContext &context, const QString &code)
{
    QJsonObject contextJson{{u"language"_s, context.language}};
    if (!context.id.isEmpty())
        contextJson.insert(u"id"_s, context.id);
    return {{u"context"_s, contextJson}, {u"code"_s, code}};
}

QJsonObject replaceJson(const QString &path, const QString &before, const QString &after)
{
    return {{path, QJsonObject{{u"old"_s, before}, {u"new"_s, after}}}};
}

QJsonArray moveJson(const QString &from, const QString &to)
{
    return {QJsonObject{{u"src"_s, from}, {u"dest"_s, to}}};
}

QJsonObject pathPermissionsJson(const QString &path, const FilePermissions &permissions)
{
    return {{path, permissionsJson(permissions)}};
}

std::optional<CommandStatus> commandStatusFromJson(const QJsonObject &object, QString *problem)
{
    CommandStatus status;
    status.id = object.value("id"_L1).toString();
    if (status.id.isEmpty()) {
        *problem = u"a command status without an `id`"_s;
        return std::nullopt;
    }
    status.command = object.value("content"_L1).toString();
    status.running = object.value("running"_L1).toBool();
    if (const QJsonValue exitCode = object.value("exit_code"_L1); exitCode.isDouble())
        status.exitCode = exitCode.toInt();
    status.error = object.value("error"_L1).toString();
    status.startedAt = timeFromJson(object.value("started_at"_L1).toString());
    status.finishedAt = optionalTime(object, "finished_at"_L1);
    return status;
}

std::optional<QString> readCommandLogs(const HttpResult &answer, qint64 cursor, CommandLogs &logs)
{
    for (const auto &[name, value] : answer.headers) {
        if (name.compare("EXECD-COMMANDS-TAIL-CURSOR", Qt::CaseInsensitive) != 0)
            continue;
        bool number = false;
        logs.nextCursor = value.trimmed().toLongLong(&number);
        if (!number)
            return u"the EXECD-COMMANDS-TAIL-CURSOR header is not a number: %1"_s.arg(QString::fromLatin1(value));
        // Callers read on from the cursor given: one that stands still under new output, or
        // goes back, would hand them the same output again at every read, for ever.
        if (logs.nextCursor < cursor)
            return u"the log cursor went back from %1 to %2"_s.arg(cursor).arg(logs.nextCursor);
        if (logs.nextCursor == cursor && !answer.body.isEmpty())
            return u"the log cursor stayed at %1 after %2 bytes of output"_s.arg(cursor).arg(answer.body.size());
        logs.data = answer.body;
        return std::nullopt;
    }
    return u"the logs came without an EXECD-COMMANDS-TAIL-CURSOR header"_s;
}

std::optional<QString> sessionIdFromJson(const QJsonObject &object, QString *problem)
{
    const QString id = object.value("session_id"_L1).toString();
    if (id.isEmpty()) {
        *problem = u"a new session without a `session_id`"_s;
        return std::nullopt;
    }
    return id;
}

std::optional<OpenSandboxCodeContext> codeContextFromJson(const QJsonObject &object, QString *problem)
{
    OpenSandboxCodeContext context{object.value("id"_L1).toString(), object.value("language"_L1).toString(),
                                   object.value("cwd"_L1).toString()};
    if (context.id.isEmpty()) {
        *problem = u"a code context without an `id`"_s;
        return std::nullopt;
    }
    return context;
}

std::optional<QList<OpenSandboxCodeContext>> codeContextsFromJson(const QJsonArray &array, QString *problem)
{
    return listFromJson(array, &codeContextFromJson, problem);
}

std::optional<FileInfo> fileInfoFromJson(const QJsonObject &object, QString *problem)
{
    FileInfo info;
    info.path = object.value("path"_L1).toString();
    if (info.path.isEmpty()) {
        *problem = u"file information without a `path`"_s;
        return std::nullopt;
    }
    const std::optional<int> mode = modeFromDigits(object.value("mode"_L1).toInteger());
    if (!mode) {
        *problem = u"the mode of %1 is not octal digits: %2"_s.arg(info.path).arg(object.value("mode"_L1).toInteger());
        return std::nullopt;
    }
    info.mode = *mode;
    info.type = fileTypeFromName(object.value("type"_L1).toString());
    info.size = object.value("size"_L1).toInteger();
    info.modifiedAt = timeFromJson(object.value("modified_at"_L1).toString());
    info.changedAt = timeFromJson(object.value("created_at"_L1).toString());
    info.owner = object.value("owner"_L1).toString();
    info.group = object.value("group"_L1).toString();
    return info;
}

std::optional<QList<FileInfo>> fileInfosFromJson(const QJsonArray &array, QString *problem)
{
    return listFromJson(array, &fileInfoFromJson, problem);
}

std::optional<QList<FileInfo>> fileInfosByPathFromJson(const QJsonObject &object, const QStringList &paths,
                                                       QString *problem)
{
    QList<FileInfo> infos;
    for (const QString &path : paths) {
        if (!object.value(path).isObject()) {
            *problem = u"no information about %1"_s.arg(path);
            return std::nullopt;
        }
        std::optional<FileInfo> info = fileInfoFromJson(object.value(path).toObject(), problem);
        if (!info)
            return std::nullopt;
        infos.append(*info);
    }
    return infos;
}

std::optional<int> replacedCountFromJson(const QJsonObject &object, const QString &path, QString *problem)
{
    const QJsonValue count = object.value(path).toObject().value("replacedCount"_L1);
    if (!count.isDouble()) {
        *problem = u"no `replacedCount` for %1"_s.arg(path);
        return std::nullopt;
    }
    return count.toInt();
}

std::optional<SandboxMetrics> metricsFromJson(const QJsonObject &object, QString *problem)
{
    if (!object.value("cpu_count"_L1).isDouble()) {
        *problem = u"metrics without a `cpu_count`"_s;
        return std::nullopt;
    }
    SandboxMetrics metrics;
    metrics.cpuCount = object.value("cpu_count"_L1).toDouble();
    metrics.cpuUsedPercent = object.value("cpu_used_pct"_L1).toDouble();
    metrics.memoryTotalMiB = object.value("mem_total_mib"_L1).toDouble();
    metrics.memoryUsedMiB = object.value("mem_used_mib"_L1).toDouble();
    metrics.timestamp = QDateTime::fromMSecsSinceEpoch(object.value("timestamp"_L1).toInteger(), Qt::UTC);
    return metrics;
}

} // namespace Sandflow::Internal
