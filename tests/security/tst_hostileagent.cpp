// A sandbox whose agent was taken over (hostileagent.cpp, started by the local runner in
// real sandboxes) answers the runner's file operations with whatever serves an attacker:
// listings that climb out of the download's destination, names that lead through links
// planted in it, answers larger than asked for. Whatever it answers, a download writes only
// inside its destination, and the runner takes no more than it asked for.
#include "localrunner.h"
#include "runnertesting.h"
#include "stepjobs_p.h"
#include "workflowloader.h"
#include "workflowrun.h"

#include <QDirIterator>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>

#include <csignal>

using namespace Sandflow;
using namespace RunnerTesting;
using namespace Qt::StringLiterals;

namespace {

/// What the hostile agent answers for `fs read`: the bytes a forged download would write.
const QByteArray Forged = "forged by the agent\n";

/// More parent steps than any test directory is deep: below them, a path leads from the
/// host's root, wherever the destination is.
const QString ClimbToRoot = u"../"_s.repeated(32);

QJsonObject entry(const QString &path, const QString &type)
{
    return {{u"path"_s, path}, {u"type"_s, type}, {u"mode"_s, type == u"directory"_s ? 0755 : 0644}};
}

QString listing(const QJsonArray &entries)
{
    return QString::fromUtf8(QJsonDocument(entries).toJson(QJsonDocument::Compact));
}

QString yamlQuoted(QString text)
{
    return u'\'' + text.replace(u'\'', u"''"_s) + u'\'';
}

} // namespace

class TestHostileAgent : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void workflowDownloadRefusesATraversingListing();
    void entriesOutsideTheSourceAreRefused_data();
    void entriesOutsideTheSourceAreRefused();
    void inconsistentListingsAreRefused_data();
    void inconsistentListingsAreRefused();
    void linksPlantedInTheDestinationAreNotFollowed_data();
    void linksPlantedInTheDestinationAreNotFollowed();
    void singleFileDownloadDoesNotFollowALinkAtItsTarget();
    void honestListingIsDownloaded();
    void infoWithoutTheAskedPathFails();
    void answerLargerThanTheLimitFails();
    void readLongerThanAskedFails();
    void terminalFramesAreCheckedNotBelieved();

private:
    /// A sandbox of the hostile agent, answering as `env` says.
    QString hostileSandbox(const QMap<QString, QString> &env);
    /// Runs a download step of `from` to `to` in `sandboxId`; its error, if any.
    std::optional<JobError> download(const QString &sandboxId, const QString &from, const QString &to);
    /// Regular files below the test's directory but not below the destination.
    QStringList filesOutsideTheDestination() const;

    std::unique_ptr<QTemporaryDir> m_root;
    QString m_destination;   ///< where downloads go: m_root/run/dest
    QString m_victim;        ///< a host file outside it: m_root/victim
    std::unique_ptr<LocalRunner> m_runner;
};

void TestHostileAgent::init()
{
    TestWarnings::failOnAnyWarning();
    m_root = std::make_unique<QTemporaryDir>();
    QVERIFY(m_root->isValid());
    m_destination = m_root->filePath(u"run/dest"_s);
    m_victim = m_root->filePath(u"victim"_s);
    QVERIFY(QDir().mkpath(m_root->filePath(u"outside"_s)));
    LocalRunner::Options options;
    options.agentPath = QStringLiteral(HOSTILE_AGENT_PATH);
    m_runner = std::make_unique<LocalRunner>(options);
}

void TestHostileAgent::cleanup()
{
    QVERIFY2(filesOutsideTheDestination().isEmpty(), qPrintable(filesOutsideTheDestination().join(u", "_s)));
    m_runner.reset();
    m_root.reset();
}

QString TestHostileAgent::hostileSandbox(const QMap<QString, QString> &env)
{
    return create(m_runner.get(), sandbox([&env](SandboxRequest &request) { request.env = env; }));
}

