// Every operation of the Runner interface in every state a sandbox can be in, reached by real
// means, against the local runner in this process and through a real `sandflow serve` (with
// the OpenSandbox runner as its client). The table below says what each cell answers: a
// result, or the protocol's error as each runner names it. Every cell is bounded in time (a
// hang fails it), and every row ends with a cell that checks that no process, cgroup, mount
// or record of the row's sandboxes is left.
#include "localrunnertesting.h"
#include "opensandboxrunner.h"
#include "serveprocess.h"

#include "sandboxrecords_p.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <csignal>

using namespace Sandflow;
using Sandflow::Internal::SandboxRecords;
using namespace RunnerTesting;
using namespace Qt::StringLiterals;

namespace {

const QString ApiKey = u"state-table-key"_s;

/// The rows: how a sandbox got where the operations find it.
enum class State {
    Creating,           ///< its creation was started and has not finished
    Running,
    Paused,
    Expiring,           ///< its expiry fires a few seconds after each operation
    Expired,
    Deleting,           ///< a deletion was started just before the operation and is under way
    Deleted,
    AgentKilled,        ///< its agent got SIGKILL from outside, and the runner has noticed
    EntrypointExited,   ///< it lived as long as its entrypoint, which has ended
};

/// The columns, in the order each row runs them.
enum class Operation {
    CommandUnderWay,    ///< how a command started while the sandbox ran fares in the row's state
    Get, List, Metadata, Renew, Metrics,
    RunCommand, RunInBackground, CommandStatus, CommandLogs, InterruptCommand,
    CreateSession, RunInSession, DeleteSession, Terminal, Relay,
    Upload, Download, FileInfo, ListDirectory, Search, Replace, Chmod, Move, RemoveFile, MakeDirectory,
    RemoveDirectory,
    Pause, Resume, Delete,
    NothingLeft,        ///< not an operation: ends the row's sandboxes and looks for leftovers
};

/// Operations that change the sandbox's state or its expiry: each such cell gets a sandbox of
/// its own, so that the row's other cells find the state the row says.
bool changesState(Operation operation)
{
    return operation == Operation::Renew || operation == Operation::Pause || operation == Operation::Resume
        || operation == Operation::Delete;
}

/// What a cell answers, as each runner says it: an error code, or for a success "ok", the
/// state get reports, or whether list shows the sandbox.
struct Answer
{
    QString local;
    QString serve;
};

const Answer Ok{u"ok"_s, u"ok"_s};
const Answer Listed{u"listed"_s, u"listed"_s};
const Answer Unlisted{u"unlisted"_s, u"unlisted"_s};
const Answer RunningState{u"Running"_s, u"Running"_s};
const Answer PausedState{u"Paused"_s, u"Paused"_s};
const Answer PendingState{u"Pending"_s, u"Pending"_s};
/// A command under way that has not ended.
const Answer StillRunning{u"running"_s, u"running"_s};
/// A command under way whose sandbox ended under it: through serve its stream is cut, as
/// upstream's execd ends with its container.
const Answer Lost{u"SANDBOX_LOST"_s, u"CONNECTION_FAILED"_s};
const Answer Gone{u"SANDBOX_NOT_FOUND"_s, u"DOCKER::SANDBOX_NOT_FOUND"_s};
/// An execd operation on a sandbox whose processes are frozen.
const Answer NotRunning{u"SANDBOX_NOT_RUNNING"_s, u"DOCKER::SANDBOX_NOT_RUNNING"_s};
const Answer PauseRefused{u"INVALID_STATE"_s, u"DOCKER::SANDBOX_NOT_RUNNING"_s};
const Answer ResumeRefused{u"INVALID_STATE"_s, u"DOCKER::SANDBOX_NOT_PAUSED"_s};
const Answer NothingListens{u"PORT_UNREACHABLE"_s, u"PORT_UNREACHABLE"_s};
/// The OpenSandbox runner has no terminals (Capability::Terminals), in any state.
const QString NoTerminals = u"TERMINALS_NOT_SUPPORTED"_s;
/// The most sandboxes a page holds, for servers too.
constexpr int LargestPage = 200;
/// Through a server, a relay goes to the server's proxy route, which answers in the service's
/// place (502 where nothing listens, 409 for a paused sandbox): the OpenSandbox runner hands
/// that answer on as the service's.
const QString ProxyAnswered = u"ok"_s;

struct Row
{
    State state;
    const char *name;
    Answer usual;                           ///< what an operation answers unless listed below
    QList<QPair<Operation, Answer>> others;
};

const QList<Row> &table()
{
    // A sandbox that is gone answers so to everything; list leaves it out.
    const QList<QPair<Operation, Answer>> asGone = {{Operation::CommandUnderWay, Lost}, {Operation::List, Unlisted}};
    static const QList<Row> rows = {
        {State::Creating, "being created", NotRunning,
         {{Operation::Get, PendingState}, {Operation::List, Listed}, {Operation::Metadata, Ok},
          {Operation::Renew, Ok}, {Operation::Metrics, Ok}, {Operation::Pause, PauseRefused},
          {Operation::Resume, ResumeRefused}, {Operation::Delete, Ok}}},
        {State::Running, "running", Ok,
         {{Operation::CommandUnderWay, StillRunning}, {Operation::Get, RunningState}, {Operation::List, Listed},
          {Operation::Relay, NothingListens}, {Operation::Resume, ResumeRefused}}},
        {State::Paused, "paused", NotRunning,
         {{Operation::CommandUnderWay, StillRunning}, {Operation::Get, PausedState}, {Operation::List, Listed},
          {Operation::Metadata, Ok}, {Operation::Renew, Ok}, {Operation::Metrics, Ok},
          {Operation::Pause, PauseRefused}, {Operation::Resume, Ok}, {Operation::Delete, Ok}}},
        {State::Expiring, "expiring", Ok,
         {{Operation::CommandUnderWay, StillRunning}, {Operation::Get, RunningState}, {Operation::List, Listed},
          {Operation::Relay, NothingListens}, {Operation::Resume, ResumeRefused}}},
        {State::Expired, "expired", Gone, asGone},
        {State::Deleting, "being deleted", Gone, asGone},
        {State::Deleted, "deleted", Gone, asGone},
        {State::AgentKilled, "agent killed", Gone, asGone},
        {State::EntrypointExited, "entrypoint exited", Gone, asGone},
    };
    return rows;
}

const char *operationName(Operation operation)
{
    static const char *const names[] = {
        "command under way", "get", "list", "metadata", "renew", "metrics",
        "run command", "run in background", "command status", "command logs", "interrupt command",
        "create session", "run in session", "delete session", "terminal", "relay",
        "upload", "download", "file info", "list directory", "search", "replace", "chmod", "move", "remove file",
        "make directory", "remove directory",
        "pause", "resume", "delete",
        "nothing left",
    };
    return names[int(operation)];
}

/// How long an expiring sandbox has left when an operation starts: enough for any operation
/// on a loaded machine, short enough that the row sees it fire.
constexpr int ExpiringSoonMs = 4000;
constexpr qint64 LongLifeMs = 600'000;

/// A sandbox of a row, and what a check for leftovers needs to know of it.
struct Fixture
{
    QString id;
    QString commandId;      ///< a background command (sleep) started while it ran
    QString sessionId;
    /// A foreground command (sleep) started while it ran, before it was brought to its state.
    std::shared_ptr<CommandJob> underWay;
    qint64 bubblewrap = 0;  ///< bubblewrap's outer process on the host
    qint64 agent = 0;       ///< the agent, bubblewrap's one child
    qint64 bubblewrapStart = 0;   ///< start times: a pid that has them is still that process
    qint64 agentStart = 0;
};

} // namespace

