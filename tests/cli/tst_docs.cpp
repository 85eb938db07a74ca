// The documentation of every command against the command itself. `sandflow COMMAND --help`
// lists the options and exit statuses the command declares; each command's section in
// docs/ must list the same ones, and no example in the docs or the README may pass a
// command an option it does not have. A new option, a renamed one or a new exit status
// therefore fails here until the docs say so.
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

using namespace Qt::StringLiterals;

namespace {

/// Where a command is documented: sections of one file (by heading text), and for commands
/// that share a table, the name its rows are picked by.
struct DocumentedCommand
{
    QString command;          ///< as typed after `sandflow`
    QString file;             ///< from the source root
    QStringList sections;
    QString rowName;          ///< empty: every row of the sections' tables is this command's
};

const QList<DocumentedCommand> &documentedCommands()
{
    static const QList<DocumentedCommand> all = {
        {u"validate"_s, u"docs/running.md"_s, {u"sandflow validate"_s}, {}},
        {u"plan"_s, u"docs/running.md"_s, {u"sandflow plan"_s}, {}},
        {u"run"_s, u"docs/running.md"_s, {u"Options"_s, u"Exit status"_s}, {}},
        {u"ls"_s, u"docs/local-runner.md"_s, {u"sandflow ls"_s}, {}},
        {u"gc"_s, u"docs/local-runner.md"_s, {u"sandflow gc"_s}, {}},
        {u"serve"_s, u"docs/serve.md"_s, {u"Options"_s, u"Exit status"_s}, {}},
        {u"sandbox create"_s, u"docs/sandbox-client.md"_s, {u"Which server"_s, u"Commands"_s, u"Exit status"_s}, u"create"_s},
        {u"sandbox ls"_s, u"docs/sandbox-client.md"_s, {u"Which server"_s, u"Commands"_s, u"Exit status"_s}, u"ls"_s},
        {u"sandbox exec"_s, u"docs/sandbox-client.md"_s, {u"Which server"_s, u"Commands"_s, u"Exit status"_s}, u"exec"_s},
        {u"sandbox cp"_s, u"docs/sandbox-client.md"_s, {u"Which server"_s, u"Commands"_s, u"Exit status"_s}, u"cp"_s},
        {u"sandbox rm"_s, u"docs/sandbox-client.md"_s, {u"Which server"_s, u"Commands"_s, u"Exit status"_s}, u"rm"_s},
        {u"sandbox pause"_s, u"docs/sandbox-client.md"_s, {u"Which server"_s, u"Commands"_s, u"Exit status"_s}, u"pause"_s},
        {u"sandbox resume"_s, u"docs/sandbox-client.md"_s, {u"Which server"_s, u"Commands"_s, u"Exit status"_s}, u"resume"_s},
        {u"sandbox inspect"_s, u"docs/sandbox-client.md"_s, {u"Which server"_s, u"Commands"_s, u"Exit status"_s}, u"inspect"_s},
        {u"images pull"_s, u"docs/images.md"_s, {u"The store"_s, u"Commands"_s, u"Exit status"_s}, u"pull"_s},
        {u"images import"_s, u"docs/images.md"_s, {u"The store"_s, u"Commands"_s, u"Exit status"_s}, u"import"_s},
        {u"images ls"_s, u"docs/images.md"_s, {u"The store"_s, u"Commands"_s, u"Exit status"_s}, u"ls"_s},
        {u"images rm"_s, u"docs/images.md"_s, {u"The store"_s, u"Commands"_s, u"Exit status"_s}, u"rm"_s},
        {u"images prune"_s, u"docs/images.md"_s, {u"The store"_s, u"Commands"_s, u"Exit status"_s}, u"prune"_s},
    };
    return all;
}

/// What a command's --help or its docs list.
struct Listing
{
    QSet<QString> options;    ///< "--name VALUE", or "--name" for a switch
    QSet<QString> statuses;   ///< "0", "130", "N"
};

QString sandflow(const QStringList &arguments, int *exitCode = nullptr)
{
    QProcess process;
    process.start(QStringLiteral(SANDFLOW_BINARY), arguments);
    if (!process.waitForFinished(30000) || process.exitStatus() != QProcess::NormalExit) {
        process.kill();
        process.waitForFinished();
        qFatal("sandflow %s did not finish", qPrintable(arguments.join(u' ')));
    }
    if (exitCode)
        *exitCode = process.exitCode();
    return QString::fromUtf8(process.readAllStandardOutput());
}

/// The lines of a --help section ("Options:", "Commands:", "Exit status:"), without the title.
QStringList helpSection(const QString &help, const QString &title)
{
    QStringList lines;
    bool inside = false;
    for (const QString &line : help.split(u'\n')) {
        if (line == title + u':') {
            inside = true;
        } else if (inside) {
            if (!line.startsWith(u"  "_s))
                break;
            lines.append(line);
        }
    }
    return lines;
}

// `  -q, --quiet    text` or `  --junit FILE    text`: the long name and its value's name.
const QRegularExpression helpOptionLine(uR"(^  (?:-\w, )?(--[a-z][a-z0-9-]*)(?: (\S+))?\s{2,})"_s);
// An option as the docs write it: `--junit FILE`, `[--env K=V]...`, `--timeout DURATION\|none`.
const QRegularExpression docOption(uR"((?:^|[\s\[`(])(--[a-z][a-z0-9-]*)(?:[ =]([A-Z][A-Z0-9_:=]*))?)"_s);

QString optionText(const QString &name, const QString &value)
{
    return value.isEmpty() ? name : name + u' ' + value;
}

Listing helpListing(const QString &command)
{
    const QString help = sandflow(command.split(u' ') << u"--help"_s);
    Listing listing;
    for (const QString &line : helpSection(help, u"Options"_s)) {
        const QRegularExpressionMatch match = helpOptionLine.match(line);
        if (match.hasMatch() && match.captured(1) != u"--help"_s)
            listing.options.insert(optionText(match.captured(1), match.captured(2)));
    }
    for (const QString &line : helpSection(help, u"Exit status"_s))
        listing.statuses.insert(line.trimmed().section(u' ', 0, 0));
    return listing;
}

/// The commands `sandflow --help` lists, with each group's subcommands as "GROUP NAME".
QStringList helpCommands()
{
    QStringList names;
    for (const QString &line : helpSection(sandflow({u"--help"_s}), u"Commands"_s)) {
        const QStringList words = line.trimmed().split(u' ');
        if (words.value(1) != u"COMMAND"_s) {
            names.append(words.first());
            continue;
        }
        for (const QString &subcommand : helpSection(sandflow({words.first(), u"--help"_s}), u"Commands"_s))
            names.append(words.first() + u' ' + subcommand.trimmed().section(u' ', 0, 0));
    }
    return names;
}

QString readSource(const QString &relativePath)
{
    QFile file(QStringLiteral(SANDFLOW_SOURCE_DIR) + u'/' + relativePath);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(relativePath));
    return QString::fromUtf8(file.readAll());
}

