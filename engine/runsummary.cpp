#include "runsummary.h"

#include <algorithm>

namespace Sandflow {

using namespace Qt::StringLiterals;

bool StepSummary::failed() const
{
    return conclusion == u"failure"_s || conclusion == u"timed_out"_s;
}

JobSummary *RunSummary::findJob(const QString &name)
{
    const auto it = std::find_if(jobs.begin(), jobs.end(),
                                 [&name](const JobSummary &job) { return job.name == name; });
    return it == jobs.end() ? nullptr : &*it;
}

const JobSummary *RunSummary::findJob(const QString &name) const
{
    return const_cast<RunSummary *>(this)->findJob(name);
}

// The job an event is about, created when it is the first one: a skipped job may finish
// without having started.
static JobSummary &jobOf(RunSummary &summary, const RunEvent &event)
{
    if (JobSummary *job = summary.findJob(event.job)) {
        if (job->jobId.isEmpty())
            job->jobId = event.jobId;
        return *job;
    }
    JobSummary job;
    job.name = event.job;
    job.jobId = event.jobId;
    job.instance = event.instance;
    summary.jobs.append(job);
    return summary.jobs.last();
}

static StepSummary &stepOf(JobSummary &job, const RunEvent &event)
{
    const auto it = std::find_if(job.steps.begin(), job.steps.end(),
                                 [&event](const StepSummary &step) { return step.id == event.step; });
    if (it != job.steps.end()) {
        if (it->name.isEmpty())
            it->name = event.stepName;
        return *it;
    }
    StepSummary step;
    step.id = event.step;
    step.name = event.stepName;
    job.steps.append(step);
    return job.steps.last();
}

void RunSummary::add(const RunEvent &event)
{
    switch (event.type) {
    case RunEvent::Type::RunStarted:
        runId = event.runId;
        workflow = event.text;
        file = event.details.value(u"file"_s).toString();
        runDirectory = event.details.value(u"runDirectory"_s).toString();
        startedAt = event.time;
        return;
    case RunEvent::Type::RunFinished:
        finishedAt = event.time;
        outcome = event.outcome;
        durationMs = event.durationMs;
        return;
    case RunEvent::Type::JobStarted: {
        JobSummary &job = jobOf(*this, event);
        job.task = event.details.value(u"task"_s);
        job.matrix = event.details.value(u"matrix"_s).toObject();
        return;
    }
    case RunEvent::Type::JobFinished: {
        JobSummary &job = jobOf(*this, event);
        job.outcome = event.outcome;
        job.durationMs = event.durationMs;
        job.outputs = event.details.value(u"outputs"_s).toObject();
        if (event.details.contains(u"reward"_s))
            job.reward = event.details.value(u"reward"_s).toDouble();
        return;
    }
    case RunEvent::Type::SandboxCreated:
        jobOf(*this, event).sandboxId = event.sandboxId;
        return;
    case RunEvent::Type::StepStarted: {
        StepSummary &step = stepOf(jobOf(*this, event), event);
        step.attempts = std::max(step.attempts, event.attempt);
        return;
    }
    case RunEvent::Type::StepFinished: {
        StepSummary &step = stepOf(jobOf(*this, event), event);
        step.outcome = event.outcome;
        step.conclusion = event.conclusion.isEmpty() ? event.outcome : event.conclusion;
        step.durationMs = event.durationMs;
        step.attempts = std::max(step.attempts, event.attempt);
        step.error = event.text;
        return;
    }
    case RunEvent::Type::EgressDenied:
        jobOf(*this, event).egressDenied += event.details.value(u"count"_s).toInteger();
        return;
    case RunEvent::Type::SandboxDeleted:
    case RunEvent::Type::StepRetrying:
    case RunEvent::Type::LogLine:
    case RunEvent::Type::Warning:
        return;
    }
}

QMap<QString, int> RunSummary::counts() const
{
    QMap<QString, int> counts{{u"success"_s, 0}, {u"failure"_s, 0}, {u"cancelled"_s, 0},
                              {u"skipped"_s, 0}, {u"timed_out"_s, 0}};
    for (const JobSummary &job : jobs) {
        if (!job.outcome.isEmpty())
            ++counts[job.outcome];
    }
    return counts;
}

qint64 RunSummary::egressDenied() const
{
    qint64 total = 0;
    for (const JobSummary &job : jobs)
        total += job.egressDenied;
    return total;
}

QList<SlowStep> RunSummary::slowestSteps(qsizetype limit) const
{
    QList<SlowStep> steps;
    for (const JobSummary &job : jobs) {
        for (const StepSummary &step : job.steps) {
            if (step.durationMs > 0)
                steps.append(SlowStep{job.name, step.id, step.durationMs});
        }
    }
    std::stable_sort(steps.begin(), steps.end(),
                     [](const SlowStep &a, const SlowStep &b) { return a.durationMs > b.durationMs; });
    return steps.mid(0, limit);
}

} // namespace Sandflow
