// Every step's output in the run directory, `<runDir>/<jobDir>/<step>.log`, written as it
// arrives so that `tail -f` follows a running step.
//
// Each line starts with the time of its event (RFC 3339 UTC with milliseconds):
//
//     2026-12-01T19:40:00.123Z out | a line the step wrote to stdout
//     2026-12-01T19:40:00.125Z err | a line it wrote to stderr
//     2026-12-01T19:40:03.000Z --- attempt 2
//     2026-12-01T19:40:09.500Z --- failure after 6.500s: exit status 1
//
// Retries go on in the same file after an `attempt N` line; the last line says how the step
// ended. Past the size limit of a step, one `… truncated` line replaces the rest of its
// output; the attempt and outcome lines are still written.
#pragma once

#include "runevent.h"

#include <QFile>
#include <QHash>
#include <QSet>
#include <QString>
#include <QStringList>

#include <map>
#include <memory>

namespace Sandflow {

class StepLogWriter final : public RunEventSink
{
public:
    static constexpr qint64 DefaultMaxBytesPerStep = 10 * 1024 * 1024;

    /// Writes under `runDirectory`; a step's output lines stop at `maxBytesPerStep` bytes.
    explicit StepLogWriter(const QString &runDirectory,
                           qint64 maxBytesPerStep = DefaultMaxBytesPerStep);
    ~StepLogWriter() override;

    void handle(const RunEvent &event) override;
    void close() override;

    /// The log of a step, relative to the run directory (`test-3.11-tuned/step-1.log`);
    /// empty for a job this writer has not seen.
    QString logPath(const QString &job, const QString &step) const;
    /// Files that could not be written, with why.
    QStringList errors() const { return m_errors; }

    /// A name made safe for a file system: `[A-Za-z0-9._-]` kept, every other run of
    /// characters one `-`, no `-` at either end; `test (3.11, tuned)` → `test-3.11-tuned`.
    static QString safeFileName(const QString &name);

private:
    struct StepLog
    {
        QFile file;
        qint64 outputBytes = 0;
        bool truncated = false;
    };

    QString jobDirectory(const QString &job);
    StepLog *open(const RunEvent &event);
    void write(StepLog &log, const QString &line);

    QString m_runDirectory;
    qint64 m_maxBytes;
    QHash<QString, QString> m_jobDirectories;   ///< job instance name → directory
    std::map<QString, std::unique_ptr<StepLog>> m_open;   ///< by logPath()
    QSet<QString> m_started;                     ///< logPath() of every file written
    QStringList m_errors;
};

} // namespace Sandflow
