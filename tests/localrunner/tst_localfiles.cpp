// Files and directories in local sandboxes through the Runner interface: each operation
// on real sandboxes, checked from both sides (the file tool and commands in the sandbox).
#include "localrunnertesting.h"

#include <QCryptographicHash>
#include <QTemporaryFile>

using namespace Sandflow;
using namespace RunnerTesting;
using namespace Qt::StringLiterals;

namespace {

FilePermissions permissions(int mode, const QString &owner = {}, const QString &group = {})
{
    FilePermissions result;
    result.mode = mode;
    result.owner = owner;
    result.group = group;
    return result;
}

QStringList paths(const QList<FileInfo> &files)
{
    QStringList result;
    for (const FileInfo &file : files)
        result.append(file.path);
    return result;
}

} // namespace

class TestLocalFiles : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void uploadWithModeAndOwner();
    void largeUploadIsStreamed();
    void infoDescribesWithoutFollowing();
    void downloadRanges();
    void cancelledDownloadEndsTheTool();
    void searchMatchesBaseNames();
    void listDirectoryGoesDepthFirst();
    void replaceCountsAndKeepsTheMode();
    void permissionsAndOwnership();
    void moveAcrossMounts();
    void removeFilesAndDirectories();
    void makeDirectoriesWithModes();
    void relativePathsAreInTheWorkspace();
    void theToolSeesOnlyTheSandbox();
    void errorsNameTheProblem();

private:
    std::unique_ptr<LocalRunner> m_runner;
    QString m_id;
};

void TestLocalFiles::init()
{
    TestWarnings::failOnAnyWarning();
    m_runner = std::make_unique<LocalRunner>(runnerOptions());
    m_id = create(m_runner.get());
    QVERIFY(!m_id.isEmpty());
}

void TestLocalFiles::cleanup()
{
    m_runner.reset();
}

void TestLocalFiles::uploadWithModeAndOwner()
{
    const FileInfo written = resultOf(m_runner->uploadFile(m_id, u"/workspace/new/dir/hello.txt"_s,
                                                           permissions(0640, u"nobody"_s, u"nogroup"_s),
                                                           bytes("hello\n")));
    QCOMPARE(written.path, u"/workspace/new/dir/hello.txt"_s);
    QCOMPARE(written.size, 6);
    QCOMPARE(written.mode, 0640);
    QCOMPARE(written.owner, u"nobody"_s);
    QCOMPARE(written.group, u"nogroup"_s);
    QCOMPARE(shellOutput(m_runner.get(), m_id, u"stat -c '%a %U %G' /workspace/new/dir/hello.txt; cat /workspace/new/dir/hello.txt"_s),
             QByteArray("640 nobody nogroup\nhello\n"));
}

void TestLocalFiles::largeUploadIsStreamed()
{
    QTemporaryFile source;
    QVERIFY(source.open());
    QCryptographicHash hash(QCryptographicHash::Sha256);
    for (int i = 0; i < 40; ++i) {
        const QByteArray block = QByteArray::number(i).repeated(512 * 1024 / QByteArray::number(i).size() + 1).left(512 * 1024);
        source.write(block);
        hash.addData(block);
    }
    source.close();
    auto *file = new QFile(source.fileName());
    QVERIFY(file->open(QIODevice::ReadOnly));
    const FileInfo written = resultOf(m_runner->uploadFile(m_id, u"/tmp/big.bin"_s, permissions(0), file));
    QCOMPARE(written.size, 40 * 512 * 1024);
    QCOMPARE(shellOutput(m_runner.get(), m_id, u"sha256sum < /tmp/big.bin | cut -d' ' -f1"_s).trimmed(),
             hash.result().toHex());
}

