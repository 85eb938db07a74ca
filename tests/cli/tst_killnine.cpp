// `kill -9` of `sandflow run` and of `sandflow serve`, 20 times each, at moments drawn from
// the whole of their lives: while sandboxes are made, while commands run, while files go in
// and out, while sandboxes are deleted, while `run --keep` holds them, and, for serve, while
// clients create, use and delete sandboxes through it. The sandboxes mount a host and a pvc
// volume, so each has a mount namespace of its own. Afterwards `sandflow gc` (after a run)
// or the next server on the same state directory (after serve) must leave nothing: no
// process, no cgroup, no sandbox or endpoint record, no mount.
//
// The moments come from a seed, printed first; SANDFLOW_KILLNINE_SEED=N draws them again.
//
// What a killed program started is found by descent: this test is a child subreaper, so
// whatever the program started and left behind is handed to the test, and stays its
// descendant however it was started (bubblewrap leaves its runner's session, for one).
#include "runtesting.h"

#include <QJsonArray>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QSet>
#include <QTemporaryDir>
#include <QTimer>

#include <functional>
#include <memory>
#include <utility>

#include <sys/prctl.h>
#include <sys/wait.h>

using namespace Qt::StringLiterals;
using namespace RunTesting;

namespace {

constexpr int Kills = 20;
/// How long what a killed program left may take to go on its own (bubblewrap dies with its
/// parent, the kernel tears a sandbox down): reached only when something stays for good.
constexpr int SettleMs = 20'000;
const QString ApiKey = u"tst-killnine-key"_s;

struct ProcessEntry
{
    qint64 pid = 0;
    qint64 parent = 0;
    char state = '?';
    QString name;
};

QList<ProcessEntry> processTable()
{
    QList<ProcessEntry> table;
    for (const QString &entry : QDir(u"/proc"_s).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        bool numeric = false;
        const qint64 pid = entry.toLongLong(&numeric);
        QFile stat(u"/proc/%1/stat"_s.arg(entry));
        if (!numeric || !stat.open(QIODevice::ReadOnly))
            continue;
        // "pid (comm) state ppid ...", and comm may hold spaces and parentheses.
        const QByteArray line = stat.readAll();
        const qsizetype open = line.indexOf('('), close = line.lastIndexOf(')');
        const QList<QByteArray> fields = line.mid(close + 2).split(' ');
        if (open < 0 || close < open || fields.size() < 2)
            continue;
        table.append({pid, fields.at(1).toLongLong(), fields.at(0).at(0), QString::fromUtf8(line.mid(open + 1, close - open - 1))});
    }
    return table;
}

/// Every process that descends from this test.
QList<ProcessEntry> descendants()
{
    const QList<ProcessEntry> table = processTable();
    QHash<qint64, qint64> parents;
    for (const ProcessEntry &process : table)
        parents.insert(process.pid, process.parent);
    const qint64 self = ::getpid();
    QList<ProcessEntry> found;
    for (const ProcessEntry &process : table) {
        qint64 ancestor = process.parent;
        // Bounded: a table read while processes come and go may hold a loop.
        for (int depth = 0; depth < 64 && ancestor > 1 && ancestor != self; ++depth)
            ancestor = parents.value(ancestor, 0);
        if (ancestor == self && process.pid != self)
            found.append(process);
    }
    return found;
}

/// Reaps the processes handed to this test that have ended. Called only while none of the
/// test's own QProcesses runs: every zombie child then is one handed over.
void reapAdopted()
{
    for (const ProcessEntry &process : processTable()) {
        if (process.parent == ::getpid() && process.state == 'Z')
            ::waitpid(pid_t(process.pid), nullptr, WNOHANG);
    }
}

const QStringList &cgroupControllers()
{
    static const QStringList controllers{u"memory"_s, u"pids"_s, u"freezer"_s, u"cpuacct"_s, u"cpu"_s};
    return controllers;
}

/// The names of the sandboxes' cgroups, over every controller.
QSet<QString> sandboxGroups()
{
    QSet<QString> names;
    for (const QString &controller : cgroupControllers()) {
        const QDir groups(u"/sys/fs/cgroup/%1/sandflow"_s.arg(controller));
        for (const QString &name : groups.entryList(QDir::Dirs | QDir::NoDotAndDotDot))
            names.insert(name);
    }
    return names;
}

bool groupIsEmpty(const QString &name)
{
    for (const QString &controller : cgroupControllers()) {
        QFile procs(u"/sys/fs/cgroup/%1/sandflow/%2/cgroup.procs"_s.arg(controller, name));
        if (procs.open(QIODevice::ReadOnly) && !procs.readAll().trimmed().isEmpty())
            return false;
    }
    return true;
}

QStringList filesIn(const QString &directory)
{
    return QDir(directory).entryList(QDir::Files | QDir::Hidden | QDir::System);
}

/// What the test learns of the sandboxes of one program while it runs: the ids its state
/// directory records, and the cgroups there were before it started. Then, once it is killed
/// and cleaned up after, whatever of it is left.
class SandboxWatch
{
public:
    SandboxWatch(QString stateDirectory, QString testDirectory)
        : m_stateDirectory(std::move(stateDirectory))
        , m_testDirectory(std::move(testDirectory))
        , m_groupsBefore(sandboxGroups())
    {
        // Often: a sandbox may be recorded and gone between two looks.
        m_timer.setInterval(5);
        QObject::connect(&m_timer, &QTimer::timeout, &m_timer, [this] { noteRecords(); });
        m_timer.start();
    }

