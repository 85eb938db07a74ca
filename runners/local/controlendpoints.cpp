#include "controlendpoints.h"

#include "sandboxrecords_p.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include <algorithm>

namespace Sandflow {

using namespace Qt::StringLiterals;

namespace {

QString endpointsDirectory(const QString &stateDirectory)
{
    return stateDirectory + u"/endpoints"_s;
}

/// The directory, made if missing, readable by its owner only: the files hold API keys.
bool makePrivateDirectory(const QString &path, QString *error)
{
    if (!QDir().mkpath(path)) {
        *error = u"cannot create %1"_s.arg(path);
        return false;
    }
    if (!QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner)) {
        *error = u"cannot make %1 private"_s.arg(path);
        return false;
    }
    return true;
}

} // namespace

ControlEndpointRegistration::ControlEndpointRegistration(QString path)
    : m_path(std::move(path))
{
}

ControlEndpointRegistration::~ControlEndpointRegistration()
{
    QFile::remove(m_path);
}

std::unique_ptr<ControlEndpointRegistration> ControlEndpointRegistration::publish(const QString &stateDirectory,
                                                                                  ControlEndpoint endpoint, QString *error)
{
    const QString directory = endpointsDirectory(stateDirectory);
    if (!makePrivateDirectory(directory, error))
        return nullptr;
    endpoint.pid = QCoreApplication::applicationPid();
    const qint64 startTicks = Internal::SandboxRecords::processStartTicks(endpoint.pid);
    // Named by pid and start time: a reader removing the record of a process that is gone
    // never takes that of a new process that got the same pid.
    const QString path = u"%1/%2-%3.json"_s.arg(directory).arg(endpoint.pid).arg(startTicks);
    QSaveFile file(path);
    // The directory is its owner's alone; the file is made so as well, in case the
    // directory's mode is changed later.
    if (!file.open(QIODevice::WriteOnly)) {
        *error = u"cannot write %1: %2"_s.arg(path, file.errorString());
        return nullptr;
    }
    file.write(QJsonDocument(QJsonObject{{u"url"_s, endpoint.url},
                                         {u"apiKey"_s, endpoint.apiKey},
                                         {u"owner"_s, endpoint.owner},
                                         {u"pid"_s, endpoint.pid},
                                         {u"pidStartTicks"_s, startTicks}})
                   .toJson());
    if (!file.commit()) {
        *error = u"cannot write %1: %2"_s.arg(path, file.errorString());
        return nullptr;
    }
    QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
    return std::unique_ptr<ControlEndpointRegistration>(new ControlEndpointRegistration(path));
}

namespace {

struct RecordedEndpoint
{
    ControlEndpoint endpoint;
    qint64 startTicks = 0;
};

/// The endpoints recorded in `stateDirectory` whose process still runs, in no order; the
/// files of the others are removed.
QList<RecordedEndpoint> readLiveEndpoints(const QString &stateDirectory)
{
    QList<RecordedEndpoint> found;
    const QDir directory(endpointsDirectory(stateDirectory));
    for (const QFileInfo &entry : directory.entryInfoList({u"*.json"_s}, QDir::Files)) {
        QFile file(entry.filePath());
        if (!file.open(QIODevice::ReadOnly))
            continue;
        const QJsonObject object = QJsonDocument::fromJson(file.read(64 * 1024)).object();
        ControlEndpoint endpoint{object.value(u"url"_s).toString(), object.value(u"apiKey"_s).toString(),
                                 object.value(u"owner"_s).toString(), object.value(u"pid"_s).toInteger()};
        const qint64 startTicks = object.value(u"pidStartTicks"_s).toInteger();
        // A pid alone could be another process's by now: its start time says it is the same.
        const bool alive = endpoint.pid > 0 && startTicks > 0
                           && Internal::SandboxRecords::processStartTicks(endpoint.pid) == startTicks;
        if (!alive || endpoint.url.isEmpty()) {
            QFile::remove(entry.filePath());
            continue;
        }
        found.append({endpoint, startTicks});
    }
    return found;
}

} // namespace

QList<ControlEndpoint> liveControlEndpoints(const QString &stateDirectory)
{
    QList<RecordedEndpoint> found = readLiveEndpoints(stateDirectory);
    std::sort(found.begin(), found.end(),
              [](const RecordedEndpoint &a, const RecordedEndpoint &b) { return a.startTicks < b.startTicks; });
    QList<ControlEndpoint> endpoints;
    for (const RecordedEndpoint &each : std::as_const(found))
        endpoints.append(each.endpoint);
    return endpoints;
}

void removeDeadControlEndpoints(const QString &stateDirectory)
{
    readLiveEndpoints(stateDirectory);
}

} // namespace Sandflow