std::optional<JobError> TestHostileAgent::download(const QString &sandboxId, const QString &from, const QString &to)
{
    return errorOf(new Internal::DownloadStepJob(m_runner.get(), sandboxId, from, to));
}

QStringList TestHostileAgent::filesOutsideTheDestination() const
{
    QStringList found;
    QDirIterator files(m_root->path(), QDir::Files | QDir::Hidden | QDir::NoSymLinks, QDirIterator::Subdirectories);
    while (files.hasNext()) {
        const QString path = files.next();
        if (!path.startsWith(m_destination + u'/'))
            found.append(path);
    }
    return found;
}

// The attack as it was found: the agent lists an entry that climbs out of the source, and
// a workflow's download step would have written the forged bytes to a host file.
void TestHostileAgent::workflowDownloadRefusesATraversingListing()
{
    const QString climbing = u"/workspace/out/"_s + ClimbToRoot + m_victim.mid(1);
    const QString hostileListing = listing({entry(climbing, u"file"_s)});
    const QByteArray workflowText = uR"(version: 1
name: hostile-download
jobs:
  fetch:
    sandbox:
      env:
        HOSTILE_LIST: %1
    steps:
      - download: { from: /workspace/out, to: dest }
)"_s.arg(yamlQuoted(hostileListing)).toUtf8();
    const StepTypeRegistry stepTypes;
    const LoadResult loaded = WorkflowLoader(stepTypes).loadData(workflowText, u"hostile.yaml"_s, m_root->path());
    QVERIFY2(loaded.ok(), qPrintable(loaded.diagnostics.items().value(0).toString()));

    RunOptions options;
    options.runId = u"hostile"_s;
    options.runDirectory = m_root->filePath(u"run"_s);
    QList<RunEvent> stepsFinished;
    WorkflowRun workflowRun(*loaded.workflow, m_runner.get(), options, [&stepsFinished](const RunEvent &event) {
        if (event.type == RunEvent::Type::StepFinished)
            stepsFinished.append(event);
    });
    run(&workflowRun, 60'000);
    QVERIFY(workflowRun.isFinished());
    QCOMPARE(workflowRun.outcome(), TaskOutcome::Failure);
    QCOMPARE(stepsFinished.size(), 1);
    QCOMPARE(stepsFinished.first().outcome, u"failure"_s);
    QVERIFY2(stepsFinished.first().text.contains(climbing), qPrintable(stepsFinished.first().text));
    QVERIFY(!QFile::exists(m_victim));
    // Its sandbox is gone with the run.
    QTRY_VERIFY(m_runner->sandboxes().isEmpty());
}

void TestHostileAgent::entriesOutsideTheSourceAreRefused_data()
{
    QTest::addColumn<QString>("path");   // `tmp/victim` stands for the test's own victim
    QTest::newRow("parent steps") << u"/workspace/out/"_s + ClimbToRoot + u"tmp/victim"_s;
    QTest::newRow("parent steps below a directory") << u"/workspace/out/a/"_s + ClimbToRoot + u"tmp/victim"_s;
    QTest::newRow("another directory") << u"/workspace/elsewhere/"_s + ClimbToRoot + u"tmp/victim"_s;
    QTest::newRow("a name that only starts like the source") << u"/workspace/output/"_s + ClimbToRoot + u"tmp/victim"_s;
    QTest::newRow("an absolute remainder") << u"/workspace/out//tmp/victim"_s;
    QTest::newRow("a dot") << u"/workspace/out/./victim"_s;
    QTest::newRow("a trailing slash") << u"/workspace/out/victim/"_s;
    QTest::newRow("the source itself") << u"/workspace/out"_s;
    QTest::newRow("a relative path") << u"victim"_s;
}