void TestLocalFiles::infoDescribesWithoutFollowing()
{
    shellOutput(m_runner.get(), m_id, u"printf abc > /tmp/f; chmod 754 /tmp/f; ln -s /tmp/f /tmp/link; mkdir /tmp/d"_s);
    const QList<FileInfo> infos = resultOf(m_runner->fileInfo(m_id, {u"/tmp/f"_s, u"/tmp/link"_s, u"/tmp/d"_s}));
    QCOMPARE(infos.size(), 3);
    QCOMPARE(infos[0].type, FileInfo::Type::File);
    QCOMPARE(infos[0].size, 3);
    QCOMPARE(infos[0].mode, 0754);
    QCOMPARE(infos[0].owner, u"root"_s);
    QVERIFY(qAbs(infos[0].modifiedAt.secsTo(QDateTime::currentDateTimeUtc())) < 60);
    QCOMPARE(infos[1].type, FileInfo::Type::Symlink);
    QCOMPARE(infos[2].type, FileInfo::Type::Directory);
}

void TestLocalFiles::downloadRanges()
{
    shellOutput(m_runner.get(), m_id, u"printf 0123456789 > /tmp/digits"_s);
    QCOMPARE(dataOf(m_runner->downloadFile(m_id, u"/tmp/digits"_s, 0, -1)), QByteArray("0123456789"));
    QCOMPARE(dataOf(m_runner->downloadFile(m_id, u"/tmp/digits"_s, 3, 4)), QByteArray("3456"));
    QCOMPARE(dataOf(m_runner->downloadFile(m_id, u"/tmp/digits"_s, 7, -1)), QByteArray("789"));
    QCOMPARE(dataOf(m_runner->downloadFile(m_id, u"/tmp/digits"_s, 10, -1)), QByteArray());
    QCOMPARE(errorCodeOf(m_runner->downloadFile(m_id, u"/tmp/digits"_s, 11, -1)), u"RANGE_NOT_SATISFIABLE"_s);
}

void TestLocalFiles::cancelledDownloadEndsTheTool()
{
    const QString toolsRunning = u"for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done"
                                 " | grep -c '^/.sandflow/agent [f]s read'"_s;
    // Without an end, the download goes on until it is cancelled.
    OwnedJob<FileReadJob> job(m_runner->downloadFile(m_id, u"/dev/zero"_s, 0, -1));
    job->setAutoDelete(false);
    qint64 received = 0;
    connect(job.get(), &FileReadJob::data, job.get(), [&received](const QByteArray &chunk) { received += chunk.size(); });
    QSignalSpy finished(job.get(), &AsyncJob::finished);
    job->start();
    QTRY_VERIFY(received > 0);
    QCOMPARE(shellOutput(m_runner.get(), m_id, toolsRunning), QByteArray("1\n"));

    job->cancel();
    QTRY_VERIFY(!finished.isEmpty());
    QVERIFY(job->error());
    QCOMPARE(job->error()->code, u"CANCELLED"_s);
    QCOMPARE(shellOutput(m_runner.get(), m_id, toolsRunning), QByteArray("0\n"));
}

void TestLocalFiles::searchMatchesBaseNames()
{
    shellOutput(m_runner.get(), m_id,
                u"mkdir -p /tmp/s/a/b; touch /tmp/s/x.py /tmp/s/a/y.py /tmp/s/a/b/z.txt /tmp/s/a/b/w.md; "
                "mkdir /tmp/s/dir.py; ln -s /tmp/s/a /tmp/s/linked"_s);
    QCOMPARE(paths(resultOf(m_runner->searchFiles(m_id, u"/tmp/s"_s, u"*.py"_s))),
             (QStringList{u"/tmp/s/a/y.py"_s, u"/tmp/s/x.py"_s}));
    QCOMPARE(paths(resultOf(m_runner->searchFiles(m_id, u"/tmp/s"_s, u"*.{txt,md}"_s))),
             (QStringList{u"/tmp/s/a/b/w.md"_s, u"/tmp/s/a/b/z.txt"_s}));
    QCOMPARE(resultOf(m_runner->searchFiles(m_id, u"/tmp/s"_s, QString())).size(), 4);
    QCOMPARE(resultOf(m_runner->searchFiles(m_id, u"/tmp/s"_s, u"a/*.py"_s)).size(), 0);
}

