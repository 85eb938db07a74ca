// A runner that itself runs in a user namespace, as in many CI containers: the kernel refuses
// it id-mapped mounts, without which a range of ids of the sandboxes' own would leave every
// volume the host's root owns unwritable. Its sandboxes' ids map to themselves instead, the
// run says why once, and a volume stays writable.
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

class TestUsernsRunner : public QObject
{
    Q_OBJECT

private slots:
    void volumesStayWritableWithoutIdmappedMounts();
};

void TestUsernsRunner::volumesStayWritableWithoutIdmappedMounts()
{
    if (::geteuid() != 0)
        QSKIP("only root can make a user namespace that maps more than its own id");
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    QVERIFY(QDir(directory.path()).mkdir(u"data"_s));
    QFile workflow(directory.filePath(u"volume.yaml"_s));
    QVERIFY(workflow.open(QIODevice::WriteOnly));
    workflow.write("version: 1\n"
                   "name: volume\n"
                   "volumes:\n"
                   "  data: { host: { path: ./data } }\n"
                   "jobs:\n"
                   "  main:\n"
                   "    sandbox:\n"
                   "      mounts: [ { volume: data, path: /mnt/data } ]\n"
                   "    steps:\n"
                   "      - run: echo written > /mnt/data/out\n");
    workflow.close();
    QProcess run;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"SANDFLOW_STATE_DIR"_s, directory.filePath(u"state"_s));
    run.setProcessEnvironment(environment);
    run.setWorkingDirectory(directory.path());
    run.start(QStringLiteral(RUN_IN_USERNS), {QStringLiteral(SANDFLOW_BINARY), u"run"_s, workflow.fileName()});
    QVERIFY(run.waitForFinished(120'000));
    const QString err = QString::fromUtf8(run.readAllStandardError());
    const QString out = QString::fromUtf8(run.readAllStandardOutput());
    QVERIFY2(run.exitStatus() == QProcess::NormalExit && run.exitCode() == 0, qPrintable(out + err));
    const QString warning = u"the kernel refuses id-mapped mounts here"_s;
    QCOMPARE((out + err).count(warning), 1);
    QFile written(directory.filePath(u"data/out"_s));
    QVERIFY(written.open(QIODevice::ReadOnly));
    QCOMPARE(written.readAll(), QByteArray("written\n"));
    struct stat status;
    QCOMPARE(::stat(QFile::encodeName(written.fileName()).constData(), &status), 0);
    QCOMPARE(status.st_uid, 0u);
}

QTEST_GUILESS_MAIN(TestUsernsRunner)
#include "tst_usernsrunner.moc"
