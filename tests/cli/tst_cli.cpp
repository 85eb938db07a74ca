// The `sandflow` command line, end to end: the built executable is started as a process,
// in the source tree, and its exit status, stdout and stderr are checked. Nothing is mocked.
//
// Every run gets the caller's environment without NO_COLOR and with TERM=xterm, so that
// "no colour" is what the program decides for a pipe, not something the environment forces;
// the colour tests run the program on a pseudo-terminal.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace {

/// How one run of the program ended.
struct Run
{
    int exitCode = -1;        ///< -1 when the program did not exit normally
    QString out;
    QString err;
    QString problem;          ///< why exitCode is -1

    QStringList errLines() const { return err.split(u'\n', Qt::SkipEmptyParts); }
    QStringList outLines() const { return out.split(u'\n', Qt::SkipEmptyParts); }
};

QString sourceDir()
{
    return QStringLiteral(SANDFLOW_SOURCE_DIR);
}

QProcessEnvironment environment()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(u"NO_COLOR"_s);
    env.insert(u"TERM"_s, u"xterm"_s);
    return env;
}

void prepare(QProcess &process, const QProcessEnvironment &env)
{
    process.setProgram(QStringLiteral(SANDFLOW_BINARY));
    process.setWorkingDirectory(sourceDir());
    process.setProcessEnvironment(env);
    process.setStandardInputFile(QProcess::nullDevice());
}

/// A generous bound that only matters when the program hangs: then the test fails
/// instead of blocking forever. Nothing depends on how fast the program is.
constexpr int hangLimitMs = 120'000;

/// Runs `sandflow ARGS` with stdout and stderr on pipes (not a terminal).
Run run(const QStringList &arguments, const QProcessEnvironment &env = environment())
{
    QProcess process;
    prepare(process, env);
    process.setArguments(arguments);
    process.start();
    Run result;
    if (!process.waitForFinished(hangLimitMs)) {
        result.problem = u"did not finish: "_s + process.errorString();
        process.kill();
        process.waitForFinished();
    } else if (process.exitStatus() != QProcess::NormalExit) {
        result.problem = u"crashed: "_s + process.errorString();
    } else {
        result.exitCode = process.exitCode();
    }
    result.out = QString::fromUtf8(process.readAllStandardOutput());
    result.err = QString::fromUtf8(process.readAllStandardError());
    return result;
}

/// Runs `sandflow ARGS` with stdout and stderr both on a new pseudo-terminal; `out` holds
/// everything the terminal received (with the terminal's \r\n line ends).
Run runOnTerminal(const QStringList &arguments, const QProcessEnvironment &env)
{
    Run result;
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
        result.problem = u"cannot open a pseudo-terminal"_s;
        if (master >= 0)
            ::close(master);
        return result;
    }
    char slaveName[256] = {};
    const int slave = ::ptsname_r(master, slaveName, sizeof slaveName) == 0
                      ? ::open(slaveName, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
    if (slave < 0) {
        result.problem = u"cannot open the terminal side of the pseudo-terminal"_s;
        ::close(master);
        return result;
    }

    QProcess process;
    prepare(process, env);
    process.setArguments(arguments);
    // In the child, after QProcess set up its pipes: stdout and stderr become the terminal.
    process.setChildProcessModifier([slave] {
        ::dup2(slave, STDOUT_FILENO);
        ::dup2(slave, STDERR_FILENO);
    });
    process.start();
    const bool started = process.waitForStarted(hangLimitMs);
    // From here only the child holds the terminal side: reading ends when it exits.
    ::close(slave);

    QByteArray received;
    bool hung = false;
    while (started) {
        pollfd readable{master, POLLIN, 0};
        const int ready = ::poll(&readable, 1, hangLimitMs);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0) {
            hung = ready == 0;
            break;
        }
        char buffer[4096];
        const ssize_t count = ::read(master, buffer, sizeof buffer);
        if (count < 0 && errno == EINTR)
            continue;
        if (count <= 0)
            break;      // EIO on Linux: every process closed the terminal side
        received.append(buffer, count);
    }
    ::close(master);

    if (!started) {
        result.problem = u"did not start: "_s + process.errorString();
    } else if (hung || !process.waitForFinished(hangLimitMs)) {
        result.problem = u"did not finish"_s;
        process.kill();
        process.waitForFinished();
    } else if (process.exitStatus() != QProcess::NormalExit) {
        result.problem = u"crashed: "_s + process.errorString();
    } else {
        result.exitCode = process.exitCode();
    }
    result.out = QString::fromUtf8(received);
    return result;
}

/// The *.yaml files of `folder` (relative to the source directory), as relative paths, sorted.
QStringList yamlFilesIn(const QString &folder)
{
    const QDir dir(sourceDir() + u'/' + folder);
    QStringList files;
    for (const QString &name : dir.entryList({u"*.yaml"_s}, QDir::Files, QDir::Name))
        files.append(folder + u'/' + name);
    return files;
}

QStringList exampleWorkflows()
{
    return yamlFilesIn(u"workflows/examples"_s);
}

QStringList malformedCases()
{
    return yamlFilesIn(u"tests/data/malformed"_s);
}

/// What `validate` must print on stderr for a malformed case: one line per `# expect:` /
/// `# expect-in FILE:` header (see tests/unit/tst_loader_errors.cpp), then the count line.
QStringList expectedValidateErrors(const QString &casePath)
{
    QFile file(sourceDir() + u'/' + casePath);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    static const QRegularExpression expect(u"^#\\s*expect(?:-in\\s+(\\S+))?:\\s*(\\d+):(\\d+):\\s*(.*)$"_s);
    const QString caseDir = QFileInfo(casePath).path();
    QStringList lines;
    while (!file.atEnd()) {
        const QRegularExpressionMatch match = expect.match(QString::fromUtf8(file.readLine()).trimmed());
        if (!match.hasMatch())
            continue;
        const QString where = match.captured(1).isEmpty()
                              ? casePath : QDir::cleanPath(caseDir + u'/' + match.captured(1));
        lines.append(u"%1:%2:%3: error: %4"_s.arg(where, match.captured(2), match.captured(3), match.captured(4)));
    }
    if (!lines.isEmpty())
        lines.append(u"%1 error%2 in 1 file"_s.arg(lines.size()).arg(lines.size() == 1 ? QString() : u"s"_s));
    return lines;
}

bool writeFile(const QString &path, const QByteArray &content)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
}

/// A workflow that uses two variables in its sandbox image.
const QByteArray varsWorkflow = "version: 1\n"
                                "name: vars\n"
                                "vars:\n"
                                "  distro: alpine\n"
                                "  tag: \"3.19\"\n"
                                "jobs:\n"
                                "  build:\n"
                                "    sandbox:\n"
                                "      image: \"${{ vars.distro }}:${{ vars.tag }}\"\n"
                                "    steps:\n"
                                "      - run: echo building\n";

} // namespace