    void noteRecords()
    {
        for (const QString &name : QDir(m_stateDirectory + u"/sandboxes"_s).entryList({u"*.json"_s}, QDir::Files))
            m_ids.insert(name.chopped(5));
    }
    void noteId(const QString &id)
    {
        if (!id.isEmpty())
            m_ids.insert(id);
    }
    qsizetype sandboxesSeen() const { return m_ids.size(); }

    QStringList leftovers() const
    {
        QStringList left;
        reapAdopted();
        for (const ProcessEntry &process : descendants())
            left.append(u"process %1 (%2, state %3)"_s.arg(process.pid).arg(process.name).arg(QChar::fromLatin1(process.state)));
        for (const QString &id : m_ids) {
            for (const qint64 pid : processesInCgroupsOf(id))
                left.append(u"process %1 in the cgroups of sandbox %2"_s.arg(pid).arg(id));
        }
        for (const QString &name : sandboxGroups()) {
            if (m_ids.contains(name))
                left.append(u"the cgroups of sandbox "_s + name);
            // Empty, new and named by no record: a sandbox's whose record never was written.
            else if (!m_groupsBefore.contains(name) && groupIsEmpty(name))
                left.append(u"the empty cgroups %1, which no record named"_s.arg(name));
        }
        for (const QString &file : filesIn(m_stateDirectory + u"/sandboxes"_s))
            left.append(u"the sandbox record "_s + file);
        for (const QString &file : filesIn(m_stateDirectory + u"/endpoints"_s))
            left.append(u"the endpoint record "_s + file);
        QFile mounts(u"/proc/self/mountinfo"_s);
        if (mounts.open(QIODevice::ReadOnly)) {
            for (const QByteArray &line : mounts.readAll().split('\n')) {
                if (line.contains(m_testDirectory.toUtf8()))
                    left.append(u"the mount "_s + QString::fromUtf8(line));
            }
        }
        return left;
    }

private:
    QString m_stateDirectory;
    QString m_testDirectory;
    QSet<QString> m_groupsBefore;
    QSet<QString> m_ids;
    QTimer m_timer;
};

/// A moment of a program's life: the phase it is in, known by what announces the phase, and
/// how long after that announcement the kill comes.
struct Moment
{
    QString phase;
    int delayMs = 0;
};

/// `count` moments over `phases` (each phase about as often as the others, in random order),
/// each with a delay of up to `maxDelayMs(phase)`.
template<typename Phase>
QList<Moment> schedule(QRandomGenerator &random, const QList<Phase> &phases, int count)
{
    QList<qsizetype> order;
    for (int i = 0; i < count; ++i)
        order.append(i % phases.size());
    std::shuffle(order.begin(), order.end(), random);
    QList<Moment> moments;
    for (const qsizetype index : std::as_const(order))
        moments.append({phases.at(index).name, int(random.bounded(phases.at(index).maxDelayMs + 1))});
    return moments;
}

/// A phase of `sandflow run --json`, announced by an event on its stdout, or once the run
/// is over and --keep holds its sandboxes, by a notice on its stderr; by neither: its start.
struct RunPhase
{
    QString name;
    int maxDelayMs = 0;
    std::function<bool(const QJsonObject &event)> announces;
    QByteArray notice;
    bool keep = false;
};

QList<RunPhase> runPhases()
{
    const auto ofType = [](const QString &type, const QString &step = {}) {
        return [type, step](const QJsonObject &event) {
            return event.value(u"type"_s).toString() == type
                   && (step.isEmpty() || event.value(u"step"_s).toString() == step);
        };
    };
    return {{u"starting"_s, 600, {}, {}},
            {u"creating sandboxes"_s, 150, ofType(u"job_started"_s), {}},
            {u"uploading"_s, 100, ofType(u"step_started"_s, u"step-1"_s), {}},
            {u"running commands"_s, 900, ofType(u"log_line"_s), {}},
            {u"downloading"_s, 100, ofType(u"step_started"_s, u"step-3"_s), {}},
            {u"deleting sandboxes"_s, 60, ofType(u"job_finished"_s), {}},
            {u"the wait of --keep"_s, 400, {}, "kept sandboxes", true}};
}

/// A phase of a client of `sandflow serve`.
struct ServePhase
{
    QString name;
    int maxDelayMs = 0;
};

QList<ServePhase> servePhases()
{
    return {{u"creating"_s, 150}, {u"uploading"_s, 100}, {u"executing"_s, 500}, {u"downloading"_s, 100}, {u"deleting"_s, 60}};
}

/// A client of a server that goes round until stopped: creates a sandbox with a host and a
/// pvc volume (over HTTP: `sandflow sandbox create` has no volumes), copies a file in, runs
/// a command, copies the file out and deletes the sandbox, with `sandflow sandbox`.
class ServerClient
{
public:
    using Entered = std::function<void(const QString &phase)>;

