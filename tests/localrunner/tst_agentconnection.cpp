// AgentConnection, the runner's end of the agent protocol, against the real agent: requests
// become frames, frames become signals, and a lost or corrupt agent is reported once.
#include "agentconnection_p.h"

#include <QJsonArray>
#include <QSignalSpy>
#include <QTest>

#include <csignal>

using namespace Qt::StringLiterals;
using Sandflow::Internal::AgentConnection;

class TestAgentConnection : public QObject
{
    Q_OBJECT

private slots:
    void pingIsAnswered();
    void commandOutputAndExit();
    void stdinReachesTheCommand();
    void largeOutputArrivesInOrder();
    void closingTheControlPipeStopsTheAgent();
    void aMissingProgramIsReported();

private:
    static void startAgent(AgentConnection *connection);
    static QJsonObject exec(const QStringList &argv, bool stdinPipe = false);
    /// Appends the connection's stdout to `out` and stderr to `err` (or to `out` without one).
    void collect(AgentConnection *connection, QByteArray *out, QByteArray *err = nullptr);
};

void TestAgentConnection::collect(AgentConnection *connection, QByteArray *out, QByteArray *err)
{
    connect(connection, &AgentConnection::output, this,
            [out, err](quint32, AgentConnection::Stream stream, const QByteArray &data) {
                (stream == AgentConnection::Stream::Stderr && err ? *err : *out) += data;
            });
}

void TestAgentConnection::startAgent(AgentConnection *connection)
{
    QSignalSpy started(connection, &AgentConnection::started);
    connection->start(QStringLiteral(SANDFLOW_AGENT_PATH), {});
    QVERIFY(started.wait(10'000));
}

QJsonObject TestAgentConnection::exec(const QStringList &argv, bool stdinPipe)
{
    return {{u"op"_s, u"exec"_s}, {u"argv"_s, QJsonArray::fromStringList(argv)}, {u"cwd"_s, u"/"_s},
            {u"stdin"_s, stdinPipe}};
}

void TestAgentConnection::pingIsAnswered()
{
    AgentConnection connection;
    startAgent(&connection);
    QSignalSpy replied(&connection, &AgentConnection::replied);
    const quint32 channel = connection.request({{u"op"_s, u"ping"_s}});
    QVERIFY(replied.wait(10'000));
    QCOMPARE(replied.first().at(0).toUInt(), channel);
    QCOMPARE(replied.first().at(1).toJsonObject()[u"ok"_s].toBool(), true);
}

void TestAgentConnection::commandOutputAndExit()
{
    AgentConnection connection;
    startAgent(&connection);
    QByteArray out;
    QByteArray err;
    collect(&connection, &out, &err);
    QSignalSpy exited(&connection, &AgentConnection::commandExited);
    const quint32 channel = connection.request(exec({u"/bin/sh"_s, u"-c"_s, u"echo out; echo err >&2; exit 3"_s}));
    QVERIFY(exited.wait(10'000));
    QCOMPARE(exited.first().at(0).toUInt(), channel);
    QCOMPARE(exited.first().at(1).toJsonObject()[u"exitCode"_s].toInt(), 3);
    QCOMPARE(out, QByteArray("out\n"));
    QCOMPARE(err, QByteArray("err\n"));
}

void TestAgentConnection::stdinReachesTheCommand()
{
    AgentConnection connection;
    startAgent(&connection);
    QByteArray out;
    collect(&connection, &out);
    QSignalSpy exited(&connection, &AgentConnection::commandExited);
    const quint32 channel = connection.request(exec({u"/bin/cat"_s}, true));
    connection.writeStdin(channel, "hello ");
    connection.writeStdin(channel, "agent");
    connection.writeStdin(channel, {});
    QVERIFY(exited.wait(10'000));
    QCOMPARE(out, QByteArray("hello agent"));
}

// More than one frame's worth, so that frames split across reads are put back together.
void TestAgentConnection::largeOutputArrivesInOrder()
{
    AgentConnection connection;
    startAgent(&connection);
    QByteArray out;
    collect(&connection, &out);
    QSignalSpy exited(&connection, &AgentConnection::commandExited);
    connection.request(exec({u"/usr/bin/seq"_s, u"1"_s, u"400000"_s}));
    QVERIFY(exited.wait(30'000));
    QByteArray expected;
    for (int i = 1; i <= 400'000; ++i)
        expected += QByteArray::number(i) + '\n';
    QCOMPARE(out.size(), expected.size());
    QVERIFY(out == expected);
}

void TestAgentConnection::closingTheControlPipeStopsTheAgent()
{
    AgentConnection connection;
    startAgent(&connection);
    QSignalSpy replied(&connection, &AgentConnection::replied);
    connection.request(exec({u"/bin/sleep"_s, u"100"_s}));
    QVERIFY(replied.wait(10'000));
    const qint64 sleeper = replied.first().at(1).toJsonObject()[u"pid"_s].toInteger();
    QVERIFY(sleeper > 0);
    QSignalSpy disconnected(&connection, &AgentConnection::disconnected);
    connection.closeControl();
    QVERIFY(disconnected.wait(10'000));
    QCOMPARE(disconnected.first().at(0).toString(), u"the agent exited with status 0"_s);
    QVERIFY(!connection.isRunning());
    QTRY_VERIFY(::kill(pid_t(sleeper), 0) != 0);   // the command went with it
    QTest::qWait(50);
    QCOMPARE(disconnected.size(), 1);
}

void TestAgentConnection::aMissingProgramIsReported()
{
    AgentConnection connection;
    QSignalSpy disconnected(&connection, &AgentConnection::disconnected);
    connection.start(u"/nonexistent/sandflow-agent"_s, {});
    QVERIFY(disconnected.wait(10'000));
    QVERIFY(disconnected.first().at(0).toString().startsWith(u"cannot start /nonexistent/sandflow-agent"_s));
}

QTEST_GUILESS_MAIN(TestAgentConnection)
#include "tst_agentconnection.moc"