// Prints the run when a check fails, so that a failure shows what the program said.
#define CHECK_EXIT(result, expected) \
    QVERIFY2((result).exitCode == (expected), \
             qPrintable(u"exit %1 (expected %2) %3\n--- stdout:\n%4--- stderr:\n%5"_s \
                            .arg((result).exitCode).arg(expected).arg((result).problem, (result).out, (result).err)))

class TestCli : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void sandboxesLeftBehindAreListedAndCollected();
    void runsAreListedFromTheirDirectories();

    void globalHelp_data();
    void globalHelp();
    void commandHelp_data();
    void commandHelp();
    void version_data();
    void version();
    void noArguments();
    void usageErrors_data();
    void usageErrors();
    void unknownCommandWithoutCloseMatch();

    void validateExamples_data();
    void validateExamples();
    void validateAllExamplesAtOnce();
    void validateMalformed_data();
    void validateMalformed();
    void validateReportsEveryProblem();
    void validateSeveralFilesOneBad();
    void validateQuiet();
    void missingFile_data();
    void missingFile();

    void unsetSecrets();
    void runJsonReportsDiagnostics();
    void runDirectoryIsNotReused();
    void hostVolumes();
    void varOverride_data();
    void varOverride();
    void invalidVar_data();
    void invalidVar();

    void planJsonMatrix();
    void planJsonShape_data();
    void planJsonShape();
    void planText_data();
    void planText();

    void noColourWithoutTerminal_data();
    void noColourWithoutTerminal();
    void colourOnTerminal_data();
    void colourOnTerminal();

private:
    QTemporaryDir m_temp;
    QString m_varsWorkflow;
};

void TestCli::initTestCase()
{
    QVERIFY2(QFileInfo(QStringLiteral(SANDFLOW_BINARY)).isExecutable(), SANDFLOW_BINARY " is not built");
    QVERIFY(m_temp.isValid());
    m_varsWorkflow = m_temp.filePath(u"vars.yaml"_s);
    QVERIFY(writeFile(m_varsWorkflow, varsWorkflow));
    QVERIFY(exampleWorkflows().contains(u"workflows/examples/matrix.yaml"_s));
    QVERIFY(malformedCases().size() >= 60);
}

// --- help, version, usage errors --------------------------------------------------------

void TestCli::globalHelp_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::newRow("--help") << QStringList{u"--help"_s};
    QTest::newRow("-h") << QStringList{u"-h"_s};
    QTest::newRow("help") << QStringList{u"help"_s};
}

void TestCli::globalHelp()
{
    QFETCH(QStringList, arguments);
    const Run result = run(arguments);
    CHECK_EXIT(result, 0);
    QCOMPARE(result.err, QString());
    QVERIFY(result.out.startsWith(u"Usage: sandflow COMMAND"_s));
    // Each command is listed with its arguments and a summary.
    QVERIFY2(result.out.contains(QRegularExpression(u"^  validate FILE\\.\\.\\.\\s+\\S"_s,
                                                    QRegularExpression::MultilineOption)), qPrintable(result.out));
    QVERIFY2(result.out.contains(QRegularExpression(u"^  plan FILE\\s+\\S"_s, QRegularExpression::MultilineOption)),
             qPrintable(result.out));
    QVERIFY(result.out.contains(u"--version"_s));
}

void TestCli::commandHelp_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("usage");
    QTest::addColumn<QStringList>("options");
    const QStringList validateOptions{u"--var NAME=VALUE"_s, u"-q, --quiet"_s, u"-h, --help"_s};
    const QStringList planOptions{u"--var NAME=VALUE"_s, u"--json"_s, u"-h, --help"_s};
    const QString validateUsage = u"Usage: sandflow validate [OPTIONS] FILE...\n"_s;
    const QString planUsage = u"Usage: sandflow plan [OPTIONS] FILE\n"_s;
    QTest::newRow("validate --help") << QStringList{u"validate"_s, u"--help"_s} << validateUsage << validateOptions;
    QTest::newRow("validate -h") << QStringList{u"validate"_s, u"-h"_s} << validateUsage << validateOptions;
    QTest::newRow("help validate") << QStringList{u"help"_s, u"validate"_s} << validateUsage << validateOptions;
    QTest::newRow("validate FILE --help")
        << QStringList{u"validate"_s, u"workflows/examples/hello.yaml"_s, u"--help"_s} << validateUsage
        << validateOptions;
    QTest::newRow("plan --help") << QStringList{u"plan"_s, u"--help"_s} << planUsage << planOptions;
    QTest::newRow("plan -h") << QStringList{u"plan"_s, u"-h"_s} << planUsage << planOptions;
    QTest::newRow("help plan") << QStringList{u"help"_s, u"plan"_s} << planUsage << planOptions;
}

void TestCli::commandHelp()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, usage);
    QFETCH(QStringList, options);
    const Run result = run(arguments);
    CHECK_EXIT(result, 0);
    QCOMPARE(result.err, QString());
    QVERIFY2(result.out.startsWith(usage), qPrintable(result.out));
    QVERIFY(result.out.contains(u"\nOptions:\n"_s));
    // One line per option: the names, then the description.
    for (const QString &option : options) {
        const QRegularExpression line(u"^  "_s + QRegularExpression::escape(option) + u"\\s+\\S"_s,
                                      QRegularExpression::MultilineOption);
        QVERIFY2(result.out.contains(line), qPrintable(option + u" is not listed in:\n"_s + result.out));
    }
}

void TestCli::version_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::newRow("--version") << QStringList{u"--version"_s};
    QTest::newRow("-V") << QStringList{u"-V"_s};
}

void TestCli::version()
{
    QFETCH(QStringList, arguments);
    const Run result = run(arguments);
    CHECK_EXIT(result, 0);
    QCOMPARE(result.err, QString());
    QCOMPARE(result.outLines().size(), 1);
    const QString expected = u"sandflow "_s + QStringLiteral(SANDFLOW_PROJECT_VERSION);
    QVERIFY2(result.out == expected + u'\n' || result.out.startsWith(expected + u' '), qPrintable(result.out));
}

void TestCli::noArguments()
{
    const Run result = run({});
    CHECK_EXIT(result, 2);
    QCOMPARE(result.out, QString());
    QVERIFY2(result.err.startsWith(u"Usage: sandflow COMMAND"_s), qPrintable(result.err));
    QVERIFY(result.err.contains(u"  validate FILE..."_s));
    QVERIFY(result.err.contains(u"  plan FILE"_s));
}

