// OpenSandboxRunner through the Runner interface against a real `sandflow serve`: every
// operation the engine can ask for, the endpoint cache, leases, labels and the relay to a
// service inside a sandbox. Nothing is scripted: the server is the built program.
#include "opensandboxrunner.h"
#include "runnertesting.h"
#include "serveprocess.h"

#include <QScopeGuard>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace RunnerTesting;
using Sandflow::AsyncJob;
using Sandflow::CommandJob;
using Sandflow::CommandRequest;
using Sandflow::FileInfo;
using Sandflow::FilePermissions;
using Sandflow::OpenSandboxRunner;
using Sandflow::SandboxRequest;
using Sandflow::SandboxState;

namespace {

const QString apiKey = u"tst-opensandboxrunner-key"_s;
const QString runId = u"run-4711"_s;

} // namespace

class TestOpenSandboxRunner : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();
    void cleanupTestCase();

    void createdSandboxesCarryTheRunnersLabels();
    void lifecycle();
    void sandboxesWithoutTimeoutAreLeased();
    void shortTimeoutsAreRaisedWithAWarning();
    void commandsStreamAndFail();
    void backgroundCommandsAndInterrupt();
    void sessions();
    void files();
    void metrics();
    void theEndpointIsAskedForOnce();
    void relayToAServiceInTheSandbox();
    void egressPolicyThroughTheEgressApi();
    void unknownSandboxes();
    void terminalsAreNotOfferedYet();
    void deletionsSettle();

private:
    OpenSandboxRunner::Options options() const;
    /// The server's request lines so far (its --verbose output), read as they come.
    QStringList serverRequests();

    QTemporaryDir m_stateDir;
    ServeProcess m_server;
    QStringList m_requests;
    std::unique_ptr<OpenSandboxRunner> m_runner;
    QString m_id;   ///< a sandbox for the test, made by init()
};

OpenSandboxRunner::Options TestOpenSandboxRunner::options() const
{
    OpenSandboxRunner::Options options;
    options.server.domain = m_server.url();
    options.server.apiKey = apiKey;
    options.labels.insert(OpenSandboxRunner::RunIdLabel, runId);
    return options;
}

QStringList TestOpenSandboxRunner::serverRequests()
{
    m_server.process().waitForReadyRead(10);
    const QString text = QString::fromUtf8(m_server.process().readAllStandardError());
    m_requests += text.split(u'\n', Qt::SkipEmptyParts);
    return m_requests;
}

void TestOpenSandboxRunner::initTestCase()
{
    QVERIFY(m_stateDir.isValid());
    QVERIFY2(m_server.start(QStringLiteral(SANDFLOW_BINARY), m_stateDir.path(), apiKey, {u"--verbose"_s}),
             qPrintable(m_server.failure()));
}

void TestOpenSandboxRunner::init()
{
    TestWarnings::failOnAnyWarning();
    m_runner = std::make_unique<OpenSandboxRunner>(options());
    m_id = create(m_runner.get(), sandbox([](SandboxRequest &request) {
                      request.image = u"debian:12"_s;
                      request.env.insert(u"FROM_CREATE"_s, u"yes"_s);
                      request.metadata.insert(u"suite"_s, u"runner"_s);
                  }));
    QVERIFY(!m_id.isEmpty());
}

void TestOpenSandboxRunner::cleanup()
{
    if (!m_id.isEmpty())
        errorCodeOf(m_runner->deleteSandbox(m_id));
    m_id.clear();
    m_runner.reset();
}

void TestOpenSandboxRunner::cleanupTestCase()
{
    QVERIFY2(m_server.stop(), qPrintable(m_server.failure()));
}

void TestOpenSandboxRunner::createdSandboxesCarryTheRunnersLabels()
{
    const Sandflow::SandboxInfo info = resultOf(m_runner->getSandbox(m_id));
    QCOMPARE(info.state, SandboxState::Running);
    QCOMPARE(info.image, u"debian:12"_s);
    QCOMPARE(info.metadata.value(u"suite"_s), u"runner"_s);
    QCOMPARE(info.metadata.value(OpenSandboxRunner::RunIdLabel), runId);

    Sandflow::SandboxFilter byRun;
    byRun.metadata.insert(OpenSandboxRunner::RunIdLabel, runId);
    const Sandflow::SandboxPage page = resultOf(m_runner->listSandboxes(byRun));
    QCOMPARE(page.items.size(), 1);
    QCOMPARE(page.items.first().id, m_id);
    QCOMPARE(shellOutput(m_runner.get(), m_id, u"echo $FROM_CREATE"_s), QByteArray("yes\n"));
    // The creation's own lookup of the execd endpoint serves the commands that follow.
    QTest::qWait(100);
    QCOMPARE(serverRequests().filter(u"GET /v1/sandboxes/%1/endpoints/44772"_s.arg(m_id)).size(), 1);
}

