// `sandflow validate FILE...`: report every problem of every file; exit 2 if any.
#include "command.h"
#include "workflowinput.h"

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

static int validate(const QCommandLineParser &parser, const Terminal &terminal)
{
    const CommandLoader loader(parser, terminal);
    if (!loader.isValid())
        return ExitUsage;
    const bool quiet = parser.isSet(u"quiet"_s);
    int invalidFiles = 0;
    int errors = 0;
    for (const QString &path : parser.positionalArguments()) {
        const LoadResult result = loader.load(path);
        if (result.ok()) {
            if (!quiet) {
                const Workflow &workflow = *result.workflow;
                qsizetype steps = 0;
                for (const Job &job : workflow.jobs)
                    steps += job.steps.size();
                terminal.out(u"%1: valid (%2 job%3, %4 step%5)\n"_s.arg(path)
                                 .arg(workflow.jobs.size()).arg(workflow.jobs.size() == 1 ? QString() : u"s"_s)
                                 .arg(steps).arg(steps == 1 ? QString() : u"s"_s));
            }
        } else {
            ++invalidFiles;
            errors += result.diagnostics.errorCount();
        }
    }
    if (invalidFiles > 0) {
        terminal.err(u"%1 error%2 in %3 file%4\n"_s.arg(errors).arg(errors == 1 ? QString() : u"s"_s)
                         .arg(invalidFiles).arg(invalidFiles == 1 ? QString() : u"s"_s));
        return ExitUsage;
    }
    return ExitSuccess;
}

Command validateCommand()
{
    return {u"validate"_s,
            u"FILE..."_s,
            u"Check workflow files and report every problem"_s,
            u"Checks each workflow file completely: YAML syntax, keys and types, references between\n"
            u"jobs, sandboxes, volumes and networks, dependency cycles, expressions, plugin inputs\n"
            u"and datasets. Every problem is reported as FILE:LINE:COL: error: MESSAGE."_s,
            {varOption(), runnerOption(), QCommandLineOption({u"q"_s, u"quiet"_s}, u"Print only problems"_s)},
            1,
            -1,
            validate,
            {exitStatus(ExitSuccess, u"Every file is valid"_s),
             exitStatus(ExitUsage, u"A file is invalid or cannot be read, or an option is wrong"_s)}};
}

} // namespace Sandflow::Cli
