// `sandflow sandbox` against a real `sandflow serve`: both are the built executable,
// started as processes, the server on a free loopback port with its own state directory.
// Nothing is mocked, but for a server that misbehaves on purpose, which no real one does on
// demand: each test is what a user types, checked by exit status, stdout and stderr.
#include "httprequesthead.h"
#include "serveprocess.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>
#include <QUrlQuery>

#include <csignal>
#include <sys/stat.h>

using namespace Qt::StringLiterals;

namespace {

/// Only matters when something hangs: the test then fails instead of blocking forever.
constexpr int hangLimitMs = 120'000;
const QString apiKey = u"tst-sandboxclient-key"_s;

struct Run
{
    int exitCode = -1;      ///< -1 when the program did not exit normally
    QByteArray out;
    QByteArray err;

    QString errText() const { return QString::fromUtf8(err); }
    QString outText() const { return QString::fromUtf8(out); }
};

/// The caller's environment without the variables that would choose a server.
QProcessEnvironment cleanEnvironment()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(u"OPEN_SANDBOX_DOMAIN"_s);
    env.remove(u"OPEN_SANDBOX_API_KEY"_s);
    env.insert(u"NO_COLOR"_s, u"1"_s);
    // No state directory, so no local run or server of this machine is asked: a path below
    // this executable, a file, cannot be a directory.
    env.insert(u"SANDFLOW_STATE_DIR"_s, QCoreApplication::applicationFilePath() + u"/state"_s);
    return env;
}

/// Waits for a started process to end, and takes what it wrote.
Run finished(QProcess &process)
{
    Run run;
    if (!process.waitForFinished(hangLimitMs)) {
        process.kill();
        process.waitForFinished();
    } else if (process.exitStatus() == QProcess::NormalExit) {
        run.exitCode = process.exitCode();
    }
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

/// Runs `sandflow ARGS` to its end.
Run runSandflow(const QStringList &arguments, const QProcessEnvironment &env = cleanEnvironment())
{
    QProcess process;
    process.setProgram(QStringLiteral(SANDFLOW_BINARY));
    process.setArguments(arguments);
    process.setProcessEnvironment(env);
    process.setStandardInputFile(QProcess::nullDevice());
    process.start();
    return finished(process);
}

/// Runs `program ARGS` to its end with `input` on its stdin (then closed).
Run runWithInput(const QString &program, const QStringList &arguments, const QByteArray &input,
                 const QProcessEnvironment &env = cleanEnvironment())
{
    QProcess process;
    process.setProgram(program);
    process.setArguments(arguments);
    process.setProcessEnvironment(env);
    process.start();
    process.write(input);
    process.closeWriteChannel();
    return finished(process);
}

/// A loopback port that nothing listens on (it was free a moment ago).
quint16 unusedPort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

QByteArray randomBytes(qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    QRandomGenerator generator(20240612);
    for (qsizetype i = 0; i < size; ++i)
        bytes[i] = char(generator.bounded(256));
    return bytes;
}

bool writeFile(const QString &path, const QByteArray &content)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

/// A tree of files and directories with the modes `cp -r` keeps, some its owner may not
/// write to, an empty file and an empty directory, hidden and unusual names.
bool makeTree(const QString &root)
{
    const QDir dir(root);
    const QList<std::tuple<QString, QByteArray, int>> files{
        {u"notes.txt"_s, "first line\nsecond line, no newline at the end", 0644},
        {u"run.sh"_s, "#!/bin/sh\necho hello\n", 0750},
        {u".hidden"_s, QByteArray(), 0600},
        {u"blob.bin"_s, randomBytes(300 * 1024), 0644},
        {u"name with spaces, é.txt"_s, "x", 0644},
        {u"private/key"_s, "k", 0400},
        {u"locked/inside.txt"_s, "r", 0444},
        {u"deep/a/b/c/leaf.txt"_s, "leaf", 0644}};
    const QList<std::pair<QString, int>> directories{{u"empty"_s, 0755}, {u"private"_s, 0711}, {u"locked"_s, 0555},
                                                     {u"deep/a/b/c"_s, 0755}};
    for (const auto &[path, mode] : directories) {
        if (!dir.mkpath(path))
            return false;
    }
    for (const auto &[path, content, mode] : files) {
        if (!writeFile(dir.filePath(path), content) || ::chmod(QFile::encodeName(dir.filePath(path)).constData(), mode_t(mode)) != 0)
            return false;
    }
    for (const auto &[path, mode] : directories) {
        if (::chmod(QFile::encodeName(dir.filePath(path)).constData(), mode_t(mode)) != 0)
            return false;
    }
    return ::chmod(QFile::encodeName(root).constData(), 0750) == 0;
}

/// Every entry below `root` as `find -printf '%P %m %y\n'` shows it: path, permission bits
/// in octal, `f` or `d`; sorted.
QStringList describeTree(const QString &root)
{
    QStringList lines;
    QDirIterator it(root, QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        struct stat status = {};
        ::lstat(QFile::encodeName(path).constData(), &status);
        lines.append(u"%1 %2 %3"_s.arg(QDir(root).relativeFilePath(path)).arg(status.st_mode & 07777, 0, 8)
                         .arg(S_ISDIR(status.st_mode) ? u"d"_s : S_ISREG(status.st_mode) ? u"f"_s : u"?"_s));
    }
    lines.sort();
    return lines;
}

/// The files below `root` and what they hold.
QMap<QString, QByteArray> treeContents(const QString &root)
{
    QMap<QString, QByteArray> contents;
    QDirIterator it(root, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        contents.insert(QDir(root).relativeFilePath(path), readFile(path));
    }
    return contents;
}

/// Output lines, sorted.
QStringList sortedLines(const QByteArray &out)
{
    QStringList lines = QString::fromUtf8(out).split(u'\n', Qt::SkipEmptyParts);
    lines.sort();
    return lines;
}

/// What is in a local directory, hidden entries too.
QStringList entriesOf(const QString &directory)
{
    return QDir(directory).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot, QDir::Name);
}

/// A server that answers each request as `answer` says, counting them; one connection per
/// request. It ignores request bodies: the tests send it GETs only.
class ScriptedServer : public QObject
{
public:
    struct Answer
    {
        int status = 200;
        QByteArray body;
    };
    /// The answer to a request; std::nullopt holds it unanswered.
    using Script = std::function<std::optional<Answer>(const HttpRequestHead &request)>;

    explicit ScriptedServer(Script script)
        : m_script(std::move(script))
    {
        m_server.listen(QHostAddress::LocalHost, 0);
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                socket->setParent(this);
                connect(socket, &QTcpSocket::readyRead, this, [this, socket] { read(socket); });
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
    }

    QString url() const { return u"http://127.0.0.1:%1"_s.arg(m_server.serverPort()); }
    quint16 port() const { return m_server.serverPort(); }
    int requests = 0;
    QList<QByteArray> targets;   ///< of every request, in order

private:
    void read(QTcpSocket *socket)
    {
        m_buffers[socket] += socket->readAll();
        const std::optional<HttpRequestHead> request = HttpRequestHead::read(m_buffers.value(socket));
        if (!request)
            return;
        m_buffers.remove(socket);
        ++requests;
        targets.append(request->target);
        const std::optional<Answer> answer = m_script(*request);
        if (!answer)
            return;
        socket->write("HTTP/1.1 " + QByteArray::number(answer->status) + " Scripted\r\nContent-Type: application/json\r\n"
                      "Connection: close\r\nContent-Length: " + QByteArray::number(answer->body.size()) + "\r\n\r\n"
                      + answer->body);
        socket->disconnectFromHost();
    }

