// `sandflow plan FILE`: the expanded plan, for people or (--json) for programs.
#include "command.h"
#include "plan.h"
#include "workflowinput.h"

#include <QJsonDocument>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

static int plan(const QCommandLineParser &parser, const Terminal &terminal)
{
    const CommandLoader loader(parser, terminal);
    if (!loader.isValid())
        return ExitUsage;
    const LoadResult result = loader.load(parser.positionalArguments().first());
    if (!result.ok())
        return ExitUsage;
    const Plan plan = Plan::build(*result.workflow);
    if (parser.isSet(u"json"_s))
        terminal.out(QString::fromUtf8(QJsonDocument(plan.toJson()).toJson(QJsonDocument::Indented)));
    else
        terminal.out(plan.toText(terminal.colourOut()));
    return ExitSuccess;
}

Command planCommand()
{
    return {u"plan"_s,
            u"FILE"_s,
            u"Show the expanded plan: job instances, order, sandboxes"_s,
            u"Validates the workflow, expands every matrix and dataset, and shows the stages jobs run\n"
            u"in, their dependencies, each job instance and the sandbox it will create. Nothing is\n"
            u"created or run. Values known only at run time are shown as written."_s,
            {varOption(), QCommandLineOption(u"json"_s, u"Print the plan as JSON"_s)},
            1,
            1,
            plan,
            {exitStatus(ExitSuccess, u"The plan was shown"_s),
             exitStatus(ExitUsage, u"The workflow is invalid or cannot be read, or an option is wrong"_s)}};
}

} // namespace Sandflow::Cli