void TestCli::usageErrors_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QStringList>("messages");    // each on stderr, in this order

    const QString hello = u"workflows/examples/hello.yaml"_s;
    const QString matrix = u"workflows/examples/matrix.yaml"_s;
    const QString globalHint = u"Run 'sandflow --help' for usage."_s;
    const QString validateHint = u"Run 'sandflow validate --help' for usage."_s;
    const QString planHint = u"Run 'sandflow plan --help' for usage."_s;

    QTest::newRow("command typo validate")
        << QStringList{u"vaildate"_s, hello}
        << QStringList{u"unknown command `vaildate`"_s, u"did you mean `validate`"_s, globalHint};
    QTest::newRow("command typo plan")
        << QStringList{u"paln"_s, hello} << QStringList{u"unknown command `paln`"_s, u"did you mean `plan`"_s, globalHint};
    QTest::newRow("global flag") << QStringList{u"--bogus"_s} << QStringList{u"unknown option `--bogus`"_s, globalHint};
    QTest::newRow("global flag before command")
        << QStringList{u"-x"_s, u"validate"_s, hello} << QStringList{u"unknown option `-x`"_s, globalHint};
    QTest::newRow("validate flag")
        << QStringList{u"validate"_s, u"--bogus"_s, hello}
        << QStringList{u"sandflow validate: unknown option `--bogus`"_s, validateHint};
    QTest::newRow("validate flag after file")
        << QStringList{u"validate"_s, hello, u"-x"_s} << QStringList{u"sandflow validate: unknown option `-x`"_s, validateHint};
    QTest::newRow("validate flag typo")
        << QStringList{u"validate"_s, u"--qiet"_s, hello}
        << QStringList{u"unknown option `--qiet`"_s, u"did you mean `--quiet`"_s, validateHint};
    QTest::newRow("plan flag")
        << QStringList{u"plan"_s, u"--bogus"_s, hello} << QStringList{u"sandflow plan: unknown option `--bogus`"_s, planHint};
    QTest::newRow("plan flag typo")
        << QStringList{u"plan"_s, u"--jsno"_s, hello}
        << QStringList{u"unknown option `--jsno`"_s, u"did you mean `--json`"_s, planHint};
    QTest::newRow("plan flag of validate")
        << QStringList{u"plan"_s, u"--quiet"_s, hello} << QStringList{u"unknown option `--quiet`"_s, planHint};
    QTest::newRow("validate without FILE")
        << QStringList{u"validate"_s} << QStringList{u"sandflow validate: missing FILE"_s, validateHint};
    QTest::newRow("validate with only options")
        << QStringList{u"validate"_s, u"-q"_s} << QStringList{u"sandflow validate: missing FILE"_s, validateHint};
    QTest::newRow("plan without FILE") << QStringList{u"plan"_s} << QStringList{u"sandflow plan: missing FILE"_s, planHint};
    QTest::newRow("plan with only --json")
        << QStringList{u"plan"_s, u"--json"_s} << QStringList{u"sandflow plan: missing FILE"_s, planHint};
    QTest::newRow("plan two files")
        << QStringList{u"plan"_s, hello, matrix}
        << QStringList{u"sandflow plan: unexpected argument `%1`"_s.arg(matrix), planHint};
    QTest::newRow("plan three files")
        << QStringList{u"plan"_s, hello, matrix, hello}
        << QStringList{u"sandflow plan: unexpected argument `%1`"_s.arg(matrix), planHint};
    QTest::newRow("--var without value")
        << QStringList{u"validate"_s, hello, u"--var"_s} << QStringList{u"--var"_s, validateHint};
}

// Usage errors: exit 2, a message naming the culprit and a pointer to --help on stderr,
// nothing on stdout.
void TestCli::usageErrors()
{
    QFETCH(QStringList, arguments);
    QFETCH(QStringList, messages);
    const Run result = run(arguments);
    CHECK_EXIT(result, 2);
    QCOMPARE(result.out, QString());
    qsizetype from = 0;
    for (const QString &message : messages) {
        const qsizetype at = result.err.indexOf(message, from);
        QVERIFY2(at >= 0, qPrintable(u"`%1` not on stderr (in order) in:\n%2"_s.arg(message, result.err)));
        from = at + message.size();
    }
}

void TestCli::unknownCommandWithoutCloseMatch()
{
    const Run result = run({u"deploy"_s, u"workflows/examples/hello.yaml"_s});
    CHECK_EXIT(result, 2);
    QCOMPARE(result.out, QString());
    QVERIFY2(result.err.contains(u"unknown command `deploy`"_s), qPrintable(result.err));
    QVERIFY2(!result.err.contains(u"did you mean"_s), qPrintable(result.err));
}

// --- validate ---------------------------------------------------------------------------

void TestCli::validateExamples_data()
{
    QTest::addColumn<QString>("path");
    for (const QString &path : exampleWorkflows())
        QTest::newRow(qPrintable(path)) << path;
}

void TestCli::validateExamples()
{
    QFETCH(QString, path);
    const Run result = run({u"validate"_s, path});
    CHECK_EXIT(result, 0);
    QCOMPARE(result.err, QString());
    const QRegularExpression valid(u"^%1: valid \\(\\d+ jobs?, \\d+ steps?\\)\\n$"_s.arg(QRegularExpression::escape(path)));
    QVERIFY2(valid.match(result.out).hasMatch(), qPrintable(result.out));
}

void TestCli::validateAllExamplesAtOnce()
{
    const QStringList paths = exampleWorkflows();
    const Run result = run(QStringList{u"validate"_s} + paths);
    CHECK_EXIT(result, 0);
    QCOMPARE(result.err, QString());
    const QStringList lines = result.outLines();
    QCOMPARE(lines.size(), paths.size());
    for (qsizetype i = 0; i < paths.size(); ++i)
        QVERIFY2(lines.at(i).startsWith(paths.at(i) + u": valid ("_s), qPrintable(lines.at(i)));
}

void TestCli::validateMalformed_data()
{
    QTest::addColumn<QString>("path");
    for (const QString &path : malformedCases())
        QTest::newRow(qPrintable(QFileInfo(path).fileName())) << path;
}

// Every malformed case: exactly the loader's errors, as FILE:LINE:COL: error: MESSAGE, then
// the count; nothing on stdout.
void TestCli::validateMalformed()
{
    QFETCH(QString, path);
    const QStringList expected = expectedValidateErrors(path);
    QVERIFY2(!expected.isEmpty(), "the case declares no expected error");
    const Run result = run({u"validate"_s, path});
    CHECK_EXIT(result, 2);
    QCOMPARE(result.out, QString());
    QCOMPARE(result.errLines(), expected);
}

void TestCli::validateReportsEveryProblem()
{
    const QString path = u"tests/data/malformed/job-unknown-key.yaml"_s;
    const Run result = run({u"validate"_s, path});
    CHECK_EXIT(result, 2);
    QCOMPARE(result.out, QString());
    QCOMPARE(result.err,
             path + u":7:3: error: job `a` is missing required key `steps`\n"_s
             + path + u":8:5: error: unknown key `step` in job `a` (did you mean `steps`?)\n"_s
             + u"2 errors in 1 file\n"_s);
}