    QTcpServer m_server;
    QHash<QTcpSocket *, QByteArray> m_buffers;
    Script m_script;
};

/// A listing's entry, as execd describes files.
QJsonObject entryJson(const QString &path, const QString &type, int mode = 644)
{
    return {{u"path"_s, path}, {u"type"_s, type}, {u"mode"_s, mode}, {u"size"_s, 0}, {u"owner"_s, u"root"_s},
            {u"group"_s, u"root"_s}, {u"modified_at"_s, u"2026-01-01T00:00:00Z"_s},
            {u"created_at"_s, u"2026-01-01T00:00:00Z"_s}};
}

QByteArray listingJson(const QList<QJsonObject> &entries)
{
    QJsonArray array;
    for (const QJsonObject &entry : entries)
        array.append(entry);
    return QJsonDocument(array).toJson(QJsonDocument::Compact);
}

/// A server of one sandbox, `sb-1`, that is its own execd, with a directory /data: it
/// answers the listings of `listings` (by the directory listed) and the downloads of
/// `files` (by path; one without content is held unanswered), as a sandbox that a
/// `sandbox cp -r sb-1:/data DEST` copies from.
ScriptedServer::Script sandboxWithData(const QHash<QString, QByteArray> &listings,
                                       const QHash<QString, std::optional<QByteArray>> &files)
{
    using Answer = ScriptedServer::Answer;
    return [listings, files](const HttpRequestHead &request) -> std::optional<Answer> {
        const QUrl url(QString::fromUtf8(request.target));
        const QString route = url.path();
        const QString path = QUrlQuery(url).queryItemValue(u"path"_s, QUrl::FullyDecoded);
        if (route == u"/v1/sandboxes/sb-1"_s)
            return Answer{200, R"({"id":"sb-1","status":{"state":"Running"}})"};
        if (route == u"/v1/sandboxes/sb-1/endpoints/44772"_s) {
            const QJsonObject endpoint{{u"endpoint"_s, QString::fromLatin1(request.headers.value("host"))}};
            return Answer{200, QJsonDocument(endpoint).toJson(QJsonDocument::Compact)};
        }
        if (route == u"/files/info"_s && path == u"/data"_s) {
            const QJsonObject info{{path, entryJson(path, u"directory"_s, 755)}};
            return Answer{200, QJsonDocument(info).toJson(QJsonDocument::Compact)};
        }
        if (route == u"/directories/list"_s && listings.contains(path))
            return Answer{200, listings.value(path)};
        if (route == u"/files/download"_s && files.contains(path)) {
            const std::optional<QByteArray> content = files.value(path);
            return content ? std::optional(Answer{200, *content}) : std::nullopt;
        }
        return Answer{404, R"({"code":"FILE_NOT_FOUND","message":"no such file"})"};
    };
}

} // namespace

class TestSandboxClient : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void createAndList();
    void listJson();
    void serverFromEnvironment();
    void execStreamsOutputAndExitCode();
    void execWithEnvAndCwd();
    void execProgramAndArguments();
    void execTimeout();
    void execInterrupted();
    void execForwardsPipedInput();
    void execTtyWantsATerminal();
    void execInATerminal();
    void execInteractiveShell();
    void execDeletesItsSession();
    void idPrefixesPauseResumeInspect();
    void copyTextFileInAndOut();
    void copyBinaryFileInAndOut();
    void copyMissingFile();
    void copyTreeInAndOut();
    void copyTreeIntoExistingDirectories();
    void copyTreeErrors();
    void copyTreeFailureLeavesNoPartialCopy();
    void copyTreeRefusesHostileListings_data();
    void copyTreeRefusesHostileListings();
    void copyTreeInterrupted();
    void removeAndListEmpty();
    void removeUnknownSandbox();
    void execInUnknownSandbox();
    void wrongApiKey();
    void noServer();
    void listStopsWhenTheServerRepeatsItsFirstPage();
    void serverMessagesCannotDriveTheTerminal();
    void usageErrors();
    void cleanupTestCase();

private:
    /// `sandflow sandbox SUBCOMMAND ARGS` against the test's server.
    Run sandbox(const QString &subcommand, const QStringList &arguments = {});
    QString serverUrl() const { return m_server.url(); }

    QTemporaryDir m_stateDir;
    QTemporaryDir m_files;
    ServeProcess m_server;
    QString m_id;           ///< the sandbox the tests share, made by createAndList
};

Run TestSandboxClient::sandbox(const QString &subcommand, const QStringList &arguments)
{
    return runSandflow(QStringList{u"sandbox"_s, subcommand, u"--server"_s, serverUrl(), u"--api-key"_s, apiKey}
                       + arguments);
}

void TestSandboxClient::initTestCase()
{
    QVERIFY(m_stateDir.isValid());
    QVERIFY(m_files.isValid());
    QVERIFY2(m_server.start(QStringLiteral(SANDFLOW_BINARY), m_stateDir.path(), apiKey, {}, cleanEnvironment()),
             qPrintable(m_server.failure()));
}

void TestSandboxClient::createAndList()
{
    const Run created = sandbox(u"create"_s, {u"--metadata"_s, u"suite=client"_s, u"--metadata"_s, u"case=one"_s,
                                              u"--env"_s, u"FROM_CREATE=yes"_s});
    QVERIFY2(created.exitCode == 0, created.err.constData());
    // Only the id, for scripts.
    QVERIFY2(created.out.endsWith('\n') && created.out.count('\n') == 1, created.out.constData());
    m_id = created.outText().trimmed();
    QVERIFY(!m_id.isEmpty());
    QVERIFY(!m_id.contains(u' '));

    const Run listed = sandbox(u"ls"_s, {u"--metadata"_s, u"suite=client"_s});
    QVERIFY2(listed.exitCode == 0, listed.err.constData());
    const QStringList lines = listed.outText().split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 2);
    static const QRegularExpression header(u"^ID +STATE +IMAGE +CREATED +EXPIRES +METADATA$"_s);
    QVERIFY2(header.match(lines.first()).hasMatch(), qPrintable(lines.first()));
    QVERIFY2(lines.at(1).startsWith(m_id + u' '), qPrintable(lines.at(1)));
    QVERIFY2(lines.at(1).contains(u"Running"_s), qPrintable(lines.at(1)));
    // Without the client's own label, which keeps a retried create single.
    QVERIFY2(lines.at(1).endsWith(u" case=one,suite=client"_s), qPrintable(lines.at(1)));

    const Run both = sandbox(u"ls"_s, {u"--metadata"_s, u"suite=client"_s, u"--metadata"_s, u"case=one"_s,
                                       u"--state"_s, u"running"_s});
    QVERIFY2(both.exitCode == 0, both.err.constData());
    QVERIFY2(both.outText().contains(m_id), both.out.constData());

    const Run other = sandbox(u"ls"_s, {u"--metadata"_s, u"suite=other"_s});
    QVERIFY2(other.exitCode == 0, other.err.constData());
    QCOMPARE(other.outText(), u"No sandboxes.\n"_s);

    const Run paused = sandbox(u"ls"_s, {u"--metadata"_s, u"suite=client"_s, u"--state"_s, u"Paused"_s});
    QVERIFY2(paused.exitCode == 0, paused.err.constData());
    QVERIFY(!paused.outText().contains(m_id));
}

