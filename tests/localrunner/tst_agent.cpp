// The agent's side of agentprotocol.h, exercised through the real static binary: frames go in
// on its stdin and come back on its stdout, exactly as the local runner will use it.
#include "agentprotocol.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <optional>
#include <unistd.h>

using namespace Qt::StringLiterals;
using Sandflow::AgentProtocol::FrameType;

namespace {

/// Upper bound for anything that should take milliseconds: it only catches hangs.
constexpr int HangMs = 20'000;

struct Frame {
    FrameType type;
    quint32 channel;
    QByteArray payload;
};

QByteArray header(quint32 length, quint8 type, quint32 channel)
{
    QByteArray bytes(int(Sandflow::AgentProtocol::HeaderSize), '\0');
    for (int i = 0; i < 4; ++i) {
        bytes[i] = char(length >> (8 * i));
        bytes[5 + i] = char(channel >> (8 * i));
    }
    bytes[4] = char(type);
    return bytes;
}

quint32 le32(const QByteArray &bytes, int at)
{
    quint32 value = 0;
    for (int i = 3; i >= 0; --i)
        value = (value << 8) | quint8(bytes[at + i]);
    return value;
}

QJsonObject json(const QByteArray &payload)
{
    return QJsonDocument::fromJson(payload).object();
}

/// Fields of /proc/PID/stat after the command's name, from the state (0) on.
enum class StatField { Group = 2, Session = 3 };

/// Processes in process group `group` (or session, as `field` says) that are still alive
/// (zombies are dead already).
QList<int> liveMembers(int group, StatField field = StatField::Group)
{
    QList<int> members;
    const QStringList entries = QDir(u"/proc"_s).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &entry : entries) {
        bool isPid = false;
        const int pid = entry.toInt(&isPid);
        QFile stat(u"/proc/%1/stat"_s.arg(entry));
        if (!isPid || !stat.open(QIODevice::ReadOnly))
            continue;
        // "pid (comm) state ppid pgrp ...": comm may hold anything, so split after its ')'.
        const QByteArray line = stat.readAll();
        const QList<QByteArray> fields = line.mid(line.lastIndexOf(')') + 2).split(' ');
        if (fields.size() > int(field) && fields[0] != "Z" && fields[int(field)].toInt() == group)
            members.append(pid);
    }
    return members;
}

/// One agent process and the frames it sent that nobody asked for yet.
class Agent {
public:
    explicit Agent(const QString &program = QString::fromUtf8(SANDFLOW_AGENT_PATH), const QStringList &arguments = {})
    {
        process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        process.start(program, arguments);
    }

    ~Agent()
    {
        if (process.state() == QProcess::NotRunning)
            return;
        process.closeWriteChannel();
        if (!process.waitForFinished(HangMs))
            process.kill();
        process.waitForFinished();
    }

    void send(quint8 type, quint32 channel, const QByteArray &payload)
    {
        process.write(header(quint32(payload.size()), type, channel) + payload);
    }

    void request(quint32 channel, const QByteArray &payload) { send(quint8(FrameType::Request), channel, payload); }

    /// The next frame on `channel`, or nullopt when none arrives in time.
    std::optional<Frame> next(quint32 channel)
    {
        const QDeadlineTimer deadline(HangMs);
        for (;;) {
            for (qsizetype i = 0; i < stash.size(); ++i) {
                if (stash[i].channel == channel)
                    return stash.takeAt(i);
            }
            if (!readFrame(deadline))
                return std::nullopt;
        }
    }

    /// The Reply to a request on `channel`.
    QJsonObject reply(quint32 channel)
    {
        const std::optional<Frame> frame = next(channel);
        if (!frame || frame->type != FrameType::Reply)
            return {};
        return json(frame->payload);
    }

    QJsonObject call(quint32 channel, const QByteArray &payload)
    {
        request(channel, payload);
        return reply(channel);
    }

    /// A command's output and Exit, after its Reply has been read.
    struct Output {
        QByteArray out;
        QByteArray err;
        QJsonObject exit;   ///< empty when no Exit frame came
        qsizetype largestFrame = 0;
        qint64 stdinWritten = 0;   ///< the sum of its StdinWritten frames
    };

    Output collect(quint32 channel)
    {
        Output output;
        while (const std::optional<Frame> frame = next(channel)) {
            output.largestFrame = std::max(output.largestFrame, frame->payload.size());
            if (frame->type == FrameType::StdinWritten)
                output.stdinWritten += json(frame->payload)[u"bytes"_s].toInteger();
            else if (frame->type == FrameType::Stdout)
                output.out += frame->payload;
            else if (frame->type == FrameType::Stderr)
                output.err += frame->payload;
            else if (frame->type == FrameType::Exit) {
                output.exit = json(frame->payload);
                break;
            } else
                break;
        }
        return output;
    }

