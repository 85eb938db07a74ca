#include "summarywriter.h"

#include "runevent_p.h"
#include "steplogwriter.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>

namespace Sandflow {

using namespace Qt::StringLiterals;

static QJsonValue timeValue(const QDateTime &time)
{
    return time.isValid() ? QJsonValue(Internal::formatEventTime(time)) : QJsonValue();
}

SummaryWriter::SummaryWriter(const QString &runDirectory, const StepLogWriter *logs)
    : m_runDirectory(runDirectory)
    , m_logs(logs)
{
}

void SummaryWriter::handle(const RunEvent &event)
{
    m_summary.add(event);
}

QString SummaryWriter::filePath() const
{
    return QDir(m_runDirectory).filePath(u"summary.json"_s);
}

QJsonObject SummaryWriter::toJson() const
{
    QJsonObject counts;
    const QMap<QString, int> countMap = m_summary.counts();
    for (auto it = countMap.begin(); it != countMap.end(); ++it)
        counts.insert(it.key(), it.value());

    QJsonArray jobs;
    for (const JobSummary &job : m_summary.jobs) {
        QJsonArray steps;
        for (const StepSummary &step : job.steps) {
            const QString log = m_logs ? m_logs->logPath(job.name, step.id) : QString();
            steps.append(QJsonObject{
                {u"id"_s, step.id},
                {u"name"_s, step.name},
                {u"outcome"_s, step.outcome},
                {u"conclusion"_s, step.conclusion},
                {u"durationMs"_s, step.durationMs},
                {u"attempts"_s, step.attempts},
                {u"error"_s, step.error},
                {u"log"_s, log.isEmpty() ? QJsonValue() : QJsonValue(log)},
            });
        }
        QJsonObject instance{
            {u"name"_s, job.name},
            {u"jobId"_s, job.jobId},
            {u"instance"_s, job.instance},
            {u"outcome"_s, job.outcome},
            {u"durationMs"_s, job.durationMs},
            {u"sandboxId"_s, job.sandboxId},
            {u"outputs"_s, job.outputs},
            {u"reward"_s, job.reward ? QJsonValue(*job.reward) : QJsonValue()},
            {u"steps"_s, steps},
        };
        // Only what the instance has: a job without a dataset has no task, one without a
        // matrix no matrix values.
        if (!job.task.isUndefined())
            instance.insert(u"task"_s, job.task);
        if (!job.matrix.isEmpty())
            instance.insert(u"matrix"_s, job.matrix);
        // Egress is not mentioned where nothing was denied.
        if (job.egressDenied > 0)
            instance.insert(u"egressDenied"_s, job.egressDenied);
        jobs.append(instance);
    }

    QJsonArray slowest;
    for (const SlowStep &step : m_summary.slowestSteps(5)) {
        slowest.append(QJsonObject{
            {u"job"_s, step.job}, {u"step"_s, step.step}, {u"durationMs"_s, step.durationMs}});
    }

    QJsonObject summary{
        {u"runId"_s, m_summary.runId},
        {u"workflow"_s, m_summary.workflow},
        {u"file"_s, m_summary.file},
        {u"startedAt"_s, timeValue(m_summary.startedAt)},
        {u"finishedAt"_s, timeValue(m_summary.finishedAt)},
        {u"durationMs"_s, m_summary.durationMs},
        {u"outcome"_s, m_summary.outcome},
        {u"counts"_s, counts},
        {u"jobs"_s, jobs},
        {u"slowestSteps"_s, slowest},
    };
    if (const qint64 denied = m_summary.egressDenied(); denied > 0)
        summary.insert(u"egressDenied"_s, denied);
    return summary;
}

void SummaryWriter::close()
{
    QDir().mkpath(m_runDirectory);
    // Written whole or not at all: a reader never sees half a summary.
    QSaveFile file(filePath());
    if (!file.open(QIODevice::WriteOnly)) {
        m_error = file.errorString();
        return;
    }
    file.write(QJsonDocument(toJson()).toJson(QJsonDocument::Indented));
    if (!file.commit())
        m_error = file.errorString();
}

} // namespace Sandflow
