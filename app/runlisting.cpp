#include "runlisting.h"

#include "command.h"
#include "texttable.h"
#include "units.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

namespace {

/// One run as its directory tells it: summary.json once it finished, else only the journal.
QJsonObject describeRun(const QDir &directory)
{
    QJsonObject run{{u"id"_s, directory.dirName()}, {u"directory"_s, directory.absolutePath()}};
    QFile summaryFile(directory.filePath(u"summary.json"_s));
    if (summaryFile.open(QIODevice::ReadOnly)) {
        const QJsonObject summary = QJsonDocument::fromJson(summaryFile.readAll()).object();
        for (const QString &key : {u"workflow"_s, u"outcome"_s, u"startedAt"_s, u"durationMs"_s})
            run.insert(key, summary.value(key));
        return run;
    }
    // No summary: the run is still going, or it ended without writing one (killed).
    run.insert(u"outcome"_s, u"incomplete"_s);
    QFile journal(directory.filePath(u"events.jsonl"_s));
    if (journal.open(QIODevice::ReadOnly)) {
        const QJsonObject first = QJsonDocument::fromJson(journal.readLine()).object();
        run.insert(u"workflow"_s, first.value(u"text"_s));
        run.insert(u"startedAt"_s, first.value(u"time"_s));
    }
    return run;
}

} // namespace

QString defaultRunsDirectory()
{
    return u".sandflow/runs"_s;
}

int listRuns(const QString &runsDirectory, bool json, qsizetype limit, const Terminal &terminal)
{
    const QDir root(runsDirectory);
    // Run ids start with the time they started, so the names in reverse are newest first.
    QJsonArray runs;
    qsizetype count = 0;
    for (const QString &name : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name | QDir::Reversed)) {
        const QDir directory(root.filePath(name));
        if (!directory.exists(u"summary.json"_s) && !directory.exists(u"events.jsonl"_s))
            continue;
        ++count;
        if (limit == 0 || runs.size() < limit)
            runs.append(describeRun(directory));
    }
    if (json) {
        terminal.out(QString::fromUtf8(QJsonDocument(runs).toJson(QJsonDocument::Indented)));
        return ExitSuccess;
    }
    if (runs.isEmpty()) {
        terminal.out(u"No runs in %1.\n"_s.arg(runsDirectory));
        return ExitSuccess;
    }
    QList<QStringList> rows{{u"RUN"_s, u"OUTCOME"_s, u"STARTED"_s, u"DURATION"_s, u"WORKFLOW"_s}};
    int incomplete = 0;
    for (const QJsonValue &value : std::as_const(runs)) {
        const QJsonObject run = value.toObject();
        const bool finished = run.value(u"outcome"_s).toString() != u"incomplete"_s;
        incomplete += finished ? 0 : 1;
        rows.append({run.value(u"id"_s).toString(), run.value(u"outcome"_s).toString(),
                     formatLocalTime(QDateTime::fromString(run.value(u"startedAt"_s).toString(), Qt::ISODateWithMs)),
                     finished ? formatDuration(run.value(u"durationMs"_s).toInteger()) : u"-"_s,
                     run.value(u"workflow"_s).toString()});
    }
    terminal.out(formatTable(rows) + moreLine(runs.size(), count));
    if (incomplete > 0)
        terminal.out(u"\n%1 incomplete: still running, or ended abnormally; 'sandflow ls' shows sandboxes they "
                     u"left and 'sandflow gc' removes them.\n"_s.arg(incomplete));
    return ExitSuccess;
}

} // namespace Sandflow::Cli
