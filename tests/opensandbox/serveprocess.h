// `sandflow serve` for a test: the built executable (SANDFLOW_BINARY) on a free loopback
// port, with its own state directory and API key, and a client configuration that reaches
// it. Tests may wait, so start() and stop() block until the server is up or gone.
//
//   ServeProcess server;
//   QVERIFY2(server.start(), qPrintable(server.problem()));
//   OpenSandboxClient client(server.config());
//   ...
//   QVERIFY2(server.stop(), qPrintable(server.problem()));
#pragma once

#include "opensandboxclient.h"

#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>

class ServeProcess
{
public:
    /// Only matters when something hangs: the test then fails instead of blocking forever.
    static constexpr int HangLimitMs = 120'000;

    ServeProcess() = default;
    ServeProcess(const ServeProcess &) = delete;
    ServeProcess &operator=(const ServeProcess &) = delete;
    ~ServeProcess() { stop(); }

    /// Starts `sandflow serve` with `extraArguments` after its listening address, API key and
    /// state directory; true once it said where it listens.
    bool start(const QStringList &extraArguments = {})
    {
        using namespace Qt::StringLiterals;
        if (!m_stateDir.isValid()) {
            m_problem = u"no temporary state directory: "_s + m_stateDir.errorString();
            return false;
        }
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(u"OPEN_SANDBOX_DOMAIN"_s);
        env.remove(u"OPEN_SANDBOX_API_KEY"_s);
        m_process.setProcessEnvironment(env);
        m_process.setProgram(QStringLiteral(SANDFLOW_BINARY));
        m_process.setArguments(QStringList{u"serve"_s, u"--listen"_s, u"127.0.0.1:0"_s, u"--api-key"_s, apiKey(),
                                           u"--state-dir"_s, m_stateDir.path()}
                               + extraArguments);
        m_process.setStandardInputFile(QProcess::nullDevice());
        m_process.start();
        if (!m_process.waitForStarted(HangLimitMs)) {
            m_problem = u"sandflow serve did not start: "_s + m_process.errorString();
            return false;
        }
        // The first line says where it listens; port 0 let the system choose.
        QByteArray out;
        while (!out.contains('\n') && m_process.state() == QProcess::Running) {
            m_process.waitForReadyRead(HangLimitMs);
            out += m_process.readAllStandardOutput();
        }
        static const QRegularExpression listening(u"^sandflow serve: listening on http://127\\.0\\.0\\.1:(\\d+)\\n"_s);
        const QRegularExpressionMatch match = listening.match(QString::fromUtf8(out));
        if (!match.hasMatch()) {
            m_problem = u"sandflow serve said: %1 %2"_s.arg(QString::fromUtf8(out),
                                                            QString::fromUtf8(m_process.readAllStandardError()));
            return false;
        }
        m_port = quint16(match.captured(1).toUInt());
        return true;
    }

    /// A client configuration for this server, with its API key.
    Sandflow::OpenSandboxConfig config() const
    {
        Sandflow::OpenSandboxConfig config;
        config.domain = QStringLiteral("127.0.0.1:%1").arg(m_port);
        config.apiKey = apiKey();
        return config;
    }

    /// SIGTERM (the server deletes its sandboxes and exits), then waits for it to exit; true
    /// when it exited with status 0, or was not running.
    bool stop()
    {
        using namespace Qt::StringLiterals;
        if (m_process.state() == QProcess::NotRunning)
            return true;
        m_process.terminate();
        if (!m_process.waitForFinished(HangLimitMs)) {
            m_problem = u"sandflow serve did not stop on SIGTERM"_s;
            m_process.kill();
            m_process.waitForFinished();
            return false;
        }
        if (m_process.exitStatus() != QProcess::NormalExit || m_process.exitCode() != 0) {
            m_problem = u"sandflow serve ended with status %1: %2"_s.arg(m_process.exitCode())
                            .arg(QString::fromUtf8(m_process.readAllStandardError()));
            return false;
        }
        return true;
    }

    /// Why start() or stop() failed.
    QString problem() const { return m_problem; }

    static QString apiKey() { return QStringLiteral("serveprocess-key"); }

private:
    QTemporaryDir m_stateDir;
    QProcess m_process;
    quint16 m_port = 0;
    QString m_problem;
};
