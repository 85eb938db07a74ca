#include "workflowinput.h"

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

QCommandLineOption varOption()
{
    return QCommandLineOption(u"var"_s, u"Set a workflow variable (repeatable)"_s, u"NAME=VALUE"_s);
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
}

LoadResult CommandLoader::load(const QString &path) const
{
    LoadResult result = m_loader.loadFile(path);
    for (const Diagnostic &diagnostic : result.diagnostics.items())
        m_terminal.diagnostic(diagnostic);
    return result;
}

} // namespace Sandflow::Cli