/// The lines under the heading `title` (any level, `code` marks ignored), up to the next
/// heading of the same or a higher level.
QStringList markdownSection(const QString &text, const QString &title)
{
    static const QRegularExpression heading(uR"(^(#+)\s+(.*?)\s*$)"_s);
    QStringList lines;
    int level = 0;
    for (const QString &line : text.split(u'\n')) {
        const QRegularExpressionMatch match = heading.match(line);
        if (match.hasMatch()) {
            const int thisLevel = int(match.capturedLength(1));
            if (level > 0 && thisLevel <= level)
                break;
            if (level == 0 && QString(match.captured(2)).remove(u'`') == title) {
                level = thisLevel;
                continue;
            }
        }
        if (level > 0)
            lines.append(line);
    }
    return lines;
}

/// A Markdown table row's cells; `\|` inside a cell is not a separator.
QStringList tableCells(const QString &row)
{
    QStringList cells;
    QString cell;
    const QString inner = row.trimmed().mid(1);
    for (qsizetype i = 0; i < inner.size(); ++i) {
        if (inner.at(i) == u'\\' && inner.mid(i + 1, 1) == u"|"_s) {
            cell += u'|';
            ++i;
        } else if (inner.at(i) == u'|') {
            cells.append(cell.trimmed());
            cell.clear();
        } else {
            cell += inner.at(i);
        }
    }
    return cells;
}

