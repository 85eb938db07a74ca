// What a local sandbox remembers about the commands it ran: execd answers status queries
// for every command, foreground or background, for the sandbox's whole life.
#pragma once

#include "runner.h"

#include <QHash>
#include <QJsonObject>

#include <optional>

namespace Sandflow::Internal {

class CommandTable
{
public:
    struct Entry
    {
        CommandStatus status;
        quint32 channel = 0;     ///< the agent channel it runs on
        QString logPath;         ///< background commands: their combined output, in the sandbox
    };

    /// Records a command just sent to the agent on `channel`; returns its new id.
    QString add(quint32 channel, const QString &command, bool background);
    const Entry *find(const QString &id) const;
    /// The id of the command on `channel`, if it is one of ours.
    std::optional<QString> idOf(quint32 channel) const;

    /// The agent could not start it (`error`).
    void failedToStart(quint32 channel, const QString &error);
    /// It ended; `status` is the agent's Exit frame ({"exitCode"} or {"signal", "timedOut"}).
    void exited(quint32 channel, const QJsonObject &status);

private:
    Entry *findByChannel(quint32 channel);

    QHash<QString, Entry> m_entries;
    QHash<quint32, QString> m_byChannel;
};

} // namespace Sandflow::Internal