void TestCli::validateSeveralFilesOneBad()
{
    const QString hello = u"workflows/examples/hello.yaml"_s;
    const QString matrix = u"workflows/examples/matrix.yaml"_s;
    const QString bad = u"tests/data/malformed/cycle-three.yaml"_s;
    const QString worse = u"tests/data/malformed/job-unknown-key.yaml"_s;

    // The bad file in the middle: the files around it are still checked and reported.
    const Run one = run({u"validate"_s, hello, bad, matrix});
    CHECK_EXIT(one, 2);
    const QStringList out = one.outLines();
    QCOMPARE(out.size(), 2);
    QVERIFY2(out.at(0).startsWith(hello + u": valid ("_s), qPrintable(one.out));
    QVERIFY2(out.at(1).startsWith(matrix + u": valid ("_s), qPrintable(one.out));
    QCOMPARE(one.errLines(), QStringList({bad + u":10:12: error: dependency cycle: a -> c -> b -> a"_s,
                                          u"1 error in 1 file"_s}));

    // Two bad files: every error of each, one count for all.
    const Run two = run({u"validate"_s, bad, hello, worse});
    CHECK_EXIT(two, 2);
    QCOMPARE(two.outLines().size(), 1);
    QVERIFY2(two.out.startsWith(hello + u": valid ("_s), qPrintable(two.out));
    const QStringList err = two.errLines();
    QCOMPARE(err.size(), 4);
    QVERIFY(err.at(0).startsWith(bad + u":10:12: error: "_s));
    QVERIFY(err.at(1).startsWith(worse + u":7:3: error: "_s));
    QVERIFY(err.at(2).startsWith(worse + u":8:5: error: "_s));
    QCOMPARE(err.at(3), u"3 errors in 2 files"_s);
}

void TestCli::validateQuiet()
{
    const QString hello = u"workflows/examples/hello.yaml"_s;
    const QString bad = u"tests/data/malformed/cycle-three.yaml"_s;

    const Run valid = run({u"validate"_s, u"--quiet"_s, hello});
    CHECK_EXIT(valid, 0);
    QCOMPARE(valid.out, QString());
    QCOMPARE(valid.err, QString());

    const Run invalid = run({u"validate"_s, u"-q"_s, hello, bad});
    CHECK_EXIT(invalid, 2);
    QCOMPARE(invalid.out, QString());
    QCOMPARE(invalid.errLines().size(), 2);
    QVERIFY(invalid.err.startsWith(bad + u":10:12: error: "_s));
}

void TestCli::missingFile_data()
{
    QTest::addColumn<QString>("command");
    QTest::newRow("validate") << u"validate"_s;
    QTest::newRow("plan") << u"plan"_s;
    QTest::newRow("plan --json") << u"plan --json"_s;
}

void TestCli::missingFile()
{
    QFETCH(QString, command);
    const QString path = m_temp.filePath(u"does-not-exist.yaml"_s);
    QVERIFY(!QFileInfo::exists(path));
    const Run result = run(command.split(u' ') << path);
    CHECK_EXIT(result, 2);
    QCOMPARE(result.out, QString());
    QVERIFY2(result.err.startsWith(path + u": error: cannot read workflow"_s), qPrintable(result.err));
    if (command == u"validate"_s)
        QCOMPARE(result.errLines().constLast(), u"1 error in 1 file"_s);
}

// --- --var ------------------------------------------------------------------------------

void TestCli::varOverride_data()
{
    QTest::addColumn<QStringList>("before");   // arguments before the file
    QTest::addColumn<QStringList>("after");    // arguments after it
    QTest::addColumn<QString>("image");
    QTest::newRow("declared values") << QStringList() << QStringList() << u"alpine:3.19"_s;
    QTest::newRow("one override") << QStringList{u"--var"_s, u"distro=debian"_s} << QStringList() << u"debian:3.19"_s;
    QTest::newRow("after the file") << QStringList() << QStringList{u"--var"_s, u"distro=debian"_s} << u"debian:3.19"_s;
    QTest::newRow("inline form") << QStringList{u"--var=distro=debian"_s} << QStringList() << u"debian:3.19"_s;
    QTest::newRow("two overrides")
        << QStringList{u"--var"_s, u"distro=ubuntu"_s, u"--var"_s, u"tag=24.04"_s} << QStringList() << u"ubuntu:24.04"_s;
    QTest::newRow("value with =") << QStringList{u"--var"_s, u"tag=a=b"_s} << QStringList() << u"alpine:a=b"_s;
    QTest::newRow("empty value") << QStringList{u"--var"_s, u"tag="_s} << QStringList() << u"alpine:"_s;
}

// The value given on the command line is the one the workflow sees where it uses
// `${{ vars.NAME }}`; checked in the evaluated sandbox image of `plan --json`.
// As GitHub Actions: a secret that is not set reads as "", with one warning naming it; one
// declared required fails the run before anything starts, at its own line.
void TestCli::unsetSecrets()
{
    QProcessEnvironment env = environment();
    env.remove(u"SANDFLOW_TEST_UNSET_SECRET"_s);
    env.remove(u"SANDFLOW_TEST_OPTIONAL_SECRET"_s);
    env.remove(u"SANDFLOW_TEST_REQUIRED_SECRET"_s);
    QTemporaryDir runs;
    QVERIFY(runs.isValid());

    const QString optional = u"tests/data/run/secrets-unset.yaml"_s;
    const Run ran = run({u"run"_s, u"--run-dir"_s, runs.filePath(u"unset"_s), optional}, env);
    CHECK_EXIT(ran, 0);
    QCOMPARE(ran.err.count(u"SANDFLOW_TEST_UNSET_SECRET"_s), 1);
    QVERIFY2(ran.err.contains(optional + u":5:11: warning: secret `SANDFLOW_TEST_UNSET_SECRET` is not set in the "
                                          u"environment: it reads as \"\"\n"_s),
             qPrintable(ran.err));
    QFile log(runs.filePath(u"unset/use/step-1.log"_s));
    QVERIFY2(log.open(QIODevice::ReadOnly), qPrintable(log.fileName()));
    QVERIFY(log.readAll().contains("unset=[]"));

    const QString required = u"tests/data/run/secrets-required.yaml"_s;
    const Run refused = run({u"run"_s, u"--run-dir"_s, runs.filePath(u"required"_s), required}, env);
    CHECK_EXIT(refused, 2);
    QCOMPARE(refused.err, required + u":7:3: error: secret `SANDFLOW_TEST_REQUIRED_SECRET` is required, and not set "
                                     u"in the environment\n"_s);
    QVERIFY(!QFileInfo::exists(runs.filePath(u"required"_s)));
    // validate and plan judge the file, not the environment.
    CHECK_EXIT(run({u"validate"_s, required}, env), 0);
}