/// Every table of `lines`, each as its header cells and its rows' cells.
QList<QList<QStringList>> markdownTables(const QStringList &lines)
{
    QList<QList<QStringList>> tables;
    bool inTable = false;
    for (const QString &line : lines) {
        if (!line.trimmed().startsWith(u'|')) {
            inTable = false;
            continue;
        }
        if (!inTable)
            tables.append(QList<QStringList>());
        inTable = true;
        const QStringList cells = tableCells(line);
        if (!cells.isEmpty() && cells.first().startsWith(u"---"_s))
            continue;
        tables.last().append(cells);
    }
    return tables;
}

void addDocOptions(const QString &cell, QSet<QString> *options)
{
    for (const QRegularExpressionMatch &match : docOption.globalMatch(cell))
        options->insert(optionText(match.captured(1), match.captured(2)));
}

// A row belongs to `rowName` when its first cell starts with it (a table of commands) or its
// `commands` cell names it or says "all".
bool rowIsFor(const QStringList &header, const QStringList &row, const QString &rowName)
{
    if (rowName.isEmpty())
        return true;
    if (header.first() == u"command"_s)
        return row.first() == u'`' + rowName || row.first().startsWith(u'`' + rowName + u' ');
    const qsizetype commands = header.indexOf(u"commands"_s);
    if (commands >= 0)
        return row.value(commands) == u"all"_s || row.value(commands).contains(u'`' + rowName + u'`');
    return true;
}

Listing docListing(const DocumentedCommand &documented)
{
    const QString text = readSource(documented.file);
    Listing listing;
    for (const QString &section : documented.sections) {
        const QStringList lines = markdownSection(text, section);
        if (lines.isEmpty())
            qFatal("%s has no section \"%s\"", qPrintable(documented.file), qPrintable(section));
        for (const QList<QStringList> &table : markdownTables(lines)) {
            const QStringList header = table.first();
            for (const QStringList &row : table.mid(1)) {
                if (!rowIsFor(header, row, documented.rowName))
                    continue;
                if (header.first() == u"option"_s || header.first() == u"command"_s)
                    addDocOptions(row.first(), &listing.options);
                else if (header.first() == u"status"_s)
                    listing.statuses.insert(row.first());
            }
        }
    }
    return listing;
}

QString sorted(const QSet<QString> &set)
{
    QStringList list(set.cbegin(), set.cend());
    list.sort();
    return list.join(u", "_s);
}

} // namespace

class TestDocs : public QObject
{
    Q_OBJECT

private slots:
    void everyCommandIsDocumented();
    void optionsAndStatusesMatchHelp_data();
    void optionsAndStatusesMatchHelp();
    void examplesUseOnlyRealOptions();
    void aWrongOptionEndsWithADocumentedStatus_data();
    void aWrongOptionEndsWithADocumentedStatus();
};

void TestDocs::everyCommandIsDocumented()
{
    QStringList mapped;
    for (const DocumentedCommand &documented : documentedCommands())
        mapped.append(documented.command);
    const QStringList commands = helpCommands();
    QVERIFY2(commands.size() >= 14, qPrintable(commands.join(u", "_s)));
    for (const QString &command : commands)
        QVERIFY2(mapped.contains(command), qPrintable(u"`sandflow %1` has no section in docs/ this test knows"_s.arg(command)));
    for (const QString &command : mapped)
        QVERIFY2(commands.contains(command), qPrintable(u"`sandflow %1` is not a command any more"_s.arg(command)));
}