Q_DECLARE_METATYPE(State)
Q_DECLARE_METATYPE(Answer)
Q_DECLARE_METATYPE(Operation)

class TestSandboxStates : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase_data();
    void initTestCase();
    void init();
    void cleanupTestCase();

    void cell_data();
    void cell();

private:
    bool serve();
    Runner *runner();
    QString stateDirectory();
    /// What `answer` says for the runner of the current data row.
    QString expected(const Answer &answer);

    /// A new sandbox in `state`, made from a running one with files, a background command and
    /// a session for the operations to work on.
    Fixture make(State state);
    static SandboxRequest requestFor(State state);
    /// Fills in the sandbox's processes, from its record.
    void findProcesses(Fixture &fixture);
    /// A cell of the "being created" row: the operation goes to a sandbox whose creation is
    /// under way, found through list.
    void creatingCell(Operation operation, const Answer &answer);
    /// Puts a running sandbox into `state` by real means.
    void bring(Fixture &fixture, State state);
    /// Ends a sandbox made for a row: deletes it, or waits for its expiry.
    void end(const Fixture &fixture, State state);
    void waitUntilGone(const QString &id);
    /// Runs `operation` on `fixture`'s sandbox and says what it answered.
    QString perform(Operation operation, const Fixture &fixture, State state);
    void checkNothingLeft();

    QTemporaryDir m_localState;
    QTemporaryDir m_serveState;
    ServeProcess m_server;
    std::unique_ptr<LocalRunner> m_local;
    std::unique_ptr<OpenSandboxRunner> m_remote;

    /// The row's shared sandbox, for operations that leave its state as it is.
    std::optional<Fixture> m_shared;
    State m_sharedState = State::Running;
    /// Every sandbox the current row made, checked for leftovers at its end.
    QList<Fixture> m_made;
};

