// What the local runner leaves on disk about each live sandbox, so that sandboxes of a run
// that crashed can be listed (`sandflow ls`) and removed (`sandflow gc`) later.
//
// One JSON file per sandbox in <state directory>/sandboxes/<id>.json, written (replaced whole
// through a temporary named after its writer) when the sandbox starts and removed when it is
// gone.
#pragma once

#include "runner.h"

#include <QDateTime>
#include <QList>
#include <QString>

namespace Sandflow::Internal {

struct SandboxRecord
{
    QString id;
    QString runId;
    qint64 pid = 0;              ///< bubblewrap's outer process; 0 while it is being started
    qint64 pidStartTicks = 0;    ///< its start time, so a reused pid is not mistaken for it
    qint64 ownerPid = 0;         ///< the runner that made it (0 in records of older versions)
    qint64 ownerStartTicks = 0;
    QString image;
    QDateTime createdAt;

    /// True while the recorded process is still the sandbox's bubblewrap.
    bool processRemains() const;
    /// True while the sandbox is in use: its bubblewrap is there (or is still being started)
    /// and so is its runner. A sandbox outlives its runner only when it cannot die with it
    /// (frozen by a pause).
    bool isAlive() const;
};

class SandboxRecords
{
public:
    explicit SandboxRecords(QString stateDirectory);

    bool isEnabled() const { return !m_directory.isEmpty(); }
    bool write(const SandboxRecord &record) const;
    void remove(const QString &id) const;
    /// Removes what writes cut short by a crash left (`<id>.json.<writer pid>-<its start
    /// time>.tmp`): those of writers that are gone, and any older than a minute. How many it
    /// removed.
    int removeAbandonedTemporaries() const;
    QList<SandboxRecord> all() const;

    /// The start time of process `pid` in clock ticks since boot (0 when it does not exist).
    static qint64 processStartTicks(qint64 pid);

private:
    static constexpr char TemporarySuffix[] = ".tmp";

    QString path(const QString &id) const;

    QString m_directory;
};

} // namespace Sandflow::Internal