// Every entry of a listing must be below the source, by whole names; the destination then
// holds everything the download makes. The step refuses the listing before writing.
void TestHostileAgent::entriesOutsideTheSourceAreRefused()
{
    QFETCH(QString, path);
    path.replace(u"tmp/victim"_s, m_victim.mid(1));
    const QString id = hostileSandbox({{u"HOSTILE_LIST"_s, listing({entry(path, u"file"_s)})}});
    QVERIFY(!id.isEmpty());
    const std::optional<JobError> error = download(id, u"/workspace/out"_s, m_destination);
    QVERIFY(error);
    QCOMPARE(error->code, u"DOWNLOAD_UNSAFE_PATH"_s);
    QVERIFY2(error->message.contains(path), qPrintable(error->message));
    QCOMPARE(error->context.value(u"entry"_s).toString(), path);
    QVERIFY(!QFile::exists(m_victim));
    QVERIFY(QDir(m_destination).isEmpty());
}

void TestHostileAgent::inconsistentListingsAreRefused_data()
{
    QTest::addColumn<QJsonArray>("entries");
    QTest::addColumn<QString>("offending");
    QTest::newRow("a file twice") << QJsonArray{entry(u"/workspace/out/a"_s, u"file"_s),
                                                entry(u"/workspace/out/a"_s, u"file"_s)}
                                  << u"/workspace/out/a"_s;
    QTest::newRow("a file and a directory") << QJsonArray{entry(u"/workspace/out/a"_s, u"file"_s),
                                                          entry(u"/workspace/out/a"_s, u"directory"_s)}
                                            << u"/workspace/out/a"_s;
    QTest::newRow("a child of a file") << QJsonArray{entry(u"/workspace/out/a"_s, u"file"_s),
                                                     entry(u"/workspace/out/a/b"_s, u"file"_s)}
                                       << u"/workspace/out/a/b"_s;
    QTest::newRow("a child before its directory") << QJsonArray{entry(u"/workspace/out/a/b"_s, u"file"_s),
                                                                entry(u"/workspace/out/a"_s, u"directory"_s)}
                                                  << u"/workspace/out/a/b"_s;
    QTest::newRow("a child of a link") << QJsonArray{entry(u"/workspace/out/a"_s, u"symlink"_s),
                                                     entry(u"/workspace/out/a/b"_s, u"file"_s)}
                                       << u"/workspace/out/a/b"_s;
}

// What a listing asks for is checked as a whole before anything is written: each entry
// once, each below a directory listed before it.
void TestHostileAgent::inconsistentListingsAreRefused()
{
    QFETCH(QJsonArray, entries);
    QFETCH(QString, offending);
    const QString id = hostileSandbox({{u"HOSTILE_LIST"_s, listing(entries)}});
    QVERIFY(!id.isEmpty());
    const std::optional<JobError> error = download(id, u"/workspace/out"_s, m_destination);
    QVERIFY(error);
    QCOMPARE(error->code, u"DOWNLOAD_BAD_LISTING"_s);
    QCOMPARE(error->context.value(u"entry"_s).toString(), offending);
    QVERIFY(QDir(m_destination).isEmpty());
}

void TestHostileAgent::linksPlantedInTheDestinationAreNotFollowed_data()
{
    QTest::addColumn<QString>("link");      // in the destination
    QTest::addColumn<QString>("target");    // outside it, relative to the test's directory
    QTest::addColumn<QJsonArray>("entries");
    QTest::addColumn<QString>("written");   // where following the link would have written
    QTest::newRow("a directory") << u"link"_s << u"outside"_s
                                 << QJsonArray{entry(u"/workspace/out/link"_s, u"directory"_s),
                                               entry(u"/workspace/out/link/victim"_s, u"file"_s)}
                                 << u"outside/victim"_s;
    QTest::newRow("a file") << u"report.txt"_s << u"victim"_s
                            << QJsonArray{entry(u"/workspace/out/report.txt"_s, u"file"_s)} << u"victim"_s;
    QTest::newRow("a file in a directory") << u"sub/report.txt"_s << u"victim"_s
                                           << QJsonArray{entry(u"/workspace/out/sub"_s, u"directory"_s),
                                                         entry(u"/workspace/out/sub/report.txt"_s, u"file"_s)}
                                           << u"victim"_s;
}