void TestSandboxStates::initTestCase_data()
{
    QTest::addColumn<bool>("serve");
    QTest::newRow("local runner") << false;
    QTest::newRow("sandflow serve") << true;
}

bool TestSandboxStates::serve()
{
    QFETCH_GLOBAL(bool, serve);
    return serve;
}

Runner *TestSandboxStates::runner()
{
    return serve() ? static_cast<Runner *>(m_remote.get()) : m_local.get();
}

QString TestSandboxStates::stateDirectory()
{
    return serve() ? m_serveState.path() : m_localState.path();
}

QString TestSandboxStates::expected(const Answer &answer)
{
    return serve() ? answer.serve : answer.local;
}

void TestSandboxStates::initTestCase()
{
    QVERIFY(m_localState.isValid());
    QVERIFY(m_serveState.isValid());
    QVERIFY2(m_server.start(QStringLiteral(SANDFLOW_BINARY), m_serveState.path(), ApiKey),
             qPrintable(m_server.failure()));
    LocalRunner::Options local = runnerOptions();
    local.stateDirectory = m_localState.path();
    m_local = std::make_unique<LocalRunner>(local);
    OpenSandboxRunner::Options options;
    options.server.domain = m_server.url();
    options.server.apiKey = ApiKey;
    m_remote = std::make_unique<OpenSandboxRunner>(options);
}

void TestSandboxStates::init()
{
    TestWarnings::failOnAnyWarning();
}

void TestSandboxStates::cleanupTestCase()
{
    m_remote.reset();
    m_local.reset();
    QVERIFY2(m_server.stop(), qPrintable(m_server.failure()));
}

// Rows of the table in order, each ended by its "nothing left" cell.
void TestSandboxStates::cell_data()
{
    QTest::addColumn<State>("state");
    QTest::addColumn<Operation>("operation");
    QTest::addColumn<Answer>("answer");
    for (const Row &row : table()) {
        for (int column = 0; column <= int(Operation::NothingLeft); ++column) {
            const auto operation = Operation(column);
            Answer answer = row.usual;
            for (const auto &[other, its] : row.others) {
                if (other == operation)
                    answer = its;
            }
            if (operation == Operation::Terminal)
                answer.serve = NoTerminals;
            if (operation == Operation::Relay && answer.serve != Gone.serve)
                answer.serve = ProxyAnswered;
            QTest::addRow("%s: %s", row.name, operationName(operation)) << row.state << operation << answer;
        }
    }
}

