// What the suites that start `sandflow run` share: a finished run's events, a run that goes
// on while the test looks at it and interrupts it, and the processes a sandbox holds.
#pragma once

#include "serveprocess.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QProcess>
#include <QStringList>
#include <QTest>

#include <algorithm>
#include <csignal>
#include <sys/stat.h>
#include <unistd.h>

namespace RunTesting {

using namespace Qt::StringLiterals;

/// The rows of a test that runs on either runner: `local`, and `opensandbox` on the test's
/// server.
inline void addRunnerRows()
{
    QTest::addColumn<QString>("runner");
    QTest::newRow("local") << u"local"_s;
    QTest::newRow("opensandbox") << u"opensandbox"_s;
}

/// The options that choose the current row's runner (see addRunnerRows()).
inline QStringList runnerOptions(const ServeProcess &server)
{
    QFETCH(QString, runner);
    if (runner == u"local"_s)
        return {};
    return {u"--runner"_s, runner, u"--server"_s, server.url(), u"--api-key"_s, server.apiKey()};
}

/// What `sandflow sandbox ls` says of the server's sandboxes: "No sandboxes.\n" when it has none.
inline QString serverSandboxes(const QString &program, const ServeProcess &server)
{
    QProcess list;
    list.start(program, {u"sandbox"_s, u"ls"_s, u"--server"_s, server.url(), u"--api-key"_s, server.apiKey()});
    list.waitForFinished(30'000);
    return QString::fromUtf8(list.readAllStandardOutput());
}

/// Only matters when a run hangs: the test then fails instead of blocking forever.
constexpr int HangLimitMs = 180'000;

/// One JSON event a line, as `run --json` prints them.
inline QList<QJsonObject> parseEvents(const QByteArray &out)
{
    QList<QJsonObject> events;
    for (const QByteArray &line : out.split('\n')) {
        if (!line.trimmed().isEmpty())
            events.append(QJsonDocument::fromJson(line).object());
    }
    return events;
}

/// The most of something alive at once, in the order of the events: events of type `opening`
/// count up, of type `closing` down.
inline int mostAtOnce(const QList<QJsonObject> &events, const QString &opening, const QString &closing)
{
    int live = 0, most = 0;
    for (const QJsonObject &event : events) {
        const QString type = event.value(u"type"_s).toString();
        live += type == opening ? 1 : type == closing ? -1 : 0;
        most = std::max(most, live);
    }
    return most;
}

/// Processes whose cgroup path names `sandboxId` (each sandbox has cgroups of its own).
inline QList<qint64> processesInCgroupsOf(const QString &sandboxId)
{
    QList<qint64> pids;
    for (const QString &entry : QDir(u"/proc"_s).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        bool numeric = false;
        const qint64 pid = entry.toLongLong(&numeric);
        QFile cgroups(u"/proc/%1/cgroup"_s.arg(entry));
        if (numeric && cgroups.open(QIODevice::ReadOnly) && cgroups.readAll().contains(sandboxId.toUtf8()))
            pids.append(pid);
    }
    return pids;
}

/// A file's permission bits (with setuid, setgid and sticky), or -1 when it is not there.
inline int permissionBits(const QString &path)
{
    struct stat status = {};
    return ::stat(QFile::encodeName(path).constData(), &status) == 0 ? int(status.st_mode & 07777) : -1;
}

/// Still there, running or a zombie not yet reaped.
inline bool exists(qint64 pid)
{
    return QFileInfo::exists(u"/proc/%1"_s.arg(pid));
}

struct RunResult
{
    int exitCode = -1;
    QList<QJsonObject> events;
    QString err;
    QString runDir;

    QList<QJsonObject> eventsOf(const QString &type) const
    {
        QList<QJsonObject> found;
        for (const QJsonObject &event : events) {
            if (event.value(u"type"_s).toString() == type)
                found.append(event);
        }
        return found;
    }

    /// The step_finished event of `step` in `job`.
    QJsonObject step(const QString &job, const QString &step) const
    {
        for (const QJsonObject &event : eventsOf(u"step_finished"_s)) {
            if (event.value(u"job"_s).toString() == job && event.value(u"step"_s).toString() == step)
                return event;
        }
        return {};
    }

    /// Every log line of `job` (all steps), in order; only those of `stream` (`stdout` or
    /// `stderr`) when it is given.
    QStringList lines(const QString &job, const QString &stream = {}) const
    {
        QStringList found;
        for (const QJsonObject &event : eventsOf(u"log_line"_s)) {
            if (event.value(u"job"_s).toString() == job
                && (stream.isEmpty() || event.value(u"stream"_s).toString() == stream))
                found.append(event.value(u"text"_s).toString());
        }
        return found;
    }

    QJsonObject summary() const
    {
        QFile file(runDir + u"/summary.json"_s);
        return file.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(file.readAll()).object() : QJsonObject();
    }
};

/// Starts the prepared `run --json` process and waits for it to end.
inline RunResult finish(QProcess &process, const QString &runDir)
{
    RunResult result;
    result.runDir = runDir;
    process.start();
    if (!process.waitForFinished(HangLimitMs))
        process.kill();
    process.waitForFinished();
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.events = parseEvents(process.readAllStandardOutput());
    result.err = QString::fromUtf8(process.readAllStandardError());
    return result;
}

/// A prepared `run --json` process, started as the leader of a process group of its own and
/// read as it goes, so that the test can act while it runs and interrupt it as Ctrl-C on a
/// terminal does. It is read on the test's event loop, which its waits run.
class LiveRun
{
public:
    explicit LiveRun(QProcess &process)
        : m_process(process)
    {
        m_process.setChildProcessModifier([] { ::setsid(); });
        QObject::connect(&m_process, &QProcess::readyReadStandardOutput, &m_process,
                         [this] { m_out += m_process.readAllStandardOutput(); });
        m_process.start();
    }

    ~LiveRun()
    {
        // A test that failed half-way leaves no run behind: Ctrl-C twice, as a user would,
        // so that the run removes its sandboxes, and SIGKILL when even that does not end it.
        if (isFinished())
            return;
        interrupt();
        if (m_process.waitForFinished(1000))
            return;
        interrupt();
        if (!m_process.waitForFinished(30'000)) {
            ::kill(-pid_t(m_process.processId()), SIGKILL);
            m_process.waitForFinished();
        }
    }

    /// SIGINT to the whole process group the program leads.
    void interrupt() { ::kill(-pid_t(m_process.processId()), SIGINT); }

    bool printed(const QByteArray &text) const { return m_out.contains(text); }
    /// Waits until a step has printed the line `text`, or the run has ended; whether it did.
    bool waitForLine(const QString &text, int timeoutMs = 60'000) const
    {
        return QTest::qWaitFor([&] { return logged(text) || isFinished(); }, timeoutMs) && logged(text);
    }
    /// Whether a step printed the line `text` so far.
    bool logged(const QString &text) const
    {
        const QList<QJsonObject> all = events();
        return std::any_of(all.cbegin(), all.cend(), [&](const QJsonObject &event) {
            return event.value(u"type"_s).toString() == u"log_line"_s && event.value(u"text"_s).toString() == text;
        });
    }
    bool isFinished() const { return m_process.state() == QProcess::NotRunning; }

    /// Every event so far.
    QList<QJsonObject> events() const { return parseEvents(m_out); }

    /// The id of the first sandbox the run reported, else "".
    QString firstSandboxId() const
    {
        for (const QJsonObject &event : events()) {
            if (event.value(u"type"_s).toString() == u"sandbox_created"_s)
                return event.value(u"sandboxId"_s).toString();
        }
        return {};
    }

    /// Waits for the end, the test's event loop running (a server of the test's own may
    /// serve the run meanwhile), and takes what is left of the output.
    RunResult finish(const QString &runDir)
    {
        RunResult result;
        result.runDir = runDir;
        if (!QTest::qWaitFor([this] { return isFinished(); }, HangLimitMs))
            return result;
        m_out += m_process.readAllStandardOutput();
        result.exitCode = m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
        result.events = parseEvents(m_out);
        result.err = QString::fromUtf8(m_process.readAllStandardError());
        return result;
    }

private:
    QProcess &m_process;
    QByteArray m_out;
};

} // namespace RunTesting