// With --json a program reads stdout alone: an invalid workflow's errors (and warnings) are
// there too, one JSON object per line, and nothing else follows.
void TestCli::runJsonReportsDiagnostics()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString workflow = dir.filePath(u"bad.yaml"_s);
    QVERIFY(writeFile(workflow, "version: 1\nname: bad\njobs:\n  a:\n    if: false\n    steps:\n"
                                "      - run: echo\n        timeout: 30\n"));
    const Run ran = run({u"run"_s, u"--json"_s, u"--run-dir"_s, dir.filePath(u"run"_s), workflow});
    CHECK_EXIT(ran, 2);
    QList<QJsonObject> lines;
    for (const QString &line : ran.out.split(u'\n', Qt::SkipEmptyParts))
        lines.append(QJsonDocument::fromJson(line.toUtf8()).object());
    QCOMPARE(lines, (QList<QJsonObject>{
        QJsonObject{{u"type"_s, u"diagnostic"_s}, {u"severity"_s, u"warning"_s}, {u"file"_s, workflow},
                    {u"line"_s, 5}, {u"column"_s, 9}, {u"text"_s, u"this `if` is always false: what it guards never runs"_s}},
        QJsonObject{{u"type"_s, u"diagnostic"_s}, {u"severity"_s, u"error"_s}, {u"file"_s, workflow},
                    {u"line"_s, 8}, {u"column"_s, 18},
                    {u"text"_s, u"`30` for `timeout` needs a unit: `30s` for seconds or `30m` for minutes"_s}}}));
    QVERIFY(ran.err.contains(u"error: `30` for `timeout` needs a unit"_s));
    QVERIFY(!QFileInfo::exists(dir.filePath(u"run"_s)));
}

// A run directory holding a run would mix two runs' logs and reports: it is refused.
void TestCli::runDirectoryIsNotReused()
{
    QTemporaryDir runs;
    QVERIFY(runs.isValid());
    const QString runDir = runs.filePath(u"once"_s);
    CHECK_EXIT(run({u"run"_s, u"--run-dir"_s, runDir, u"workflows/examples/hello.yaml"_s}), 0);
    QFile events(runDir + u"/events.jsonl"_s);
    QVERIFY(events.open(QIODevice::ReadOnly));
    const QByteArray firstRun = events.readAll();
    events.close();
    const Run again = run({u"run"_s, u"--run-dir"_s, runDir, u"workflows/examples/hello.yaml"_s});
    CHECK_EXIT(again, 2);
    QCOMPARE(again.err, u"sandflow run: %1 holds a run already; give --run-dir a new directory\n"_s
                            .arg(QDir(runDir).absolutePath()));
    QVERIFY(events.open(QIODevice::ReadOnly));
    QCOMPARE(events.readAll(), firstRun);
}

// `run` lets host volumes mount the workflow's own directory tree, and other directories
// only when `--allow-host-path` names them; a refusal says how to allow the path.
void TestCli::hostVolumes()
{
    QTemporaryDir workflowDir;
    QTemporaryDir outside;
    QTemporaryDir runs;
    QVERIFY(workflowDir.isValid() && outside.isValid() && runs.isValid());
    QVERIFY(QDir().mkpath(workflowDir.filePath(u"shared"_s)));
    QVERIFY(writeFile(workflowDir.filePath(u"shared/in.txt"_s), "from the host\n"));
    QVERIFY(writeFile(outside.filePath(u"in.txt"_s), "from outside\n"));
    const auto workflow = [](const QByteArray &hostPath) {
        return "version: 1\n"
               "name: host-volumes\n"
               "volumes:\n"
               "  shared: { host: { path: \"" + hostPath + "\" } }\n"
               "jobs:\n"
               "  use:\n"
               "    sandbox:\n"
               "      image: debian:12\n"
               "      mounts:\n"
               "        - { volume: shared, path: /mnt/shared }\n"
               "    steps:\n"
               "      - run: cat /mnt/shared/in.txt && echo written > /mnt/shared/out.txt\n";
    };

    // Relative to the workflow's directory, and inside it: allowed without a word.
    const QString inside = workflowDir.filePath(u"inside.yaml"_s);
    QVERIFY(writeFile(inside, workflow("./shared")));
    const Run ran = run({u"run"_s, u"--run-dir"_s, runs.filePath(u"inside"_s), inside});
    CHECK_EXIT(ran, 0);
    QFile log(runs.filePath(u"inside/use/step-1.log"_s));
    QVERIFY2(log.open(QIODevice::ReadOnly), qPrintable(log.fileName()));
    QVERIFY(log.readAll().contains("from the host"));
    QFile written(workflowDir.filePath(u"shared/out.txt"_s));
    QVERIFY(written.open(QIODevice::ReadOnly));
    QCOMPARE(written.readAll(), QByteArray("written\n"));

    // Outside it: refused, with how to allow it...
    const QString away = workflowDir.filePath(u"outside.yaml"_s);
    QVERIFY(writeFile(away, workflow(outside.path().toUtf8())));
    const Run refused = run({u"run"_s, u"--run-dir"_s, runs.filePath(u"refused"_s), away});
    CHECK_EXIT(refused, 1);
    const QString advice = u"host path `%1` is not within the allowed host paths (%2); allow it with "
                           u"`sandflow run --allow-host-path %1` (the workflow's directory is allowed without it)"_s
                               .arg(outside.path(), workflowDir.path());
    QVERIFY2(refused.out.contains(advice) || refused.err.contains(advice),
             qPrintable(refused.out + refused.err));
    QVERIFY(!QFileInfo::exists(outside.filePath(u"out.txt"_s)));

    // ...then allowed so.
    const Run allowed = run({u"run"_s, u"--allow-host-path"_s, outside.path(), u"--run-dir"_s,
                             runs.filePath(u"allowed"_s), away});
    CHECK_EXIT(allowed, 0);
    QFile allowedLog(runs.filePath(u"allowed/use/step-1.log"_s));
    QVERIFY2(allowedLog.open(QIODevice::ReadOnly), qPrintable(allowedLog.fileName()));
    QVERIFY(allowedLog.readAll().contains("from outside"));
    QVERIFY(QFileInfo::exists(outside.filePath(u"out.txt"_s)));
}

void TestCli::varOverride()
{
    QFETCH(QStringList, before);
    QFETCH(QStringList, after);
    QFETCH(QString, image);

    const Run validated = run(QStringList{u"validate"_s} + before + QStringList{m_varsWorkflow} + after);
    CHECK_EXIT(validated, 0);
    QCOMPARE(validated.err, QString());

    const Run planned = run(QStringList{u"plan"_s, u"--json"_s} + before + QStringList{m_varsWorkflow} + after);
    CHECK_EXIT(planned, 0);
    QCOMPARE(planned.err, QString());
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(planned.out.toUtf8(), &error);
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
    const QJsonArray instances = document.object().value(u"jobs"_s).toArray().at(0).toObject()
                                     .value(u"instances"_s).toArray();
    QCOMPARE(instances.size(), 1);
    QCOMPARE(instances.at(0).toObject().value(u"sandbox"_s).toObject().value(u"image"_s).toString(), image);

    // The text plan shows the same image.
    const Run text = run(QStringList{u"plan"_s} + before + QStringList{m_varsWorkflow} + after);
    CHECK_EXIT(text, 0);
    QVERIFY2(text.out.contains(u"sandbox: image "_s + image + u'\n'), qPrintable(text.out));
}