    /// Starts a command, returning its Reply; the output is left for collect().
    QJsonObject exec(quint32 channel, const QJsonObject &request)
    {
        QJsonObject withOp = request;
        withOp[u"op"_s] = u"exec"_s;
        return call(channel, QJsonDocument(withOp).toJson(QJsonDocument::Compact));
    }

    /// Stdout of the command on `channel` until it holds `text`, for commands still running.
    QByteArray outputUntil(quint32 channel, const QByteArray &text)
    {
        QByteArray out;
        while (!out.contains(text)) {
            const std::optional<Frame> frame = next(channel);
            if (!frame || frame->type == FrameType::Exit)
                break;
            if (frame->type == FrameType::Stdout)
                out += frame->payload;
        }
        return out;
    }

    Output run(quint32 channel, const QJsonObject &request)
    {
        const QJsonObject started = exec(channel, request);
        if (!started[u"ok"_s].toBool()) {
            qWarning() << "exec failed:" << started;
            return {};
        }
        return collect(channel);
    }

    QProcess process;
    QList<Frame> stash;

private:
    bool readFrame(const QDeadlineTimer &deadline)
    {
        const int size = int(Sandflow::AgentProtocol::HeaderSize);
        while (buffer.size() < size || buffer.size() < size + qsizetype(le32(buffer, 0))) {
            if (deadline.hasExpired() || !process.waitForReadyRead(int(deadline.remainingTime())))
                return false;
            buffer += process.readAll();
        }
        const qsizetype length = le32(buffer, 0);
        stash.append({FrameType(quint8(buffer[4])), le32(buffer, 5), buffer.mid(size, length)});
        buffer.remove(0, size + length);
        return true;
    }

    QByteArray buffer;
};

QJsonObject argv(const QStringList &arguments)
{
    return {{u"argv"_s, QJsonArray::fromStringList(arguments)}};
}

QJsonObject shell(const QString &script)
{
    return argv({u"sh"_s, u"-c"_s, script});
}

/// A command on a terminal of `columns` x `rows`.
QJsonObject onTerminal(QJsonObject request, int columns = 80, int rows = 24)
{
    request[u"pty"_s] = QJsonObject{{u"columns"_s, columns}, {u"rows"_s, rows}};
    return request;
}

QJsonObject ok()
{
    return {{u"ok"_s, true}};
}

QJsonObject exitCode(int code)
{
    return {{u"exitCode"_s, code}};
}

QJsonObject killedBy(int signal, bool timedOut)
{
    return {{u"signal"_s, signal}, {u"timedOut"_s, timedOut}};
}

} // namespace

class TestAgent : public QObject
{
    Q_OBJECT

private slots:
    void ping()
    {
        Agent agent;
        const QJsonObject reply = agent.call(1, R"({"op": "ping"})");
        QCOMPARE(reply[u"ok"_s], true);
        QCOMPARE(reply[u"pid"_s].toInteger(), agent.process.processId());
    }

    void echo()
    {
        Agent agent;
        const QJsonObject started = agent.exec(7, argv({u"echo"_s, u"hello"_s}));
        QCOMPARE(started[u"ok"_s], true);
        QVERIFY(started[u"pid"_s].toInteger() > 0);
        const Agent::Output output = agent.collect(7);
        QCOMPARE(output.out, "hello\n");
        QCOMPARE(output.err, "");
        QCOMPARE(output.exit, exitCode(0));
    }

    void stderrIsSeparate()
    {
        Agent agent;
        const Agent::Output output = agent.run(1, shell(u"echo out; echo err >&2; echo more"_s));
        QCOMPARE(output.out, "out\nmore\n");
        QCOMPARE(output.err, "err\n");
        QCOMPARE(output.exit, exitCode(0));
    }

    void exitStatus()
    {
        Agent agent;
        QCOMPARE(agent.run(1, shell(u"exit 3"_s)).exit, exitCode(3));
    }

