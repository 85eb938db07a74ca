// The runner's half of the framing in agentprotocol.h, apart from any process: the agent's
// bytes go in, in pieces of any size, and its messages come out, checked. What the agent
// sends is hostile input (a sandbox may have taken it over), so a stream that breaks the
// protocol (a length over MaxPayload, a frame type the agent does not send, a JSON payload
// that is not an object) stops the decoder for good: there is no telling where the next
// frame would start.
#pragma once

#include "agentprotocol.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <optional>

namespace Sandflow::Internal {

/// One frame from the agent.
struct AgentMessage
{
    /// Reply, Stdout, Stderr, Exit, Event or StdinWritten
    AgentProtocol::FrameType type = AgentProtocol::FrameType::Event;
    quint32 channel = 0;
    QByteArray data;       ///< Stdout and Stderr: the output
    QJsonObject object;    ///< Reply, Exit, Event and StdinWritten: the payload
};

class AgentFrameDecoder
{
public:
    /// Bytes as they arrived, after those before.
    void append(const QByteArray &bytes);
    /// The next whole message; std::nullopt until more bytes arrive, and for good once the
    /// stream broke the protocol.
    std::optional<AgentMessage> next();

    /// Why the stream broke the protocol; empty while it has not.
    const QString &error() const { return m_error; }
    /// Bytes taken in and not yet handed out as messages.
    qsizetype pendingBytes() const { return m_buffer.size() - m_start; }

private:
    std::optional<AgentMessage> fail(const QString &error);

    QByteArray m_buffer;
    qsizetype m_start = 0;   ///< bytes of m_buffer already handed out
    QString m_error;
};

} // namespace Sandflow::Internal
