#include "commandtable_p.h"

#include <QUuid>

#include <cstring>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

QString CommandTable::add(quint32 channel, const QString &command, bool background)
{
    Entry entry;
    entry.status.id = QUuid::createUuid().toString(QUuid::Id128);
    entry.status.command = command;
    entry.status.running = true;
    entry.status.startedAt = QDateTime::currentDateTimeUtc();
    entry.channel = channel;
    // Hidden in the sandbox's /tmp, where execd keeps its logs too; gone with the sandbox.
    if (background)
        entry.logPath = u"/tmp/.sandflow-command-%1.log"_s.arg(entry.status.id);
    m_byChannel.insert(channel, entry.status.id);
    const QString id = entry.status.id;
    m_entries.insert(id, std::move(entry));
    return id;
}

const CommandTable::Entry *CommandTable::find(const QString &id) const
{
    const auto it = m_entries.constFind(id);
    return it == m_entries.cend() ? nullptr : &*it;
}

std::optional<QString> CommandTable::idOf(quint32 channel) const
{
    const auto it = m_byChannel.constFind(channel);
    return it == m_byChannel.cend() ? std::nullopt : std::optional<QString>(*it);
}

CommandTable::Entry *CommandTable::findByChannel(quint32 channel)
{
    const auto id = m_byChannel.constFind(channel);
    if (id == m_byChannel.cend())
        return nullptr;
    const auto it = m_entries.find(*id);
    return it == m_entries.end() ? nullptr : &*it;
}

void CommandTable::failedToStart(quint32 channel, const QString &error)
{
    Entry *entry = findByChannel(channel);
    if (!entry)
        return;
    entry->status.running = false;
    entry->status.exitCode = -1;
    entry->status.error = error;
    entry->status.finishedAt = QDateTime::currentDateTimeUtc();
    m_byChannel.remove(channel);
}

// The wording follows execd (Go's exec errors): "exit status 3", "signal: killed".
void CommandTable::exited(quint32 channel, const QJsonObject &status)
{
    Entry *entry = findByChannel(channel);
    if (!entry)
        return;
    entry->status.running = false;
    entry->status.finishedAt = QDateTime::currentDateTimeUtc();
    if (status.contains(u"exitCode"_s)) {
        const int code = status.value(u"exitCode"_s).toInt();
        entry->status.exitCode = code;
        if (code != 0)
            entry->status.error = u"exit status %1"_s.arg(code);
    } else {
        entry->status.exitCode = -1;
        entry->status.error = u"signal: "_s
            + QString::fromLocal8Bit(strsignal(status.value(u"signal"_s).toInt())).toLower();
    }
    m_byChannel.remove(channel);
}

} // namespace Sandflow::Internal
