// `sandflow run` on the opensandbox runner, through a proxy that plays faults (resets, 5xx
// bursts, 429 with Retry-After, answers and streams cut off or gone silent, slow bodies) in
// front of a real `sandflow serve`. A workflow of 50 instances, each uploading, running and
// downloading, with `retry: {on: [infra]}` as a user writes it, must end with every result
// recorded, one sandbox made on the server for each instance, and none left there.
//
// The faults come from a seed that the test prints; SANDFLOW_FAULT_SEED=N plays the same.
#include "faultproxy.h"
#include "runtesting.h"
#include "serveprocess.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace RunTesting;

class TestFaultyServer : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void workflowThroughFaults();

private:
    QString m_program = QStringLiteral(SANDFLOW_BINARY);
    QTemporaryDir m_dir;
    QTemporaryDir m_serverState;
    ServeProcess m_server;
};

void TestFaultyServer::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY(m_serverState.isValid());
    QVERIFY2(m_server.start(m_program, m_serverState.path(), u"tst-faultyserver-key"_s), qPrintable(m_server.failure()));
}

void TestFaultyServer::cleanupTestCase()
{
    QVERIFY2(m_server.stop(), qPrintable(m_server.failure()));
}

namespace {

constexpr int Instances = 50;

QByteArray workflowYaml()
{
    QByteArrayList values;
    for (int n = 1; n <= Instances; ++n)
        values.append(QByteArray::number(n));
    // Every step may meet a fault: each is tried again on an infrastructure failure.
    const QByteArray retry = "        retry: { attempts: 6, backoff: 100ms, on: [infra] }\n";
    return "version: 1\n"
           "name: faults\n"
           "jobs:\n"
           "  work:\n"
           "    strategy:\n"
           "      matrix: { n: [" + values.join(", ") + "] }\n"
           "      fail-fast: false\n"
           "    sandbox: { image: debian:12 }\n"
           "    steps:\n"
           "      - upload: { from: input.txt, to: /tmp/input.txt }\n"
           + retry +
           "      - run: tr a-z A-Z < /tmp/input.txt > /tmp/result.txt && echo ${{ matrix.n }} >> /tmp/result.txt\n"
           + retry +
           "      - run: cat /tmp/result.txt\n"
           + retry +
           "      - download: { from: /tmp/result.txt, to: result.txt }\n"
           + retry;
}

void write(const QString &path, const QByteArray &content)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size())
        qFatal("cannot write %s", qPrintable(path));
}

/// What went wrong, as the run's events tell: the instances and steps that failed, and why.
QString failures(const RunResult &result)
{
    QString told;
    for (const QJsonObject &event : result.events) {
        const QString type = event.value(u"type"_s).toString();
        const bool finished = type == u"job_finished"_s || type == u"step_finished"_s;
        if (finished && event.value(u"outcome"_s).toString() != u"success"_s)
            told += QString::fromUtf8(QJsonDocument(event).toJson(QJsonDocument::Compact)) + u'\n';
    }
    return told;
}

} // namespace

void TestFaultyServer::workflowThroughFaults()
{
    FaultSchedule schedule(FaultSchedule::seedFromEnvironment(), FaultSchedule::Limits());
    qInfo("fault seed %u (SANDFLOW_FAULT_SEED=%u plays the same faults)", schedule.seed(), schedule.seed());
    FaultProxy proxy(m_server.port(), schedule);
    QVERIFY(proxy.listen());

    const QString workflowDir = m_dir.filePath(u"workflow"_s);
    QDir().mkpath(workflowDir);
    write(workflowDir + u"/input.txt"_s, "hello\n");
    write(workflowDir + u"/workflow.yaml"_s, workflowYaml());
    const QString runDir = m_dir.filePath(u"run"_s);

    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"SANDFLOW_STATE_DIR"_s, m_dir.filePath(u"state"_s));
    QProcess process;
    process.setProcessEnvironment(environment);
    process.setProgram(m_program);
    process.setArguments({u"run"_s, u"--json"_s, u"--run-dir"_s, runDir, u"--max-sandboxes"_s, u"10"_s,
                          u"--runner"_s, u"opensandbox"_s, u"--server"_s, proxy.url(), u"--api-key"_s,
                          m_server.apiKey(), workflowDir + u"/workflow.yaml"_s});
    process.setStandardInputFile(QProcess::nullDevice());
    LiveRun live(process);
    const RunResult result = live.finish(runDir);

    QStringList played;
    for (auto it = schedule.played().cbegin(); it != schedule.played().cend(); ++it)
        played.append(u"%1: %2"_s.arg(faultName(it.key())).arg(it.value()));
    qInfo("%d requests (%d to sandboxes), faults played: %s", proxy.counts().requests, proxy.counts().execdRequests,
          qPrintable(played.join(u", "_s)));

    QVERIFY2(live.isFinished(), "the run did not end");
    QVERIFY2(result.exitCode == 0, qPrintable(failures(result) + result.err));
    // Every instance's result is recorded, and it is the instance's own.
    const QJsonArray jobs = result.summary().value(u"jobs"_s).toArray();
    QCOMPARE(jobs.size(), Instances);
    QSet<QString> sandboxes;
    for (const QJsonValue &value : jobs) {
        const QJsonObject job = value.toObject();
        QCOMPARE(job.value(u"outcome"_s).toString(), u"success"_s);
        sandboxes.insert(job.value(u"sandboxId"_s).toString());
        const QString n = job.value(u"matrix"_s).toObject().value(u"n"_s).toVariant().toString();
        // Downloaded beside the instance's logs (their paths are the run directory's).
        const QString logs = QFileInfo(job.value(u"steps"_s)[0][u"log"_s].toString()).path();
        QFile downloaded(runDir + u'/' + logs + u"/result.txt"_s);
        QVERIFY2(downloaded.open(QIODevice::ReadOnly), qPrintable(downloaded.fileName()));
        QCOMPARE(downloaded.readAll(), "HELLO\n" + n.toUtf8() + '\n');
    }
    QCOMPARE(sandboxes.size(), Instances);
    // The traffic to the sandboxes went through the proxy too: the server names itself after
    // the Host header, which the proxy keeps.
    QVERIFY(proxy.counts().execdRequests > 0);
    // The server was asked to create exactly one sandbox per instance: a create whose answer
    // was lost was found by its label, not made again.
    QCOMPARE(proxy.counts().forwardedCreates, Instances);
    // Every kind of fault happened.
    for (const Fault fault : {Fault::ResetBeforeForwarding, Fault::ResetAfterForwarding, Fault::ServerError,
                              Fault::TooManyRequests, Fault::CutResponse, Fault::Silence, Fault::SlowBody})
        QVERIFY2(schedule.played().value(fault) > 0, qPrintable(faultName(fault)));
    // And nothing was left on the server.
    QCOMPARE(serverSandboxes(m_program, m_server), u"No sandboxes.\n"_s);
}

QTEST_GUILESS_MAIN(TestFaultyServer)
#include "tst_faultyserver.moc"