    void workingDirectory()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = QDir(dir.path()).canonicalPath();
        Agent agent;
        QJsonObject request = argv({u"pwd"_s});
        request[u"cwd"_s] = path;
        QCOMPARE(agent.run(1, request).out, (path + u'\n').toUtf8());
    }

    void environmentIsExactlyTheGivenOne()
    {
        Agent agent;
        QJsonObject request = argv({u"env"_s});
        request[u"env"_s] = QJsonObject{{u"A"_s, u"1"_s}, {u"B"_s, u"two words"_s}};
        const Agent::Output output = agent.run(1, request);
        QCOMPARE(output.out, "A=1\nB=two words\n");
        QCOMPARE(output.exit, exitCode(0));
    }

    void environmentIsInheritedWithoutEnv()
    {
        Agent agent;
        QCOMPARE(agent.run(1, shell(u"echo \"$HOME\""_s)).out, qgetenv("HOME") + '\n');
    }

    void escapesReachTheCommand()
    {
        Agent agent;
        // Not a raw string literal: moc 6.4 loses track of the class after one ending in \".
        agent.request(1, "{\"op\": \"exec\", \"argv\": [\"printf\", \"%s\", \"\\u00e9\\ud83d\\ude00\\t\\\"\\\\\\/\"]}");
        QCOMPARE(agent.reply(1)[u"ok"_s], true);
        QCOMPARE(agent.collect(1).out, "\xc3\xa9\xf0\x9f\x98\x80\t\"\\/");
    }

    void startFailures_data()
    {
        QTest::addColumn<QJsonObject>("request");
        QTest::addColumn<QString>("error");
        QJsonObject badCwd = argv({u"pwd"_s});
        badCwd[u"cwd"_s] = u"/nonexistent-sandflow-dir"_s;
        QTest::newRow("missing cwd") << badCwd << u"chdir(/nonexistent-sandflow-dir): No such file or directory"_s;
        QTest::newRow("missing program") << argv({u"sandflow-no-such-program"_s})
                                         << u"exec(sandflow-no-such-program): No such file or directory"_s;
        QTest::newRow("missing path") << argv({u"/nonexistent/prog"_s})
                                      << u"exec(/nonexistent/prog): No such file or directory"_s;
        QJsonObject gidOnly = argv({u"true"_s});
        gidOnly[u"gid"_s] = 1000;
        QTest::newRow("gid without uid") << gidOnly << u"\"gid\" needs \"uid\" as well"_s;
        QTest::newRow("empty argv") << argv({}) << u"\"argv\" must name a program"_s;
    }

    void startFailures()
    {
        QFETCH(QJsonObject, request);
        QFETCH(QString, error);
        Agent agent;
        const QJsonObject reply = agent.exec(1, request);
        QCOMPARE(reply[u"ok"_s], false);
        QCOMPARE(reply[u"error"_s].toString(), error);
        // No Exit follows a failed start: the next frame on any channel is the ping's reply.
        QCOMPARE(agent.call(2, R"({"op": "ping"})")[u"ok"_s], true);
        QVERIFY(agent.stash.isEmpty());
    }

    void userAndGroup()
    {
        if (geteuid() != 0)
            QSKIP("changing the user needs root");
        Agent agent;
        QJsonObject request = shell(u"id -u; id -g"_s);
        request[u"uid"_s] = 65534;
        request[u"gid"_s] = 65534;
        const Agent::Output output = agent.run(1, request);
        QCOMPARE(output.out, "65534\n65534\n");
        QCOMPARE(output.exit, exitCode(0));
    }

    // Without a gid the user gets its own groups, never the agent's (root's).
    void userAloneGetsItsOwnGroups()
    {
        if (geteuid() != 0)
            QSKIP("changing the user needs root");
        Agent agent;
        QJsonObject request = shell(u"id -u; id -g; id -G"_s);
        request[u"uid"_s] = 65534;   // nobody, whose group in Debian's passwd is nogroup
        QCOMPARE(agent.run(1, request).out, "65534\n65534\n65534\n");
        // A number with no account: only the group of the same number.
        request[u"uid"_s] = 54321;
        QCOMPARE(agent.run(2, request).out, "54321\n54321\n54321\n");
    }

    void stdinIsFed()
    {
        Agent agent;
        QJsonObject request = argv({u"cat"_s});
        request[u"stdin"_s] = true;
        QCOMPARE(agent.exec(4, request)[u"ok"_s], true);
        agent.send(quint8(FrameType::Stdin), 4, "hello ");
        agent.send(quint8(FrameType::Stdin), 4, "world");
        agent.send(quint8(FrameType::Stdin), 4, {});
        const Agent::Output output = agent.collect(4);
        QCOMPARE(output.out, "hello world");
        QCOMPARE(output.exit, exitCode(0));
        // Every byte is reported taken, which is what the runner paces its input by.
        QCOMPARE(output.stdinWritten, 11);
    }

    // Stdin that a command can no longer take is reported too, or the runner would wait for
    // ever to send the rest.
    void stdinDroppedIsReported()
    {
        Agent agent;
        QJsonObject request = shell(u"exec 0<&-; echo closed; sleep 100"_s);
        request[u"stdin"_s] = true;
        QCOMPARE(agent.exec(1, request)[u"ok"_s], true);
        QCOMPARE(agent.outputUntil(1, "closed\n"), "closed\n");
        agent.send(quint8(FrameType::Stdin), 1, QByteArray(100'000, 'x'));
        agent.send(quint8(FrameType::Stdin), 1, "more");
        qint64 reported = 0;
        while (reported < 100'004) {
            const std::optional<Frame> frame = agent.next(1);
            QVERIFY(frame);
            QCOMPARE(frame->type, FrameType::StdinWritten);
            reported += json(frame->payload)[u"bytes"_s].toInteger();
        }
        QCOMPARE(reported, 100'004);
        QCOMPARE(agent.call(2, R"({"op": "signal", "target": 1, "signal": 9})"), ok());
        QCOMPARE(agent.collect(1).exit, killedBy(SIGKILL, false));
    }

    void terminalIsTheControllingTerminal()
    {
        Agent agent;
        QJsonObject request = onTerminal(shell(u"tty; stty size; test -t 0 && test -t 1 && test -t 2 && echo all; echo $TERM"_s),
                                         100, 30);
        request[u"env"_s] = QJsonObject{{u"PATH"_s, u"/usr/bin:/bin"_s}};
        const Agent::Output output = agent.run(1, request);
        QVERIFY2(QRegularExpression(u"^/dev/pts/[0-9]+\r\n30 100\r\nall\r\nxterm-256color\r\n$"_s)
                     .match(QString::fromUtf8(output.out)).hasMatch(),
                 output.out.constData());
        QCOMPARE(output.err, "");
        QCOMPARE(output.exit, exitCode(0));
    }

    void terminalInputAndEndOfInput()
    {
        Agent agent;
        QCOMPARE(agent.exec(1, onTerminal(argv({u"cat"_s})))[u"ok"_s], true);
        agent.send(quint8(FrameType::Stdin), 1, "abc\n");
        // The line discipline echoes it, then cat prints it; an empty frame is Ctrl-D.
        QCOMPARE(agent.outputUntil(1, "abc\r\nabc\r\n"), "abc\r\nabc\r\n");
        agent.send(quint8(FrameType::Stdin), 1, {});
        QCOMPARE(agent.collect(1).exit, exitCode(0));
    }

    void resizeReachesTheTerminal()
    {
        Agent agent;
        const QString script = u"trap 'stty size; exit 0' WINCH; echo ready; while :; do sleep 1; done"_s;
        QCOMPARE(agent.exec(1, onTerminal(shell(script)))[u"ok"_s], true);
        QVERIFY(agent.outputUntil(1, "ready\r\n").endsWith("ready\r\n"));
        QCOMPARE(agent.call(2, R"({"op": "resize", "target": 1, "columns": 120, "rows": 40})"), ok());
        const Agent::Output output = agent.collect(1);
        QCOMPARE(output.out, "40 120\r\n");
        QCOMPARE(output.exit, exitCode(0));
    }

    void resizeNeedsATerminal()
    {
        Agent agent;
        QJsonObject reply = agent.call(1, R"({"op": "resize", "target": 7, "columns": 120, "rows": 40})");
        QCOMPARE(reply[u"error"_s].toString(), u"no running command on channel 7"_s);
        QCOMPARE(agent.exec(2, argv({u"sleep"_s, u"100"_s}))[u"ok"_s], true);
        reply = agent.call(3, R"({"op": "resize", "target": 2, "columns": 120, "rows": 40})");
        QCOMPARE(reply[u"error"_s].toString(), u"the command on channel 2 has no terminal"_s);
    }

    // An interactive shell puts each job in a group of its own: signals, the timeout and the
    // agent's end reach the terminal's whole session.
    void terminalSignalsReachTheSession_data()
    {
        QTest::addColumn<QString>("how");
        QTest::newRow("signal") << u"signal"_s;
        QTest::newRow("timeout") << u"timeout"_s;
        QTest::newRow("shutdown") << u"shutdown"_s;
    }

    void terminalSignalsReachTheSession()
    {
        QFETCH(QString, how);
        Agent agent;
        QJsonObject request = onTerminal(shell(u"set -m; sleep 100 & echo job $!; wait"_s));
        if (how == u"timeout"_s)
            request[u"timeoutMs"_s] = 3000;
        const int session = agent.exec(1, request)[u"pid"_s].toInt();
        QVERIFY(session > 0);
        const QByteArray started = agent.outputUntil(1, "\r\n");
        const int job = started.mid(started.indexOf("job ") + 4).trimmed().toInt();
        QVERIFY2(job > 0, started.constData());
        // The job is in the session but not in the shell's group (unless the timeout has
        // struck already, on a machine slow enough).
        if (how != u"timeout"_s) {
            QCOMPARE(liveMembers(session, StatField::Session).size(), 2);
            QVERIFY(liveMembers(session).size() == 1 && !liveMembers(session).contains(job));
        }

        if (how == u"signal"_s) {
            QCOMPARE(agent.call(2, R"({"op": "signal", "target": 1, "signal": 9})"), ok());
            QCOMPARE(agent.collect(1).exit, killedBy(SIGKILL, false));
        } else if (how == u"timeout"_s) {
            QCOMPARE(agent.collect(1).exit, killedBy(SIGKILL, true));
        } else {
            QCOMPARE(agent.call(2, R"({"op": "shutdown"})"), ok());
            QVERIFY(agent.process.waitForFinished(HangMs));
        }
        QTRY_VERIFY_WITH_TIMEOUT(liveMembers(session, StatField::Session).isEmpty(), HangMs);
    }

    // What a finished terminal command left running goes with the agent, as a group does.
    void lingeringSessionIsKilledAtTheEnd()
    {
        Agent agent;
        const int session = agent.exec(1, onTerminal(shell(u"set -m; sleep 100 & echo started"_s)))[u"pid"_s].toInt();
        QVERIFY(session > 0);
        QCOMPARE(agent.collect(1).exit, exitCode(0));
        // A process of the session still runs (job control gave it a group of its own, and
        // nothing made it leave the session).
        QCOMPARE(liveMembers(session, StatField::Session).size(), 1);
        QCOMPARE(agent.call(2, R"({"op": "shutdown"})"), ok());
        QVERIFY(agent.process.waitForFinished(HangMs));
        QTRY_VERIFY_WITH_TIMEOUT(liveMembers(session, StatField::Session).isEmpty(), HangMs);
    }

    void interactiveShell_data()
    {
        QTest::addColumn<int>("uid");
        QTest::addColumn<QString>("shell");
        QTest::addColumn<QString>("user");
        QTest::newRow("root: its passwd shell") << 0 << u"/bin/bash"_s << u"root"_s;
        // nologin turns people away: bash instead.
        QTest::newRow("nobody: bash") << 65534 << u"/bin/bash"_s << u"nobody"_s;
    }

    void interactiveShell()
    {
        QFETCH(int, uid);
        QFETCH(QString, shell);
        QFETCH(QString, user);
        if (geteuid() != 0)
            QSKIP("changing the user needs root, and the passwd entries checked are root's and nobody's");
        Agent agent;
        QJsonObject request = onTerminal({{u"interactiveShell"_s, true}, {u"uid"_s, uid}});
        request[u"env"_s] = QJsonObject{{u"PATH"_s, u"/usr/bin:/bin"_s}, {u"HOME"_s, u"/tmp"_s}, {u"PS1"_s, u"$ "_s}};
        QCOMPARE(agent.exec(1, request)[u"ok"_s], true);
        agent.send(quint8(FrameType::Stdin), 1, "echo \"<$((6 * 7)) $0 $SHELL $USER $HOME $TERM>\"; exit 3\n");
        const Agent::Output output = agent.collect(1);
        const QString expected = u"<42 %1 %1 %2 /tmp xterm-256color>"_s.arg(shell, user);
        QVERIFY2(output.out.contains(expected.toUtf8()), output.out.constData());
        QCOMPARE(output.exit, exitCode(3));
    }

    void outputFileTakesBothStreams()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString log = dir.filePath(u"command.log"_s);
        Agent agent;
        QJsonObject request = shell(u"echo out; echo err >&2; cat; echo last"_s);
        request[u"output"_s] = log;
        const Agent::Output output = agent.run(1, request);
        QCOMPARE(output.out, "");
        QCOMPARE(output.err, "");
        QCOMPARE(output.exit, exitCode(0));
        QFile file(log);
        QVERIFY(file.open(QIODevice::ReadOnly));
        // stdin is /dev/null, so `cat` ends at once; appending keeps the order of writes.
        QCOMPARE(file.readAll(), "out\nerr\nlast\n");
        QCOMPARE(file.permissions() & (QFile::ReadOther | QFile::ReadGroup), QFile::Permissions());

        request[u"output"_s] = dir.filePath(u"missing/command.log"_s);
        const QJsonObject refused = agent.exec(2, request);
        QCOMPARE(refused[u"ok"_s], false);
        QVERIFY2(refused[u"error"_s].toString().contains(u"missing/command.log"_s), qPrintable(refused[u"error"_s].toString()));
    }

    void stdinIsDevNullByDefault()
    {
        Agent agent;
        const Agent::Output output = agent.run(1, argv({u"cat"_s}));
        QCOMPARE(output.out, "");
        QCOMPARE(output.exit, exitCode(0));
    }

    void timeout()
    {
        Agent agent;
        QJsonObject request = argv({u"sleep"_s, u"10"_s});
        request[u"timeoutMs"_s] = 200;
        QCOMPARE(agent.run(1, request).exit, killedBy(SIGKILL, true));
    }

    void signalTerm()
    {
        Agent agent;
        QCOMPARE(agent.exec(3, argv({u"sleep"_s, u"100"_s}))[u"ok"_s], true);
        QCOMPARE(agent.call(4, R"({"op": "signal", "target": 3, "signal": 15})"), ok());
        QCOMPARE(agent.collect(3).exit, killedBy(SIGTERM, false));
    }

    // Target 0 stops and continues every descendant, also those that left their group.
    void signalTheWholeTree()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString counter = dir.filePath(u"counter"_s);
        Agent agent;
        QJsonObject request = shell(u"setsid sh -c 'while :; do echo x >> \"$0\"; sleep 0.02; done' \"%1\" & "
                                    "echo started; wait"_s.arg(counter));
        QCOMPARE(agent.exec(1, request)[u"ok"_s], true);
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(counter).size() > 0, HangMs);
        const QJsonObject stopped = agent.call(2, R"({"op": "signal", "target": 0, "signal": 19})");
        QCOMPARE(stopped[u"ok"_s], true);
        QCOMPARE(stopped[u"processes"_s].toInt() >= 2, true);
        const qint64 frozen = QFileInfo(counter).size();
        QTest::qWait(300);
        QCOMPARE(QFileInfo(counter).size(), frozen);
        QCOMPARE(agent.call(3, R"({"op": "signal", "target": 0, "signal": 18})")[u"ok"_s], true);
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(counter).size() > frozen, HangMs);
        QCOMPARE(agent.call(4, R"({"op": "signal", "target": 0, "signal": 9})")[u"ok"_s], true);
        QCOMPARE(agent.collect(1).exit, killedBy(SIGKILL, false));
    }

    void signalWithoutCommand()
    {
        Agent agent;
        const QJsonObject reply = agent.call(4, R"({"op": "signal", "target": 99, "signal": 15})");
        QCOMPARE(reply[u"ok"_s], false);
        QCOMPARE(reply[u"error"_s].toString(), u"no running command on channel 99"_s);
        // A finished command is no target either.
        agent.run(5, argv({u"true"_s}));
        QCOMPARE(agent.call(6, R"({"op": "signal", "target": 5, "signal": 15})")[u"ok"_s], false);
    }

    void channelInUse()
    {
        Agent agent;
        QCOMPARE(agent.exec(3, argv({u"sleep"_s, u"100"_s}))[u"ok"_s], true);
        const QJsonObject reply = agent.exec(3, argv({u"true"_s}));
        QCOMPARE(reply[u"error"_s].toString(), u"channel 3 is in use"_s);
    }

    void wholeGroupIsKilled_data()
    {
        QTest::addColumn<bool>("byTimeout");
        QTest::newRow("signal") << false;
        QTest::newRow("timeout") << true;
    }

    void wholeGroupIsKilled()
    {
        QFETCH(bool, byTimeout);
        Agent agent;
        QJsonObject request = shell(u"sleep 100 & sleep 100; echo unreachable"_s);
        if (byTimeout)
            request[u"timeoutMs"_s] = 4000;
        const QJsonObject started = agent.exec(1, request);
        const int group = started[u"pid"_s].toInt();
        QVERIFY(group > 0);
        // The shell and both sleeps.
        QTRY_COMPARE_WITH_TIMEOUT(liveMembers(group).size(), 3, HangMs);
        if (!byTimeout)
            QCOMPARE(agent.call(2, R"({"op": "signal", "target": 1, "signal": 15})")[u"ok"_s], true);
        QCOMPARE(agent.collect(1).exit, byTimeout ? killedBy(SIGKILL, true) : killedBy(SIGTERM, false));
        QTRY_VERIFY_WITH_TIMEOUT(liveMembers(group).isEmpty(), HangMs);
    }

    void backgroundHolderDoesNotDelayExitForever()
    {
        // The background sleep keeps stdout open; Exit still comes once the shell is gone.
        Agent agent;
        const QJsonObject started = agent.exec(1, shell(u"echo main; sleep 100 &"_s));
        const Agent::Output output = agent.collect(1);
        QCOMPARE(output.out, "main\n");
        QCOMPARE(output.exit, exitCode(0));
        const int group = started[u"pid"_s].toInt();
        QCOMPARE(liveMembers(group).size(), 1);
        // Shutting down reaches the group of a command that has already ended.
        QCOMPARE(agent.call(2, R"({"op": "shutdown"})"), ok());
        QVERIFY(agent.process.waitForFinished(HangMs));
        QTRY_VERIFY_WITH_TIMEOUT(liveMembers(group).isEmpty(), HangMs);
    }

    void closingStdinKillsEverything()
    {
        Agent agent;
        const int group = agent.exec(1, shell(u"sleep 100 & sleep 100"_s))[u"pid"_s].toInt();
        const int sleeper = agent.exec(2, argv({u"sleep"_s, u"100"_s}))[u"pid"_s].toInt();
        QVERIFY(group > 0 && sleeper > 0);
        QTRY_COMPARE_WITH_TIMEOUT(liveMembers(group).size(), 3, HangMs);
        agent.process.closeWriteChannel();
        QVERIFY(agent.process.waitForFinished(HangMs));
        QCOMPARE(agent.process.exitStatus(), QProcess::NormalExit);
        QCOMPARE(agent.process.exitCode(), 0);
        QTRY_VERIFY_WITH_TIMEOUT(liveMembers(group).isEmpty() && liveMembers(sleeper).isEmpty(), HangMs);
    }

    void shutdown()
    {
        Agent agent;
        const int sleeper = agent.exec(1, argv({u"sleep"_s, u"100"_s}))[u"pid"_s].toInt();
        QCOMPARE(agent.call(2, R"({"op": "shutdown"})"), ok());
        QVERIFY(agent.process.waitForFinished(HangMs));
        QCOMPARE(agent.process.exitCode(), 0);
        QTRY_VERIFY_WITH_TIMEOUT(liveMembers(sleeper).isEmpty(), HangMs);
    }

    void malformedRequests_data()
    {
        QTest::addColumn<QByteArray>("payload");
        QTest::addColumn<QString>("error");
        QTest::newRow("truncated") << QByteArray(R"({"op": "ping")") << u"invalid JSON: expected ',' or '}' at offset 13"_s;
        QTest::newRow("not an object") << QByteArray(R"(["ping"])") << u"invalid JSON: expected an object at offset 0"_s;
        QTest::newRow("trailing text") << QByteArray(R"({"op": "ping"} x)")
                                       << u"invalid JSON: unexpected text after the object at offset 15"_s;
        QTest::newRow("lone surrogate") << QByteArray(R"({"op": "\ud800"})")
                                        << u"invalid JSON: unpaired high surrogate at offset 14"_s;
        QTest::newRow("invalid UTF-8") << QByteArray("{\"op\": \"\xc3\x28\"}") << u"invalid JSON: invalid UTF-8 at offset 8"_s;
        QTest::newRow("control character") << QByteArray("{\"op\": \"a\nb\"}")
                                           << u"invalid JSON: control character in string at offset 9"_s;
        QTest::newRow("fraction") << QByteArray(R"({"op": "exec", "argv": ["true"], "timeoutMs": 1.5})")
                                  << u"invalid JSON: only integers are supported at offset 47"_s;
        QTest::newRow("huge integer") << QByteArray(R"({"op": "exec", "timeoutMs": 99999999999999999999})")
                                      << u"invalid JSON: integer out of range at offset 46"_s;
        QTest::newRow("nested array") << QByteArray(R"({"op": "exec", "argv": [["true"]]})")
                                      << u"invalid JSON: arrays may only hold strings at offset 24"_s;
        QTest::newRow("duplicate key") << QByteArray(R"({"op": "ping", "op": "ping"})")
                                       << u"invalid JSON: duplicate key \"op\" at offset 19"_s;
        QTest::newRow("no op") << QByteArray(R"({})") << u"\"op\" must be a string"_s;
        QTest::newRow("unknown op") << QByteArray(R"({"op": "fly"})") << u"\"op\" is unknown: \"fly\""_s;
        QTest::newRow("unknown field") << QByteArray(R"({"op": "exec", "argv": ["true"], "timeout": 5})")
                                       << u"\"timeout\" is not a field of \"exec\""_s;
        QTest::newRow("wrong type") << QByteArray(R"({"op": "exec", "argv": "true"})")
                                    << u"\"argv\" must be an array of strings"_s;
        QTest::newRow("NUL in argv") << QByteArray(R"({"op": "exec", "argv": ["a\u0000b"]})")
                                     << u"\"argv\" must not contain NUL characters"_s;
        QTest::newRow("output with stdin")
            << QByteArray(R"({"op": "exec", "argv": ["cat"], "stdin": true, "output": "/tmp/log"})")
            << u"\"output\" cannot be combined with \"stdin\""_s;
        QTest::newRow("bad signal") << QByteArray(R"({"op": "signal", "target": 1, "signal": 0})")
                                    << u"\"signal\" is out of range"_s;
        QTest::newRow("negative timeout") << QByteArray(R"({"op": "exec", "argv": ["true"], "timeoutMs": -1})")
                                          << u"\"timeoutMs\" is out of range"_s;
        QTest::newRow("no program") << QByteArray(R"({"op": "exec", "stdin": true})") << u"\"argv\" is required"_s;
        QTest::newRow("argv and shell")
            << QByteArray(R"({"op": "exec", "argv": ["sh"], "interactiveShell": true})")
            << u"\"argv\" cannot be combined with \"interactiveShell\""_s;
        QTest::newRow("pty of strings") << QByteArray(R"({"op": "exec", "argv": ["sh"], "pty": {"columns": "80"}})")
                                        << u"\"pty\" must be an object of integers"_s;
        QTest::newRow("pty of both")
            << QByteArray(R"({"op": "exec", "argv": ["sh"], "pty": {"columns": 80, "rows": "24"}})")
            << u"invalid JSON: nested objects hold strings or integers, not both at offset 62"_s;
        QTest::newRow("pty without rows") << QByteArray(R"({"op": "exec", "argv": ["sh"], "pty": {"columns": 80}})")
                                          << u"\"rows\" is required"_s;
        QTest::newRow("pty of no columns")
            << QByteArray(R"({"op": "exec", "argv": ["sh"], "pty": {"columns": 0, "rows": 24}})")
            << u"\"columns\" is out of range"_s;
        QTest::newRow("pty too tall")
            << QByteArray(R"({"op": "exec", "argv": ["sh"], "pty": {"columns": 80, "rows": 10001}})")
            << u"\"rows\" is out of range"_s;
        QTest::newRow("pty with more")
            << QByteArray(R"({"op": "exec", "argv": ["sh"], "pty": {"columns": 80, "rows": 24, "pixels": 1}})")
            << u"\"pixels\" is not a field of \"pty\""_s;
        QTest::newRow("pty and stdin")
            << QByteArray(R"({"op": "exec", "argv": ["sh"], "stdin": true, "pty": {"columns": 80, "rows": 24}})")
            << u"\"stdin\" cannot be combined with \"pty\", whose input is always fed"_s;
        QTest::newRow("pty and output")
            << QByteArray(R"({"op": "exec", "argv": ["sh"], "output": "/tmp/log", "pty": {"columns": 80, "rows": 24}})")
            << u"\"output\" cannot be combined with \"pty\""_s;
        QTest::newRow("resize of no target") << QByteArray(R"({"op": "resize", "columns": 80, "rows": 24})")
                                             << u"\"target\" is required"_s;
        QTest::newRow("resize of the agent")
            << QByteArray(R"({"op": "resize", "target": 0, "columns": 80, "rows": 24})")
            << u"\"target\" is out of range"_s;
        QTest::newRow("resize too wide")
            << QByteArray(R"({"op": "resize", "target": 1, "columns": 70000, "rows": 24})")
            << u"\"columns\" is out of range"_s;
        QTest::newRow("resize without rows") << QByteArray(R"({"op": "resize", "target": 1, "columns": 80})")
                                             << u"\"rows\" is required"_s;
    }

    void malformedRequests()
    {
        QFETCH(QByteArray, payload);
        QFETCH(QString, error);
        Agent agent;
        const QJsonObject reply = agent.call(9, payload);
        QCOMPARE(reply[u"ok"_s], false);
        QCOMPARE(reply[u"error"_s].toString(), error);
        QCOMPARE(agent.call(10, R"({"op": "ping"})")[u"ok"_s], true);
    }

    void unexpectedFrameType()
    {
        Agent agent;
        agent.send(99, 5, "whatever");
        const QJsonObject reply = agent.reply(5);
        QCOMPARE(reply[u"ok"_s], false);
        QCOMPARE(reply[u"error"_s].toString(), u"unexpected frame type 99"_s);
        QCOMPARE(agent.call(6, R"({"op": "ping"})")[u"ok"_s], true);
    }

    void oversizedFrameEndsTheAgent()
    {
        Agent agent;
        const int sleeper = agent.exec(1, argv({u"sleep"_s, u"100"_s}))[u"pid"_s].toInt();
        agent.process.write(header(Sandflow::AgentProtocol::MaxPayload + 1, quint8(FrameType::Request), 2));
        QVERIFY(agent.process.waitForFinished(HangMs));
        QCOMPARE(agent.process.exitCode(), 2);
        QTRY_VERIFY_WITH_TIMEOUT(liveMembers(sleeper).isEmpty(), HangMs);
    }

    void largeOutputArrivesInOrder()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QByteArray content(64 * 1024 * 1024, Qt::Uninitialized);
        QRandomGenerator generator(42);
        generator.fillRange(reinterpret_cast<quint32 *>(content.data()), content.size() / 4);
        QFile file(dir.filePath(u"big"_s));
        QVERIFY(file.open(QIODevice::WriteOnly));
        QCOMPARE(file.write(content), content.size());
        file.close();

        Agent agent;
        const Agent::Output output = agent.run(1, argv({u"cat"_s, file.fileName()}));
        QCOMPARE(output.exit, exitCode(0));
        QCOMPARE(output.out.size(), content.size());
        QVERIFY(output.out == content);
        QVERIFY(output.largestFrame <= qsizetype(Sandflow::AgentProtocol::MaxPayload));
    }

    void runsStaticallyInAnEmptySandbox()
    {
        const QString bwrap = QStandardPaths::findExecutable(u"bwrap"_s);
        if (bwrap.isEmpty())
            QSKIP("bwrap is not installed");
        if (QProcess::execute(bwrap, {u"--dev-bind"_s, u"/"_s, u"/"_s, u"--unshare-all"_s, u"true"_s}) != 0)
            QSKIP("bwrap cannot create sandboxes here");
        // Nothing but the agent in the root filesystem: no libc, no loader, no /bin.
        Agent agent(bwrap, {u"--ro-bind"_s, QString::fromUtf8(SANDFLOW_AGENT_PATH), u"/agent"_s, u"--proc"_s,
                            u"/proc"_s, u"--dev"_s, u"/dev"_s, u"--unshare-all"_s, u"--die-with-parent"_s,
                            u"--"_s, u"/agent"_s});
        QCOMPARE(agent.call(1, R"({"op": "ping"})")[u"ok"_s], true);
        const QJsonObject reply = agent.exec(2, argv({u"sh"_s}));
        QCOMPARE(reply[u"error"_s].toString(), u"exec(sh): No such file or directory"_s);
        QCOMPARE(agent.call(3, R"({"op": "shutdown"})"), ok());
        QVERIFY(agent.process.waitForFinished(HangMs));
        QCOMPARE(agent.process.exitCode(), 0);
    }
};

QTEST_GUILESS_MAIN(TestAgent)
#include "tst_agent.moc"