void TestSandboxClient::listJson()
{
    QVERIFY(!m_id.isEmpty());
    const Run listed = sandbox(u"ls"_s, {u"--json"_s, u"--metadata"_s, u"case=one"_s});
    QVERIFY2(listed.exitCode == 0, listed.err.constData());
    const QJsonArray sandboxes = QJsonDocument::fromJson(listed.out).array();
    QCOMPARE(sandboxes.size(), 1);
    const QJsonObject sandbox = sandboxes.first().toObject();
    QCOMPARE(sandbox.value("id"_L1).toString(), m_id);
    QCOMPARE(sandbox.value("state"_L1).toString(), u"Running"_s);
    QCOMPARE(sandbox.value("metadata"_L1).toObject(),
             (QJsonObject{{u"suite"_s, u"client"_s}, {u"case"_s, u"one"_s}}));
    // The default time to live is the SDKs': 600 s.
    QVERIFY(sandbox.contains("expiresAt"_L1));
}

void TestSandboxClient::serverFromEnvironment()
{
    QVERIFY(!m_id.isEmpty());
    QProcessEnvironment env = cleanEnvironment();
    env.insert(u"OPEN_SANDBOX_DOMAIN"_s, u"127.0.0.1:%1/v1"_s.arg(m_server.port()));
    env.insert(u"OPEN_SANDBOX_API_KEY"_s, apiKey);
    const Run listed = runSandflow({u"sandbox"_s, u"ls"_s, u"--metadata"_s, u"suite=client"_s}, env);
    QVERIFY2(listed.exitCode == 0, listed.err.constData());
    QVERIFY2(listed.outText().contains(m_id), listed.out.constData());
}

void TestSandboxClient::execStreamsOutputAndExitCode()
{
    QVERIFY(!m_id.isEmpty());
    const Run run = sandbox(u"exec"_s, {m_id, u"--"_s, u"echo hello; echo oops >&2; exit 3"_s});
    QCOMPARE(run.out, QByteArray("hello\n"));
    QCOMPARE(run.err, QByteArray("oops\n"));
    QCOMPARE(run.exitCode, 3);

    const Run ok = sandbox(u"exec"_s, {m_id, u"--"_s, u"printf 'a\\n\\nb\\n'; echo \"$FROM_CREATE\""_s});
    QVERIFY2(ok.exitCode == 0, ok.err.constData());
    // Empty lines survive, and the sandbox's environment reaches its commands.
    QCOMPARE(ok.out, QByteArray("a\n\nb\nyes\n"));
    QCOMPARE(ok.err, QByteArray());
}

void TestSandboxClient::execWithEnvAndCwd()
{
    QVERIFY(!m_id.isEmpty());
    const Run made = sandbox(u"exec"_s, {m_id, u"--"_s, u"mkdir -p /tmp/client-cwd/inner"_s});
    QVERIFY2(made.exitCode == 0, made.err.constData());
    const Run run = sandbox(u"exec"_s, {u"--env"_s, u"GREETING=hi there"_s, u"--env"_s, u"SECOND=2"_s, u"--cwd"_s,
                                        u"/tmp/client-cwd/inner"_s, m_id, u"--"_s,
                                        u"echo \"$GREETING $SECOND\"; pwd"_s});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QCOMPARE(run.out, QByteArray("hi there 2\n/tmp/client-cwd/inner\n"));

    const Run missing = sandbox(u"exec"_s, {u"--cwd"_s, u"/tmp/client-cwd/nowhere"_s, m_id, u"--"_s, u"pwd"_s});
    // Refused before it starts, as execd does it.
    QCOMPARE(missing.exitCode, 1);
    static const QRegularExpression message(
        u"^sandflow sandbox exec: .*/tmp/client-cwd/nowhere.* \\(400 INVALID_REQUEST_BODY, request [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\)\\n$"_s);
    QVERIFY2(message.match(missing.errText()).hasMatch(), missing.err.constData());
    QCOMPARE(missing.out, QByteArray());
}

void TestSandboxClient::execProgramAndArguments()
{
    QVERIFY(!m_id.isEmpty());
    // Several words are a program and its arguments: spaces and quotes stay inside them.
    const Run run = sandbox(u"exec"_s, {m_id, u"--"_s, u"printf"_s, u"[%s]"_s, u"a b"_s, u"it's"_s, u"$HOME"_s});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QCOMPARE(run.out, QByteArray("[a b][it's][$HOME]\n"));
}

// With -i, input piped in goes to the command's stdin, to its end; stdout, stderr and the
// exit status stay apart.
void TestSandboxClient::execForwardsPipedInput()
{
    QVERIFY(!m_id.isEmpty());
    const QStringList server{u"sandbox"_s, u"exec"_s, u"-i"_s, u"--server"_s, serverUrl(), u"--api-key"_s, apiKey,
                             m_id, u"--"_s};
    const QByteArray large(300'000, 'x');
    Run run = runWithInput(QStringLiteral(SANDFLOW_BINARY), server + QStringList{u"wc"_s, u"-c"_s}, large);
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QCOMPARE(run.out.trimmed(), QByteArray::number(large.size()));
    run = runWithInput(QStringLiteral(SANDFLOW_BINARY), server + QStringList{u"cat; echo; echo err >&2; exit 4"_s}, "abc");
    QCOMPARE(run.exitCode, 4);
    QCOMPARE(run.out, QByteArray("abc\n"));
    QCOMPARE(run.err, QByteArray("err\n"));
}

void TestSandboxClient::execTtyWantsATerminal()
{
    const Run run = sandbox(u"exec"_s, {u"-t"_s, m_id.isEmpty() ? u"x"_s : m_id, u"--"_s, u"true"_s});
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.startsWith("sandflow sandbox exec: -t wants a terminal on stdin"), run.err.constData());
}

// -t in a real terminal (the one `script` gives): the command gets a terminal of this
// window's size, and this terminal's TERM.
void TestSandboxClient::execInATerminal()
{
    QVERIFY(!m_id.isEmpty());
    QProcessEnvironment env = cleanEnvironment();
    env.insert(u"TERM"_s, u"xterm-test"_s);
    const QString command = u"stty rows 33 cols 99; '%1' sandbox exec -t --server %2 --api-key %3 %4 -- "
                            u"sh -c 'stty size; tty; echo TERM=$TERM'"_s
                                .arg(QStringLiteral(SANDFLOW_BINARY), serverUrl(), apiKey, m_id);
    const Run run = runWithInput(u"script"_s, {u"-qec"_s, command, u"/dev/null"_s}, {}, env);
    QVERIFY2(run.exitCode == 0, run.out.constData());
    QVERIFY2(run.out.contains("33 99\r\n"), run.out.constData());
    QVERIFY2(run.out.contains("/dev/pts/"), run.out.constData());
    QVERIFY2(run.out.contains("TERM=xterm-test\r\n"), run.out.constData());
}