void TestSandboxStates::cell()
{
    QFETCH(State, state);
    QFETCH(Operation, operation);
    QFETCH(Answer, answer);

    if (operation == Operation::NothingLeft) {
        if (m_shared)
            end(*m_shared, state);
        m_shared.reset();
        checkNothingLeft();
        m_made.clear();
        return;
    }
    if (state == State::Creating) {
        if (serve())
            QSKIP("serve answers a create once the sandbox runs: a client does not hold the id of one being created");
        return creatingCell(operation, answer);
    }
    // A deletion is under way only for a moment: each cell starts its own.
    const bool own = state == State::Deleting
        || (changesState(operation) && (state == State::Running || state == State::Paused || state == State::Expiring));
    if (!own && (!m_shared || m_sharedState != state)) {
        m_shared = make(state);
        m_sharedState = state;
    }
    const Fixture fixture = own ? make(state) : *m_shared;
    QVERIFY(!QTest::currentTestFailed());

    OwnedJob<AsyncJob> deletion;
    if (state == State::Deleting) {
        deletion.reset(runner()->deleteSandbox(fixture.id));
        deletion->setAutoDelete(false);
        deletion->start();
        // Two requests may reach a server in either order, each on a connection of its own:
        // the operation goes once the server has begun the deletion.
        if (serve())
            waitUntilGone(fixture.id);
    }
    if (state == State::Expiring && !own)
        QCOMPARE(errorCodeOf(runner()->renewSandbox(fixture.id, QDateTime::currentDateTimeUtc().addMSecs(ExpiringSoonMs))),
                 QString());
    QCOMPARE(perform(operation, fixture, state), expected(answer));
    if (deletion) {
        QVERIFY2(Detail::waitForFinished(deletion.get(), DefaultTimeoutMs), "the deletion did not finish");
        QCOMPARE(deletion->error() ? deletion->error()->code : QString(), QString());
    }
    if (own)
        end(fixture, state);
}

void TestSandboxStates::creatingCell(Operation operation, const Answer &answer)
{
    OwnedJob<SandboxJob> creation(runner()->createSandbox(requestFor(State::Creating)));
    creation->setAutoDelete(false);
    creation->start();
    SandboxFilter pending;
    pending.states = {sandboxStateName(SandboxState::Pending)};
    const QList<SandboxInfo> found = resultOf(runner()->listSandboxes(pending)).items;
    QCOMPARE(found.size(), 1);
    Fixture fixture;
    fixture.id = found.first().id;
    // It has neither yet: the operations on them are refused for the sandbox.
    fixture.commandId = fixture.sessionId = u"none"_s;
    QCOMPARE(perform(operation, fixture, State::Creating), expected(answer));
    QVERIFY2(Detail::waitForFinished(creation.get(), DefaultTimeoutMs), "the creation did not finish");
    // Deleted before it was ready, it is not handed out as created.
    if (operation == Operation::Delete)
        QCOMPARE(creation->error() ? creation->error()->code : QString(), u"SANDBOX_CREATE_FAILED"_s);
    // A deletion ends the creation (SANDBOX_CREATE_FAILED) before its processes are known:
    // the row's last cell then finds no cgroup of it, which no process can outlive.
    if (!creation->error())
        findProcesses(fixture);
    m_made.append(fixture);
    end(fixture, State::Creating);
}

