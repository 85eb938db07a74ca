// OpenSandboxClient against the real `sandflow serve`: the built executable, started as a
// process on a loopback port, with a local sandbox behind it. Every lifecycle and execd call
// goes over the wire exactly as it would to any OpenSandbox server, and each result is
// checked against what the sandbox then holds.
#include "opensandboxclient.h"
#include "serveprocess.h"
#include "warnings.h"

#include <QBuffer>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace Qt::StringLiterals;
using namespace Sandflow;

namespace {

/// Only matters when something hangs: the test then fails instead of blocking forever.
constexpr int hangLimitMs = 120'000;

/// Starts `job` (not auto-deleted) and waits for its end.
template <typename Job>
std::unique_ptr<Job> run(Job *job)
{
    job->setAutoDelete(false);
    job->start();
    // A job still running is reported by the test's check of it.
    [[maybe_unused]] const bool ended = QTest::qWaitFor([job] { return job->isFinished(); }, hangLimitMs);
    return std::unique_ptr<Job>(job);
}

/// How a job ended, for failure messages.
QString outcome(const AsyncJob &job)
{
    if (!job.isFinished())
        return u"still running"_s;
    return job.error() ? job.error()->code + u": "_s + job.error()->message : u"succeeded"_s;
}

/// `expression` (a job, or a run() of one) is evaluated once.
#define VERIFY_SUCCEEDED(expression) \
    do { \
        const auto &succeeded = (expression); \
        QVERIFY2(succeeded->isFinished() && !succeeded->error(), qPrintable(outcome(*succeeded))); \
    } while (false)

QStringList pathsOf(const QList<FileInfo> &infos)
{
    QStringList paths;
    for (const FileInfo &info : infos)
        paths.append(info.path);
    return paths;
}

QByteArray patternBytes(qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        bytes[i] = char((i * 31 + i / 251) % 256);
    return bytes;
}

} // namespace

class TestOpenSandboxExecd : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init() { TestWarnings::failOnAnyWarning(); }
    void pauseAndResume();
    void renewExpiration();
    void patchMetadata();
    void backgroundCommandStatusAndLogs();
    void sessionKeepsDirectoryAndExportedVariables();
    void makeDirectoryWithMode();
    void fileInfoInTheOrderAsked();
    void searchFiles();
    void listDirectoryByDepth();
    void replaceInFile();
    void setPermissions();
    void moveFile();
    void removeFiles();
    void removeDirectory();
    void metrics();
    void uploadFromBuffer();
    void uploadFromSequentialDevice();
    void readFileRanges_data();
    void readFileRanges();
    void readFilePastTheEnd();
    void cleanupTestCase();

private:
    /// Writes `content` to `path` in the sandbox (from a buffer) and fails the test if it cannot.
    bool upload(const QString &path, const QByteArray &content, const FilePermissions &permissions = {});
    /// The whole file at `path`; a null array when it cannot be read.
    QByteArray download(const QString &path);
    /// The file's information; std::nullopt when it cannot be had.
    std::optional<FileInfo> infoOf(const QString &path);
    SandboxInfo sandbox();

    QTemporaryDir m_stateDir;
    ServeProcess m_server;
    std::unique_ptr<OpenSandboxClient> m_client;
    QString m_id;
    OpenSandboxEndpoint m_execd;
};

bool TestOpenSandboxExecd::upload(const QString &path, const QByteArray &content, const FilePermissions &permissions)
{
    auto *source = new QBuffer;
    source->setData(content);
    const auto job = run(m_client->uploadFile(m_execd, source, path, permissions));
    if (job->error())
        qWarning("upload of %s failed: %s", qPrintable(path), qPrintable(outcome(*job)));
    return job->isFinished() && !job->error();
}

QByteArray TestOpenSandboxExecd::download(const QString &path)
{
    QBuffer destination;
    destination.open(QIODevice::WriteOnly);
    const auto job = run(m_client->downloadFile(m_execd, path, &destination));
    if (!job->isFinished() || job->error())
        return {};
    return destination.data().isNull() ? QByteArray("") : destination.data();
}