// -it without a command: the sandbox user's shell, which takes what is typed; its exit
// status is ours.
void TestSandboxClient::execInteractiveShell()
{
    QVERIFY(!m_id.isEmpty());
    const QString command = u"'%1' sandbox exec -it --server %2 --api-key %3 %4"_s
                                .arg(QStringLiteral(SANDFLOW_BINARY), serverUrl(), apiKey, m_id);
    const Run run = runWithInput(u"script"_s, {u"-qec"_s, command, u"/dev/null"_s}, "echo hi-$((6*7))\nexit 5\n");
    QCOMPARE(run.exitCode, 5);
    QVERIFY2(run.out.contains("hi-42"), run.out.constData());
}

// Each -i or -t exec deletes its PTY session when it ends: a server keeps them otherwise,
// and a sandbox holds at most 32.
void TestSandboxClient::execDeletesItsSession()
{
    QVERIFY(!m_id.isEmpty());
    const QStringList arguments{u"sandbox"_s, u"exec"_s, u"-i"_s, u"--server"_s, serverUrl(), u"--api-key"_s, apiKey,
                                m_id, u"--"_s, u"true"_s};
    for (int i = 0; i < 34; ++i) {
        const Run run = runWithInput(QStringLiteral(SANDFLOW_BINARY), arguments, {});
        QVERIFY2(run.exitCode == 0, qPrintable(u"exec %1: %2"_s.arg(i + 1).arg(QString::fromUtf8(run.err))));
    }
}

void TestSandboxClient::execTimeout()
{
    QVERIFY(!m_id.isEmpty());
    const Run run = sandbox(u"exec"_s, {u"--timeout"_s, u"1"_s, m_id, u"--"_s, u"echo before; sleep 30"_s});
    QCOMPARE(run.exitCode, 1);
    QCOMPARE(run.out, QByteArray("before\n"));
    static const QRegularExpression message(
        u"^sandflow sandbox exec: the command ran out of time after 1s \\(.*, request [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\)\\n$"_s);
    QVERIFY2(message.match(run.errText()).hasMatch(), run.err.constData());
}

// An id may be the start of one; pause, resume and inspect do what they say.
void TestSandboxClient::idPrefixesPauseResumeInspect()
{
    QVERIFY(!m_id.isEmpty());
    const QString prefix = m_id.left(m_id.size() - 4);
    const Run ran = sandbox(u"exec"_s, {prefix, u"--"_s, u"echo from-prefix"_s});
    QVERIFY2(ran.exitCode == 0, ran.err.constData());
    QCOMPARE(ran.outText(), u"from-prefix\n"_s);
    const auto state = [this, &prefix] {
        const Run inspected = sandbox(u"inspect"_s, {prefix});
        const QJsonObject json = QJsonDocument::fromJson(inspected.out).object();
        return inspected.exitCode == 0 && json.value(u"id"_s).toString() == m_id ? json.value(u"state"_s).toString()
                                                                                 : inspected.errText();
    };
    QCOMPARE(state(), u"Running"_s);
    const Run paused = sandbox(u"pause"_s, {prefix});
    QVERIFY2(paused.exitCode == 0, paused.err.constData());
    QCOMPARE(paused.outText(), u"paused %1\n"_s.arg(m_id));
    QCOMPARE(state(), u"Paused"_s);
    const Run resumed = sandbox(u"resume"_s, {prefix});
    QVERIFY2(resumed.exitCode == 0, resumed.err.constData());
    QCOMPARE(resumed.outText(), u"resumed %1\n"_s.arg(m_id));
    QCOMPARE(state(), u"Running"_s);

    // A prefix of two ids names neither: sandboxes are made until two ids share a first
    // character (at most 17 for hexadecimal ids).
    QStringList made{m_id};
    QString shared;
    while (shared.isEmpty() && made.size() <= 40) {
        const Run created = sandbox(u"create"_s, {u"--metadata"_s, u"suite=prefixes"_s});
        QVERIFY2(created.exitCode == 0, created.err.constData());
        const QString id = created.outText().trimmed();
        for (const QString &other : std::as_const(made)) {
            if (other.at(0) == id.at(0))
                shared = id.left(1);
        }
        made.append(id);
    }
    QVERIFY(!shared.isEmpty());
    const Run ambiguous = sandbox(u"inspect"_s, {shared});
    QCOMPARE(ambiguous.exitCode, 1);
    QVERIFY2(ambiguous.errText().contains(u"`%1` is the start of "_s.arg(shared)), ambiguous.err.constData());
    QVERIFY2(ambiguous.errText().endsWith(u"; give more of it\n"_s), ambiguous.err.constData());
    const Run unknown = sandbox(u"inspect"_s, {u"no-such-sandbox"_s});
    QCOMPARE(unknown.exitCode, 1);
    QVERIFY2(unknown.errText().contains(u"sandbox no-such-sandbox not found"_s), unknown.err.constData());
    const Run removed = sandbox(u"rm"_s, made.mid(1));
    QVERIFY2(removed.exitCode == 0, removed.err.constData());
}

void TestSandboxClient::execInterrupted()
{
    QVERIFY(!m_id.isEmpty());
    QProcess process;
    process.setProgram(QStringLiteral(SANDFLOW_BINARY));
    process.setArguments({u"sandbox"_s, u"exec"_s, u"--server"_s, serverUrl(), u"--api-key"_s, apiKey, m_id, u"--"_s,
                          u"echo started; sleep 60; echo not interrupted"_s});
    process.setProcessEnvironment(cleanEnvironment());
    process.start();
    QVERIFY(process.waitForStarted(hangLimitMs));
    QByteArray out;
    while (!out.contains("started\n") && process.state() == QProcess::Running) {
        process.waitForReadyRead(hangLimitMs);
        out += process.readAllStandardOutput();
    }
    QCOMPARE(out, QByteArray("started\n"));
    ::kill(pid_t(process.processId()), SIGINT);
    // Interrupting takes the server at most 3 s (SIGTERM, then SIGKILL); far less than the sleep.
    QVERIFY(process.waitForFinished(30'000));
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), 130);
    QVERIFY(!process.readAllStandardOutput().contains("not interrupted"));
    QVERIFY(process.readAllStandardError().contains("interrupting the command"));

    // The command is gone from the sandbox, not just from this terminal.
    const Run left = sandbox(u"exec"_s, {m_id, u"--"_s, u"ps -eo args | grep -c '^sleep 60' || true"_s});
    QVERIFY2(left.exitCode == 0, left.err.constData());
    QCOMPARE(left.out, QByteArray("0\n"));
}

