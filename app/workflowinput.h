// Loading the workflow files named on the command line, the same way for every command.
#pragma once

#include "terminal.h"
#include "workflowloader.h"

#include <QCommandLineOption>
#include <QCommandLineParser>

namespace Sandflow::Cli {

/// `--var NAME=VALUE`, repeatable: overrides a `vars:` entry.
QCommandLineOption varOption();

/// `--runner local|opensandbox`: overrides the workflow's `runner`.
QCommandLineOption runnerOption();

/// The loader a command uses: the built-in step types and the parsed `--var` and
/// `--runner` options (for commands that have them).
/// Every diagnostic of a load is printed.
class CommandLoader
{
public:
    CommandLoader(const QCommandLineParser &parser, const Terminal &terminal);

    /// False when a `--var` option was malformed (the problem is already printed).
    bool isValid() const { return m_valid; }
    LoadResult load(const QString &path) const;

private:
    const Terminal &m_terminal;
    StepTypeRegistry m_stepTypes;
    WorkflowLoader m_loader;
    bool m_valid = true;
};

} // namespace Sandflow::Cli