    ServerClient(QString url, QString hostVolume, QString payload, QString downloadDir, Entered entered)
        : m_url(std::move(url))
        , m_hostVolume(std::move(hostVolume))
        , m_payload(std::move(payload))
        , m_downloadDir(std::move(downloadDir))
        , m_entered(std::move(entered))
    {
        m_network.setProxy(QNetworkProxy::NoProxy);
        m_process.setStandardInputFile(QProcess::nullDevice());
        QObject::connect(&m_process, &QProcess::finished, &m_process, [this] {
            // Taken out first: the next step sets the one after it.
            const std::function<void()> next = std::exchange(m_next, {});
            if (!m_stopped && next)
                next();
        });
    }

    ~ServerClient() { stop(); }

    void start()
    {
        if (!m_stopped)
            create();
    }

    /// Stops at once, whatever it is doing.
    void stop()
    {
        m_stopped = true;
        if (m_reply)
            m_reply->abort();
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(10'000);
        }
    }

    QString sandboxId() const { return m_id; }

private:
    void enter(const QString &phase)
    {
        if (!m_stopped)
            m_entered(phase);
    }

    void create()
    {
        enter(u"creating"_s);
        const QJsonObject body{
            {u"image"_s, QJsonObject{{u"uri"_s, u"debian:12"_s}}},
            {u"entrypoint"_s, QJsonArray{u"tail"_s, u"-f"_s, u"/dev/null"_s}},
            {u"timeout"_s, 600},
            {u"resourceLimits"_s, QJsonObject{{u"cpu"_s, u"1"_s}, {u"memory"_s, u"512Mi"_s}}},
            {u"volumes"_s, QJsonArray{QJsonObject{{u"name"_s, u"shared"_s}, {u"mountPath"_s, u"/mnt/shared"_s},
                                                  {u"host"_s, QJsonObject{{u"path"_s, m_hostVolume}}}},
                                      QJsonObject{{u"name"_s, u"cache"_s}, {u"mountPath"_s, u"/mnt/cache"_s},
                                                  {u"pvc"_s, QJsonObject{{u"claimName"_s, u"killnine-cache"_s}}}}}}};
        QNetworkRequest request(QUrl(m_url + u"/v1/sandboxes"_s));
        request.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
        request.setRawHeader("OPEN-SANDBOX-API-KEY", ApiKey.toUtf8());
        m_reply = m_network.post(request, QJsonDocument(body).toJson(QJsonDocument::Compact));
        QObject::connect(m_reply, &QNetworkReply::finished, m_reply, [this, reply = m_reply] {
            reply->deleteLater();
            m_reply = nullptr;
            if (m_stopped)
                return;
            m_id = QJsonDocument::fromJson(reply->readAll()).object().value(u"id"_s).toString();
            if (m_id.isEmpty())
                return create();
            runClient({u"cp"_s, m_payload, m_id + u":/workspace/payload.bin"_s}, u"uploading"_s, [this] { execute(); });
        });
    }