void TestSandboxClient::copyTextFileInAndOut()
{
    QVERIFY(!m_id.isEmpty());
    const QString local = m_files.filePath(u"notes.txt"_s);
    const QByteArray content = "first line\nsecond line, no newline at the end";
    QVERIFY(writeFile(local, content));
    QFile::setPermissions(local, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner | QFile::ReadGroup
                                     | QFile::ReadOther);

    // Missing directories in the sandbox are made; a target ending in / gets the file's name.
    const Run in = sandbox(u"cp"_s, {local, m_id + u":/tmp/client-copy/text/"_s});
    QVERIFY2(in.exitCode == 0, in.err.constData());
    QCOMPARE(in.out, QByteArray());
    const Run seen = sandbox(u"exec"_s, {m_id, u"--"_s, u"cat /tmp/client-copy/text/notes.txt; echo; stat -c %a /tmp/client-copy/text/notes.txt"_s});
    QVERIFY2(seen.exitCode == 0, seen.err.constData());
    QCOMPARE(seen.out, content + "\n744\n");

    // Into a local directory: the file keeps its name, and its permission bits.
    QDir(m_files.path()).mkpath(u"back"_s);
    const Run out = sandbox(u"cp"_s, {m_id + u":/tmp/client-copy/text/notes.txt"_s, m_files.filePath(u"back"_s)});
    QVERIFY2(out.exitCode == 0, out.err.constData());
    QCOMPARE(readFile(m_files.filePath(u"back/notes.txt"_s)), content);
    QCOMPARE(describeTree(m_files.filePath(u"back"_s)), QStringList{u"notes.txt 744 f"_s});
}

void TestSandboxClient::copyBinaryFileInAndOut()
{
    QVERIFY(!m_id.isEmpty());
    const QByteArray content = randomBytes(5 * 1024 * 1024 + 3);
    const QString local = m_files.filePath(u"blob.bin"_s);
    QVERIFY(writeFile(local, content));

    const Run in = sandbox(u"cp"_s, {local, m_id + u":/tmp/client-copy/blob.bin"_s});
    QVERIFY2(in.exitCode == 0, in.err.constData());
    const Run size = sandbox(u"exec"_s, {m_id, u"--"_s, u"stat -c %s /tmp/client-copy/blob.bin"_s});
    QCOMPARE(size.out, QByteArray::number(content.size()) + '\n');

    const QString back = m_files.filePath(u"blob.back"_s);
    const Run out = sandbox(u"cp"_s, {m_id + u":/tmp/client-copy/blob.bin"_s, back});
    QVERIFY2(out.exitCode == 0, out.err.constData());
    const QByteArray received = readFile(back);
    QCOMPARE(received.size(), content.size());
    QVERIFY(received == content);
}

void TestSandboxClient::copyMissingFile()
{
    QVERIFY(!m_id.isEmpty());
    const QString target = m_files.filePath(u"never.txt"_s);
    const Run out = sandbox(u"cp"_s, {m_id + u":/tmp/client-copy/does-not-exist"_s, target});
    QCOMPARE(out.exitCode, 1);
    static const QRegularExpression message(
        u"^sandflow sandbox cp: .*/tmp/client-copy/does-not-exist.* \\(404 FILE_NOT_FOUND, request [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\)\\n$"_s);
    QVERIFY2(message.match(out.errText()).hasMatch(), out.err.constData());
    // No half-written file is left behind.
    QVERIFY(!QFile::exists(target));

    const Run in = sandbox(u"cp"_s, {m_files.filePath(u"absent.txt"_s), m_id + u":/tmp/x"_s});
    QCOMPARE(in.exitCode, 1);
    QVERIFY2(in.errText().contains(u"no such file"_s), in.err.constData());
}

// A directory with everything in it into a sandbox and back out: contents, modes (also of
// directories the owner may not write to), empty files and directories, hidden names.
void TestSandboxClient::copyTreeInAndOut()
{
    QVERIFY(!m_id.isEmpty());
    const QString tree = m_files.filePath(u"tree"_s);
    QVERIFY(makeTree(tree));

    // To a path that does not exist: it becomes the copy, its missing parents made.
    const Run in = sandbox(u"cp"_s, {u"-r"_s, tree, m_id + u":/tmp/client-tree/copy"_s});
    QVERIFY2(in.exitCode == 0, in.err.constData());
    QCOMPARE(in.out, QByteArray());
    const Run listed = sandbox(u"exec"_s, {m_id, u"--"_s, u"cd /tmp/client-tree/copy && find . -mindepth 1 -printf '%P %m %y\\n'"_s});
    QVERIFY2(listed.exitCode == 0, listed.err.constData());
    QCOMPARE(sortedLines(listed.out), describeTree(tree));
    const Run root = sandbox(u"exec"_s, {m_id, u"--"_s, u"stat -c %a /tmp/client-tree/copy; ls -A /tmp/client-tree"_s});
    QCOMPARE(root.out, QByteArray("750\ncopy\n"));   // and nothing else beside it

    // And back out, to a path that does not exist either.
    const QString back = m_files.filePath(u"tree-back"_s);
    const Run out = sandbox(u"cp"_s, {u"--recursive"_s, m_id + u":/tmp/client-tree/copy"_s, back});
    QVERIFY2(out.exitCode == 0, out.err.constData());
    QCOMPARE(out.out, QByteArray());
    QCOMPARE(describeTree(back), describeTree(tree));
    QCOMPARE(treeContents(back), treeContents(tree));
    QCOMPARE(QFileInfo(back).permissions(), QFileInfo(tree).permissions());
    QCOMPARE(entriesOf(m_files.path()).filter(u"tree"_s), (QStringList{u"tree"_s, u"tree-back"_s}));
}

// Like cp -r: into a directory that exists, the tree goes under its own name; a directory
// that exists there already gets what the tree holds, file by file.
void TestSandboxClient::copyTreeIntoExistingDirectories()
{
    QVERIFY(!m_id.isEmpty());
    const QString tree = m_files.filePath(u"tree"_s);
    const Run in = sandbox(u"cp"_s, {u"-r"_s, tree, m_id + u":/tmp/client-tree/"_s});
    QVERIFY2(in.exitCode == 0, in.err.constData());
    const Run listed = sandbox(u"exec"_s, {m_id, u"--"_s, u"cd /tmp/client-tree/tree && find . -mindepth 1 -printf '%P %m %y\\n'"_s});
    QCOMPARE(sortedLines(listed.out), describeTree(tree));

    // A second time, over what the first made: a changed file is replaced, a file only in the
    // sandbox stays.
    QVERIFY(writeFile(QDir(tree).filePath(u"notes.txt"_s), "changed"));
    const Run added = sandbox(u"exec"_s, {m_id, u"--"_s, u"echo extra > /tmp/client-tree/tree/extra.txt"_s});
    QVERIFY2(added.exitCode == 0, added.err.constData());
    const Run again = sandbox(u"cp"_s, {u"-r"_s, tree, m_id + u":/tmp/client-tree"_s});
    QVERIFY2(again.exitCode == 0, again.err.constData());
    const Run seen = sandbox(u"exec"_s, {m_id, u"--"_s, u"cat /tmp/client-tree/tree/notes.txt /tmp/client-tree/tree/extra.txt"_s});
    QCOMPARE(seen.out, QByteArray("changedextra\n"));

    // Out of the sandbox, into a local directory that exists, the same.
    const QString into = m_files.filePath(u"into"_s);
    QVERIFY(QDir().mkpath(into));
    const Run out = sandbox(u"cp"_s, {u"-r"_s, m_id + u":/tmp/client-tree/tree/"_s, into});
    QVERIFY2(out.exitCode == 0, out.err.constData());
    QCOMPARE(entriesOf(into), QStringList{u"tree"_s});
    QStringList expected = describeTree(tree) << u"extra.txt 644 f"_s;
    expected.sort();
    QCOMPARE(describeTree(QDir(into).filePath(u"tree"_s)), expected);
    QVERIFY(writeFile(QDir(into).filePath(u"tree/notes.txt"_s), "changed here"));
    QVERIFY(writeFile(QDir(into).filePath(u"tree/only-here.txt"_s), "here"));
    const Run outAgain = sandbox(u"cp"_s, {u"-r"_s, m_id + u":/tmp/client-tree/tree"_s, into});
    QVERIFY2(outAgain.exitCode == 0, outAgain.err.constData());
    QCOMPARE(readFile(QDir(into).filePath(u"tree/notes.txt"_s)), QByteArray("changed"));
    QCOMPARE(readFile(QDir(into).filePath(u"tree/only-here.txt"_s)), QByteArray("here"));
}