void TestCli::invalidVar_data()
{
    QTest::addColumn<QString>("command");
    QTest::addColumn<QString>("assignment");
    QTest::addColumn<QString>("message");
    for (const QString &command : {u"validate"_s, u"plan"_s}) {
        const QByteArray prefix = command.toUtf8() + ' ';
        QTest::newRow((prefix + "no =").constData()) << command << u"distro"_s
                                       << u"sandflow: invalid --var `distro` (expected NAME=VALUE)"_s;
        QTest::newRow((prefix + "no name").constData()) << command << u"=debian"_s
                                          << u"sandflow: invalid --var `=debian` (expected NAME=VALUE)"_s;
        QTest::newRow((prefix + "empty").constData()) << command << QString() << u"sandflow: invalid --var `` (expected NAME=VALUE)"_s;
        QTest::newRow((prefix + "undeclared").constData()) << command << u"release=12"_s
                                             << u"--var release: the workflow declares no variable `release` under `vars`"_s;
        QTest::newRow((prefix + "case matters").constData()) << command << u"Distro=debian"_s
                                               << u"the workflow declares no variable `Distro`"_s;
    }
}

void TestCli::invalidVar()
{
    QFETCH(QString, command);
    QFETCH(QString, assignment);
    QFETCH(QString, message);
    const Run result = run({command, u"--var"_s, assignment, m_varsWorkflow});
    CHECK_EXIT(result, 2);
    QCOMPARE(result.out, QString());
    QVERIFY2(result.err.contains(message), qPrintable(result.err));
}

// --- plan -------------------------------------------------------------------------------

// workflows/examples/matrix.yaml: axes distro [alpine, debian] x size [small, large] give
// four combinations in axis order; exclude drops alpine/large; the first include matches
// debian/large and adds `flags: --verbose` to it; the second matches no combination and is
// appended as its own. Sandbox image: "${{ matrix.distro }}:latest".
void TestCli::planJsonMatrix()
{
    const QString path = u"workflows/examples/matrix.yaml"_s;
    const Run result = run({u"plan"_s, u"--json"_s, path});
    CHECK_EXIT(result, 0);
    QCOMPARE(result.err, QString());
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(result.out.toUtf8(), &error);
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
    QVERIFY(document.isObject());
    const QJsonObject plan = document.object();

    QCOMPARE(plan.value(u"workflow"_s).toString(), u"matrix"_s);
    QCOMPARE(plan.value(u"file"_s).toString(), path);
    QJsonArray stages;   // [["build"]]; QJsonArray({QJsonArray{...}}) would be a copy for clang
    stages.append(QJsonArray{u"build"_s});
    QCOMPARE(plan.value(u"stages"_s).toArray(), stages);
    QCOMPARE(plan.value(u"totals"_s).toObject(),
             QJsonObject({{u"jobs"_s, 1}, {u"instances"_s, 4}, {u"sandboxes"_s, 4}}));

    const QJsonArray jobs = plan.value(u"jobs"_s).toArray();
    QCOMPARE(jobs.size(), 1);
    const QJsonObject build = jobs.at(0).toObject();
    QCOMPARE(build.value(u"id"_s).toString(), u"build"_s);
    QCOMPARE(build.value(u"stage"_s).toInt(), 1);
    QCOMPARE(build.value(u"needs"_s).toArray(), QJsonArray());
    QCOMPARE(build.value(u"instanceCount"_s).toInt(), 4);
    QCOMPARE(build.value(u"strategy"_s).toObject().value(u"maxParallel"_s).toInt(), 2);
    QCOMPARE(build.value(u"strategy"_s).toObject().value(u"failFast"_s).toBool(true), false);
    QCOMPARE(build.value(u"steps"_s).toArray().size(), 3);

    QStringList names;
    QStringList images;
    QList<QJsonObject> combinations;
    for (const QJsonValue &instance : build.value(u"instances"_s).toArray()) {
        names.append(instance.toObject().value(u"name"_s).toString());
        images.append(instance.toObject().value(u"sandbox"_s).toObject().value(u"image"_s).toString());
        combinations.append(instance.toObject().value(u"matrix"_s).toObject());
    }
    // The job's `name:`, as the run will call each instance.
    QCOMPARE(names, QStringList({u"build alpine/small"_s, u"build debian/small"_s, u"build debian/large"_s,
                                 u"build busybox/tiny"_s}));
    QCOMPARE(images, QStringList({u"alpine:latest"_s, u"debian:latest"_s, u"debian:latest"_s, u"busybox:latest"_s}));
    QCOMPARE(combinations, QList<QJsonObject>({
        QJsonObject{{u"distro"_s, u"alpine"_s}, {u"size"_s, u"small"_s}},
        QJsonObject{{u"distro"_s, u"debian"_s}, {u"size"_s, u"small"_s}},
        QJsonObject{{u"distro"_s, u"debian"_s}, {u"size"_s, u"large"_s}, {u"flags"_s, u"--verbose"_s}},
        QJsonObject{{u"distro"_s, u"busybox"_s}, {u"size"_s, u"tiny"_s}},
    }));
}

void TestCli::planJsonShape_data()
{
    QTest::addColumn<QString>("path");
    const QStringList paths = exampleWorkflows() << u"workflows/reference/full.yaml"_s;
    for (const QString &path : paths)
        QTest::newRow(qPrintable(path)) << path;
}

