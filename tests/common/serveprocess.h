// A real `sandflow serve` for tests that need an OpenSandbox server: the built program on a
// free loopback port (the system picks it), with a state directory and an API key of the
// test's own. Stopped with SIGTERM, as a user's Ctrl-C would, which deletes its sandboxes.
//
// With SANDFLOW_TEST_JUDGE set to a program, the clients talk to the server through it: it
// is started with the server's HOST:PORT, must print `listening on 127.0.0.1:PORT` first, and
// passes every request on. The contract tests (tests/contract) set it to their validating
// proxy, so that these suites' traffic is judged against the upstream specs too.
#pragma once

#include <QProcess>
#include <QRegularExpression>
#include <QString>
#include <QStringList>

#include <csignal>
#include <sys/prctl.h>

class ServeProcess
{
public:
    /// Starts `program serve` and waits for the line saying where it listens. On failure
    /// failure() says what the server printed.
    bool start(const QString &program, const QString &stateDirectory, const QString &apiKey,
               const QStringList &extraArguments = {},
               const QProcessEnvironment &environment = QProcessEnvironment::systemEnvironment())
    {
        using namespace Qt::StringLiterals;
        m_apiKey = apiKey;
        m_process.setProgram(program);
        m_process.setArguments(QStringList{u"serve"_s, u"--listen"_s, u"127.0.0.1:0"_s, u"--api-key"_s, apiKey,
                                           u"--state-dir"_s, stateDirectory}
                               + extraArguments);
        m_process.setProcessEnvironment(environment);
        m_process.setStandardInputFile(QProcess::nullDevice());
        // A test that crashes or is killed takes its server along (SIGTERM: it deletes its
        // sandboxes as it goes).
        m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
        m_process.start();
        if (!m_process.waitForStarted(HangLimitMs)) {
            m_failure = m_process.errorString();
            return false;
        }
        QByteArray out;
        while (!out.contains('\n') && m_process.state() == QProcess::Running) {
            m_process.waitForReadyRead(HangLimitMs);
            out += m_process.readAllStandardOutput();
        }
        static const QRegularExpression listening(u"^sandflow serve: listening on (http://127\\.0\\.0\\.1:(\\d+))\\n"_s);
        const QRegularExpressionMatch match = listening.match(QString::fromUtf8(out));
        if (!match.hasMatch()) {
            m_failure = u"the server said: %1 %2"_s.arg(QString::fromUtf8(out),
                                                        QString::fromUtf8(m_process.readAllStandardError()));
            return false;
        }
        m_url = match.captured(1);
        m_port = quint16(match.captured(2).toUInt());
        return startJudge();
    }

    /// SIGTERM, then waits; true when it ended on its own with status 0.
    bool stop()
    {
        if (m_judge.state() == QProcess::Running) {
            m_judge.terminate();
            m_judge.waitForFinished(HangLimitMs);
        }
        if (m_process.state() != QProcess::Running)
            return true;
        m_process.terminate();
        if (!m_process.waitForFinished(HangLimitMs)) {
            m_failure = QStringLiteral("the server did not stop on SIGTERM");
            m_process.kill();
            m_process.waitForFinished();
            return false;
        }
        m_failure = QString::fromUtf8(m_process.readAllStandardError());
        return m_process.exitStatus() == QProcess::NormalExit && m_process.exitCode() == 0;
    }

    ~ServeProcess() { stop(); }

    /// `http://127.0.0.1:PORT`: the server's, or the judge's in front of it.
    const QString &url() const { return m_url; }
    /// The server's own port, judge or not.
    quint16 port() const { return m_port; }
    const QString &apiKey() const { return m_apiKey; }
    const QString &failure() const { return m_failure; }
    QProcess &process() { return m_process; }

private:
    /// Only matters when something hangs: the test then fails instead of blocking forever.
    static constexpr int HangLimitMs = 120'000;

    bool startJudge()
    {
        using namespace Qt::StringLiterals;
        const QString judge = qEnvironmentVariable("SANDFLOW_TEST_JUDGE");
        if (judge.isEmpty())
            return true;
        m_judge.setProgram(judge);
        m_judge.setArguments({u"127.0.0.1:%1"_s.arg(m_port)});
        m_judge.setStandardInputFile(QProcess::nullDevice());
        m_judge.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_judge.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
        m_judge.start();
        QByteArray out;
        while (!out.contains('\n') && m_judge.state() != QProcess::NotRunning) {
            m_judge.waitForReadyRead(HangLimitMs);
            out += m_judge.readAllStandardOutput();
        }
        static const QRegularExpression listening(u"listening on (127\\.0\\.0\\.1:\\d+)\\n"_s);
        const QRegularExpressionMatch match = listening.match(QString::fromUtf8(out));
        if (!match.hasMatch()) {
            m_failure = u"the judge %1 said: %2"_s.arg(judge, QString::fromUtf8(out));
            return false;
        }
        m_url = u"http://"_s + match.captured(1);
        return true;
    }

    QProcess m_process;
    QProcess m_judge;
    QString m_url;
    QString m_apiKey;
    QString m_failure;
    quint16 m_port = 0;
};
