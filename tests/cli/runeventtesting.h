// What the suites that feed the run views share: run events made in a few words, at
// fixed times, so that a frame reads the same at every run.
#pragma once

#include "runevent.h"

#include <QDate>
#include <QDateTime>
#include <QTime>
#include <QTimeZone>

namespace RunEventTesting {

using namespace Qt::StringLiterals;
using Type = Sandflow::RunEvent::Type;

/// `ms` milliseconds after a fixed start.
inline QDateTime at(qint64 ms)
{
    return QDateTime(QDate(2026, 12, 1), QTime(19, 40), QTimeZone::utc()).addMSecs(ms);
}

/// An event of run `r1`; a job's id defaults to its name.
inline Sandflow::RunEvent makeEvent(Type type, qint64 ms, const QString &job = {}, const QString &jobId = {})
{
    Sandflow::RunEvent e;
    e.type = type;
    e.time = at(ms);
    e.runId = u"r1"_s;
    e.job = job;
    e.jobId = jobId.isEmpty() ? job : jobId;
    return e;
}

/// An event of a step's first attempt.
inline Sandflow::RunEvent step(Type type, qint64 ms, const QString &job, const QString &id, const QString &name = {})
{
    Sandflow::RunEvent e = makeEvent(type, ms, job);
    e.step = id;
    e.stepName = name;
    e.attempt = 1;
    return e;
}

/// The end of a run, job or step; the job's id is the first word of its name.
inline Sandflow::RunEvent finished(Type type, qint64 ms, const QString &job, const QString &outcome, qint64 duration)
{
    Sandflow::RunEvent e = makeEvent(type, ms, job, job.section(u' ', 0, 0));
    e.outcome = outcome;
    e.conclusion = outcome;
    e.durationMs = duration;
    return e;
}

} // namespace RunEventTesting