void TestLocalFiles::listDirectoryGoesDepthFirst()
{
    shellOutput(m_runner.get(), m_id, u"mkdir -p /tmp/l/b/c; touch /tmp/l/a /tmp/l/b/f /tmp/l/b/c/deep"_s);
    QCOMPARE(paths(resultOf(m_runner->listDirectory(m_id, u"/tmp/l"_s, 1))), (QStringList{u"/tmp/l/a"_s, u"/tmp/l/b"_s}));
    QCOMPARE(paths(resultOf(m_runner->listDirectory(m_id, u"/tmp/l"_s, 2))),
             (QStringList{u"/tmp/l/a"_s, u"/tmp/l/b"_s, u"/tmp/l/b/c"_s, u"/tmp/l/b/f"_s}));
    QCOMPARE(resultOf(m_runner->listDirectory(m_id, u"/tmp/l"_s, 0)).size(), 0);
}

void TestLocalFiles::replaceCountsAndKeepsTheMode()
{
    shellOutput(m_runner.get(), m_id, u"printf 'a-b-a-b-a' > /tmp/r; chmod 600 /tmp/r"_s);
    QCOMPARE(resultOf(m_runner->replaceInFile(m_id, u"/tmp/r"_s, u"a"_s, u"xyz"_s)), 3);
    QCOMPARE(shellOutput(m_runner.get(), m_id, u"cat /tmp/r; echo; stat -c %a /tmp/r"_s), QByteArray("xyz-b-xyz-b-xyz\n600\n"));
    QCOMPARE(resultOf(m_runner->replaceInFile(m_id, u"/tmp/r"_s, u"absent"_s, u"x"_s)), 0);
}

void TestLocalFiles::permissionsAndOwnership()
{
    shellOutput(m_runner.get(), m_id, u"touch /tmp/p"_s);
    QCOMPARE(errorCodeOf(m_runner->setPermissions(m_id, u"/tmp/p"_s, permissions(0604, u"nobody"_s, QString()))), QString());
    QCOMPARE(shellOutput(m_runner.get(), m_id, u"stat -c '%a %U %G' /tmp/p"_s), QByteArray("604 nobody root\n"));
    // Mode 0 leaves the mode alone.
    QCOMPARE(errorCodeOf(m_runner->setPermissions(m_id, u"/tmp/p"_s, permissions(0, QString(), u"1234"_s))), QString());
    QCOMPARE(shellOutput(m_runner.get(), m_id, u"stat -c '%a %U %g' /tmp/p"_s), QByteArray("604 nobody 1234\n"));
    QCOMPARE(errorCodeOf(m_runner->setPermissions(m_id, u"/tmp/p"_s, permissions(0, u"no-such-user"_s))),
             u"INVALID_ARGUMENT"_s);
}

void TestLocalFiles::moveAcrossMounts()
{
    // /tmp and /workspace are separate tmpfs mounts, so this is a copy and a removal.
    shellOutput(m_runner.get(), m_id, u"mkdir -p /tmp/m/sub; echo content > /tmp/m/sub/file; chmod 700 /tmp/m/sub"_s);
    QCOMPARE(errorCodeOf(m_runner->moveFile(m_id, u"/tmp/m"_s, u"/workspace/moved"_s)), QString());
    QCOMPARE(shellOutput(m_runner.get(), m_id, u"cat /workspace/moved/sub/file; stat -c %a /workspace/moved/sub; test -e /tmp/m || echo gone"_s),
             QByteArray("content\n700\ngone\n"));
    QCOMPARE(errorCodeOf(m_runner->moveFile(m_id, u"/workspace/moved/sub/file"_s, u"/workspace/renamed"_s)), QString());
    QCOMPARE(shellOutput(m_runner.get(), m_id, u"cat /workspace/renamed"_s), QByteArray("content\n"));
}

