// Subcommands of the CLI: each declares its usage and options and runs with parsed
// arguments. Parsing errors and --help are handled here, the same way for every command.
#pragma once

#include "terminal.h"

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QList>
#include <QString>

#include <functional>
#include <optional>

namespace Sandflow::Cli {

/// Exit statuses of the CLI.
enum ExitCode : int {
    ExitSuccess = 0,
    ExitFailure = 1,      ///< the workflow ran and failed
    ExitUsage = 2,        ///< invalid input: bad arguments or an invalid workflow; nothing ran
    ExitInterrupted = 130,
};

/// One exit status a command may end with, and what it means: `--help` lists them, and
/// the docs must list the same ones (tests/cli/tst_docs checks).
struct ExitStatus
{
    QString status;           ///< "0", "130", or a placeholder such as "N" for a passed-on status
    QString meaning;
};

/// The status `code` means `meaning`.
ExitStatus exitStatus(ExitCode code, const QString &meaning);

struct Command
{
    QString name;
    QString arguments;        ///< e.g. "FILE..."
    QString summary;          ///< one line, for `sandflow --help`
    QString description;      ///< a paragraph, for `sandflow NAME --help`
    QList<QCommandLineOption> options;
    int minPositional = 0;
    int maxPositional = -1;   ///< -1: unbounded
    std::function<int(const QCommandLineParser &, const Terminal &)> run;
    QList<ExitStatus> exitStatuses;   ///< every status it may end with, for --help

    QString helpText() const;
};

/// Commands under one name (`sandflow sandbox ls`). The group's options go before or
/// after the subcommand's name, and every subcommand accepts them.
struct CommandGroup
{
    QString name;
    QString summary;          ///< one line, for `sandflow --help`
    QString description;      ///< a paragraph, for `sandflow NAME --help`
    QList<QCommandLineOption> options;
    QList<Command> commands;

    QString helpText() const;
};

/// --limit N for listings: the newest N only; 0 (the default) lists all.
QCommandLineOption limitOption();
/// The --limit given (0 without one); nothing, after saying so, when it is not a count.
std::optional<qsizetype> limitValue(const QCommandLineParser &parser, const QString &where, const Terminal &terminal);

/// --state-dir DIR, for the commands that read the local runner's state directory.
QCommandLineOption stateDirOption();
/// The --state-dir given, else the default one.
QString stateDirectory(const QCommandLineParser &parser);

const QList<Command> &commands();
const QList<CommandGroup> &commandGroups();
Command validateCommand();
Command planCommand();
Command runCommand();
Command lsCommand();
Command gcCommand();
Command serveCommand();
CommandGroup sandboxGroup();
CommandGroup imagesGroup();

/// Runs the CLI with `arguments` (without the program name); returns the exit status.
int runCli(const QStringList &arguments);

} // namespace Sandflow::Cli