std::optional<FileInfo> TestOpenSandboxExecd::infoOf(const QString &path)
{
    const auto job = run(m_client->fileInfo(m_execd, {path}));
    if (!job->isFinished() || job->error() || job->result().size() != 1)
        return std::nullopt;
    return job->result().first();
}

SandboxInfo TestOpenSandboxExecd::sandbox()
{
    const auto job = run(m_client->getSandbox(m_id));
    return job->isFinished() && !job->error() ? job->result() : SandboxInfo();
}

void TestOpenSandboxExecd::initTestCase()
{
    QVERIFY(m_stateDir.isValid());
    QVERIFY2(m_server.start(QStringLiteral(SANDFLOW_BINARY), m_stateDir.path(), u"tst-opensandboxexecd-key"_s),
             qPrintable(m_server.failure()));
    OpenSandboxConfig config;
    config.domain = m_server.url();
    config.apiKey = m_server.apiKey();
    m_client = std::make_unique<OpenSandboxClient>(config);
    OpenSandboxCreateRequest request;
    request.image = u"debian:12"_s;
    request.metadata = {{u"suite"_s, u"execd"_s}};
    const auto created = run(m_client->createSandbox(request));
    VERIFY_SUCCEEDED(created);
    m_id = created->result().id;
    const auto endpoint = run(m_client->endpoint(m_id));
    VERIFY_SUCCEEDED(endpoint);
    m_execd = endpoint->result();
}

void TestOpenSandboxExecd::pauseAndResume()
{
    const auto paused = run(m_client->pauseSandbox(m_id));
    VERIFY_SUCCEEDED(paused);
    QCOMPARE(sandbox().state, SandboxState::Paused);
    // A paused sandbox's execd cannot answer.
    const auto ping = run(m_client->ping(m_execd));
    QVERIFY(ping->error());

    const auto resumed = run(m_client->resumeSandbox(m_id));
    VERIFY_SUCCEEDED(resumed);
    QCOMPARE(sandbox().state, SandboxState::Running);
    VERIFY_SUCCEEDED(run(m_client->ping(m_execd)));

    // Resuming what runs is a conflict, reported with the server's status.
    const auto again = run(m_client->resumeSandbox(m_id));
    QVERIFY(again->error());
    QCOMPARE(OpenSandboxErrorDetails::of(*again->error()).status, 409);
}

void TestOpenSandboxExecd::renewExpiration()
{
    const QDateTime wanted = QDateTime::currentDateTimeUtc().addSecs(2 * 3600);
    const auto renewed = run(m_client->renewExpiration(m_id, wanted));
    VERIFY_SUCCEEDED(renewed);
    QCOMPARE(renewed->result(), wanted);
    QCOMPARE(sandbox().expiresAt, std::optional<QDateTime>(wanted));

    const auto past = run(m_client->renewExpiration(m_id, QDateTime::currentDateTimeUtc().addSecs(-60)));
    QVERIFY(past->error());
    QCOMPARE(OpenSandboxErrorDetails::of(*past->error()).status, 400);
}

void TestOpenSandboxExecd::patchMetadata()
{
    const auto added = run(m_client->patchMetadata(m_id, {{u"stage"_s, u"one"_s}}));
    VERIFY_SUCCEEDED(added);
    QCOMPARE(added->result().id, m_id);
    QCOMPARE(added->result().metadata, (QMap<QString, QString>{{u"suite"_s, u"execd"_s}, {u"stage"_s, u"one"_s}}));

    const auto replaced = run(m_client->patchMetadata(m_id, {{u"stage"_s, u"two"_s}}));
    VERIFY_SUCCEEDED(replaced);
    QCOMPARE(replaced->result().metadata.value(u"stage"_s), u"two"_s);

    const auto removed = run(m_client->patchMetadata(m_id, {{u"stage"_s, std::nullopt}}));
    VERIFY_SUCCEEDED(removed);
    QCOMPARE(removed->result().metadata, (QMap<QString, QString>{{u"suite"_s, u"execd"_s}}));
    QCOMPARE(sandbox().metadata, (QMap<QString, QString>{{u"suite"_s, u"execd"_s}}));
}

