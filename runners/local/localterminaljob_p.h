// Terminals in a local sandbox: a command the agent runs on a pty of the sandbox's own, or
// with its stdin fed from the runner, for a person (or a program standing in for one) to
// talk to.
#pragma once

#include "localsandbox_p.h"
#include "runner.h"

#include <QPointer>

namespace Sandflow {
class LocalRunner;
}

namespace Sandflow::Internal {

class LocalCommandJob;

/// A LocalCommandJob with a terminal or a stdin pipe, and the input, window size and signals
/// that go with it. Input waits in the runner until the agent reports the command took what
/// was sent before (AgentProtocol::StdinWindow), so a command that does not read costs the
/// sandbox nothing. Cancelling kills every process of the command at once.
class LocalTerminalJob final : public TerminalJob
{
public:
    LocalTerminalJob(LocalRunner *runner, QString sandboxId, TerminalRequest request);

    void writeInput(const QByteArray &data) override;
    void closeInput() override;
    void resize(int columns, int rows) override;
    void sendSignal(int signal) override;
    qint64 pendingInput() const override;

protected:
    void doStart() override;
    void doCancel() override;

private:
    void onStarted(const QString &commandId);
    /// Sends what the window allows of the input, and its end once all is sent.
    void sendInput();
    void onInputWritten(qint64 bytes);
    /// The agent while the command runs; nullptr before and after.
    AgentConnection *agent() const;

    LocalRunner *m_runner;
    QString m_sandboxId;
    TerminalRequest m_request;
    QPointer<LocalCommandJob> m_run;
    QPointer<LocalSandbox> m_sandbox;   ///< once the command has started
    quint32 m_channel = 0;
    std::pair<int, int> m_window;       ///< the terminal's columns and rows, as the agent was told
    QByteArray m_input;                 ///< given to writeInput(); the first m_inputSent bytes are sent
    qsizetype m_inputSent = 0;
    qint64 m_unacknowledged = 0;        ///< sent, and not yet reported written by the agent
    bool m_inputClosed = false;
    bool m_endSent = false;
    bool m_cancelled = false;
};

} // namespace Sandflow::Internal
