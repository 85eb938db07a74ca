// `sandflow ls` and `sandflow gc`: sandboxes recorded in the state directory, including
// those a crashed run left behind, and (`ls --runs`) the runs themselves.
#include "command.h"
#include "localrunner.h"
#include "runlisting.h"
#include "texttable.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

static int list(const QCommandLineParser &parser, const Terminal &terminal)
{
    const std::optional<qsizetype> limit = limitValue(parser, u"sandflow ls"_s, terminal);
    if (!limit)
        return ExitUsage;
    if (parser.isSet(u"runs"_s) || parser.isSet(u"runs-dir"_s))
        return listRuns(parser.isSet(u"runs-dir"_s) ? parser.value(u"runs-dir"_s) : defaultRunsDirectory(),
                        parser.isSet(u"json"_s), *limit, terminal);
    QList<LocalRunner::RecordedSandbox> sandboxes = LocalRunner::recordedSandboxes(stateDirectory(parser));
    std::stable_sort(sandboxes.begin(), sandboxes.end(), [](const auto &a, const auto &b) {
        return a.createdAt > b.createdAt;
    });
    const qsizetype count = sandboxes.size();
    if (*limit > 0 && count > *limit)
        sandboxes.resize(*limit);
    if (parser.isSet(u"json"_s)) {
        QJsonArray array;
        for (const LocalRunner::RecordedSandbox &sandbox : sandboxes)
            array.append(QJsonObject{{u"id"_s, sandbox.id}, {u"run"_s, sandbox.runId}, {u"pid"_s, sandbox.pid},
                                     {u"alive"_s, sandbox.alive}, {u"image"_s, sandbox.image},
                                     {u"createdAt"_s, sandbox.createdAt.toString(Qt::ISODate)}});
        terminal.out(QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Indented)));
        return ExitSuccess;
    }
    if (sandboxes.isEmpty()) {
        terminal.out(u"No sandboxes.\n"_s);
        return ExitSuccess;
    }
    QList<QStringList> rows{{u"ID"_s, u"RUN"_s, u"STATE"_s, u"CREATED"_s, u"IMAGE"_s}};
    int leftBehind = 0;
    for (const LocalRunner::RecordedSandbox &sandbox : std::as_const(sandboxes)) {
        leftBehind += sandbox.alive ? 0 : 1;
        rows.append({sandbox.id, sandbox.runId, sandbox.alive ? u"running"_s : u"left behind"_s,
                     formatLocalTime(sandbox.createdAt), sandbox.image.isEmpty() ? u"-"_s : sandbox.image});
    }
    terminal.out(formatTable(rows) + moreLine(sandboxes.size(), count));
    if (leftBehind > 0)
        terminal.out(u"\n%1 left behind by runs that ended abnormally: remove with 'sandflow gc'.\n"_s.arg(leftBehind));
    return ExitSuccess;
}

static int collect(const QCommandLineParser &parser, const Terminal &terminal)
{
    const QStringList removed = LocalRunner::collectGarbage(stateDirectory(parser), parser.isSet(u"all"_s));
    for (const QString &id : removed)
        terminal.out(u"removed %1\n"_s.arg(id));
    terminal.out(u"%1 sandbox%2 removed\n"_s.arg(removed.size()).arg(removed.size() == 1 ? QString() : u"es"_s));
    return ExitSuccess;
}

Command lsCommand()
{
    return {u"ls"_s,
            QString(),
            u"List sandboxes (or runs), including those left behind"_s,
            u"Lists the local sandboxes recorded in the state directory, newest first: running ones, and those left\n"
            u"behind by a run that ended abnormally (remove them with 'sandflow gc'). With --runs,\n"
            u"lists the runs in .sandflow/runs (or --runs-dir) instead, with their outcome; a run\n"
            u"without a summary is still running or ended abnormally."_s,
            {stateDirOption(), QCommandLineOption(u"json"_s, u"Print the list as JSON"_s),
             QCommandLineOption(u"runs"_s, u"List runs instead of sandboxes"_s),
             QCommandLineOption(u"runs-dir"_s, u"Where the runs are (default: .sandflow/runs); implies --runs"_s,
                                u"DIR"_s),
             limitOption()},
            0,
            0,
            list,
            {exitStatus(ExitSuccess, u"The list was shown"_s), exitStatus(ExitUsage, u"An option is wrong"_s)}};
}

Command gcCommand()
{
    return {u"gc"_s,
            QString(),
            u"Remove sandboxes left behind by crashed runs"_s,
            u"Removes every local sandbox whose run has ended without removing it: its processes,\n"
            u"its cgroups and its record; and the records of where ended runs and servers listened.\n"
            u"With --all, running sandboxes are removed too."_s,
            {stateDirOption(), QCommandLineOption(u"all"_s, u"Also remove running sandboxes"_s)},
            0,
            0,
            collect,
            {exitStatus(ExitSuccess, u"What was left behind is removed (maybe nothing)"_s),
             exitStatus(ExitUsage, u"An option is wrong"_s)}};
}

} // namespace Sandflow::Cli