void TestLocalFiles::removeFilesAndDirectories()
{
    shellOutput(m_runner.get(), m_id, u"mkdir -p /tmp/x/y; touch /tmp/x/y/f /tmp/x/g"_s);
    QCOMPARE(errorCodeOf(m_runner->removeFile(m_id, u"/tmp/x/g"_s)), QString());
    QCOMPARE(errorCodeOf(m_runner->removeFile(m_id, u"/tmp/x"_s)), u"IS_A_DIRECTORY"_s);
    QCOMPARE(errorCodeOf(m_runner->removeDirectory(m_id, u"/tmp/x"_s)), QString());
    QCOMPARE(shellOutput(m_runner.get(), m_id, u"test -e /tmp/x || echo gone"_s), QByteArray("gone\n"));
}

void TestLocalFiles::makeDirectoriesWithModes()
{
    QCOMPARE(errorCodeOf(m_runner->makeDirectory(m_id, u"/workspace/a/b/c"_s, permissions(0710))), QString());
    QCOMPARE(shellOutput(m_runner.get(), m_id, u"stat -c %a /workspace/a /workspace/a/b/c"_s), QByteArray("710\n710\n"));
    // Already there is fine (mkdir -p).
    QCOMPARE(errorCodeOf(m_runner->makeDirectory(m_id, u"/workspace/a/b"_s, permissions(0755))), QString());
}

void TestLocalFiles::relativePathsAreInTheWorkspace()
{
    resultOf(m_runner->uploadFile(m_id, u"notes/todo.txt"_s, permissions(0), bytes("x")));
    resultOf(m_runner->uploadFile(m_id, u"~/home.txt"_s, permissions(0), bytes("y")));
    QCOMPARE(shellOutput(m_runner.get(), m_id, u"cat /workspace/notes/todo.txt /workspace/home.txt"_s), QByteArray("xy"));
}

void TestLocalFiles::theToolSeesOnlyTheSandbox()
{
    // The machine's secrets are not in the sandbox, and a link to / leads to the sandbox's root.
    QVERIFY(QFile::exists(u"/etc/shadow"_s));
    shellOutput(m_runner.get(), m_id, u"ln -s / /tmp/root"_s);
    QCOMPARE(errorCodeOf(m_runner->fileInfo(m_id, {u"/etc/shadow"_s})), u"NOT_FOUND"_s);
    QCOMPARE(errorCodeOf(m_runner->downloadFile(m_id, u"/tmp/root/etc/shadow"_s, 0, -1)), u"NOT_FOUND"_s);
    QCOMPARE(errorCodeOf(m_runner->uploadFile(m_id, u"/usr/evil"_s, permissions(0), bytes("x"))), u"PERMISSION_DENIED"_s);
    // Nor does one sandbox see another's files.
    resultOf(m_runner->uploadFile(m_id, u"/tmp/private"_s, permissions(0), bytes("mine")));
    const QString other = create(m_runner.get());
    QCOMPARE(errorCodeOf(m_runner->fileInfo(other, {u"/tmp/private"_s})), u"NOT_FOUND"_s);
}

void TestLocalFiles::errorsNameTheProblem()
{
    const std::optional<JobError> missing = errorOf(m_runner->fileInfo(m_id, {u"/tmp/missing"_s}));
    QVERIFY(missing);
    QCOMPARE(missing->code, u"NOT_FOUND"_s);
    QVERIFY2(missing->message.contains(u"/tmp/missing"_s), qPrintable(missing->message));
    QCOMPARE(errorCodeOf(m_runner->fileInfo(u"no-sandbox"_s, {u"/tmp"_s})), u"SANDBOX_NOT_FOUND"_s);
    QCOMPARE(errorCodeOf(m_runner->pauseSandbox(m_id)), QString());
    QCOMPARE(errorCodeOf(m_runner->fileInfo(m_id, {u"/tmp"_s})), u"SANDBOX_NOT_RUNNING"_s);
}

QTEST_GUILESS_MAIN(TestLocalFiles)
#include "tst_localfiles.moc"