void TestOpenSandboxExecd::backgroundCommandStatusAndLogs()
{
    CommandRequest request;
    request.command = u"echo first; while [ ! -e /workspace/go ]; do sleep 0.05; done; echo second"_s;
    request.background = true;
    const auto started = run(m_client->runCommand(m_execd, request));
    VERIFY_SUCCEEDED(started);
    const QString id = started->commandId();
    QVERIFY(!id.isEmpty());

    // The first line, then the command waits for the go-ahead.
    CommandLogs logs;
    QVERIFY(QTest::qWaitFor([&] {
        const auto job = run(m_client->commandLogs(m_execd, id, 0));
        logs = job->error() ? CommandLogs() : job->result();
        return logs.data == "first\n";
    }, hangLimitMs));
    QCOMPARE(logs.data, QByteArray("first\n"));
    QCOMPARE(logs.nextCursor, qint64(6));
    const auto running = run(m_client->commandStatus(m_execd, id));
    VERIFY_SUCCEEDED(running);
    QCOMPARE(running->result().id, id);
    QCOMPARE(running->result().command, request.command);
    QVERIFY(running->result().running);
    QCOMPARE(running->result().exitCode, std::nullopt);
    QVERIFY(running->result().startedAt.isValid());

    CommandRequest go;
    go.command = u"touch /workspace/go"_s;
    VERIFY_SUCCEEDED(run(m_client->runCommand(m_execd, go)));
    CommandStatus status;
    QVERIFY(QTest::qWaitFor([&] {
        const auto job = run(m_client->commandStatus(m_execd, id));
        status = job->error() ? CommandStatus() : job->result();
        return !status.id.isEmpty() && !status.running;
    }, hangLimitMs));
    QVERIFY(!status.running);
    QCOMPARE(status.exitCode, std::optional<int>(0));
    QVERIFY(status.finishedAt && *status.finishedAt >= status.startedAt);

    // From the cursor, only what came since; from 0, all of it.
    const auto rest = run(m_client->commandLogs(m_execd, id, logs.nextCursor));
    VERIFY_SUCCEEDED(rest);
    QCOMPARE(rest->result().data, QByteArray("second\n"));
    QCOMPARE(rest->result().nextCursor, qint64(13));
    const auto whole = run(m_client->commandLogs(m_execd, id, 0));
    VERIFY_SUCCEEDED(whole);
    QCOMPARE(whole->result().data, QByteArray("first\nsecond\n"));

    const auto unknown = run(m_client->commandStatus(m_execd, u"no-such-command"_s));
    QVERIFY(unknown->error());
    QCOMPARE(OpenSandboxErrorDetails::of(*unknown->error()).status, 404);
}

void TestOpenSandboxExecd::sessionKeepsDirectoryAndExportedVariables()
{
    const auto created = run(m_client->createSession(m_execd, u"/workspace"_s));
    VERIFY_SUCCEEDED(created);
    const QString session = created->result();
    QVERIFY(!session.isEmpty());

    const auto runIn = [&](const QString &command, QByteArray *out) {
        CommandRequest request;
        request.command = command;
        CommandJob *job = m_client->runInSession(m_execd, session, request);
        connect(job, &CommandJob::output, this, [out](CommandJob::Stream, const QByteArray &data) { *out += data; });
        return run(job);
    };
    QByteArray out;
    const auto first = runIn(u"mkdir -p sessiondir && cd sessiondir && export GREETING=hello && LOCAL=gone"_s, &out);
    VERIFY_SUCCEEDED(first);
    QCOMPARE(first->commandId(), session);
    QCOMPARE(first->exitCode(), std::optional<int>(0));

    out.clear();
    const auto second = runIn(u"pwd; echo \"$GREETING-$LOCAL\""_s, &out);
    VERIFY_SUCCEEDED(second);
    QCOMPARE(out, QByteArray("/workspace/sessiondir\nhello-\n"));

    // stderr comes merged into stdout; a failure carries its exit status.
    out.clear();
    const auto failed = runIn(u"echo oops >&2; exit 3"_s, &out);
    QVERIFY(failed->error());
    QCOMPARE(failed->error()->code, u"COMMAND_FAILED"_s);
    QCOMPARE(failed->exitCode(), std::optional<int>(3));
    QCOMPARE(out, QByteArray("oops\n"));

    VERIFY_SUCCEEDED(run(m_client->deleteSession(m_execd, session)));
    out.clear();
    const auto gone = runIn(u"true"_s, &out);
    QVERIFY(gone->error());
    QCOMPARE(OpenSandboxErrorDetails::of(*gone->error()).status, 500);   // as execd answers it
}