    void execute()
    {
        runClient({u"exec"_s, m_id, u"--"_s, u"echo working; cat /workspace/payload.bin > /mnt/shared/copy; sleep 0.3"_s},
                  u"executing"_s, [this] { download(); });
    }

    void download()
    {
        runClient({u"cp"_s, m_id + u":/workspace/payload.bin"_s, m_downloadDir + u"/payload.bin"_s}, u"downloading"_s,
                  [this] { runClient({u"rm"_s, m_id}, u"deleting"_s, [this] { create(); }); });
    }

    void runClient(const QStringList &arguments, const QString &phase, std::function<void()> next)
    {
        enter(phase);
        m_next = std::move(next);
        m_process.start(QStringLiteral(SANDFLOW_BINARY),
                        QStringList{u"sandbox"_s, u"--server"_s, m_url, u"--api-key"_s, ApiKey} + arguments);
    }

    QString m_url;
    QString m_hostVolume;
    QString m_payload;
    QString m_downloadDir;
    Entered m_entered;
    QNetworkAccessManager m_network;
    QNetworkReply *m_reply = nullptr;
    QProcess m_process;
    std::function<void()> m_next;
    QString m_id;
    bool m_stopped = false;
};

} // namespace

class TestKillNine : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void killedRunsLeaveNothing();
    void killedServersLeaveNothing();

private:
    /// Waits until nothing the watch knows of is left, at most SettleMs; fails naming what is.
    static void verifyNothingLeft(const SandboxWatch &watch, const QString &what);
    QString path(const QString &relative) const { return m_dir.filePath(relative); }

    QTemporaryDir m_dir;
    quint32 m_seed = 0;
};

void TestKillNine::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY2(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "cannot become a child subreaper");
    bool fixed = false;
    m_seed = qEnvironmentVariable("SANDFLOW_KILLNINE_SEED").toUInt(&fixed);
    if (!fixed)
        m_seed = QRandomGenerator::system()->generate();
    qInfo("seed %u: SANDFLOW_KILLNINE_SEED=%u draws the same moments again", m_seed, m_seed);

    // Files to upload, a few small ones and one of some size, so that copies take a moment.
    QVERIFY(QDir().mkpath(path(u"flow/payload/small"_s)));
    QVERIFY(QDir().mkpath(path(u"flow/shared"_s)));
    QVERIFY(QDir().mkpath(path(u"serve-shared"_s)));
    for (int i = 0; i < 20; ++i) {
        QFile small(path(u"flow/payload/small/%1.txt"_s.arg(i)));
        QVERIFY(small.open(QIODevice::WriteOnly));
        small.write(QByteArray::number(i) + '\n');
    }
    QFile big(path(u"flow/payload/big.bin"_s));
    QVERIFY(big.open(QIODevice::WriteOnly));
    QByteArray block(1 << 20, 'x');
    for (int i = 0; i < 4; ++i)
        QCOMPARE(big.write(block), qint64(block.size()));
    big.close();

    // Three sandboxes at once, each with a host and a pvc volume, files both ways.
    QFile workflow(path(u"flow/killnine.yaml"_s));
    QVERIFY(workflow.open(QIODevice::WriteOnly));
    workflow.write("version: 1\n"
                   "name: killnine\n"
                   "volumes:\n"
                   "  shared: { host: { path: ./shared } }\n"
                   "  cache: { pvc: { claimName: killnine-cache } }\n"
                   "sandboxes:\n"
                   "  box:\n"
                   "    image: debian:12\n"
                   "    resources: { memory: 512Mi }\n"
                   "    mounts:\n"
                   "      - { volume: shared, path: /mnt/shared }\n"
                   "      - { volume: cache, path: /mnt/cache }\n"
                   "jobs:\n"
                   "  work:\n"
                   "    strategy:\n"
                   "      matrix:\n"
                   "        part: [1, 2, 3]\n"
                   "    sandbox: box\n"
                   "    steps:\n"
                   "      - upload: { from: payload, to: /workspace/payload }\n"
                   "      - run: |\n"
                   "          echo working\n"
                   "          cat /workspace/payload/big.bin > /mnt/cache/part-${{ matrix.part }} || true\n"
                   "          echo ${{ matrix.part }} > /mnt/shared/part-${{ matrix.part }} || true\n"
                   "          sleep 1\n"
                   "      - download:\n"
                   "          from: /workspace/payload\n"
                   "          to: back-${{ matrix.part }}\n");
}