void TestSandboxClient::copyTreeErrors()
{
    QVERIFY(!m_id.isEmpty());
    const QString tree = m_files.filePath(u"tree"_s);
    // Without -r, a directory is an error that says what to add, either way.
    const Run up = sandbox(u"cp"_s, {tree, m_id + u":/tmp/client-errors/up"_s});
    QCOMPARE(up.exitCode, 1);
    QCOMPARE(up.errText(), u"sandflow sandbox cp: %1 is a directory; add -r to copy directories\n"_s.arg(tree));
    const Run down = sandbox(u"cp"_s, {m_id + u":/tmp/client-tree/copy"_s, m_files.filePath(u"down"_s)});
    QCOMPARE(down.exitCode, 1);
    QCOMPARE(down.errText(), u"sandflow sandbox cp: %1:/tmp/client-tree/copy is a directory; add -r to copy directories\n"_s.arg(m_id));
    QVERIFY(!QFile::exists(m_files.filePath(u"down"_s)));

    // A symbolic link in the tree stops the copy before anything is copied, either way.
    const QString linked = m_files.filePath(u"linked"_s);
    QVERIFY(QDir().mkpath(linked + u"/sub"_s));
    QVERIFY(writeFile(linked + u"/a.txt"_s, "a"));
    QVERIFY(QFile::link(u"/etc"_s, linked + u"/sub/etc"_s));
    const Run linkUp = sandbox(u"cp"_s, {u"-r"_s, linked, m_id + u":/tmp/client-errors/linked"_s});
    QCOMPARE(linkUp.exitCode, 1);
    QCOMPARE(linkUp.errText(), u"sandflow sandbox cp: %1/sub/etc is a symbolic link, and links are not copied; "
                               u"nothing was copied\n"_s.arg(linked));
    const Run made = sandbox(u"exec"_s, {m_id, u"--"_s, u"mkdir -p /tmp/client-errors/linked/sub && echo a > /tmp/client-errors/linked/a.txt"
                                                       u" && ln -s /etc /tmp/client-errors/linked/sub/etc && ls -A /tmp/client-errors"_s});
    QCOMPARE(made.out, QByteArray("linked\n"));   // nothing of the refused copy
    const Run linkDown = sandbox(u"cp"_s, {u"-r"_s, m_id + u":/tmp/client-errors/linked"_s, m_files.filePath(u"linked-back"_s)});
    QCOMPARE(linkDown.exitCode, 1);
    QCOMPARE(linkDown.errText(), u"sandflow sandbox cp: %1:/tmp/client-errors/linked/sub/etc is a symbolic link, and "
                                 u"links are not copied; nothing was copied\n"_s.arg(m_id));
    QCOMPARE(entriesOf(m_files.path()).filter(u"linked"_s), QStringList{u"linked"_s});

    // A destination that is a file.
    const Run ontoFile = sandbox(u"cp"_s, {u"-r"_s, tree, m_id + u":/tmp/client-errors/linked/a.txt"_s});
    QCOMPARE(ontoFile.exitCode, 1);
    QCOMPARE(ontoFile.errText(), u"sandflow sandbox cp: %1:/tmp/client-errors/linked/a.txt exists and is not a directory\n"_s.arg(m_id));
    const QString localFile = m_files.filePath(u"notes.txt"_s);
    const Run ontoLocalFile = sandbox(u"cp"_s, {u"-r"_s, m_id + u":/tmp/client-tree/copy"_s, localFile});
    QCOMPARE(ontoLocalFile.exitCode, 1);
    QCOMPARE(ontoLocalFile.errText(), u"sandflow sandbox cp: %1 exists and is not a directory\n"_s.arg(localFile));
}

// A copy into the sandbox that fails half-way (the server takes no file over 1 MiB) leaves
// neither the destination nor the partial copy.
void TestSandboxClient::copyTreeFailureLeavesNoPartialCopy()
{
    QTemporaryDir stateDir;
    ServeProcess small;
    QVERIFY2(small.start(QStringLiteral(SANDFLOW_BINARY), stateDir.path(), apiKey, {u"--max-body"_s, u"1Mi"_s}, cleanEnvironment()),
             qPrintable(small.failure()));
    const QStringList server{u"--server"_s, small.url(), u"--api-key"_s, apiKey};
    const Run created = runSandflow(QStringList{u"sandbox"_s, u"create"_s} + server);
    QVERIFY2(created.exitCode == 0, created.err.constData());
    const QString id = created.outText().trimmed();

    const QString tree = m_files.filePath(u"too-big"_s);
    QVERIFY(QDir().mkpath(tree));
    QVERIFY(writeFile(tree + u"/a.txt"_s, "a"));
    QVERIFY(writeFile(tree + u"/z.bin"_s, randomBytes(2 * 1024 * 1024)));
    const Run up = runSandflow(QStringList{u"sandbox"_s, u"cp"_s, u"-r"_s, tree, id + u":/tmp/too-big"_s} + server);
    QCOMPARE(up.exitCode, 1);
    QVERIFY2(up.errText().startsWith(u"sandflow sandbox cp: %1:/tmp/too-big/z.bin: "_s.arg(id)), up.err.constData());
    const Run left = runSandflow(QStringList{u"sandbox"_s, u"exec"_s} + server + QStringList{id, u"--"_s, u"ls -A /tmp"_s});
    QVERIFY2(left.exitCode == 0, left.err.constData());
    QVERIFY2(!left.out.contains("too-big"), left.out.constData());
    QVERIFY2(small.stop(), qPrintable(small.failure()));
}

// Paths that come from the sandbox are not trusted: an entry of a listing that is not an
// entry of the directory listed (`..`, a path elsewhere, a name with `/`, twice the same
// name) stops the copy before anything is written.
void TestSandboxClient::copyTreeRefusesHostileListings_data()
{
    QTest::addColumn<QByteArray>("listing");       // of /data
    QTest::addColumn<QByteArray>("subListing");    // of /data/sub
    QTest::addColumn<QString>("refused");
    const auto file = [](const QString &path) { return listingJson({entryJson(path, u"file"_s)}); };
    QTest::newRow("parent") << listingJson({entryJson(u"/data/.."_s, u"directory"_s)}) << QByteArray() << u"/data/.."_s;
    QTest::newRow("through the parent") << file(u"/data/../../etc/cron.d/x"_s) << QByteArray() << u"/data/../../etc/cron.d/x"_s;
    QTest::newRow("elsewhere") << file(u"/etc/passwd"_s) << QByteArray() << u"/etc/passwd"_s;
    QTest::newRow("relative") << file(u"passwd"_s) << QByteArray() << u"passwd"_s;
    QTest::newRow("name with a slash") << file(u"/data/a/b"_s) << QByteArray() << u"/data/a/b"_s;
    QTest::newRow("no name") << file(u"/data/"_s) << QByteArray() << u"/data/"_s;
    QTest::newRow("dot") << listingJson({entryJson(u"/data/."_s, u"directory"_s)}) << QByteArray() << u"/data/."_s;
    const QString nul = u"/data/.."_s + QChar(0) + u"x"_s;
    QTest::newRow("NUL") << file(nul) << QByteArray() << nul;
    QTest::newRow("twice") << listingJson({entryJson(u"/data/a"_s, u"file"_s), entryJson(u"/data/a"_s, u"directory"_s)})
                           << QByteArray() << u"/data/a"_s;
    QTest::newRow("deeper") << listingJson({entryJson(u"/data/sub"_s, u"directory"_s)})
                            << file(u"/data/sub/../../../tmp/x"_s) << u"/data/sub/../../../tmp/x"_s;
}