void TestOpenSandboxExecd::makeDirectoryWithMode()
{
    FilePermissions permissions;
    permissions.mode = 0750;
    VERIFY_SUCCEEDED(run(m_client->makeDirectory(m_execd, u"/workspace/files/sub"_s, permissions)));
    const std::optional<FileInfo> info = infoOf(u"/workspace/files/sub"_s);
    QVERIFY(info);
    QCOMPARE(info->type, FileInfo::Type::Directory);
    QCOMPARE(info->mode, 0750);

    QVERIFY(upload(u"/workspace/files/a.txt"_s, "alpha beta alpha\n"));
    QVERIFY(upload(u"/workspace/files/b.txt"_s, "bee\n"));
    QVERIFY(upload(u"/workspace/files/sub/c.txt"_s, "sea\n"));
    QVERIFY(upload(u"/workspace/files/sub/d.log"_s, "log\n"));
}

void TestOpenSandboxExecd::fileInfoInTheOrderAsked()
{
    const auto job = run(m_client->fileInfo(m_execd, {u"/workspace/files/b.txt"_s, u"/workspace/files/a.txt"_s}));
    VERIFY_SUCCEEDED(job);
    QCOMPARE(pathsOf(job->result()), (QStringList{u"/workspace/files/b.txt"_s, u"/workspace/files/a.txt"_s}));
    QCOMPARE(job->result().at(0).size, qint64(4));
    QCOMPARE(job->result().at(1).size, qint64(17));
    QCOMPARE(job->result().at(1).type, FileInfo::Type::File);
    QVERIFY(job->result().at(1).modifiedAt.isValid());

    const auto missing = run(m_client->fileInfo(m_execd, {u"/workspace/files/a.txt"_s, u"/workspace/nothing"_s}));
    QVERIFY(missing->error());
    QCOMPARE(missing->error()->code, u"FILE_NOT_FOUND"_s);
}

void TestOpenSandboxExecd::searchFiles()
{
    const auto job = run(m_client->searchFiles(m_execd, u"/workspace/files"_s, u"*.txt"_s));
    VERIFY_SUCCEEDED(job);
    QStringList found = pathsOf(job->result());
    found.sort();
    QCOMPARE(found, (QStringList{u"/workspace/files/a.txt"_s, u"/workspace/files/b.txt"_s,
                                 u"/workspace/files/sub/c.txt"_s}));
}

void TestOpenSandboxExecd::listDirectoryByDepth()
{
    const auto shallow = run(m_client->listDirectory(m_execd, u"/workspace/files"_s));
    VERIFY_SUCCEEDED(shallow);
    QCOMPARE(pathsOf(shallow->result()),
             (QStringList{u"/workspace/files/a.txt"_s, u"/workspace/files/b.txt"_s, u"/workspace/files/sub"_s}));
    const auto deep = run(m_client->listDirectory(m_execd, u"/workspace/files"_s, 2));
    VERIFY_SUCCEEDED(deep);
    QCOMPARE(pathsOf(deep->result()),
             (QStringList{u"/workspace/files/a.txt"_s, u"/workspace/files/b.txt"_s, u"/workspace/files/sub"_s,
                          u"/workspace/files/sub/c.txt"_s, u"/workspace/files/sub/d.log"_s}));
    QCOMPARE(deep->result().at(2).type, FileInfo::Type::Directory);
}