void TestKillNine::verifyNothingLeft(const SandboxWatch &watch, const QString &what)
{
    QStringList left;
    const bool settled = QTest::qWaitFor([&] {
        left = watch.leftovers();
        return left.isEmpty();
    }, SettleMs);
    QVERIFY2(settled, qPrintable(u"%1 left: %2"_s.arg(what, left.join(u"; "_s))));
}

void TestKillNine::killedRunsLeaveNothing()
{
    QRandomGenerator random(m_seed);
    const QList<RunPhase> phases = runPhases();
    const QList<Moment> moments = schedule(random, phases, Kills);
    const QString state = path(u"run-state"_s);
    int missed = 0;
    qsizetype sandboxes = 0;
    for (int i = 0; i < moments.size(); ++i) {
        const Moment &moment = moments.at(i);
        const RunPhase &phase = *std::find_if(phases.cbegin(), phases.cend(),
                                              [&](const RunPhase &each) { return each.name == moment.phase; });
        const QString what = u"run %1, killed %2 ms into %3"_s.arg(i).arg(moment.delayMs).arg(moment.phase);
        SandboxWatch watch(state, m_dir.path());

        QProcess run;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(u"SANDFLOW_STATE_DIR"_s, state);
        run.setProcessEnvironment(env);
        run.setStandardInputFile(QProcess::nullDevice());
        QStringList arguments{u"run"_s, u"--json"_s, u"--max-sandboxes"_s, u"3"_s, u"--run-dir"_s,
                              path(u"runs/%1"_s.arg(i))};
        if (phase.keep)
            arguments.append(u"--keep"_s);
        arguments.append(path(u"flow/killnine.yaml"_s));
        bool announced = false, killed = false;
        const auto announce = [&] {
            if (announced)
                return;
            announced = true;
            QTimer::singleShot(moment.delayMs, &run, [&] {
                if (run.state() == QProcess::NotRunning)
                    return;
                ::kill(pid_t(run.processId()), SIGKILL);
                killed = true;
            });
        };
        QByteArray out, err;
        QObject::connect(&run, &QProcess::readyReadStandardOutput, &run, [&] {
            out += run.readAllStandardOutput();
            const qsizetype complete = out.lastIndexOf('\n') + 1;
            for (const QJsonObject &event : parseEvents(out.left(complete))) {
                if (event.value(u"type"_s).toString() == u"sandbox_created"_s)
                    watch.noteId(event.value(u"sandboxId"_s).toString());
                if (phase.announces && phase.announces(event))
                    announce();
            }
            out.remove(0, complete);
        });
        QObject::connect(&run, &QProcess::readyReadStandardError, &run, [&] {
            err += run.readAllStandardError();
            if (!phase.notice.isEmpty() && err.contains(phase.notice))
                announce();
        });
        run.start(QStringLiteral(SANDFLOW_BINARY), arguments);
        QVERIFY2(run.waitForStarted(30'000), qPrintable(what));
        if (!phase.announces && phase.notice.isEmpty())
            announce();
        QVERIFY2(QTest::qWaitFor([&] { return run.state() == QProcess::NotRunning; }, HangLimitMs),
                 qPrintable(what + u": the run did not end"_s));
        watch.noteRecords();
        if (!killed) {
            // Ended before the moment came: then it must have left nothing on its own.
            ++missed;
            qInfo("%s: the run ended first: %s", qPrintable(what), err.constData());
        }

        QProcess gc;
        gc.setProcessEnvironment(env);
        gc.start(QStringLiteral(SANDFLOW_BINARY), {u"gc"_s});
        QVERIFY2(gc.waitForFinished(60'000) && gc.exitCode() == 0,
                 qPrintable(what + u": gc: "_s + QString::fromUtf8(gc.readAllStandardError())));
        verifyNothingLeft(watch, what + u", then `sandflow gc`,"_s);
        if (QTest::currentTestFailed())
            return;
        sandboxes += watch.sandboxesSeen();
        qInfo("%s: %lld sandboxes, nothing left", qPrintable(what), qlonglong(watch.sandboxesSeen()));
    }
    // Most moments must come while the run lives, with sandboxes, or the test tests little.
    QVERIFY2(missed <= Kills / 4, qPrintable(u"%1 of %2 runs ended before their moment"_s.arg(missed).arg(Kills)));
    QVERIFY2(sandboxes >= Kills, qPrintable(u"only %1 sandboxes in %2 runs"_s.arg(sandboxes).arg(Kills)));
}

void TestKillNine::killedServersLeaveNothing()
{
    QRandomGenerator random(m_seed + 1);
    const QList<Moment> moments = schedule(random, servePhases(), Kills);
    const QString state = path(u"serve-state"_s);
    const QStringList serveArguments{u"--allow-host-path"_s, path(u"serve-shared"_s)};
    qsizetype sandboxes = 0;
    for (int i = 0; i < moments.size(); ++i) {
        const Moment &moment = moments.at(i);
        const QString what = u"serve %1, killed %2 ms after a client began %3"_s.arg(i).arg(moment.delayMs).arg(moment.phase);
        SandboxWatch watch(state, m_dir.path());
        auto server = std::make_unique<ServeProcess>();
        QVERIFY2(server->start(QStringLiteral(SANDFLOW_BINARY), state, ApiKey, serveArguments),
                 qPrintable(what + u": "_s + server->failure()));

        bool killed = false;
        const auto killServer = [&] {
            if (killed)
                return;
            killed = true;
            ::kill(pid_t(server->process().processId()), SIGKILL);
        };
        QDir().mkpath(path(u"downloads/%1"_s.arg(i)));
        // The first client's phase is the moment's; the second one, started a moment later,
        // is somewhere else of its round meanwhile.
        bool scheduled = false;
        ServerClient first(server->url(), path(u"serve-shared"_s), path(u"flow/payload/big.bin"_s),
                           path(u"downloads/%1"_s.arg(i)), [&](const QString &phase) {
                               if (phase != moment.phase || scheduled)
                                   return;
                               scheduled = true;
                               QTimer::singleShot(moment.delayMs, &server->process(), killServer);
                           });
        ServerClient second(server->url(), path(u"serve-shared"_s), path(u"flow/payload/big.bin"_s),
                            path(u"downloads/%1"_s.arg(i)), [&](const QString &) {});
        first.start();
        QTimer::singleShot(200, &server->process(), [&] { second.start(); });
        const bool killedInTime = QTest::qWaitFor([&] {
            watch.noteId(first.sandboxId());
            watch.noteId(second.sandboxId());
            return killed;
        }, HangLimitMs);
        first.stop();
        second.stop();
        QVERIFY2(killedInTime, qPrintable(what + u": the client never got there"_s));
        QVERIFY2(server->process().waitForFinished(30'000), qPrintable(what));
        watch.noteRecords();
        server.reset();

        // The next server on the same state directory removes what the killed one left.
        ServeProcess next;
        QVERIFY2(next.start(QStringLiteral(SANDFLOW_BINARY), state, ApiKey, serveArguments),
                 qPrintable(what + u": the next server: "_s + next.failure()));
        QVERIFY2(next.stop(), qPrintable(what + u": the next server: "_s + next.failure()));
        verifyNothingLeft(watch, what + u", then a server started and stopped on its state,"_s);
        if (QTest::currentTestFailed())
            return;
        sandboxes += watch.sandboxesSeen();
        qInfo("%s: %lld sandboxes, nothing left", qPrintable(what), qlonglong(watch.sandboxesSeen()));
    }
    QVERIFY2(sandboxes >= Kills, qPrintable(u"only %1 sandboxes in %2 servers"_s.arg(sandboxes).arg(Kills)));
}

QTEST_GUILESS_MAIN(TestKillNine)
#include "tst_killnine.moc"