void TestSandboxClient::copyTreeRefusesHostileListings()
{
    QFETCH(QByteArray, listing);
    QFETCH(QByteArray, subListing);
    QFETCH(QString, refused);
    ScriptedServer server(sandboxWithData({{u"/data"_s, listing}, {u"/data/sub"_s, subListing}}, {}));
    QTemporaryDir destination;
    QProcess process;
    process.setProgram(QStringLiteral(SANDFLOW_BINARY));
    process.setArguments({u"sandbox"_s, u"cp"_s, u"-r"_s, u"--server"_s, server.url(), u"sb-1:/data"_s,
                          destination.filePath(u"copy"_s)});
    process.setProcessEnvironment(cleanEnvironment());
    process.setStandardInputFile(QProcess::nullDevice());
    QSignalSpy finished(&process, &QProcess::finished);
    process.start();
    // The event loop runs while waiting, so that the server in this process answers.
    QVERIFY(finished.wait(hangLimitMs));
    QCOMPARE(process.exitCode(), 1);
    const QString err = QString::fromUtf8(process.readAllStandardError());
    const QString directory = refused.startsWith(u"/data/sub/"_s) ? u"/data/sub"_s : u"/data"_s;
    QCOMPARE(err, u"sandflow sandbox cp: the listing of sb-1:%1 holds `%2`, which is not an entry of it; nothing was "
                  u"copied\n"_s.arg(directory, refused));
    QCOMPARE(entriesOf(destination.path()), QStringList());
    for (const QByteArray &target : std::as_const(server.targets))
        QVERIFY2(!target.startsWith("/files/download"), target.constData());
}

// Ctrl-C during a copy out of the sandbox leaves nothing: the files that had arrived were in
// a partial copy, which goes too. The server holds one download until the copy is interrupted.
void TestSandboxClient::copyTreeInterrupted()
{
    bool holdLast = true;
    const QHash<QString, QByteArray> listings{
        {u"/data"_s, listingJson({entryJson(u"/data/a.txt"_s, u"file"_s, 644), entryJson(u"/data/b.sh"_s, u"file"_s, 700),
                                  entryJson(u"/data/sub"_s, u"directory"_s, 750)})},
        {u"/data/sub"_s, listingJson({entryJson(u"/data/sub/c.txt"_s, u"file"_s, 600)})}};
    const ScriptedServer::Script data = sandboxWithData(listings, {{u"/data/a.txt"_s, "a"}, {u"/data/b.sh"_s, "b"},
                                                                   {u"/data/sub/c.txt"_s, "c"}});
    const auto downloadsLast = [](const QByteArray &target) {
        const QUrl url(QString::fromUtf8(target));
        return url.path() == u"/files/download"_s
            && QUrlQuery(url).queryItemValue(u"path"_s, QUrl::FullyDecoded) == u"/data/sub/c.txt"_s;
    };
    ScriptedServer server([&](const HttpRequestHead &request) -> std::optional<ScriptedServer::Answer> {
        if (holdLast && downloadsLast(request.target))
            return std::nullopt;
        return data(request);
    });
    QTemporaryDir destination;
    const QString copy = destination.filePath(u"copy"_s);
    QProcess process;
    process.setProgram(QStringLiteral(SANDFLOW_BINARY));
    process.setArguments({u"sandbox"_s, u"cp"_s, u"-r"_s, u"--server"_s, server.url(), u"sb-1:/data"_s, copy});
    process.setProcessEnvironment(cleanEnvironment());
    process.setStandardInputFile(QProcess::nullDevice());
    QSignalSpy finished(&process, &QProcess::finished);
    process.start();
    while (process.state() != QProcess::NotRunning && std::none_of(server.targets.cbegin(), server.targets.cend(), downloadsLast))
        QTest::qWait(10);
    QCOMPARE(process.state(), QProcess::Running);
    QCOMPARE(entriesOf(destination.path()).size(), 1);   // the partial copy, with a.txt and b.sh
    ::kill(pid_t(process.processId()), SIGINT);
    QVERIFY(finished.wait(hangLimitMs));
    QCOMPARE(process.exitCode(), 130);
    QCOMPARE(entriesOf(destination.path()), QStringList());

    // Not held, the same copy arrives whole, with the modes the sandbox gave.
    holdLast = false;
    process.start();
    QVERIFY(finished.wait(hangLimitMs));
    QVERIFY2(process.exitCode() == 0, process.readAllStandardError().constData());
    QCOMPARE(describeTree(copy), (QStringList{u"a.txt 644 f"_s, u"b.sh 700 f"_s, u"sub 750 d"_s, u"sub/c.txt 600 f"_s}));
    QCOMPARE(treeContents(copy), (QMap<QString, QByteArray>{{u"a.txt"_s, "a"}, {u"b.sh"_s, "b"}, {u"sub/c.txt"_s, "c"}}));
    QCOMPARE(QFileInfo(copy).permissions(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner | QFile::ReadUser
             | QFile::WriteUser | QFile::ExeUser | QFile::ReadGroup | QFile::ExeGroup | QFile::ReadOther | QFile::ExeOther);
}

void TestSandboxClient::removeAndListEmpty()
{
    QVERIFY(!m_id.isEmpty());
    const Run removed = sandbox(u"rm"_s, {m_id});
    QVERIFY2(removed.exitCode == 0, removed.err.constData());
    QCOMPARE(removed.outText(), u"removed %1\n"_s.arg(m_id));
    const Run listed = sandbox(u"ls"_s, {u"--metadata"_s, u"suite=client"_s});
    QVERIFY2(listed.exitCode == 0, listed.err.constData());
    QCOMPARE(listed.outText(), u"No sandboxes.\n"_s);
}

void TestSandboxClient::removeUnknownSandbox()
{
    const Run removed = sandbox(u"rm"_s, {u"no-such-sandbox"_s});
    QCOMPARE(removed.exitCode, 1);
    static const QRegularExpression message(
        u"^sandflow sandbox rm: sandbox no-such-sandbox not found \\(404 [A-Z_:]+, request [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\)\\n$"_s);
    QVERIFY2(message.match(removed.errText()).hasMatch(), removed.err.constData());
    QCOMPARE(removed.out, QByteArray());
}

void TestSandboxClient::execInUnknownSandbox()
{
    const Run run = sandbox(u"exec"_s, {u"no-such-sandbox"_s, u"--"_s, u"true"_s});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.errText().startsWith(u"sandflow sandbox exec: sandbox no-such-sandbox not found (404 "_s),
             run.err.constData());
}