void TestOpenSandboxExecd::replaceInFile()
{
    const auto job = run(m_client->replaceInFile(m_execd, u"/workspace/files/a.txt"_s, u"alpha"_s, u"omega"_s));
    VERIFY_SUCCEEDED(job);
    QCOMPARE(job->result(), 2);
    QCOMPARE(download(u"/workspace/files/a.txt"_s), QByteArray("omega beta omega\n"));
}

void TestOpenSandboxExecd::setPermissions()
{
    FilePermissions permissions;
    permissions.mode = 0600;
    VERIFY_SUCCEEDED(run(m_client->setPermissions(m_execd, u"/workspace/files/a.txt"_s, permissions)));
    QCOMPARE(infoOf(u"/workspace/files/a.txt"_s).value_or(FileInfo()).mode, 0600);

    // A mode of 0 leaves the mode as it is.
    VERIFY_SUCCEEDED(run(m_client->setPermissions(m_execd, u"/workspace/files/a.txt"_s, FilePermissions())));
    QCOMPARE(infoOf(u"/workspace/files/a.txt"_s).value_or(FileInfo()).mode, 0600);
}

void TestOpenSandboxExecd::moveFile()
{
    VERIFY_SUCCEEDED(run(m_client->moveFile(m_execd, u"/workspace/files/a.txt"_s, u"/workspace/moved/a2.txt"_s)));
    QVERIFY(!infoOf(u"/workspace/files/a.txt"_s));
    QCOMPARE(download(u"/workspace/moved/a2.txt"_s), QByteArray("omega beta omega\n"));
    QCOMPARE(infoOf(u"/workspace/moved/a2.txt"_s).value_or(FileInfo()).mode, 0600);
}

void TestOpenSandboxExecd::removeFiles()
{
    // Paths that are not there are fine.
    VERIFY_SUCCEEDED(run(m_client->removeFiles(m_execd, {u"/workspace/files/b.txt"_s, u"/workspace/files/none"_s})));
    QVERIFY(!infoOf(u"/workspace/files/b.txt"_s));
    QVERIFY(infoOf(u"/workspace/files/sub/c.txt"_s));
}

void TestOpenSandboxExecd::removeDirectory()
{
    VERIFY_SUCCEEDED(run(m_client->removeDirectory(m_execd, u"/workspace/files/sub"_s)));
    QVERIFY(!infoOf(u"/workspace/files/sub"_s));
    const auto listed = run(m_client->listDirectory(m_execd, u"/workspace/files"_s));
    VERIFY_SUCCEEDED(listed);
    QCOMPARE(pathsOf(listed->result()), QStringList());
    VERIFY_SUCCEEDED(run(m_client->removeDirectory(m_execd, u"/workspace/files/sub"_s)));
}

void TestOpenSandboxExecd::metrics()
{
    const auto job = run(m_client->metrics(m_execd));
    VERIFY_SUCCEEDED(job);
    const SandboxMetrics &metrics = job->result();
    QVERIFY(metrics.cpuCount > 0);
    QVERIFY(metrics.cpuUsedPercent >= 0);
    QVERIFY(metrics.memoryTotalMiB > 0);
    QVERIFY(metrics.memoryUsedMiB >= 0);
    QVERIFY(qAbs(metrics.timestamp.secsTo(QDateTime::currentDateTimeUtc())) < 3600);
}

