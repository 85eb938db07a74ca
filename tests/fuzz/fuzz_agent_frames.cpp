// Feeds arbitrary bytes, cut into arbitrary pieces, to the runner's decoder of the agent's
// frames: what a sandbox that took its agent over could send. However the bytes are cut, the
// decoder must hand out the same messages, each one the frame the stream holds at that point
// and none larger than MaxPayload; hold nothing but the start of one frame; and stop for good
// at the first breach of the protocol, the frame right after the last it handed out.
//
// The first input byte chooses the cuts; the rest is the stream.
#include "agentframedecoder_p.h"
#include "fuzzrequire.h"

#include <QtEndian>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {

using Sandflow::Internal::AgentFrameDecoder;
using Sandflow::Internal::AgentMessage;
namespace Protocol = Sandflow::AgentProtocol;
using Protocol::FrameType;

bool isOutput(FrameType type)
{
    return type == FrameType::Stdout || type == FrameType::Stderr;
}

bool sameMessage(const AgentMessage &a, const AgentMessage &b)
{
    return a.type == b.type && a.channel == b.channel && a.data == b.data && a.object == b.object;
}

struct Decoded
{
    QList<AgentMessage> messages;
    QString error;
    qsizetype pending = 0;
};

/// Takes every message the decoder has now.
void drain(AgentFrameDecoder &decoder, Decoded &decoded)
{
    while (std::optional<AgentMessage> message = decoder.next()) {
        require(decoder.error().isEmpty());
        require(isOutput(message->type) || message->type == FrameType::Reply || message->type == FrameType::Exit
                || message->type == FrameType::Event || message->type == FrameType::StdinWritten);
        require(isOutput(message->type) || message->data.isEmpty());
        require(message->data.size() <= qsizetype(Protocol::MaxPayload));
        decoded.messages.append(std::move(*message));
    }
    require(!decoder.next());
    decoded.error = decoder.error();
    decoded.pending = decoder.pendingBytes();
}

/// The messages match the frames at the start of `stream`, and what the decoder holds is
/// the rest: one frame in the making, or the frame that broke the protocol.
void requireFramesOf(const QByteArray &stream, const Decoded &decoded)
{
    qsizetype offset = 0;
    for (const AgentMessage &message : decoded.messages) {
        require(stream.size() - offset >= qsizetype(Protocol::HeaderSize));
        const quint32 length = qFromLittleEndian<quint32>(stream.constData() + offset);
        require(length <= Protocol::MaxPayload);
        require(quint8(stream.at(offset + 4)) == quint8(message.type));
        require(qFromLittleEndian<quint32>(stream.constData() + offset + 5) == message.channel);
        offset += Protocol::HeaderSize;
        require(stream.size() - offset >= qsizetype(length));
        if (isOutput(message.type))
            require(message.data == stream.sliced(offset, length));
        offset += length;
    }
    require(decoded.pending == stream.size() - offset);
    if (!decoded.error.isEmpty()) {
        require(decoded.pending >= qsizetype(Protocol::HeaderSize));
        return;
    }
    if (decoded.pending >= qsizetype(Protocol::HeaderSize)) {
        const quint32 length = qFromLittleEndian<quint32>(stream.constData() + offset);
        require(length <= Protocol::MaxPayload);
        require(decoded.pending < qsizetype(Protocol::HeaderSize + length));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const QByteArray stream(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));

    AgentFrameDecoder whole;
    Decoded atOnce;
    whole.append(stream);
    drain(whole, atOnce);
    requireFramesOf(stream, atOnce);

    // Pieces of 0 to 31 bytes, as a pipe may deliver them.
    AgentFrameDecoder cut;
    Decoded inPieces;
    std::uint32_t state = data[0];
    for (qsizetype offset = 0; offset < stream.size();) {
        state = state * 1664525u + 1013904223u;
        const qsizetype piece = std::min<qsizetype>(stream.size() - offset, (state >> 24) % 32);
        cut.append(stream.sliced(offset, piece));
        offset += piece;
        drain(cut, inPieces);
    }
    require(std::equal(inPieces.messages.cbegin(), inPieces.messages.cend(), atOnce.messages.cbegin(),
                       atOnce.messages.cend(), sameMessage));
    require(inPieces.error == atOnce.error);
    require(inPieces.pending == atOnce.pending);
    return 0;
}