void TestOpenSandboxRunner::lifecycle()
{
    QCOMPARE(errorCodeOf(m_runner->pauseSandbox(m_id)), QString());
    QCOMPARE(resultOf(m_runner->getSandbox(m_id)).state, SandboxState::Paused);
    QCOMPARE(errorCodeOf(m_runner->resumeSandbox(m_id)), QString());
    QCOMPARE(resultOf(m_runner->getSandbox(m_id)).state, SandboxState::Running);
    QCOMPARE(shellOutput(m_runner.get(), m_id, u"echo resumed"_s), QByteArray("resumed\n"));

    const Sandflow::SandboxInfo patched = resultOf(
        m_runner->updateMetadata(m_id, {{u"suite"_s, std::nullopt}, {u"stage"_s, std::optional<QString>(u"two"_s)}}));
    QVERIFY(!patched.metadata.contains(u"suite"_s));
    QCOMPARE(patched.metadata.value(u"stage"_s), u"two"_s);

    QCOMPARE(errorCodeOf(m_runner->deleteSandbox(m_id)), QString());
    std::unique_ptr<Sandflow::SandboxJob> gone(run(m_runner->getSandbox(m_id)));
    QVERIFY(gone->error());
    QCOMPARE(Sandflow::OpenSandboxErrorDetails::of(*gone->error()).status, 404);
    m_id.clear();
}