SandboxRequest TestSandboxStates::requestFor(State state)
{
    SandboxRequest request;
    // serve, as OpenSandbox servers do, wants an image; the local runner takes it as a label.
    request.image = u"debian:12"_s;
    request.timeoutMs = LongLifeMs;
    if (state == State::EntrypointExited)
        request.entrypoint = {u"sh"_s, u"-c"_s, u"while [ ! -e /tmp/exit ]; do sleep 0.05; done"_s};
    return request;
}

void TestSandboxStates::findProcesses(Fixture &fixture)
{
    for (const LocalRunner::RecordedSandbox &recorded : LocalRunner::recordedSandboxes(stateDirectory())) {
        if (recorded.id == fixture.id)
            fixture.bubblewrap = recorded.pid;
    }
    QFile children(u"/proc/%1/task/%1/children"_s.arg(fixture.bubblewrap));
    if (children.open(QIODevice::ReadOnly))
        fixture.agent = children.readAll().trimmed().toLongLong();
    fixture.bubblewrapStart = SandboxRecords::processStartTicks(fixture.bubblewrap);
    fixture.agentStart = SandboxRecords::processStartTicks(fixture.agent);
    if (fixture.bubblewrap <= 0 || fixture.agent <= 0)
        QTest::qFail("the sandbox's processes are not found", __FILE__, __LINE__);
}

Fixture TestSandboxStates::make(State state)
{
    Fixture fixture;
    fixture.id = create(runner(), requestFor(state));
    if (fixture.id.isEmpty())
        return fixture;
    findProcesses(fixture);
    m_made.append(fixture);
    shellOutput(runner(), fixture.id,
                u"mkdir -p /workspace/t/d && echo hello > /workspace/t/a && : > /workspace/t/m && : > /workspace/t/r"_s);
    std::unique_ptr<CommandJob> background(run(runner()->runCommand(fixture.id, command(u"sleep 1000"_s, [](CommandRequest &request) {
        request.background = true;
    }))));
    fixture.commandId = background->commandId();
    fixture.sessionId = resultOf(runner()->createSession(fixture.id, {}));
    fixture.underWay.reset(runner()->runCommand(fixture.id, command(u"sleep 1000"_s)), Detail::FinishThenDelete());
    fixture.underWay->setAutoDelete(false);
    QSignalSpy started(fixture.underWay.get(), &CommandJob::started);
    fixture.underWay->start();
    if (!started.wait(DefaultTimeoutMs))
        QTest::qFail("the command did not start", __FILE__, __LINE__);
    bring(fixture, state);
    return fixture;
}

void TestSandboxStates::bring(Fixture &fixture, State state)
{
    switch (state) {
    case State::Creating:   // creatingCell makes its own
    case State::Running:
    case State::Expiring:   // each cell renews it to expire soon
    case State::Deleting:   // each cell starts the deletion
        return;
    case State::Paused:
        QCOMPARE(errorCodeOf(runner()->pauseSandbox(fixture.id)), QString());
        return;
    case State::Expired:
        QCOMPARE(errorCodeOf(runner()->renewSandbox(fixture.id, QDateTime::currentDateTimeUtc().addMSecs(500))), QString());
        waitUntilGone(fixture.id);
        return;
    case State::Deleted:
        QCOMPARE(errorCodeOf(runner()->deleteSandbox(fixture.id)), QString());
        return;
    case State::AgentKilled:
        QCOMPARE(::kill(pid_t(fixture.agent), SIGKILL), 0);
        waitUntilGone(fixture.id);
        return;
    case State::EntrypointExited:
        // In the background: a command that ends the entrypoint could not report its own end.
        QCOMPARE(errorCodeOf(runner()->runCommand(fixture.id, command(u"sleep 0.2; touch /tmp/exit"_s, [](CommandRequest &request) {
                     request.background = true;
                 }))),
                 QString());
        waitUntilGone(fixture.id);
        return;
    }
}