void TestSandboxClient::wrongApiKey()
{
    const Run listed = runSandflow({u"sandbox"_s, u"ls"_s, u"--server"_s, serverUrl(), u"--api-key"_s, u"wrong"_s});
    QCOMPARE(listed.exitCode, 1);
    static const QRegularExpression message(
        u"^sandflow sandbox ls: the server refused the API key \\(401 [A-Z_:]+, request [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\); "
        u"pass the right key with --api-key or \\$OPEN_SANDBOX_API_KEY\\n$"_s);
    QVERIFY2(message.match(listed.errText()).hasMatch(), listed.err.constData());

    const Run none = runSandflow({u"sandbox"_s, u"ls"_s, u"--server"_s, serverUrl()});
    QCOMPARE(none.exitCode, 1);
    QVERIFY2(none.errText().startsWith(u"sandflow sandbox ls: the server wants an API key (401 "_s), none.err.constData());
}

void TestSandboxClient::noServer()
{
    const quint16 port = unusedPort();
    const Run listed = runSandflow({u"sandbox"_s, u"ls"_s, u"--server"_s, u"127.0.0.1:%1"_s.arg(port)});
    QCOMPARE(listed.exitCode, 1);
    QCOMPARE(listed.errText(), u"sandflow sandbox: cannot reach the server at http://127.0.0.1:%1: Connection refused "
                               u"after 4 attempts (start one with 'sandflow serve')\n"_s.arg(port));
}

// An error a server writes is shown, but its escape sequences (a cleared screen, a window
// title, a link) are not passed to this terminal.
void TestSandboxClient::serverMessagesCannotDriveTheTerminal()
{
    ScriptedServer server([](const HttpRequestHead &) {
        return ScriptedServer::Answer{500, "{\"code\":\"BROKEN\",\"message\":\"bad \\u001b[2J\\u001b]0;owned\\u0007 day\"}"};
    });
    QProcess process;
    process.setProgram(QStringLiteral(SANDFLOW_BINARY));
    process.setArguments({u"sandbox"_s, u"inspect"_s, u"--server"_s, server.url(), u"sb-1"_s});
    process.setProcessEnvironment(cleanEnvironment());
    process.setStandardInputFile(QProcess::nullDevice());
    QSignalSpy finished(&process, &QProcess::finished);
    process.start();
    QVERIFY(finished.wait(60'000));
    QCOMPARE(process.exitCode(), 1);
    const QByteArray err = process.readAllStandardError();
    QVERIFY2(err.contains("bad") && err.contains("day"), err.constData());
    QVERIFY2(!err.contains('\x1b') && !err.contains('\x07'), err.toPercentEncoding(" :/").constData());
}

// A server that answers page 1, and "more follow", whatever page is asked for: `ls` once
// asked it for the next page for ever.
void TestSandboxClient::listStopsWhenTheServerRepeatsItsFirstPage()
{
    ScriptedServer server([](const HttpRequestHead &) {
        return ScriptedServer::Answer{
            200, R"({"items":[{"id":"sb-1","status":{"state":"Running"}}],)"
                 R"("pagination":{"page":1,"pageSize":200,"totalItems":400,"totalPages":2,"hasNextPage":true}})"};
    });
    QProcess process;
    process.setProgram(QStringLiteral(SANDFLOW_BINARY));
    process.setArguments({u"sandbox"_s, u"ls"_s, u"--server"_s, server.url()});
    process.setProcessEnvironment(cleanEnvironment());
    process.setStandardInputFile(QProcess::nullDevice());
    QSignalSpy finished(&process, &QProcess::finished);
    process.start();
    // The event loop runs while waiting, so that the server in this process answers.
    if (!finished.wait(20'000)) {
        process.kill();
        process.waitForFinished();
        QFAIL(qPrintable(u"still running after %1 requests"_s.arg(server.requests)));
    }
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), 1);
    QVERIFY(process.readAllStandardOutput().isEmpty());
    const QString err = QString::fromUtf8(process.readAllStandardError());
    QVERIFY2(err.startsWith(u"sandflow sandbox ls: unexpected answer from the server at %1: asked for page 2 of the "
                            u"sandbox list, it answered page 1 (200, request "_s.arg(server.url())),
             qPrintable(err));
    QCOMPARE(server.requests, 2);
}

void TestSandboxClient::usageErrors()
{
    const Run noCommand = runSandflow({u"sandbox"_s, u"exec"_s, u"some-id"_s});
    QCOMPARE(noCommand.exitCode, 2);
    QVERIFY2(noCommand.errText().startsWith(u"sandflow sandbox exec: a COMMAND is needed after the id"_s),
             noCommand.err.constData());
    const Run badEnv = runSandflow({u"sandbox"_s, u"create"_s, u"--env"_s, u"NOVALUE"_s});
    QCOMPARE(badEnv.exitCode, 2);
    QVERIFY2(badEnv.errText().contains(u"--env wants KEY=VALUE"_s), badEnv.err.constData());
    const Run bothLocal = runSandflow({u"sandbox"_s, u"cp"_s, u"a"_s, u"b"_s});
    QCOMPARE(bothLocal.exitCode, 2);
    const Run unknown = runSandflow({u"sandbox"_s, u"exce"_s});
    QCOMPARE(unknown.exitCode, 2);
    QVERIFY2(unknown.errText().contains(u"did you mean"_s, Qt::CaseInsensitive), unknown.err.constData());
    // --timeout takes durations, as its help says.
    const Run tooShort = runSandflow({u"sandbox"_s, u"create"_s, u"--timeout"_s, u"30s"_s});
    QCOMPARE(tooShort.exitCode, 2);
    QCOMPARE(tooShort.errText(), u"sandflow sandbox create: --timeout wants a duration of whole seconds, at least 60s "
                                 u"(such as 10m), or `none`, not `30s`\nRun 'sandflow sandbox create --help' for usage.\n"_s);
    const Run noDuration = runSandflow({u"sandbox"_s, u"exec"_s, u"--timeout"_s, u"soon"_s, u"some-id"_s, u"--"_s, u"true"_s});
    QCOMPARE(noDuration.exitCode, 2);
    QVERIFY2(noDuration.errText().contains(u"--timeout wants a duration such as 30s or 5m, not `soon`"_s),
             noDuration.err.constData());
    const Run help = runSandflow({u"sandbox"_s, u"exec"_s, u"--help"_s});
    QCOMPARE(help.exitCode, 0);
    QVERIFY(help.outText().startsWith(u"Usage: sandflow sandbox exec [OPTIONS] ID [-- COMMAND...]"_s));
    QVERIFY(help.outText().contains(u"--server URL"_s));
    QVERIFY(help.outText().contains(u"--timeout DURATION"_s));
}

void TestSandboxClient::cleanupTestCase()
{
    // SIGTERM: the server deletes its sandboxes and exits.
    QVERIFY2(m_server.stop(), qPrintable(m_server.failure()));
}

QTEST_GUILESS_MAIN(TestSandboxClient)
#include "tst_sandboxclient.moc"
