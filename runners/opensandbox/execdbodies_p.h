// execd's request and answer bodies beyond POST /command: sessions, code contexts, files,
// directories and metrics, field names exactly as on the wire (snake_case). Permission
// modes travel as execd writes them, octal digits read as a decimal number (0755 is 755),
// and execd's times are RFC 3339 with its own offset.
#pragma once

#include "httpcall_p.h"
#include "opensandboxclient.h"

#include <QJsonArray>
#include <QJsonObject>

#include <optional>

namespace Sandflow::Internal {

/// {owner?, group?, mode}: what /files/permissions, /directories and an upload's metadata
/// apply to a path. A mode of 0 is sent as 0, which execd and `sandflow serve` read as
/// "leave the mode alone"; an empty owner or group is left out.
QJsonObject permissionsJson(const FilePermissions &permissions);
/// The `metadata` part of POST /files/upload: {path} and permissionsJson.
QJsonObject uploadMetadataJson(const QString &path, const FilePermissions &permissions);
/// POST /session: {cwd?}.
QJsonObject sessionJson(const QString &cwd);
/// POST /session/{id}/run: {command, cwd?, timeout?} (milliseconds).
QJsonObject sessionRunJson(const CommandRequest &request);
/// POST /code/context: {language, cwd?}.
QJsonObject codeContextJson(const QString &language, const QString &cwd);
/// POST /code: {context: {id?, language}, code}.
QJsonObject runCodeJson(const OpenSandboxCodeContext &context, const QString &code);
/// POST /files/replace: {path: {old, new}}.
QJsonObject replaceJson(const QString &path, const QString &before, const QString &after);
/// POST /files/mv: [{src, dest}].
QJsonArray moveJson(const QString &from, const QString &to);
/// POST /files/permissions and POST /directories: {path: permissionsJson}.
QJsonObject pathPermissionsJson(const QString &path, const FilePermissions &permissions);

/// CommandStatusResponse: {id, content, running, exit_code?, error?, started_at, finished_at?}.
std::optional<CommandStatus> commandStatusFromJson(const QJsonObject &object, QString *problem);
/// GET /command/{id}/logs?cursor=`cursor`: the body as it is (text/plain), the next cursor
/// from the EXECD-COMMANDS-TAIL-CURSOR header. Returns the problem when there is no cursor,
/// or one that is before `cursor`, or equal to it although output came.
std::optional<QString> readCommandLogs(const HttpResult &answer, qint64 cursor, CommandLogs &logs);
/// CreateSessionResponse: {session_id}.
std::optional<QString> sessionIdFromJson(const QJsonObject &object, QString *problem);
/// CodeContext: {id, language, cwd?}.
std::optional<OpenSandboxCodeContext> codeContextFromJson(const QJsonObject &object, QString *problem);
/// GET /code/contexts: [CodeContext].
std::optional<QList<OpenSandboxCodeContext>> codeContextsFromJson(const QJsonArray &array, QString *problem);
/// FileInfo: {path, type, size, modified_at, created_at, owner, group, mode}.
std::optional<FileInfo> fileInfoFromJson(const QJsonObject &object, QString *problem);
/// GET /files/search and /directories/list: [FileInfo].
std::optional<QList<FileInfo>> fileInfosFromJson(const QJsonArray &array, QString *problem);
/// GET /files/info: {path: FileInfo} keyed by each path as sent, read in the order of `paths`.
std::optional<QList<FileInfo>> fileInfosByPathFromJson(const QJsonObject &object, const QStringList &paths,
                                                       QString *problem);
/// POST /files/replace?verbose=true: {path: {replacedCount}}, the count of `path`.
std::optional<int> replacedCountFromJson(const QJsonObject &object, const QString &path, QString *problem);
/// Metrics: {cpu_count, cpu_used_pct, mem_total_mib, mem_used_mib, timestamp} (Unix ms).
std::optional<SandboxMetrics> metricsFromJson(const QJsonObject &object, QString *problem);

} // namespace Sandflow::Internal