// For every shipped workflow: valid JSON with the documented keys, totals that add up,
// and every job in exactly one stage.
void TestCli::planJsonShape()
{
    QFETCH(QString, path);
    const Run result = run({u"plan"_s, u"--json"_s, path});
    CHECK_EXIT(result, 0);
    QCOMPARE(result.err, QString());
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(result.out.toUtf8(), &error);
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
    const QJsonObject plan = document.object();
    for (const QString &key : {u"workflow"_s, u"stages"_s, u"jobs"_s, u"totals"_s})
        QVERIFY2(plan.contains(key), qPrintable(u"no `%1` in the plan"_s.arg(key)));
    QVERIFY(plan.value(u"workflow"_s).isString());
    QVERIFY(!plan.value(u"workflow"_s).toString().isEmpty());
    QVERIFY(plan.value(u"stages"_s).isArray());
    QVERIFY(plan.value(u"jobs"_s).isArray());
    QVERIFY(plan.value(u"totals"_s).isObject());

    const QJsonArray jobs = plan.value(u"jobs"_s).toArray();
    QVERIFY(!jobs.isEmpty());
    qint64 instances = 0;
    QStringList ids;
    for (const QJsonValue &value : jobs) {
        const QJsonObject job = value.toObject();
        ids.append(job.value(u"id"_s).toString());
        const qint64 count = job.value(u"instanceCount"_s).toInteger();
        QVERIFY(count >= 1);
        QCOMPARE(qint64(job.value(u"instances"_s).toArray().size()), count);
        instances += count;
    }
    QStringList staged;
    for (const QJsonValue &stage : plan.value(u"stages"_s).toArray()) {
        QVERIFY(!stage.toArray().isEmpty());
        for (const QJsonValue &id : stage.toArray())
            staged.append(id.toString());
    }
    QStringList sortedIds = ids;
    sortedIds.sort();
    staged.sort();
    QCOMPARE(staged, sortedIds);

    const QJsonObject totals = plan.value(u"totals"_s).toObject();
    QCOMPARE(totals.value(u"jobs"_s).toInteger(), qint64(jobs.size()));
    QCOMPARE(totals.value(u"instances"_s).toInteger(), instances);
    QCOMPARE(totals.value(u"sandboxes"_s).toInteger(), instances);
}

void TestCli::planText_data()
{
    planJsonShape_data();
}

// The text plan names the workflow, shows every job and ends with the totals, which agree
// with the JSON plan.
void TestCli::planText()
{
    QFETCH(QString, path);
    const Run json = run({u"plan"_s, u"--json"_s, path});
    CHECK_EXIT(json, 0);
    const QJsonObject plan = QJsonDocument::fromJson(json.out.toUtf8()).object();

    const Run result = run({u"plan"_s, path});
    CHECK_EXIT(result, 0);
    QCOMPARE(result.err, QString());
    QVERIFY2(result.out.startsWith(u"Workflow %1 (%2, "_s.arg(plan.value(u"workflow"_s).toString(), path)),
             qPrintable(result.out));
    for (const QJsonValue &value : plan.value(u"jobs"_s).toArray()) {
        const QString id = value.toObject().value(u"id"_s).toString();
        const QRegularExpression jobLine(u"^  %1  "_s.arg(QRegularExpression::escape(id)),
                                         QRegularExpression::MultilineOption);
        QVERIFY2(result.out.contains(jobLine), qPrintable(u"job `%1` not shown in:\n%2"_s.arg(id, result.out)));
    }
    const QJsonObject totals = plan.value(u"totals"_s).toObject();
    const qint64 jobs = totals.value(u"jobs"_s).toInteger();
    const qint64 instances = totals.value(u"instances"_s).toInteger();
    const QString totalsLine = u"%1 job%2, %3 instance%4, %3 sandbox%5"_s
                                   .arg(jobs).arg(jobs == 1 ? QString() : u"s"_s)
                                   .arg(instances).arg(instances == 1 ? QString() : u"s"_s)
                                   .arg(instances == 1 ? QString() : u"es"_s);
    QCOMPARE(result.outLines().constLast(), totalsLine);
}

// --- colour -----------------------------------------------------------------------------

void TestCli::noColourWithoutTerminal_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::newRow("help") << QStringList{u"--help"_s};
    QTest::newRow("validate help") << QStringList{u"validate"_s, u"--help"_s};
    QTest::newRow("version") << QStringList{u"--version"_s};
    QTest::newRow("no arguments") << QStringList();
    QTest::newRow("unknown command") << QStringList{u"vaildate"_s};
    QTest::newRow("unknown option") << QStringList{u"plan"_s, u"--jsno"_s};
    QTest::newRow("valid files") << (QStringList{u"validate"_s} + exampleWorkflows());
    QTest::newRow("invalid file") << QStringList{u"validate"_s, u"tests/data/malformed/job-unknown-key.yaml"_s};
    QTest::newRow("invalid dataset") << QStringList{u"validate"_s, u"tests/data/malformed/dataset-duplicate-id.yaml"_s};
    QTest::newRow("plan") << QStringList{u"plan"_s, u"workflows/reference/full.yaml"_s};
    QTest::newRow("plan --json") << QStringList{u"plan"_s, u"--json"_s, u"workflows/reference/full.yaml"_s};
    QTest::newRow("plan invalid") << QStringList{u"plan"_s, u"tests/data/malformed/cycle-three.yaml"_s};
}

// On pipes there is no escape sequence anywhere, even with a colour-capable TERM and no
// NO_COLOR.
void TestCli::noColourWithoutTerminal()
{
    QFETCH(QStringList, arguments);
    const Run result = run(arguments);
    QVERIFY2(result.exitCode == 0 || result.exitCode == 2, qPrintable(result.problem));
    QVERIFY(!result.out.isEmpty() || !result.err.isEmpty());
    QVERIFY2(!result.out.contains(u'\x1b'), qPrintable(result.out));
    QVERIFY2(!result.err.contains(u'\x1b'), qPrintable(result.err));
}

void TestCli::colourOnTerminal_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("noColor");   // NO_COLOR's value; null: not set
    QTest::addColumn<QString>("term");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<bool>("colour");

    const QStringList invalid{u"validate"_s, u"tests/data/malformed/job-unknown-key.yaml"_s};
    const QStringList plan{u"plan"_s, u"workflows/reference/full.yaml"_s};
    const QStringList planJson{u"plan"_s, u"--json"_s, u"workflows/reference/full.yaml"_s};
    QTest::newRow("invalid file") << invalid << QString() << u"xterm"_s << 2 << true;
    QTest::newRow("invalid file, NO_COLOR=1") << invalid << u"1"_s << u"xterm"_s << 2 << false;
    // https://no-color.org: any non-empty value disables colour, an empty one does not.
    QTest::newRow("invalid file, NO_COLOR=0") << invalid << u"0"_s << u"xterm"_s << 2 << false;
    QTest::newRow("invalid file, NO_COLOR empty") << invalid << u""_s << u"xterm"_s << 2 << true;
    QTest::newRow("invalid file, TERM=dumb") << invalid << QString() << u"dumb"_s << 2 << false;
    QTest::newRow("plan") << plan << QString() << u"xterm"_s << 0 << true;
    QTest::newRow("plan, NO_COLOR=1") << plan << u"1"_s << u"xterm"_s << 0 << false;
    // Output for programs stays plain on a terminal too.
    QTest::newRow("plan --json") << planJson << QString() << u"xterm"_s << 0 << false;
}