void TestOpenSandboxExecd::uploadFromBuffer()
{
    const QByteArray content = patternBytes(300'000);
    FilePermissions permissions;
    permissions.mode = 0640;
    QVERIFY(upload(u"/workspace/up/buffer.bin"_s, content, permissions));
    QVERIFY(download(u"/workspace/up/buffer.bin"_s) == content);
    const std::optional<FileInfo> info = infoOf(u"/workspace/up/buffer.bin"_s);
    QVERIFY(info);
    QCOMPARE(info->size, qint64(content.size()));
    QCOMPARE(info->mode, 0640);
}

void TestOpenSandboxExecd::uploadFromSequentialDevice()
{
    // A process's output can be read only once, as it comes.
    auto *process = new QProcess;
    process->setProgram(u"seq"_s);
    process->setArguments({u"1"_s, u"30000"_s});
    QByteArray expected;
    for (int i = 1; i <= 30000; ++i)
        expected += QByteArray::number(i) + '\n';
    const auto job = run(m_client->uploadFile(m_execd, process, u"/workspace/up/seq.txt"_s, FilePermissions()));
    VERIFY_SUCCEEDED(job);
    QVERIFY(download(u"/workspace/up/seq.txt"_s) == expected);
}

void TestOpenSandboxExecd::readFileRanges_data()
{
    QTest::addColumn<qint64>("offset");
    QTest::addColumn<qint64>("length");
    QTest::addColumn<qint64>("expectedOffset");
    QTest::addColumn<qint64>("expectedLength");
    QTest::newRow("whole") << qint64(0) << qint64(-1) << qint64(0) << qint64(300'000);
    QTest::newRow("first bytes") << qint64(0) << qint64(10) << qint64(0) << qint64(10);
    QTest::newRow("middle") << qint64(1000) << qint64(5000) << qint64(1000) << qint64(5000);
    QTest::newRow("to the end") << qint64(290'000) << qint64(-1) << qint64(290'000) << qint64(10'000);
    QTest::newRow("past the end") << qint64(299'990) << qint64(100) << qint64(299'990) << qint64(10);
    QTest::newRow("nothing") << qint64(5) << qint64(0) << qint64(5) << qint64(0);
}

void TestOpenSandboxExecd::readFileRanges()
{
    QFETCH(qint64, offset);
    QFETCH(qint64, length);
    QFETCH(qint64, expectedOffset);
    QFETCH(qint64, expectedLength);
    const QByteArray content = patternBytes(300'000);
    QVERIFY(infoOf(u"/workspace/up/buffer.bin"_s));   // uploaded by uploadFromBuffer
    FileReadJob *job = m_client->readFile(m_execd, u"/workspace/up/buffer.bin"_s, offset, length);
    QByteArray received;
    connect(job, &FileReadJob::data, this, [&received](const QByteArray &bytes) { received += bytes; });
    const auto finished = run(job);
    VERIFY_SUCCEEDED(finished);
    QCOMPARE(qint64(received.size()), expectedLength);
    QVERIFY(received == content.mid(expectedOffset, expectedLength));
}

void TestOpenSandboxExecd::readFilePastTheEnd()
{
    const auto job = run(m_client->readFile(m_execd, u"/workspace/up/buffer.bin"_s, 400'000, 10));
    QVERIFY(job->error());
    QCOMPARE(OpenSandboxErrorDetails::of(*job->error()).status, 416);
    // The spec's 416 is an ErrorResponse: a code, and a message that says why.
    QCOMPARE(OpenSandboxErrorDetails::of(*job->error()).serverCode, u"UNKNOWN"_s);
    QVERIFY2(job->error()->message.contains(u"past the end of the file"_s), qPrintable(job->error()->message));
    const auto missing = run(m_client->readFile(m_execd, u"/workspace/up/none.bin"_s, 0, 10));
    QVERIFY(missing->error());
    QCOMPARE(missing->error()->code, u"FILE_NOT_FOUND"_s);
}

void TestOpenSandboxExecd::cleanupTestCase()
{
    m_client.reset();
    QVERIFY2(m_server.stop(), qPrintable(m_server.failure()));
}

QTEST_GUILESS_MAIN(TestOpenSandboxExecd)
#include "tst_opensandboxexecd.moc"
