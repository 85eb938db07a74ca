// A terminal in a sandbox over execd's PTY route: POST /pty makes the session, a WebSocket
// to /pty/{id}/ws starts its process and carries input, output and the window's size
// (runners/server/ptywire_p.h describes the frames). The session is deleted when the
// process has ended or the job is cancelled: execd keeps sessions until then.
#pragma once

#include "opensandboxclient.h"
#include "runner.h"

#include <QByteArray>
#include <QPointer>
#include <QWebSocket>

namespace Sandflow::Internal {

class Transport;

class PtyTerminalJob final : public TerminalJob
{
    Q_OBJECT

public:
    PtyTerminalJob(Transport &transport, OpenSandboxEndpoint execd, TerminalRequest request);
    ~PtyTerminalJob() override;

    void writeInput(const QByteArray &data) override;
    void closeInput() override;
    void resize(int columns, int rows) override;
    void sendSignal(int signal) override;
    qint64 pendingInput() const override;

protected:
    void doStart() override;
    void doCancel() override;

private:
    void openSocket();
    void frameReceived(const QByteArray &frame);
    void textReceived(const QString &frame);
    void socketClosed();
    void sendControl(const QJsonObject &frame);
    /// Closes the socket, deletes the session (its process, if any is left, goes with it),
    /// then finishes with `error`.
    void endWith(std::optional<JobError> error);
    JobError failure(const QString &code, const QString &message) const;

    Transport &m_transport;
    OpenSandboxEndpoint m_execd;
    TerminalRequest m_request;
    QString m_sessionId;
    QPointer<AsyncJob> m_create;
    QPointer<AsyncJob> m_removal;
    QWebSocket m_socket;
    bool m_connected = false;
    bool m_inputClosed = false;
    QByteArray m_early;     ///< input given before the socket was connected
};

} // namespace Sandflow::Internal
