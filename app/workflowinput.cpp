#include "workflowinput.h"

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

QCommandLineOption varOption()
{
    return QCommandLineOption(u"var"_s, u"Set a workflow variable (repeatable)"_s, u"NAME=VALUE"_s);
}

QCommandLineOption runnerOption()
{
    return QCommandLineOption(u"runner"_s, u"Run on this runner instead of the workflow's: local or opensandbox"_s,
                              u"RUNNER"_s);
}

CommandLoader::CommandLoader(const QCommandLineParser &parser, const Terminal &terminal)
    : m_terminal(terminal)
    , m_stepTypes(StepTypeRegistry::builtin())
    , m_loader(m_stepTypes)
{
    for (const QString &assignment : parser.values(u"var"_s)) {
        const qsizetype equals = assignment.indexOf(u'=');
        if (equals <= 0) {
            terminal.err(u"sandflow: invalid --var `%1` (expected NAME=VALUE)\n"_s.arg(assignment));
            m_valid = false;
            continue;
        }
        m_loader.setVariable(assignment.left(equals), assignment.mid(equals + 1));
    }
    if (parser.optionNames().contains(u"runner"_s)) {
        const QString runner = parser.value(u"runner"_s);
        if (!runnerNames().contains(runner)) {
            terminal.err(u"sandflow: unknown --runner `%1` (expected `local` or `opensandbox`)\n"_s.arg(runner));
            m_valid = false;
        }
        m_loader.setRunner(runner);
    }
}

LoadResult CommandLoader::load(const QString &path) const
{
    LoadResult result = m_loader.loadFile(path);
    for (const Diagnostic &diagnostic : result.diagnostics.items())
        m_terminal.diagnostic(diagnostic);
    return result;
}

} // namespace Sandflow::Cli
