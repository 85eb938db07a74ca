#include "command.h"

#include "diagnostics.h"
#include "localrunner.h"

#include <QCoreApplication>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

// An option as typed: `-h` for one letter, `--help` otherwise.
static QString dashed(const QString &name)
{
    return name.size() == 1 ? u"-"_s + name : u"--"_s + name;
}

static QString optionColumn(const QCommandLineOption &option)
{
    QStringList names;
    for (const QString &name : option.names())
        names.append(dashed(name));
    QString column = names.join(u", "_s);
    if (!option.valueName().isEmpty())
        column += u" "_s + option.valueName();
    return column;
}

static QString formatOptions(const QList<QCommandLineOption> &options)
{
    QString text;
    for (const QCommandLineOption &option : options)
        text += u"  %1  %2\n"_s.arg(optionColumn(option), -22).arg(option.description());
    return text;
}

static QString formatExitStatuses(const QList<ExitStatus> &statuses)
{
    QString text;
    for (const ExitStatus &status : statuses)
        text += u"  %1  %2\n"_s.arg(status.status, -22).arg(status.meaning);
    return text;
}

ExitStatus exitStatus(ExitCode code, const QString &meaning)
{
    return {QString::number(int(code)), meaning};
}

static QCommandLineOption helpOption()
{
    return QCommandLineOption({u"h"_s, u"help"_s}, u"Show this help"_s);
}

static QString formatCommands(const QList<Command> &commands)
{
    QString text;
    for (const Command &command : commands)
        text += u"  %1  %2\n"_s.arg(command.name + u' ' + command.arguments, -22).arg(command.summary);
    return text;
}

QString CommandGroup::helpText() const
{
    QString text = u"Usage: sandflow %1 COMMAND [OPTIONS] [ARGUMENTS]\n\n%2\n"_s.arg(name, description);
    text += u"\nCommands:\n"_s + formatCommands(commands);
    text += u"\nOptions:\n"_s + formatOptions(QList<QCommandLineOption>(options) << helpOption());
    text += u"\nRun 'sandflow %1 COMMAND --help' for the options of a command.\n"_s.arg(name);
    return text;
}

QString Command::helpText() const
{
    QString text = u"Usage: sandflow %1 [OPTIONS] %2\n\n%3\n"_s.arg(name, arguments, description);
    text += u"\nOptions:\n"_s + formatOptions(QList<QCommandLineOption>(options) << helpOption());
    text += u"\nExit status:\n"_s + formatExitStatuses(exitStatuses);
    return text;
}

QCommandLineOption limitOption()
{
    return QCommandLineOption(u"limit"_s, u"List only the newest N (default: all)"_s, u"N"_s);
}

std::optional<qsizetype> limitValue(const QCommandLineParser &parser, const QString &where, const Terminal &terminal)
{
    if (!parser.isSet(u"limit"_s))
        return 0;
    bool ok = false;
    const qsizetype limit = parser.value(u"limit"_s).toLongLong(&ok);
    if (ok && limit >= 0)
        return limit;
    terminal.err(u"%1: --limit wants a count (0 for all), not `%2`\n"_s.arg(where, parser.value(u"limit"_s)));
    return std::nullopt;
}

const QList<Command> &commands()
{
    static const QList<Command> all = {validateCommand(), planCommand(), runCommand(), lsCommand(), gcCommand(), serveCommand()};
    return all;
}

QCommandLineOption stateDirOption()
{
    return QCommandLineOption(u"state-dir"_s, u"Where sandboxes and images are kept (default: %1)"_s
                                                  .arg(u"$SANDFLOW_STATE_DIR, else $XDG_STATE_HOME/sandflow, else "
                                                       u"~/.local/state/sandflow"_s),
                              u"DIR"_s);
}

QString stateDirectory(const QCommandLineParser &parser)
{
    return parser.isSet(u"state-dir"_s) ? parser.value(u"state-dir"_s) : LocalRunner::defaultStateDirectory();
}

const QList<CommandGroup> &commandGroups()
{
    static const QList<CommandGroup> all = {sandboxGroup(), imagesGroup()};
    return all;
}

static QString globalHelp()
{
    QString text = u"Usage: sandflow COMMAND [OPTIONS] [ARGUMENTS]\n\n"
                   u"Sandflow runs declarative YAML workflows in sandboxes.\n\nCommands:\n"_s;
    text += formatCommands(commands());
    for (const CommandGroup &group : commandGroups())
        text += u"  %1  %2\n"_s.arg(group.name + u" COMMAND"_s, -22).arg(group.summary);
    text += u"\nOptions:\n"_s;
    text += formatOptions({QCommandLineOption({u"h"_s, u"help"_s}, u"Show this help"_s),
                           QCommandLineOption({u"V"_s, u"version"_s}, u"Show the version"_s)});
    text += u"\nRun 'sandflow COMMAND --help' for the options of a command.\n"_s;
    return text;
}

static QString versionText()
{
    return u"sandflow %1 (Qt %2, workflow format version 1)\n"_s.arg(QStringLiteral(SANDFLOW_VERSION),
                                                                      QString::fromLatin1(qVersion()));
}

static const Command *findCommand(const QString &name)
{
    for (const Command &command : commands()) {
        if (command.name == name)
            return &command;
    }
    return nullptr;
}

static const CommandGroup *findGroup(const QString &name)
{
    for (const CommandGroup &group : commandGroups()) {
        if (group.name == name)
            return &group;
    }
    return nullptr;
}

