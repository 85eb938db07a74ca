// The runner's end of the agent protocol (agentprotocol.h): starts the process that runs
// the agent (bubblewrap in production, the bare agent in its tests), frames requests and
// turns the agent's frames into signals.
#pragma once

#include "agentframedecoder_p.h"
#include "agentprotocol.h"

#include <QByteArray>
#include <QDeadlineTimer>
#include <QJsonObject>
#include <QObject>
#include <QProcess>
#include <QTimer>

#include <chrono>
#include <functional>
#include <map>
#include <optional>

namespace Sandflow::Internal {

class AgentConnection final : public QObject
{
    Q_OBJECT

public:
    enum class Stream { Stdout, Stderr };
    Q_ENUM(Stream)

    explicit AgentConnection(QObject *parent = nullptr);
    ~AgentConnection() override;

    /// Starts `program` (whose stdin and stdout are the agent's control pipes). `childSetup`
    /// runs in the child between fork and exec and must be async-signal-safe.
    void start(const QString &program, const QStringList &arguments, const std::function<void()> &childSetup = {});
    bool isRunning() const;
    qint64 processId() const;

    /// Sends a request on a new channel and returns the channel.
    quint32 request(const QJsonObject &request);
    /// The channel the next request will get.
    quint32 nextChannel() const { return m_nextChannel; }
    /// Bytes written to the agent but not yet taken by it, to pace large stdin streams.
    qint64 pendingBytes() const { return m_process.bytesToWrite(); }
    /// Feeds a command's stdin; an empty `data` closes it.
    void writeStdin(quint32 channel, const QByteArray &data);
    /// Closes the control pipe: the agent then kills every command and exits.
    void closeControl();
    /// Kills the process at once, for an agent that does not answer. `disconnected` follows.
    void kill();
    /// How long the agent has to answer each request, and to exit once its control pipe is
    /// closed. Past it the connection fails (the agent did not answer within ...) and the
    /// process is killed: a stopped or silent agent would otherwise hold everyone waiting
    /// on it for ever. Only Reply frames are bounded, not output or a command's run. Zero
    /// (the default): no bound. Setting it restarts the wait for whatever is pending.
    void setReplyTimeout(std::chrono::milliseconds timeout);

signals:
    void started();
    void replied(quint32 channel, const QJsonObject &reply);
    /// The agent took some of the pending bytes.
    void written();
    void output(quint32 channel, Sandflow::Internal::AgentConnection::Stream stream, const QByteArray &data);
    void commandExited(quint32 channel, const QJsonObject &status);
    /// The agent is done with `bytes` more of the command's stdin (StdinWritten). The count
    /// is the agent's word: a sandbox may say anything, so users bound it by what they sent.
    void stdinWritten(quint32 channel, qint64 bytes);
    void notified(const QJsonObject &event);
    /// The agent is gone (its process ended, or it sent a corrupt stream, after which the
    /// connection is closed). Emitted once.
    void disconnected(const QString &reason);

private:
    void writeFrame(AgentProtocol::FrameType type, quint32 channel, const QByteArray &payload);
    void readFrames();
    void dispatch(const AgentMessage &message);
    void readDiagnostics();
    QDeadlineTimer replyDeadline() const;
    /// Sets the timer to the earliest deadline pending.
    void armDeadline();
    void checkDeadlines();
    void fail(const QString &reason);

    QProcess m_process;
    AgentFrameDecoder m_frames;
    QByteArray m_diagnostics;   ///< the start of what the process wrote to its stderr
    quint32 m_nextChannel = 1;
    bool m_disconnected = false;
    std::chrono::milliseconds m_replyTimeout{0};
    std::map<quint32, QDeadlineTimer> m_awaitingReply;   ///< requests by channel
    std::optional<QDeadlineTimer> m_awaitingExit;        ///< once the control pipe is closed
    QTimer m_deadlineTimer;
};

} // namespace Sandflow::Internal