void TestDocs::optionsAndStatusesMatchHelp_data()
{
    QTest::addColumn<int>("index");
    for (qsizetype i = 0; i < documentedCommands().size(); ++i)
        QTest::newRow(qPrintable(documentedCommands().at(i).command)) << int(i);
}

void TestDocs::optionsAndStatusesMatchHelp()
{
    QFETCH(int, index);
    const DocumentedCommand &documented = documentedCommands().at(index);
    const Listing help = helpListing(documented.command);
    const Listing docs = docListing(documented);
    QVERIFY2(!help.statuses.isEmpty(), "--help lists no exit status");
    const QString where = u"`sandflow %1` in %2"_s.arg(documented.command, documented.file);
    QVERIFY2(docs.options == help.options,
             qPrintable(u"%1 documents the options [%2], --help lists [%3]"_s.arg(where, sorted(docs.options),
                                                                                sorted(help.options))));
    QVERIFY2(docs.statuses == help.statuses,
             qPrintable(u"%1 documents the exit statuses [%2], --help lists [%3]"_s.arg(where, sorted(docs.statuses),
                                                                                      sorted(help.statuses))));
}

// Every `sandflow COMMAND ... --option` written in the docs or the README, in prose or in a
// code block, names an option that command has.
void TestDocs::examplesUseOnlyRealOptions()
{
    QHash<QString, QSet<QString>> optionNames;
    for (const QString &command : helpCommands()) {
        for (const QString &option : helpListing(command).options)
            optionNames[command].insert(option.section(u' ', 0, 0));
        optionNames[command].insert(u"--help"_s);
    }
    static const QRegularExpression invocation(uR"(sandflow ((?:sandbox )?[a-z]+)((?: +[^\s`|#]+)*))"_s);
    QStringList files = {u"README.md"_s};
    for (const QString &name : QDir(QStringLiteral(SANDFLOW_SOURCE_DIR) + u"/docs"_s).entryList({u"*.md"_s}))
        files.append(u"docs/"_s + name);
    int checked = 0;
    for (const QString &file : files) {
        const QStringList lines = readSource(file).split(u'\n');
        for (qsizetype number = 0; number < lines.size(); ++number) {
            for (const QRegularExpressionMatch &match : invocation.globalMatch(lines.at(number))) {
                const QString command = match.captured(1);
                if (!optionNames.contains(command))
                    continue;
                // What follows ` -- ` is the command run in a sandbox, not ours.
                const QString arguments = match.captured(2).section(u" -- "_s, 0, 0);
                for (const QString &word : arguments.split(u' ', Qt::SkipEmptyParts)) {
                    if (!word.startsWith(u"--"_s))
                        continue;
                    const QString name = word.section(u'=', 0, 0);
                    QVERIFY2(optionNames.value(command).contains(name),
                             qPrintable(u"%1:%2: `sandflow %3` has no option %4"_s.arg(file).arg(number + 1).arg(command, name)));
                    ++checked;
                }
            }
        }
    }
    QVERIFY2(checked >= 10, qPrintable(u"only %1 options found in examples: is the pattern still right?"_s.arg(checked)));
}

void TestDocs::aWrongOptionEndsWithADocumentedStatus_data()
{
    optionsAndStatusesMatchHelp_data();
}

// The statuses are the code's, not only its help's: a refused option ends the way --help
// (and so the docs) says.
void TestDocs::aWrongOptionEndsWithADocumentedStatus()
{
    QFETCH(int, index);
    const QString command = documentedCommands().at(index).command;
    int exitCode = -1;
    sandflow(command.split(u' ') << u"--no-such-option"_s, &exitCode);
    QCOMPARE(exitCode, 2);
    QVERIFY(helpListing(command).statuses.contains(u"2"_s));
}

QTEST_GUILESS_MAIN(TestDocs)
#include "tst_docs.moc"