void TestOpenSandboxRunner::sandboxesWithoutTimeoutAreLeased()
{
    OpenSandboxRunner::Options leased = options();
    leased.lease = std::chrono::seconds(120);
    leased.renewEvery = std::chrono::milliseconds(300);
    OpenSandboxRunner runner(leased);
    const QString id = create(&runner, sandbox([](SandboxRequest &request) { request.image = u"debian:12"_s; }));
    QVERIFY(!id.isEmpty());
    const Sandflow::SandboxInfo created = resultOf(runner.getSandbox(id));
    // Not "until deleted": a lease, about 120 s from now.
    QVERIFY(created.expiresAt);
    const qint64 first = created.expiresAt->toMSecsSinceEpoch();
    QVERIFY(first > QDateTime::currentMSecsSinceEpoch() + 100'000);
    // Renewed while held: the expiry moves on. (No expiry, or none to be had, is 0.)
    const auto expiry = [&runner, &id] {
        return resultOf(runner.getSandbox(id)).expiresAt.value_or(QDateTime()).toMSecsSinceEpoch();
    };
    QTRY_VERIFY_WITH_TIMEOUT(expiry() > first + 500, 20'000);

    // An expiry set by hand stays as set.
    const QDateTime chosen = QDateTime::currentDateTimeUtc().addSecs(3600);
    QCOMPARE(resultOf(runner.renewSandbox(id, chosen)).toSecsSinceEpoch(), chosen.toSecsSinceEpoch());
    QTest::qWait(1000);
    QCOMPARE(expiry() / 1000, chosen.toSecsSinceEpoch());
    QCOMPARE(errorCodeOf(runner.deleteSandbox(id)), QString());
}

void TestOpenSandboxRunner::shortTimeoutsAreRaisedWithAWarning()
{
    QSignalSpy warnings(m_runner.get(), &Sandflow::Runner::warning);
    const QString id = create(m_runner.get(), sandbox([](SandboxRequest &request) {
                                  request.image = u"debian:12"_s;
                                  request.timeoutMs = 5'000;
                                  request.maxProcesses = 100;
                              }));
    QVERIFY(!id.isEmpty());
    const Sandflow::SandboxInfo info = resultOf(m_runner->getSandbox(id));
    QVERIFY(info.expiresAt);
    QVERIFY(info.createdAt.secsTo(*info.expiresAt) >= 59);
    QStringList messages;
    for (const QList<QVariant> &warning : warnings)
        messages.append(warning.first().toString());
    QVERIFY2(messages.filter(u"at least 60 s"_s).size() == 1, qPrintable(messages.join(u'\n')));
    QVERIFY2(messages.filter(u"process limit"_s).size() == 1, qPrintable(messages.join(u'\n')));
    QCOMPARE(errorCodeOf(m_runner->deleteSandbox(id)), QString());
}

void TestOpenSandboxRunner::commandsStreamAndFail()
{
    std::unique_ptr<CommandJob> job(m_runner->runCommand(m_id, command(u"echo out; echo err >&2; exit 3"_s)));
    QSignalSpy started(job.get(), &CommandJob::started);
    const Output output = collect(job.get());
    QCOMPARE(output.out, QByteArray("out\n"));
    QCOMPARE(output.err, QByteArray("err\n"));
    QCOMPARE(started.size(), 1);
    QVERIFY(!job->commandId().isEmpty());
    QVERIFY(job->error());
    QCOMPARE(job->error()->kind, Sandflow::JobError::Kind::Task);
    QCOMPARE(job->exitCode(), std::optional<int>(3));

    std::unique_ptr<CommandJob> inDirectory(m_runner->runCommand(m_id, command(u"pwd; echo $EXTRA"_s, [](CommandRequest &r) {
                                                                      r.cwd = u"/tmp"_s;
                                                                      r.env.insert(u"EXTRA"_s, u"given"_s);
                                                                  })));
    QCOMPARE(collect(inDirectory.get()).out, QByteArray("/tmp\ngiven\n"));
    QCOMPARE(inDirectory->exitCode(), std::optional<int>(0));
}

void TestOpenSandboxRunner::backgroundCommandsAndInterrupt()
{
    std::unique_ptr<CommandJob> background(
        m_runner->runCommand(m_id, command(u"echo first; sleep 0.3; echo second"_s, [](CommandRequest &r) {
                                 r.background = true;
                             })));
    collect(background.get());
    QVERIFY(!background->error());
    const QString commandId = background->commandId();
    QVERIFY(!commandId.isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(!resultOf(m_runner->commandStatus(m_id, commandId)).running, 20'000);
    const Sandflow::CommandStatus status = resultOf(m_runner->commandStatus(m_id, commandId));
    QCOMPARE(status.exitCode, std::optional<int>(0));
    const Sandflow::CommandLogs all = resultOf(m_runner->commandLogs(m_id, commandId, 0));
    QCOMPARE(all.data, QByteArray("first\nsecond\n"));
    const Sandflow::CommandLogs rest = resultOf(m_runner->commandLogs(m_id, commandId, 6));
    QCOMPARE(rest.data, QByteArray("second\n"));
    QCOMPARE(rest.nextCursor, all.nextCursor);

    // An interrupted foreground command ends as killed.
    OwnedJob<CommandJob> sleeper(m_runner->runCommand(m_id, command(u"echo going; sleep 300"_s)));
    sleeper->setAutoDelete(false);
    QSignalSpy output(sleeper.get(), &CommandJob::output);
    QSignalSpy finished(sleeper.get(), &AsyncJob::finished);
    sleeper->start();
    QVERIFY(output.wait(20'000));
    QCOMPARE(errorCodeOf(m_runner->interruptCommand(m_id, sleeper->commandId())), QString());
    // The command's end may come in while the interrupt's answer is awaited: a spy's wait()
    // would then wait for a second end.
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 20'000);
    QVERIFY(sleeper->error());
    QVERIFY2(sleeper->error()->context.contains(u"signal"_s), qPrintable(sleeper->error()->message));
}

void TestOpenSandboxRunner::sessions()
{
    const QString session = resultOf(m_runner->createSession(m_id, u"/tmp"_s));
    QVERIFY(!session.isEmpty());
    std::unique_ptr<CommandJob> first(m_runner->runInSession(m_id, session, command(u"mkdir -p deeper && cd deeper && export KEPT=1"_s)));
    collect(first.get());
    QVERIFY(!first->error());
    std::unique_ptr<CommandJob> second(m_runner->runInSession(m_id, session, command(u"pwd; echo kept=$KEPT"_s)));
    QCOMPARE(collect(second.get()).out, QByteArray("/tmp/deeper\nkept=1\n"));
    QCOMPARE(errorCodeOf(m_runner->deleteSession(m_id, session)), QString());
    std::unique_ptr<CommandJob> gone(m_runner->runInSession(m_id, session, command(u"true"_s)));
    collect(gone.get());
    QVERIFY(gone->error());
}

void TestOpenSandboxRunner::files()
{
    FilePermissions executable;
    executable.mode = 0750;
    const FileInfo written = resultOf(
        m_runner->uploadFile(m_id, u"/workspace/dir/tool.sh"_s, executable, bytes("#!/bin/sh\necho tool\n")));
    QCOMPARE(written.path, u"/workspace/dir/tool.sh"_s);
    QCOMPARE(written.size, 20);
    QCOMPARE(written.mode, 0750);
    QCOMPARE(shellOutput(m_runner.get(), m_id, u"/workspace/dir/tool.sh"_s), QByteArray("tool\n"));

    QCOMPARE(dataOf(m_runner->downloadFile(m_id, u"/workspace/dir/tool.sh"_s, 0, -1)),
             QByteArray("#!/bin/sh\necho tool\n"));
    QCOMPARE(dataOf(m_runner->downloadFile(m_id, u"/workspace/dir/tool.sh"_s, 10, 4)), QByteArray("echo"));
    QCOMPARE(dataOf(m_runner->downloadFile(m_id, u"/workspace/dir/tool.sh"_s, 15, -1)), QByteArray("tool\n"));
    const Read missing = readAll(m_runner->downloadFile(m_id, u"/workspace/none"_s, 0, -1));
    QVERIFY(missing.error);
    QCOMPARE(Sandflow::OpenSandboxErrorDetails::of(*missing.error).status, 404);

    const QList<FileInfo> info = resultOf(m_runner->fileInfo(m_id, {u"/workspace/dir"_s, u"/workspace/dir/tool.sh"_s}));
    QCOMPARE(info.size(), 2);
    QCOMPARE(info.at(0).type, FileInfo::Type::Directory);
    QCOMPARE(info.at(1).type, FileInfo::Type::File);

    QCOMPARE(resultOf(m_runner->replaceInFile(m_id, u"/workspace/dir/tool.sh"_s, u"tool"_s, u"TOOL"_s)), 1);
    QCOMPARE(shellOutput(m_runner.get(), m_id, u"cat /workspace/dir/tool.sh"_s), QByteArray("#!/bin/sh\necho TOOL\n"));

    FilePermissions readable;
    readable.mode = 0600;
    QCOMPARE(errorCodeOf(m_runner->setPermissions(m_id, u"/workspace/dir/tool.sh"_s, readable)), QString());
    // value(0): a failed lookup, an empty list, is a mismatch rather than an assertion.
    QCOMPARE(resultOf(m_runner->fileInfo(m_id, {u"/workspace/dir/tool.sh"_s})).value(0).mode, 0600);

    FilePermissions directoryMode;
    directoryMode.mode = 0700;
    QCOMPARE(errorCodeOf(m_runner->makeDirectory(m_id, u"/workspace/a/b/c"_s, directoryMode)), QString());
    QCOMPARE(resultOf(m_runner->fileInfo(m_id, {u"/workspace/a/b/c"_s})).value(0).mode, 0700);
    QCOMPARE(errorCodeOf(m_runner->moveFile(m_id, u"/workspace/dir/tool.sh"_s, u"/workspace/a/b/c/moved.sh"_s)),
             QString());

    const QList<FileInfo> found = resultOf(m_runner->searchFiles(m_id, u"/workspace"_s, u"*.sh"_s));
    QCOMPARE(found.size(), 1);
    QCOMPARE(found.first().path, u"/workspace/a/b/c/moved.sh"_s);
    const QList<FileInfo> listed = resultOf(m_runner->listDirectory(m_id, u"/workspace/a"_s, 2));
    QStringList paths;
    for (const FileInfo &entry : listed)
        paths.append(entry.path);
    QCOMPARE(paths, (QStringList{u"/workspace/a/b"_s, u"/workspace/a/b/c"_s}));

    QCOMPARE(errorCodeOf(m_runner->removeFile(m_id, u"/workspace/a/b/c/moved.sh"_s)), QString());
    QVERIFY(resultOf(m_runner->searchFiles(m_id, u"/workspace"_s, u"*.sh"_s)).isEmpty());
    QCOMPARE(errorCodeOf(m_runner->removeDirectory(m_id, u"/workspace/a"_s)), QString());
    QCOMPARE(shellOutput(m_runner.get(), m_id, u"ls /workspace"_s), QByteArray("dir\n"));
}

void TestOpenSandboxRunner::metrics()
{
    const Sandflow::SandboxMetrics metrics = resultOf(m_runner->metrics(m_id));
    QVERIFY(metrics.cpuCount >= 1);
    QVERIFY(metrics.memoryTotalMiB > 0);
    QVERIFY(metrics.timestamp.isValid());
}

void TestOpenSandboxRunner::theEndpointIsAskedForOnce()
{
    // A runner that has never seen the sandbox: many calls at once share one lookup.
    OpenSandboxRunner fresh(options());
    const QString lookup = u"GET /v1/sandboxes/%1/endpoints/44772"_s.arg(m_id);
    const qsizetype before = serverRequests().filter(lookup).size();
    std::vector<OwnedJob<CommandJob>> jobs;
    std::vector<std::unique_ptr<QSignalSpy>> spies;
    for (int i = 0; i < 20; ++i) {
        jobs.emplace_back(fresh.runCommand(m_id, command(u"echo %1"_s.arg(i))));
        jobs.back()->setAutoDelete(false);
        spies.emplace_back(std::make_unique<QSignalSpy>(jobs.back().get(), &AsyncJob::finished));
        jobs.back()->start();
    }
    for (const auto &spy : spies)
        QVERIFY(spy->size() == 1 || spy->wait(30'000));
    for (const auto &job : jobs)
        QVERIFY2(!job->error(), qPrintable(job->error() ? job->error()->message : QString()));
    QTRY_COMPARE_WITH_TIMEOUT(serverRequests().filter(lookup).size(), before + 1, 5'000);
    // Later calls use what it said.
    QCOMPARE(shellOutput(&fresh, m_id, u"echo again"_s), QByteArray("again\n"));
    QTest::qWait(200);
    QCOMPARE(serverRequests().filter(lookup).size(), before + 1);
}

// The egress operations go to the sandbox's port-18080 endpoint, which the server resolves to
// its egress API: read, merge, remove, and the errors a caller can act on.
void TestOpenSandboxRunner::egressPolicyThroughTheEgressApi()
{
    using Sandflow::SandboxNetworkPolicy;
    using Action = SandboxNetworkPolicy::Action;
    const QString filtered = create(m_runner.get(), sandbox([](SandboxRequest &request) {
                                        request.image = u"debian:12"_s;
                                        request.network = SandboxNetworkPolicy{Action::Deny, {}};
                                    }));
    QVERIFY(!filtered.isEmpty());
    const auto deleteFiltered = qScopeGuard([&] { errorCodeOf(m_runner->deleteSandbox(filtered)); });
    SandboxNetworkPolicy policy = resultOf(m_runner->egressPolicy(filtered));
    QCOMPARE(policy.defaultAction, Action::Deny);
    QVERIFY(policy.egress.isEmpty());

    policy = resultOf(m_runner->patchEgressRules(filtered, {{Action::Allow, u"api.example.com"_s},
                                                            {Action::Allow, u"*.pypi.org"_s}}));
    QCOMPARE(policy.egress.size(), 2);
    policy = resultOf(m_runner->patchEgressRules(filtered, {{Action::Deny, u"*.pypi.org"_s}}));
    QCOMPARE(policy.egress.size(), 2);
    QCOMPARE(policy.egress.at(0).action, Action::Deny);
    QCOMPARE(policy.egress.at(0).target, u"*.pypi.org"_s);
    QCOMPARE(policy.egress.at(1).target, u"api.example.com"_s);
    QCOMPARE(resultOf(m_runner->egressPolicy(filtered)).egress.size(), 2);

    policy = resultOf(m_runner->deleteEgressRules(filtered, {u"API.example.com"_s, u"absent.org"_s}));
    QCOMPARE(policy.egress.size(), 1);
    QCOMPARE(policy.egress.first().target, u"*.pypi.org"_s);

    // A rule the API refuses changes nothing.
    std::optional<Sandflow::JobError> error = errorOf(m_runner->patchEgressRules(filtered, {{Action::Allow, u"not a host"_s}}));
    QVERIFY(error);
    QCOMPARE(error->code, u"EGRESS_RULE_INVALID"_s);
    QCOMPARE(error->kind, Sandflow::JobError::Kind::Invalid);
    QVERIFY2(error->message.contains(u"not a host"_s), qPrintable(error->message));
    QCOMPARE(resultOf(m_runner->egressPolicy(filtered)).egress.size(), 1);

    // Without a policy at create there is no egress API for the sandbox.
    error = errorOf(m_runner->egressPolicy(m_id));
    QVERIFY(error);
    QCOMPARE(error->code, u"EGRESS_POLICY_NOT_FOUND"_s);
    QCOMPARE(Sandflow::OpenSandboxErrorDetails::of(*error).status, 404);
    // A sandbox the server does not know is that, not a missing policy.
    error = errorOf(m_runner->deleteEgressRules(u"no-such-sandbox"_s, {u"a.org"_s}));
    QVERIFY(error);
    QCOMPARE(Sandflow::OpenSandboxErrorDetails::of(*error).status, 404);
    QVERIFY2(error->code != u"EGRESS_POLICY_NOT_FOUND"_s, qPrintable(error->code));
}

void TestOpenSandboxRunner::relayToAServiceInTheSandbox()
{
    std::unique_ptr<CommandJob> service(m_runner->runCommand(
        m_id, command(u"mkdir -p /workspace/site && echo served > /workspace/site/hello.txt && "
                      u"exec python3 -m http.server 8081 --bind 127.0.0.1 --directory /workspace/site"_s,
                      [](CommandRequest &r) { r.background = true; })));
    collect(service.get());
    QVERIFY(!service->error());
    const QByteArray request = "GET /hello.txt HTTP/1.1\r\nHost: anything\r\nConnection: keep-alive\r\n\r\n";
    Read answer;
    QTRY_VERIFY_WITH_TIMEOUT((answer = readAll(m_runner->relayToPort(m_id, 8081, bytes(request)))).data.startsWith(
                                 "HTTP/1.0 200"),
                             20'000);
    QVERIFY2(!answer.error, qPrintable(answer.error ? answer.error->message : QString()));
    QVERIFY2(answer.data.endsWith("\r\n\r\nserved\n"), answer.data.constData());

    // Nothing listens there: the server's relay says so as an answer.
    const Read closed = readAll(m_runner->relayToPort(m_id, 8082, bytes(request)));
    QVERIFY2(closed.data.startsWith("HTTP/1.1 502"), closed.data.constData());

    const Read notHttp = readAll(m_runner->relayToPort(m_id, 8081, bytes("hello\r\n\r\n")));
    QVERIFY(notHttp.error);
    QCOMPARE(notHttp.error->kind, Sandflow::JobError::Kind::Invalid);

    // However many relays went to the port, its endpoint was asked for once.
    QCOMPARE(serverRequests().filter(u"GET /v1/sandboxes/%1/endpoints/8081"_s.arg(m_id)).size(), 1);
}

void TestOpenSandboxRunner::unknownSandboxes()
{
    std::unique_ptr<CommandJob> job(m_runner->runCommand(u"no-such-sandbox"_s, command(u"true"_s)));
    collect(job.get());
    QVERIFY(job->error());
    const auto details = Sandflow::OpenSandboxErrorDetails::of(*job->error());
    QCOMPARE(details.status, 404);
    QVERIFY(!details.requestId.isEmpty());
    QVERIFY2(job->error()->message.contains(details.requestId), qPrintable(job->error()->message));
}

// Until the runner speaks execd's /pty, asking for a terminal fails through the job contract,
// saying which runner cannot.
void TestOpenSandboxRunner::terminalsAreNotOfferedYet()
{
    QVERIFY(!m_runner->capabilities().testFlag(Sandflow::Runner::Capability::Terminals));
    Sandflow::TerminalRequest request;
    request.argv = {u"sh"_s};
    const std::optional<Sandflow::JobError> error = errorOf(m_runner->openTerminal(m_id, request));
    QVERIFY(error);
    QCOMPARE(error->kind, Sandflow::JobError::Kind::Invalid);
    QCOMPARE(error->code, u"TERMINALS_NOT_SUPPORTED"_s);
    QCOMPARE(error->message, u"OpenSandboxRunner cannot open terminals in sandboxes"_s);
    QCOMPARE(error->context.value(u"runner"_s).toString(), u"OpenSandboxRunner"_s);
}

void TestOpenSandboxRunner::deletionsSettle()
{
    QSignalSpy settled(m_runner.get(), &OpenSandboxRunner::deletionsSettled);
    AsyncJob *deletion = m_runner->deleteSandbox(m_id);
    QVERIFY(m_runner->isDeleting());
    deletion->start();
    QVERIFY(settled.wait(20'000));
    QVERIFY(!m_runner->isDeleting());
    m_id.clear();
}

QTEST_GUILESS_MAIN(TestOpenSandboxRunner)
#include "tst_opensandboxrunner.moc"
