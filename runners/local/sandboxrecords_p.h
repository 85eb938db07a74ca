// What the local runner leaves on disk about each live sandbox, so that sandboxes of a run
// that crashed can be listed (`sandflow ls`) and removed (`sandflow gc`) later.
//
// One JSON file per sandbox in <state directory>/sandboxes/<id>.json, written when the
// sandbox starts and removed when it is gone.
#pragma once

#include "runner.h"

#include <QList>
#include <QString>

namespace Sandflow::Internal {

struct SandboxRecord
{
    QString id;
    QString runId;
    qint64 pid = 0;              ///< bubblewrap's outer process
    qint64 pidStartTicks = 0;    ///< its start time, so a reused pid is not mistaken for it
    QString image;
    QDateTime createdAt;

    /// True while the recorded process is still the sandbox's bubblewrap.
    bool isAlive() const;
};

class SandboxRecords
{
public:
    explicit SandboxRecords(QString stateDirectory);

    bool isEnabled() const { return !m_directory.isEmpty(); }
    bool write(const SandboxRecord &record) const;
    void remove(const QString &id) const;
    QList<SandboxRecord> all() const;

    /// The start time of process `pid` in clock ticks since boot (0 when it does not exist).
    static qint64 processStartTicks(qint64 pid);

private:
    QString path(const QString &id) const;

    QString m_directory;
};

} // namespace Sandflow::Internal
