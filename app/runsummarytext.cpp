#include "runsummarytext.h"

#include "viewformat_p.h"

#include <QStringList>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;
using namespace Internal;

namespace {

struct JobCounts
{
    QString jobId;
    int passed = 0;
    int failed = 0;
    int skipped = 0;
    int cancelled = 0;
    int rewarded = 0;          ///< instances whose grade step reported a reward
    double rewardSum = 0;
    qint64 egressDenied = 0;
};

} // namespace

static QList<JobCounts> countByJobId(const RunSummary &summary)
{
    QList<JobCounts> counts;
    for (const JobSummary &job : summary.jobs) {
        const QString id = job.jobId.isEmpty() ? job.name : job.jobId;
        auto it = std::find_if(counts.begin(), counts.end(),
                               [&id](const JobCounts &c) { return c.jobId == id; });
        if (it == counts.end()) {
            counts.append(JobCounts{id});
            it = counts.end() - 1;
        }
        if (job.outcome == u"success"_s)
            ++it->passed;
        else if (isFailure(job.outcome))
            ++it->failed;
        else if (job.outcome == u"skipped"_s)
            ++it->skipped;
        else if (job.outcome == u"cancelled"_s)
            ++it->cancelled;
        if (job.reward) {
            ++it->rewarded;
            it->rewardSum += *job.reward;
        }
        it->egressDenied += job.egressDenied;
    }
    return counts;
}

// Each failed step, with its log, so that the next thing to read is one copy away.
static QString failedSteps(const RunSummary &summary, const ReportLocations &locations)
{
    QString text;
    int listed = 0;
    int unlisted = 0;
    for (const JobSummary &job : summary.jobs) {
        for (const StepSummary &step : job.steps) {
            if (!step.failed())
                continue;
            if (listed == MaxFailedListed) {
                ++unlisted;
                continue;
            }
            ++listed;
            text += u"  ✘ %1 › %2: %3\n"_s.arg(job.name, step.id,
                                               step.error.isEmpty() ? outcomeText(step.conclusion) : step.error);
            const QString log = locations.stepLog ? locations.stepLog(job.name, step.id) : QString();
            if (!log.isEmpty())
                text += u"      %1\n"_s.arg(locations.runDirectory.isEmpty() ? log : locations.runDirectory + u'/' + log);
        }
    }
    if (unlisted > 0)
        text += u"  and %1 more (see the summary)\n"_s.arg(unlisted);
    return text.isEmpty() ? text : u"Failed:\n"_s + text;
}

QString formatRunSummary(const RunSummary &summary, const ReportLocations &locations)
{
    QString text = u"Run %1: %2 in %3\n"_s.arg(summary.runId, outcomeText(summary.outcome), formatElapsed(summary.durationMs));
    const QList<JobCounts> counts = countByJobId(summary);
    qsizetype idWidth = 0;
    for (const JobCounts &job : counts)
        idWidth = std::max(idWidth, job.jobId.size());
    for (const JobCounts &job : counts) {
        QStringList parts;
        const auto add = [&parts](qint64 n, const QString &what) {
            if (n > 0)
                parts.append(u"%1 %2"_s.arg(n).arg(what));
        };
        add(job.passed, u"passed"_s);
        add(job.failed, u"failed"_s);
        add(job.skipped, u"skipped"_s);
        add(job.cancelled, u"cancelled"_s);
        if (job.rewarded > 0)
            parts.append(u"mean reward %1 over %2"_s.arg(job.rewardSum / job.rewarded, 0, 'g', 4).arg(job.rewarded));
        add(job.egressDenied, u"egress denied"_s);
        const QString symbol = job.failed > 0 ? u"✘"_s
            : job.passed > 0                  ? u"✔"_s
            : job.cancelled > 0               ? u"⊘"_s
                                              : u"○"_s;
        text += u"  %1 %2  %3\n"_s.arg(symbol, job.jobId.leftJustified(idWidth), parts.join(u", "_s));
    }
    if (const qint64 denied = summary.egressDenied(); denied > 0)
        text += u"Egress denied: %1 attempts (events: egress_denied)\n"_s.arg(denied);
    text += failedSteps(summary, locations);
    const QList<SlowStep> slowest = summary.slowestSteps(5);
    // Steps that all took less than the view shows (0.0s) tell nothing.
    if (!slowest.isEmpty() && formatElapsed(slowest.first().durationMs) != formatElapsed(0)) {
        text += u"Slowest steps:\n"_s;
        for (const SlowStep &step : slowest)
            text += u"  %1  %2 › %3\n"_s.arg(formatElapsed(step.durationMs), 6).arg(step.job, step.step);
    }
    const auto where = [&text](const QString &label, const QString &path) {
        if (!path.isEmpty())
            text += u"%1: %2\n"_s.arg(label, path);
    };
    where(u"Run directory"_s, locations.runDirectory);
    where(u"Summary"_s, locations.summaryFile);
    where(u"JUnit"_s, locations.junitFile);
    return text;
}

} // namespace Sandflow::Cli
