// OpenSandboxClient's files, directories and metrics: execd's /files, /directories and
// /metrics routes.
#include "opensandboxclient.h"

#include "execdbodies_p.h"
#include "restjob_p.h"
#include "transferjobs_p.h"
#include "wirejson_p.h"

#include <QFile>

namespace Sandflow {

using namespace Qt::StringLiterals;
using namespace Internal;

namespace {

/// `path=` once for each of `paths`, as execd's routes that take several read them.
QueryItems pathQuery(const QStringList &paths)
{
    QueryItems query;
    for (const QString &path : paths)
        query.append({u"path"_s, path});
    return query;
}

} // namespace

ResultJob<QList<FileInfo>> *OpenSandboxClient::fileInfo(const OpenSandboxEndpoint &execd, const QStringList &paths)
{
    return new RestJob<QList<FileInfo>>(*m_transport, m_transport->execd(execd, "GET", u"/files/info"_s, pathQuery(paths)),
                                        jsonReader([paths](const QJsonObject &object, QString *problem) {
                                            return fileInfosByPathFromJson(object, paths, problem);
                                        }));
}

ResultJob<QList<FileInfo>> *OpenSandboxClient::searchFiles(const OpenSandboxEndpoint &execd, const QString &directory,
                                                           const QString &pattern)
{
    return new RestJob<QList<FileInfo>>(
        *m_transport,
        m_transport->execd(execd, "GET", u"/files/search"_s, {{u"path"_s, directory}, {u"pattern"_s, pattern}}),
        jsonReader<QJsonArray>(&fileInfosFromJson));
}

ResultJob<QList<FileInfo>> *OpenSandboxClient::listDirectory(const OpenSandboxEndpoint &execd, const QString &directory,
                                                             int depth)
{
    return new RestJob<QList<FileInfo>>(
        *m_transport,
        m_transport->execd(execd, "GET", u"/directories/list"_s,
                           {{u"path"_s, directory}, {u"depth"_s, QString::number(depth)}}),
        jsonReader<QJsonArray>(&fileInfosFromJson));
}

ResultJob<int> *OpenSandboxClient::replaceInFile(const OpenSandboxEndpoint &execd, const QString &path,
                                                 const QString &before, const QString &after)
{
    return new RestJob<int>(*m_transport,
                            withJsonBody(m_transport->execd(execd, "POST", u"/files/replace"_s, {{u"verbose"_s, u"true"_s}}),
                                         QJsonDocument(replaceJson(path, before, after))),
                            jsonReader([path](const QJsonObject &object, QString *problem) {
                                return replacedCountFromJson(object, path, problem);
                            }));
}

AsyncJob *OpenSandboxClient::setPermissions(const OpenSandboxEndpoint &execd, const QString &path,
                                            const FilePermissions &permissions)
{
    return new RestJob<Nothing>(*m_transport, withJsonBody(m_transport->execd(execd, "POST", u"/files/permissions"_s),
                                                           QJsonDocument(pathPermissionsJson(path, permissions))));
}

AsyncJob *OpenSandboxClient::moveFile(const OpenSandboxEndpoint &execd, const QString &from, const QString &to)
{
    return new RestJob<Nothing>(*m_transport, withJsonBody(m_transport->execd(execd, "POST", u"/files/mv"_s),
                                                           QJsonDocument(moveJson(from, to))));
}

AsyncJob *OpenSandboxClient::removeFiles(const OpenSandboxEndpoint &execd, const QStringList &paths)
{
    return new RestJob<Nothing>(*m_transport, m_transport->execd(execd, "DELETE", u"/files"_s, pathQuery(paths)));
}

AsyncJob *OpenSandboxClient::makeDirectory(const OpenSandboxEndpoint &execd, const QString &path,
                                           const FilePermissions &permissions)
{
    return new RestJob<Nothing>(*m_transport, withJsonBody(m_transport->execd(execd, "POST", u"/directories"_s),
                                                           QJsonDocument(pathPermissionsJson(path, permissions))));
}

AsyncJob *OpenSandboxClient::removeDirectory(const OpenSandboxEndpoint &execd, const QString &path)
{
    return new RestJob<Nothing>(*m_transport, m_transport->execd(execd, "DELETE", u"/directories"_s, pathQuery({path})));
}

AsyncJob *OpenSandboxClient::uploadFile(const OpenSandboxEndpoint &execd, const QString &localPath, const QString &path,
                                        const FilePermissions &permissions)
{
    return uploadFile(execd, new QFile(localPath), path, permissions);
}

AsyncJob *OpenSandboxClient::uploadFile(const OpenSandboxEndpoint &execd, QIODevice *source, const QString &path,
                                        const FilePermissions &permissions)
{
    return new UploadJob(*m_transport, execd, std::unique_ptr<QIODevice>(source), path, permissions);
}

AsyncJob *OpenSandboxClient::downloadFile(const OpenSandboxEndpoint &execd, const QString &path, QIODevice *destination)
{
    return new ReadFileJob(*m_transport, execd, path, 0, -1, destination);
}

FileReadJob *OpenSandboxClient::readFile(const OpenSandboxEndpoint &execd, const QString &path, qint64 offset,
                                         qint64 length)
{
    return new ReadFileJob(*m_transport, execd, path, offset, length);
}

ResultJob<SandboxMetrics> *OpenSandboxClient::metrics(const OpenSandboxEndpoint &execd)
{
    return new RestJob<SandboxMetrics>(*m_transport, m_transport->execd(execd, "GET", u"/metrics"_s),
                                       jsonReader(&metricsFromJson));
}

} // namespace Sandflow