static int usageError(const Terminal &terminal, const QString &where, const QString &message, const QString &helpCommand)
{
    terminal.err(u"%1: %2\nRun '%3 --help' for usage.\n"_s.arg(where, message, helpCommand));
    return ExitUsage;
}

static int unknownCommand(const Terminal &terminal, const QString &name)
{
    QStringList names;
    for (const Command &candidate : commands())
        names.append(candidate.name);
    for (const CommandGroup &candidate : commandGroups())
        names.append(candidate.name);
    return usageError(terminal, u"sandflow"_s, u"unknown command `%1`%2"_s.arg(name, didYouMean(name, names)),
                      u"sandflow"_s);
}

static int runCommand(const Command &command, const QStringList &arguments, const Terminal &terminal)
{
    const QString where = u"sandflow "_s + command.name;
    QCommandLineParser parser;
    parser.setOptionsAfterPositionalArgumentsMode(QCommandLineParser::ParseAsOptions);
    parser.addOptions(command.options);
    parser.addOption(helpOption());
    if (!parser.parse(QStringList{where} + arguments)) {
        const QStringList unknown = parser.unknownOptionNames();
        if (unknown.isEmpty())
            return usageError(terminal, where, parser.errorText(), where);
        QStringList known;
        for (const QCommandLineOption &option : command.options + QList<QCommandLineOption>{helpOption()}) {
            for (const QString &name : option.names())
                known.append(dashed(name));
        }
        const QString given = dashed(unknown.first());
        return usageError(terminal, where, u"unknown option `%1`%2"_s.arg(given, didYouMean(given, known)), where);
    }
    if (parser.isSet(u"help"_s)) {
        terminal.out(command.helpText());
        return ExitSuccess;
    }
    const qsizetype count = parser.positionalArguments().size();
    if (count < command.minPositional)
        return usageError(terminal, where, u"missing %1"_s.arg(command.arguments), where);
    if (command.maxPositional >= 0 && count > command.maxPositional)
        return usageError(terminal, where, u"unexpected argument `%1`"_s.arg(parser.positionalArguments().at(command.maxPositional)), where);
    return command.run(parser, terminal);
}

// Where the subcommand's name is among `arguments`: the first one that is neither an
// option of the group nor the value of one; -1 if there is none.
static qsizetype subcommandIndex(const CommandGroup &group, const QStringList &arguments)
{
    for (qsizetype i = 0; i < arguments.size(); ++i) {
        const QString &argument = arguments.at(i);
        if (argument == u"--"_s)
            return -1;
        if (!argument.startsWith(u'-'))
            return i;
        if (argument.contains(u'='))
            continue;
        const QString name = argument.mid(argument.startsWith(u"--"_s) ? 2 : 1);
        for (const QCommandLineOption &option : group.options) {
            if (option.names().contains(name) && !option.valueName().isEmpty())
                ++i;   // its value, even one that looks like a name
        }
    }
    return -1;
}

static int runGroup(const CommandGroup &group, const QStringList &arguments, const Terminal &terminal)
{
    const QString where = u"sandflow "_s + group.name;
    const qsizetype index = subcommandIndex(group, arguments);
    if (index < 0) {
        if (arguments.contains(u"-h"_s) || arguments.contains(u"--help"_s)) {
            terminal.out(group.helpText());
            return ExitSuccess;
        }
        terminal.err(group.helpText());
        return ExitUsage;
    }
    const QString name = arguments.at(index);
    QStringList names;
    for (const Command &candidate : group.commands) {
        if (candidate.name != name) {
            names.append(candidate.name);
            continue;
        }
        // Run as a command named `GROUP NAME`, which also makes its help and errors say so.
        Command command = candidate;
        command.name = group.name + u' ' + candidate.name;
        command.options += group.options;
        QStringList rest = arguments;
        rest.removeAt(index);
        return runCommand(command, rest, terminal);
    }
    return usageError(terminal, where, u"unknown command `%1`%2"_s.arg(name, didYouMean(name, names)), where);
}

int runCli(const QStringList &arguments)
{
    const Terminal terminal;
    if (arguments.isEmpty()) {
        terminal.err(globalHelp());
        return ExitUsage;
    }
    const QString first = arguments.first();
    if (first == u"-h"_s || first == u"--help"_s) {
        terminal.out(globalHelp());
        return ExitSuccess;
    }
    if (first == u"help"_s && arguments.size() > 1) {
        if (const Command *command = findCommand(arguments.at(1))) {
            terminal.out(command->helpText());
            return ExitSuccess;
        }
        // `help GROUP COMMAND` is `GROUP COMMAND --help`.
        if (const CommandGroup *group = findGroup(arguments.at(1)))
            return runGroup(*group, arguments.mid(2) << u"--help"_s, terminal);
        return unknownCommand(terminal, arguments.at(1));
    }
    if (first == u"help"_s) {
        terminal.out(globalHelp());
        return ExitSuccess;
    }
    if (first == u"-V"_s || first == u"--version"_s) {
        terminal.out(versionText());
        return ExitSuccess;
    }
    if (first.startsWith(u'-'))
        return usageError(terminal, u"sandflow"_s, u"unknown option `%1`"_s.arg(first), u"sandflow"_s);
    if (const Command *command = findCommand(first))
        return runCommand(*command, arguments.mid(1), terminal);
    if (const CommandGroup *group = findGroup(first))
        return runGroup(*group, arguments.mid(1), terminal);
    return unknownCommand(terminal, first);
}

} // namespace Sandflow::Cli
