// LocalRunner: files and directories, through the agent's file tool inside the sandbox.
#include "localrunner.h"

#include "agenttool_p.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>

namespace Sandflow {

using namespace Qt::StringLiterals;
using Internal::AgentToolJob;

namespace {

/// Where relative paths and `~` lead: the sandbox's working directory, which is also HOME.
const QString WorkingDirectory = u"/workspace"_s;

QString sandboxPath(const QString &path)
{
    QString absolute = path;
    if (absolute == u"~"_s || absolute.startsWith(u"~/"_s))
        absolute = WorkingDirectory + absolute.mid(1);
    else if (!absolute.isEmpty() && !absolute.startsWith(u'/'))
        absolute = WorkingDirectory + u'/' + absolute;
    return QDir::cleanPath(absolute);
}

QStringList permissionArguments(const FilePermissions &permissions)
{
    return {QString::number(permissions.mode & 07777, 8), permissions.owner, permissions.group};
}

// Held to what FileInfo promises, whatever the tool says: servers pass these figures on.
FileInfo fileInfoFromJson(const QJsonObject &object)
{
    FileInfo info;
    info.path = object.value(u"path"_s).toString();
    info.type = fileTypeFromName(object.value(u"type"_s).toString());
    info.size = std::max<qint64>(object.value(u"size"_s).toInteger(), 0);
    info.modifiedAt = QDateTime::fromMSecsSinceEpoch(object.value(u"modifiedAt"_s).toInteger(), Qt::UTC);
    info.changedAt = QDateTime::fromMSecsSinceEpoch(object.value(u"changedAt"_s).toInteger(), Qt::UTC);
    info.owner = object.value(u"owner"_s).toString();
    info.group = object.value(u"group"_s).toString();
    info.mode = object.value(u"mode"_s).toInt() & 0777;
    return info;
}

JobError malformedToolOutput()
{
    return {JobError::Kind::Infra, u"FILE_TOOL_FAILED"_s, u"the sandbox's file tool answered something unreadable"_s, {}};
}

std::optional<JobError> parseFileList(const QByteArray &bytes, QList<FileInfo> &files)
{
    const QJsonDocument document = QJsonDocument::fromJson(bytes);
    if (!document.isArray())
        return malformedToolOutput();
    for (const QJsonValue &entry : document.array())
        files.append(fileInfoFromJson(entry.toObject()));
    return std::nullopt;
}

std::optional<JobError> parseFile(const QByteArray &bytes, FileInfo &file)
{
    const QJsonDocument document = QJsonDocument::fromJson(bytes);
    if (!document.isObject())
        return malformedToolOutput();
    file = fileInfoFromJson(document.object());
    return std::nullopt;
}

} // namespace

ResultJob<QList<FileInfo>> *LocalRunner::fileInfo(const QString &sandboxId, const QStringList &paths)
{
    QStringList arguments = {u"info"_s};
    for (const QString &path : paths)
        arguments.append(sandboxPath(path));
    // One entry for each path, in order, as callers read them.
    return new AgentToolJob<QList<FileInfo>>(this, sandboxId, arguments,
                                             [count = paths.size()](const QByteArray &bytes, QList<FileInfo> &files) {
                                                 std::optional<JobError> error = parseFileList(bytes, files);
                                                 if (!error && files.size() != count)
                                                     return std::optional<JobError>(malformedToolOutput());
                                                 return error;
                                             });
}

ResultJob<FileInfo> *LocalRunner::uploadFile(const QString &sandboxId, const QString &path,
                                             const FilePermissions &permissions, QIODevice *source)
{
    return new AgentToolJob<FileInfo>(this, sandboxId, QStringList{u"write"_s, sandboxPath(path)}
                                          + permissionArguments(permissions),
                                      parseFile, std::unique_ptr<QIODevice>(source));
}

FileReadJob *LocalRunner::downloadFile(const QString &sandboxId, const QString &path, qint64 offset, qint64 length)
{
    auto *job = new Internal::AgentReadJob(this, sandboxId, {u"fs"_s, u"read"_s, sandboxPath(path),
                                                             QString::number(offset),
                                                             QString::number(length < 0 ? -1 : length)});
    // A range is the bytes asked for and no more: `sandflow serve` sends it on as a body
    // whose length it has announced.
    if (length >= 0)
        job->setOutputLimit(length);
    return job;
}

ResultJob<QList<FileInfo>> *LocalRunner::searchFiles(const QString &sandboxId, const QString &directory,
                                                     const QString &pattern)
{
    return new AgentToolJob<QList<FileInfo>>(this, sandboxId, {u"search"_s, sandboxPath(directory), pattern},
                                             parseFileList);
}

ResultJob<QList<FileInfo>> *LocalRunner::listDirectory(const QString &sandboxId, const QString &directory, int depth)
{
    return new AgentToolJob<QList<FileInfo>>(this, sandboxId,
                                             {u"list"_s, sandboxPath(directory), QString::number(std::max(depth, 0))},
                                             parseFileList);
}

ResultJob<int> *LocalRunner::replaceInFile(const QString &sandboxId, const QString &path, const QString &before,
                                           const QString &after)
{
    return new AgentToolJob<int>(this, sandboxId, {u"replace"_s, sandboxPath(path), before, after},
                                 [](const QByteArray &bytes, int &count) -> std::optional<JobError> {
                                     const QJsonObject object = QJsonDocument::fromJson(bytes).object();
                                     if (!object.contains(u"replacedCount"_s))
                                         return malformedToolOutput();
                                     count = object.value(u"replacedCount"_s).toInt();
                                     return std::nullopt;
                                 });
}

AsyncJob *LocalRunner::setPermissions(const QString &sandboxId, const QString &path, const FilePermissions &permissions)
{
    return new AgentToolJob<std::monostate>(this, sandboxId,
                                            QStringList{u"chmod"_s, sandboxPath(path)} + permissionArguments(permissions),
                                            Internal::ignoreOutput);
}

AsyncJob *LocalRunner::moveFile(const QString &sandboxId, const QString &from, const QString &to)
{
    return new AgentToolJob<std::monostate>(this, sandboxId, {u"move"_s, sandboxPath(from), sandboxPath(to)},
                                            Internal::ignoreOutput);
}

AsyncJob *LocalRunner::removeFile(const QString &sandboxId, const QString &path)
{
    return new AgentToolJob<std::monostate>(this, sandboxId, {u"remove"_s, sandboxPath(path)}, Internal::ignoreOutput);
}

AsyncJob *LocalRunner::makeDirectory(const QString &sandboxId, const QString &path, const FilePermissions &permissions)
{
    return new AgentToolJob<std::monostate>(this, sandboxId,
                                            QStringList{u"mkdir"_s, sandboxPath(path)} + permissionArguments(permissions),
                                            Internal::ignoreOutput);
}

AsyncJob *LocalRunner::removeDirectory(const QString &sandboxId, const QString &path)
{
    return new AgentToolJob<std::monostate>(this, sandboxId, {u"rmdir"_s, sandboxPath(path)}, Internal::ignoreOutput);
}

} // namespace Sandflow
