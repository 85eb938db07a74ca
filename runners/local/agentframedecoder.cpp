#include "agentframedecoder_p.h"

#include <QJsonDocument>
#include <QtEndian>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;
using AgentProtocol::FrameType;
using AgentProtocol::HeaderSize;
using AgentProtocol::MaxPayload;

void AgentFrameDecoder::append(const QByteArray &bytes)
{
    // What was handed out goes first, so the buffer holds at most one frame in the making.
    m_buffer.remove(0, m_start);
    m_start = 0;
    m_buffer.append(bytes);
}

std::optional<AgentMessage> AgentFrameDecoder::next()
{
    if (!m_error.isEmpty() || pendingBytes() < qsizetype(HeaderSize))
        return std::nullopt;
    const char *header = m_buffer.constData() + m_start;
    const quint32 length = qFromLittleEndian<quint32>(header);
    if (length > MaxPayload)
        return fail(u"a frame of %1 bytes, more than the protocol's %2"_s.arg(length).arg(MaxPayload));
    if (pendingBytes() - qsizetype(HeaderSize) < qsizetype(length))
        return std::nullopt;
    AgentMessage message;
    const quint8 type = quint8(header[4]);
    message.type = FrameType(type);
    message.channel = qFromLittleEndian<quint32>(header + 5);
    const QByteArray payload = m_buffer.sliced(m_start + HeaderSize, length);
    switch (message.type) {
    case FrameType::Stdout:
    case FrameType::Stderr:
        message.data = payload;
        break;
    case FrameType::Reply:
    case FrameType::Exit:
    case FrameType::Event:
    case FrameType::StdinWritten: {
        QJsonParseError parseError;
        const QJsonDocument document = QJsonDocument::fromJson(payload, &parseError);
        if (parseError.error != QJsonParseError::NoError)
            return fail(u"malformed JSON: %1"_s.arg(parseError.errorString()));
        if (!document.isObject())
            return fail(u"JSON that is not an object"_s);
        message.object = document.object();
        break;
    }
    case FrameType::Request:
    case FrameType::Stdin:
    default:
        return fail(u"a frame of unknown type %1"_s.arg(type));
    }
    m_start += HeaderSize + length;
    return message;
}

std::optional<AgentMessage> AgentFrameDecoder::fail(const QString &error)
{
    m_error = error;
    return std::nullopt;
}

} // namespace Sandflow::Internal