void TestSandboxStates::end(const Fixture &fixture, State state)
{
    if (state == State::Expiring) {
        // Left to its expiry, whatever the cell did to it (a paused one expires too); a cell
        // that renewed it gets a short expiry again.
        errorOf(runner()->renewSandbox(fixture.id, QDateTime::currentDateTimeUtc().addMSecs(500)));
    } else {
        const QString code = errorCodeOf(runner()->deleteSandbox(fixture.id));
        QVERIFY2(code.isEmpty() || code == expected(Gone), qPrintable(code));
    }
    waitUntilGone(fixture.id);
}

void TestSandboxStates::waitUntilGone(const QString &id)
{
    QTRY_COMPARE_WITH_TIMEOUT(errorCodeOf(runner()->getSandbox(id)), expected(Gone), DefaultTimeoutMs);
}

QString TestSandboxStates::perform(Operation operation, const Fixture &fixture, State state)
{
    Runner *const on = runner();
    const QString &id = fixture.id;
    const auto answerOf = [](AsyncJob *job, const std::function<QString()> &success = {}) {
        std::unique_ptr<AsyncJob> owned(run(job));
        if (owned->error())
            return owned->error()->code;
        return success ? success() : u"ok"_s;
    };
    switch (operation) {
    case Operation::CommandUnderWay: {
        // A sandbox being created has none: one started now answers as any new command.
        if (!fixture.underWay)
            return answerOf(on->runCommand(id, command(u"sleep 1000"_s)));
        CommandJob *job = fixture.underWay.get();
        // Still running where it can, else ended with an answer within the bound.
        if (!job->isFinished() && state != State::Running && state != State::Paused && state != State::Expiring)
            Detail::waitForFinished(job, DefaultTimeoutMs);
        if (!job->isFinished())
            return u"running"_s;
        return job->error() ? job->error()->code : u"ok"_s;
    }
    case Operation::Get: {
        SandboxJob *job = on->getSandbox(id);
        return answerOf(job, [job] { return sandboxStateName(job->result().state); });
    }
    case Operation::List: {
        SandboxFilter everything;
        everything.pageSize = LargestPage;
        ResultJob<SandboxPage> *job = on->listSandboxes(everything);
        return answerOf(job, [job, id] {
            const QList<SandboxInfo> &items = job->result().items;
            const bool listed = std::any_of(items.cbegin(), items.cend(), [&id](const SandboxInfo &info) {
                return info.id == id;
            });
            return listed ? u"listed"_s : u"unlisted"_s;
        });
    }
    case Operation::Metadata:
        return answerOf(on->updateMetadata(id, {{u"cell"_s, u"seen"_s}}));
    case Operation::Renew:
        return answerOf(on->renewSandbox(id, QDateTime::currentDateTimeUtc().addMSecs(LongLifeMs)));
    case Operation::Metrics:
        return answerOf(on->metrics(id));
    case Operation::RunCommand:
        return answerOf(on->runCommand(id, command(u"echo cell"_s)));
    case Operation::RunInBackground:
        return answerOf(on->runCommand(id, command(u"true"_s, [](CommandRequest &request) { request.background = true; })));
    case Operation::CommandStatus:
        return answerOf(on->commandStatus(id, fixture.commandId));
    case Operation::CommandLogs:
        return answerOf(on->commandLogs(id, fixture.commandId, 0));
    case Operation::InterruptCommand:
        return answerOf(on->interruptCommand(id, fixture.commandId));
    case Operation::CreateSession:
        return answerOf(on->createSession(id, {}));
    case Operation::RunInSession:
        return answerOf(on->runInSession(id, fixture.sessionId, command(u"echo cell"_s)));
    case Operation::DeleteSession:
        return answerOf(on->deleteSession(id, fixture.sessionId));
    case Operation::Terminal: {
        TerminalRequest request;
        request.argv = {u"true"_s};
        request.pty = false;
        return answerOf(on->openTerminal(id, request));
    }
    case Operation::Relay: {
        // Nothing listens there: a running sandbox says so.
        std::unique_ptr<FileReadJob> job(run(on->relayToPort(id, 9, bytes("GET / HTTP/1.0\r\n\r\n"))));
        return job->error() ? job->error()->code : u"ok"_s;
    }
    case Operation::Upload:
        return answerOf(on->uploadFile(id, u"/workspace/t/up"_s, {}, bytes("cell")));
    case Operation::Download:
        return answerOf(on->downloadFile(id, u"/workspace/t/a"_s, 0, -1));
    case Operation::FileInfo:
        return answerOf(on->fileInfo(id, {u"/workspace/t/a"_s}));
    case Operation::ListDirectory:
        return answerOf(on->listDirectory(id, u"/workspace/t"_s, 1));
    case Operation::Search:
        return answerOf(on->searchFiles(id, u"/workspace/t"_s, u"*"_s));
    case Operation::Replace:
        return answerOf(on->replaceInFile(id, u"/workspace/t/a"_s, u"hello"_s, u"bye"_s));
    case Operation::Chmod: {
        FilePermissions permissions;
        permissions.mode = 0600;
        return answerOf(on->setPermissions(id, u"/workspace/t/a"_s, permissions));
    }
    case Operation::Move:
        return answerOf(on->moveFile(id, u"/workspace/t/m"_s, u"/workspace/t/moved"_s));
    case Operation::RemoveFile:
        return answerOf(on->removeFile(id, u"/workspace/t/r"_s));
    case Operation::MakeDirectory:
        return answerOf(on->makeDirectory(id, u"/workspace/t/new"_s, {}));
    case Operation::RemoveDirectory:
        return answerOf(on->removeDirectory(id, u"/workspace/t/d"_s));
    case Operation::Pause:
        return answerOf(on->pauseSandbox(id));
    case Operation::Resume:
        return answerOf(on->resumeSandbox(id));
    case Operation::Delete:
        return answerOf(on->deleteSandbox(id));
    case Operation::NothingLeft:
        break;
    }
    return u"no such operation"_s;
}