// A link in the destination (left there by a sandbox that shares it through a volume, say)
// leads nowhere: directories and files are made by descriptor, never through a link.
void TestHostileAgent::linksPlantedInTheDestinationAreNotFollowed()
{
    QFETCH(QString, link);
    QFETCH(QString, target);
    QFETCH(QJsonArray, entries);
    QFETCH(QString, written);
    const QString linkPath = m_destination + u'/' + link;
    QVERIFY(QDir().mkpath(QFileInfo(linkPath).path()));
    QVERIFY(QFile::link(m_root->filePath(target), linkPath));
    const QString id = hostileSandbox({{u"HOSTILE_LIST"_s, listing(entries)}});
    QVERIFY(!id.isEmpty());
    const std::optional<JobError> error = download(id, u"/workspace/out"_s, m_destination);
    QVERIFY(error);
    QCOMPARE(error->code, u"DOWNLOAD_TARGET_UNWRITABLE"_s);
    QVERIFY2(error->message.contains(link), qPrintable(error->message));
    QVERIFY(!QFile::exists(m_root->filePath(written)));
    QVERIFY(QFileInfo(linkPath).isSymLink());
}

// A file downloaded to the path the user named: the directories on the way are theirs to
// choose, links included, but a link at the very name is not written through.
void TestHostileAgent::singleFileDownloadDoesNotFollowALinkAtItsTarget()
{
    const QString target = m_destination + u"/report.txt"_s;
    QVERIFY(QDir().mkpath(m_destination));
    QVERIFY(QFile::link(m_victim, target));
    const QString info = listing({entry(u"/workspace/report.txt"_s, u"file"_s)});
    const QString id = hostileSandbox({{u"HOSTILE_INFO"_s, info}});
    QVERIFY(!id.isEmpty());
    const std::optional<JobError> error = download(id, u"/workspace/report.txt"_s, target);
    QVERIFY(error);
    QCOMPARE(error->code, u"DOWNLOAD_TARGET_UNWRITABLE"_s);
    QVERIFY(!QFile::exists(m_victim));
    QVERIFY(QFileInfo(target).isSymLink());
}

// The checks refuse only what is wrong: a listing in the order the contract promises, with
// directories the destination already has, downloads as before.
void TestHostileAgent::honestListingIsDownloaded()
{
    QVERIFY(QDir().mkpath(m_destination + u"/a"_s));
    const QString id = hostileSandbox({{u"HOSTILE_LIST"_s, listing({entry(u"/workspace/out/a"_s, u"directory"_s),
                                                                     entry(u"/workspace/out/a/b"_s, u"directory"_s),
                                                                     entry(u"/workspace/out/a/b/c.txt"_s, u"file"_s),
                                                                     entry(u"/workspace/out/a/link"_s, u"symlink"_s),
                                                                     entry(u"/workspace/out/d.txt"_s, u"file"_s)})}});
    QVERIFY(!id.isEmpty());
    const std::optional<JobError> error = download(id, u"/workspace/out/"_s, m_destination);
    QVERIFY2(!error, error ? qPrintable(error->message) : "");
    for (const QString &file : {u"a/b/c.txt"_s, u"d.txt"_s}) {
        QFile downloaded(m_destination + u'/' + file);
        QVERIFY2(downloaded.open(QIODevice::ReadOnly), qPrintable(file));
        QCOMPARE(downloaded.readAll(), Forged);
    }
    QVERIFY(!QFileInfo::exists(m_destination + u"/a/link"_s));
}

