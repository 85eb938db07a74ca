#include "workflowinput.h"

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

QCommandLineOption varOption()
{
    return QCommandLineOption(u"var"_s, u"Set a workflow variable (repeatable)"_s, u"NAME=VALUE"_s);
}

bool configureLoader(const QCommandLineParser &parser, const Terminal &terminal, WorkflowLoader *loader)
{
    for (const QString &assignment : parser.values(u"var"_s)) {
        const qsizetype equals = assignment.indexOf(u'=');
        if (equals <= 0) {
            terminal.err(u"sandflow: invalid --var `%1` (expected NAME=VALUE)\n"_s.arg(assignment));
            return false;
        }
        loader->setVariable(assignment.left(equals), assignment.mid(equals + 1));
    }
    return true;
}

LoadResult loadAndReport(const WorkflowLoader &loader, const QString &path, const Terminal &terminal)
{
    LoadResult result = loader.loadFile(path);
    for (const Diagnostic &diagnostic : result.diagnostics.items())
        terminal.diagnostic(diagnostic);
    return result;
}

} // namespace Sandflow::Cli