// Of every sandbox the row made: its processes, cgroups, record and mounts, and the runner's
// entry (list shows none).
void TestSandboxStates::checkNothingLeft()
{
    static const QStringList controllers = {u"memory"_s, u"pids"_s, u"freezer"_s, u"cpuacct"_s, u"cpu"_s};
    const qint64 host = serve() ? m_server.process().processId() : QCoreApplication::applicationPid();
    for (const Fixture &fixture : std::as_const(m_made)) {
        const QByteArray id = fixture.id.toLatin1();
        if (fixture.bubblewrap > 0) {
            QTRY_VERIFY2_WITH_TIMEOUT(SandboxRecords::processStartTicks(fixture.bubblewrap) != fixture.bubblewrapStart
                                          && SandboxRecords::processStartTicks(fixture.agent) != fixture.agentStart,
                                      id.constData(), DefaultTimeoutMs);
        }
        for (const QString &controller : controllers)
            QVERIFY2(!QDir(u"/sys/fs/cgroup/%1/sandflow/%2"_s.arg(controller, fixture.id)).exists(), id.constData());
        QVERIFY2(!QFile::exists(stateDirectory() + u"/sandboxes/%1.json"_s.arg(fixture.id)), id.constData());
        QFile mounts(u"/proc/%1/mountinfo"_s.arg(host));
        QVERIFY(mounts.open(QIODevice::ReadOnly));
        QVERIFY2(!mounts.readAll().contains(id.left(12)), id.constData());
    }
    QVERIFY(LocalRunner::recordedSandboxes(stateDirectory()).isEmpty());
    SandboxFilter everything;
    everything.pageSize = LargestPage;
    QCOMPARE(resultOf(runner()->listSandboxes(everything)).totalItems, 0);
}

QTEST_GUILESS_MAIN(TestSandboxStates)
#include "tst_sandboxstates.moc"