// An answer without the path asked about is an error, not an entry read from nowhere.
void TestHostileAgent::infoWithoutTheAskedPathFails()
{
    const QString id = hostileSandbox({{u"HOSTILE_INFO"_s, u"[]"_s}});
    QVERIFY(!id.isEmpty());
    const std::optional<JobError> error = download(id, u"/workspace/out"_s, m_destination);
    QVERIFY(error);
    QCOMPARE(error->code, u"FILE_TOOL_FAILED"_s);
    QVERIFY(!QFileInfo::exists(m_destination));
}

// The file tool's answer is held in memory until it is complete: it is bounded.
void TestHostileAgent::answerLargerThanTheLimitFails()
{
    const QString id = hostileSandbox({{u"HOSTILE_LIST_PAD"_s, QString::number(64 << 20)}});
    QVERIFY(!id.isEmpty());
    std::unique_ptr<ResultJob<QList<FileInfo>>> job(run(m_runner->listDirectory(id, u"/workspace/out"_s, 1)));
    QVERIFY(job->error());
    QCOMPARE(job->error()->code, u"FILE_TOOL_FAILED"_s);
    QVERIFY2(job->error()->message.contains(u"64 MiB"_s), qPrintable(job->error()->message));
}

// A ranged read takes what it asked for and no more: `sandflow serve` sends it on as a body
// whose length it announced.
void TestHostileAgent::readLongerThanAskedFails()
{
    const QString id = hostileSandbox({});
    QVERIFY(!id.isEmpty());
    const Read read = readAll(m_runner->downloadFile(id, u"/workspace/file"_s, 0, 4));
    QVERIFY(read.error);
    QCOMPARE(read.error->code, u"FILE_TOOL_FAILED"_s);
    QVERIFY(read.data.size() <= 4);
    QCOMPARE(read.data, Forged.left(read.data.size()));
}

// A terminal's agent says it wrote more stdin than it was sent, less than nothing, or not a
// number; sends output on a stream a terminal does not have; and answers, exits and counts on
// channels that run nothing. The job takes only what fits what it sent, and the sandbox is
// none the worse for it.
void TestHostileAgent::terminalFramesAreCheckedNotBelieved()
{
    const QString id = hostileSandbox({});
    QVERIFY(!id.isEmpty());
    TerminalRequest request;
    request.argv = {u"sh"_s};
    OwnedJob<TerminalJob> job(m_runner->openTerminal(id, request));
    job->setAutoDelete(false);
    QByteArray out, err;
    connect(job.get(), &CommandJob::output, job.get(), [&](CommandJob::Stream stream, const QByteArray &data) {
        (stream == CommandJob::Stream::Stdout ? out : err) += data;
    });
    qint64 lowest = 0;
    connect(job.get(), &TerminalJob::inputWritten, job.get(), [&] { lowest = std::min(lowest, job->pendingInput()); });
    job->start();
    QTRY_COMPARE_WITH_TIMEOUT(out, QByteArray("forged stdout\n"), DefaultTimeoutMs);

    const qint64 given = 3 << 20;
    job->writeInput(QByteArray(given, 'x'));
    QVERIFY(job->pendingInput() <= given);
    // Each piece is "written" a thousand times over: what is left is none, not less.
    QTRY_COMPARE_WITH_TIMEOUT(job->pendingInput(), qint64(0), DefaultTimeoutMs);
    QCOMPARE(lowest, qint64(0));
    job->resize(100, 30);

    // The sandbox still runs commands: no forged answer on a channel of its own counted.
    std::unique_ptr<SandboxJob> sandbox(run(m_runner->getSandbox(id)));
    QCOMPARE(sandbox->result().state, SandboxState::Running);

    job->sendSignal(SIGTERM);
    QVERIFY(Detail::waitForFinished(job.get(), DefaultTimeoutMs));
    QCOMPARE(job->error() ? job->error()->code : QString(), u"COMMAND_KILLED"_s);
    QCOMPARE(out, QByteArray("forged stdout\n"));
    QCOMPARE(err, QByteArray());
}

QTEST_GUILESS_MAIN(TestHostileAgent)
#include "tst_hostileagent.moc"
