#include "sandboxrecords_p.h"

#include <QDir>
#include <QFileInfo>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <cstdio>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

qint64 SandboxRecords::processStartTicks(qint64 pid)
{
    QFile stat(u"/proc/%1/stat"_s.arg(pid));
    if (pid <= 0 || !stat.open(QIODevice::ReadOnly))
        return 0;
    // "pid (comm) state ppid ..." and comm may hold spaces: count fields after its ')'.
    // starttime is field 22, the 20th after the ')'.
    const QByteArray line = stat.readAll();
    const QList<QByteArray> fields = line.mid(line.lastIndexOf(')') + 2).split(' ');
    return fields.size() > 19 ? fields.at(19).toLongLong() : 0;
}

bool SandboxRecord::processRemains() const
{
    return pid > 0 && SandboxRecords::processStartTicks(pid) == pidStartTicks;
}

bool SandboxRecord::isAlive() const
{
    const bool ownerRemains = ownerPid <= 0 || SandboxRecords::processStartTicks(ownerPid) == ownerStartTicks;
    // Recorded before it has a process: a sandbox being made lives while its runner does.
    const bool beingMade = pid <= 0 && ownerPid > 0;
    return ownerRemains && (beingMade || processRemains());
}

SandboxRecords::SandboxRecords(QString stateDirectory)
    : m_directory(stateDirectory.isEmpty() ? QString() : stateDirectory + u"/sandboxes"_s)
{
}

QString SandboxRecords::path(const QString &id) const
{
    return u"%1/%2.json"_s.arg(m_directory, id);
}

// Replaced whole by a rename, so a reader never sees half a record, but not flushed to disk:
// the page cache outlives a crash of the runner, and after a power loss nothing a record
// names still runs (cgroups and processes are gone) while what stays on disk, the layers,
// `gc` finds by listing them. A flush costs each start a millisecond or more.
bool SandboxRecords::write(const SandboxRecord &record) const
{
    if (!isEnabled() || !QDir().mkpath(m_directory))
        return false;
    // Named after its writer, the record's owner, so that `gc` knows at once one whose
    // writer is gone.
    const QString temporary = u"%1.%2-%3%4"_s.arg(path(record.id)).arg(record.ownerPid).arg(record.ownerStartTicks)
                                  .arg(QLatin1StringView(TemporarySuffix));
    QFile file(temporary);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    const QByteArray json = QJsonDocument(QJsonObject{{u"id"_s, record.id},
                                                      {u"runId"_s, record.runId},
                                                      {u"pid"_s, record.pid},
                                                      {u"pidStartTicks"_s, record.pidStartTicks},
                                                      {u"ownerPid"_s, record.ownerPid},
                                                      {u"ownerStartTicks"_s, record.ownerStartTicks},
                                                      {u"image"_s, record.image},
                                                      {u"createdAt"_s, record.createdAt.toString(Qt::ISODateWithMs)}})
                                .toJson(QJsonDocument::Compact);
    const bool written = file.write(json) == json.size() && file.flush();
    file.close();
    if (!written || ::rename(QFile::encodeName(temporary).constData(), QFile::encodeName(path(record.id)).constData()) != 0) {
        QFile::remove(temporary);
        return false;
    }
    return true;
}

void SandboxRecords::remove(const QString &id) const
{
    if (isEnabled())
        QFile::remove(path(id));
}

int SandboxRecords::removeAbandonedTemporaries() const
{
    int removed = 0;
    if (!isEnabled())
        return removed;
    static const QRegularExpression writerOf(u"\\.(\\d+)-(\\d+)\\.tmp$"_s);
    const QDateTime old = QDateTime::currentDateTime().addSecs(-60);
    const QFileInfoList temporaries = QDir(m_directory).entryInfoList({u"*"_s + QLatin1StringView(TemporarySuffix)}, QDir::Files);
    for (const QFileInfo &temporary : temporaries) {
        const QRegularExpressionMatch writer = writerOf.match(temporary.fileName());
        const bool writerGone = writer.hasMatch()
                                && processStartTicks(writer.captured(1).toLongLong()) != writer.captured(2).toLongLong();
        if ((writerGone || temporary.lastModified() < old) && QFile::remove(temporary.filePath()))
            ++removed;
    }
    return removed;
}

QList<SandboxRecord> SandboxRecords::all() const
{
    QList<SandboxRecord> records;
    if (!isEnabled())
        return records;
    const QDir dir(m_directory);
    for (const QString &name : dir.entryList({u"*.json"_s}, QDir::Files, QDir::Name)) {
        QFile file(dir.filePath(name));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        const QJsonObject object = QJsonDocument::fromJson(file.readAll()).object();
        // A record that does not parse was cut short by a crash: its id is still in its name.
        SandboxRecord record;
        record.id = object.value(u"id"_s).toString(name.chopped(5));
        record.runId = object.value(u"runId"_s).toString();
        record.pid = object.value(u"pid"_s).toInteger();
        record.pidStartTicks = object.value(u"pidStartTicks"_s).toInteger();
        record.ownerPid = object.value(u"ownerPid"_s).toInteger();
        record.ownerStartTicks = object.value(u"ownerStartTicks"_s).toInteger();
        record.image = object.value(u"image"_s).toString();
        record.createdAt = QDateTime::fromString(object.value(u"createdAt"_s).toString(), Qt::ISODateWithMs);
        records.append(record);
    }
    return records;
}

} // namespace Sandflow::Internal
