// Loading the workflow files named on the command line, the same way for every command.
#pragma once

#include "terminal.h"
#include "workflowloader.h"

#include <QCommandLineOption>
#include <QCommandLineParser>

namespace Sandflow::Cli {

/// `--var NAME=VALUE`, repeatable: overrides a `vars:` entry.
QCommandLineOption varOption();

/// A loader configured from the parsed `--var` options; false (with the problem printed)
/// when an option is malformed.
bool configureLoader(const QCommandLineParser &parser, const Terminal &terminal, WorkflowLoader *loader);

/// Loads `path` and prints every diagnostic; the workflow when it has no errors.
LoadResult loadAndReport(const WorkflowLoader &loader, const QString &path, const Terminal &terminal);

} // namespace Sandflow::Cli