void TestCli::colourOnTerminal()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, noColor);
    QFETCH(QString, term);
    QFETCH(int, exitCode);
    QFETCH(bool, colour);

    QProcessEnvironment env = environment();
    if (!noColor.isNull())
        env.insert(u"NO_COLOR"_s, noColor);
    env.insert(u"TERM"_s, term);
    const Run result = runOnTerminal(arguments, env);
    CHECK_EXIT(result, exitCode);
    QVERIFY(!result.out.isEmpty());
    // Colour or not, the text is the same: strip the sequences and look for it.
    const QString plain = QString(result.out).remove(QRegularExpression(u"\x1b\\[[0-9;]*m"_s));
    if (exitCode == 2)
        QVERIFY2(plain.contains(u"job-unknown-key.yaml:7:3: error: job `a` is missing required key `steps`"_s),
                 qPrintable(plain));
    QCOMPARE(result.out.contains(u"\x1b["_s), colour);
}

// A record whose bubblewrap process is gone is what a crashed run leaves: `ls` shows it as
// left behind and `gc` removes it. (Real crashed runners: tests/localrunner.)
void TestCli::sandboxesLeftBehindAreListedAndCollected()
{
    QTemporaryDir state;
    QVERIFY(state.isValid());
    const QStringList stateDir = {u"--state-dir"_s, state.path()};
    Run result = run(QStringList{u"ls"_s} + stateDir);
    CHECK_EXIT(result, 0);
    QCOMPARE(result.out, u"No sandboxes.\n"_s);

    const QString id = u"0123456789abcdef0123456789abcdef"_s;
    QVERIFY(QDir().mkpath(state.filePath(u"sandboxes"_s)));
    QFile record(state.filePath(u"sandboxes/%1.json"_s.arg(id)));
    QVERIFY(record.open(QIODevice::WriteOnly));
    // pid 1 never has the recorded start time, so the sandbox is not alive.
    record.write(R"({"id": "0123456789abcdef0123456789abcdef", "runId": "run-9", "pid": 1, "pidStartTicks": 1,
                     "image": "debian:12", "createdAt": "2026-01-02T03:04:05.000Z"})");
    record.close();

    result = run(QStringList{u"ls"_s} + stateDir);
    CHECK_EXIT(result, 0);
    QVERIFY2(result.out.contains(id + u"  run-9"_s), qPrintable(result.out));
    QVERIFY(result.out.contains(u"left behind"_s));
    QVERIFY(result.out.contains(u"remove with 'sandflow gc'"_s));
    result = run(QStringList{u"ls"_s, u"--json"_s} + stateDir);
    CHECK_EXIT(result, 0);
    const QJsonArray listed = QJsonDocument::fromJson(result.out.toUtf8()).array();
    QCOMPARE(listed.size(), 1);
    QCOMPARE(listed.first()[u"alive"_s].toBool(), false);

    result = run(QStringList{u"gc"_s} + stateDir);
    CHECK_EXIT(result, 0);
    QCOMPARE(result.out, u"removed %1\n1 sandbox removed\n"_s.arg(id));
    QVERIFY(!record.exists());
    result = run(QStringList{u"ls"_s} + stateDir);
    QCOMPARE(result.out, u"No sandboxes.\n"_s);
}

// Runs are listed from their run directories: a finished one by its summary, one without a
// summary (killed, or still going) as incomplete.
void TestCli::runsAreListedFromTheirDirectories()
{
    QTemporaryDir runs;
    QVERIFY(runs.isValid());
    const QStringList runsDir = {u"--runs-dir"_s, runs.path()};
    Run result = run(QStringList{u"ls"_s} + runsDir);
    CHECK_EXIT(result, 0);
    QCOMPARE(result.out, u"No runs in %1.\n"_s.arg(runs.path()));

    QVERIFY(QDir().mkpath(runs.filePath(u"20260102-030405-aaaa"_s)));
    QFile summary(runs.filePath(u"20260102-030405-aaaa/summary.json"_s));
    QVERIFY(summary.open(QIODevice::WriteOnly));
    summary.write(R"({"workflow": "hello", "outcome": "failure", "startedAt": "2026-01-02T03:04:05.000Z", "durationMs": 1500})");
    summary.close();
    QVERIFY(QDir().mkpath(runs.filePath(u"20260102-040000-bbbb"_s)));
    QFile journal(runs.filePath(u"20260102-040000-bbbb/events.jsonl"_s));
    QVERIFY(journal.open(QIODevice::WriteOnly));
    journal.write(R"({"type": "run_started", "text": "matrix", "time": "2026-01-02T04:00:00.000Z"})" "\n");
    journal.close();

    // Newest first, columns as wide as their content, start times in the local zone.
    const auto local = [](const QString &utc) {
        return QDateTime::fromString(utc, Qt::ISODateWithMs).toLocalTime().toString(u"yyyy-MM-dd hh:mm:ss"_s);
    };
    result = run(QStringList{u"ls"_s} + runsDir);
    CHECK_EXIT(result, 0);
    QCOMPARE(result.outLines(), (QStringList{
        u"RUN                   OUTCOME     STARTED              DURATION  WORKFLOW"_s,
        u"20260102-040000-bbbb  incomplete  %1  -         matrix"_s.arg(local(u"2026-01-02T04:00:00.000Z"_s)),
        u"20260102-030405-aaaa  failure     %1  1.500s    hello"_s.arg(local(u"2026-01-02T03:04:05.000Z"_s)),
        u"1 incomplete: still running, or ended abnormally; 'sandflow ls' shows sandboxes they left and "
        u"'sandflow gc' removes them."_s}));

    result = run(QStringList{u"ls"_s, u"--json"_s} + runsDir);
    CHECK_EXIT(result, 0);
    const QJsonArray listed = QJsonDocument::fromJson(result.out.toUtf8()).array();
    QCOMPARE(listed.size(), 2);
    QCOMPARE(listed.at(0)[u"outcome"_s].toString(), u"incomplete"_s);
    QCOMPARE(listed.at(0)[u"workflow"_s].toString(), u"matrix"_s);
    QCOMPARE(listed.at(1)[u"durationMs"_s].toInt(), 1500);

    // --limit keeps the newest, and says what it left out.
    result = run(QStringList{u"ls"_s, u"--limit"_s, u"1"_s} + runsDir);
    CHECK_EXIT(result, 0);
    QCOMPARE(result.outLines().mid(1, 2), (QStringList{
        u"20260102-040000-bbbb  incomplete  %1  -         matrix"_s.arg(local(u"2026-01-02T04:00:00.000Z"_s)),
        u"(the newest 1 of 2; --limit 0 shows all)"_s}));
    result = run(QStringList{u"ls"_s, u"--json"_s, u"--limit"_s, u"1"_s} + runsDir);
    QCOMPARE(QJsonDocument::fromJson(result.out.toUtf8()).array().size(), 1);
    result = run(QStringList{u"ls"_s, u"--limit"_s, u"some"_s} + runsDir);
    CHECK_EXIT(result, 2);
    QCOMPARE(result.err, u"sandflow ls: --limit wants a count (0 for all), not `some`\n"_s);
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
