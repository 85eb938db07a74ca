// `sandflow sandbox` against a real `sandflow serve`: both are the built executable,
// started as processes, the server on a free loopback port with its own state directory.
// Nothing is mocked, but for a server that misbehaves on purpose, which no real one does on
// demand: each test is what a user types, checked by exit status, stdout and stderr.
#include "httprequesthead.h"
#include "serveprocess.h"

#include <QDir>
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

#include <csignal>

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

/// Runs `sandflow ARGS` to its end.
Run runSandflow(const QStringList &arguments, const QProcessEnvironment &env = cleanEnvironment())
{
    QProcess process;
    process.setProgram(QStringLiteral(SANDFLOW_BINARY));
    process.setArguments(arguments);
    process.setProcessEnvironment(env);
    process.setStandardInputFile(QProcess::nullDevice());
    process.start();
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
    void idPrefixesPauseResumeInspect();
    void copyTextFileInAndOut();
    void copyBinaryFileInAndOut();
    void copyMissingFile();
    void removeAndListEmpty();
    void removeUnknownSandbox();
    void execInUnknownSandbox();
    void wrongApiKey();
    void noServer();
    void listStopsWhenTheServerRepeatsItsFirstPage();
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

    // Into a local directory: the file keeps its name.
    QDir(m_files.path()).mkpath(u"back"_s);
    const Run out = sandbox(u"cp"_s, {m_id + u":/tmp/client-copy/text/notes.txt"_s, m_files.filePath(u"back"_s)});
    QVERIFY2(out.exitCode == 0, out.err.constData());
    QCOMPARE(readFile(m_files.filePath(u"back/notes.txt"_s)), content);
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
    QVERIFY2(noCommand.errText().startsWith(u"sandflow sandbox exec: missing"_s), noCommand.err.constData());
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
    QVERIFY(help.outText().startsWith(u"Usage: sandflow sandbox exec [OPTIONS] ID -- COMMAND..."_s));
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
