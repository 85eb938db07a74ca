// The two halves of the framing in agentprotocol.h: FrameReader cuts the runner's byte stream
// into frames, OutputQueue holds frames for the runner until its pipe accepts them.
#pragma once

#include "agentprotocol.h"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace Sandflow::Agent {

struct Frame {
    std::uint8_t type;   ///< raw, since the runner may send a value FrameType does not name
    std::uint32_t channel;
    std::string_view payload;
};

class FrameReader {
public:
    /// Reads once from `fd`; false at end of stream or on a read error.
    bool fill(int fd);
    /// The next complete frame, or nullopt until more bytes arrive. The payload stays valid
    /// until the next fill().
    std::optional<Frame> next();
    /// True once a header announced more than MaxPayload bytes: the stream is out of step
    /// and there is no way to find the next frame.
    bool corrupt() const { return corrupt_; }

private:
    std::string buffer_;
    std::size_t start_ = 0;   ///< bytes of buffer_ already handed out as frames
    bool corrupt_ = false;
};

class OutputQueue {
public:
    explicit OutputQueue(int fd) : fd_(fd) {}

    void push(AgentProtocol::FrameType type, std::uint32_t channel, std::string_view payload);
    /// Reads at most `max` bytes from `source` straight into a new frame, so output is copied
    /// once on its way through. Returns read()'s result; only a positive one queues a frame.
    ssize_t pushFrom(int source, AgentProtocol::FrameType type, std::uint32_t channel, std::size_t max);
    /// Writes what the runner's pipe takes without blocking; false once the pipe is broken.
    bool flush();
    /// Writes everything, waiting for the runner as long as it takes; for the last words.
    void flushAll();

    int fd() const { return fd_; }
    std::size_t pending() const { return pending_; }
    bool empty() const { return chunks_.empty(); }

private:
    struct Chunk {
        std::unique_ptr<char[]> data;   // uninitialised, so 64 KiB reads cost no memset
        std::size_t size;
    };

    int fd_;
    std::deque<Chunk> chunks_;
    std::size_t offset_ = 0;    ///< bytes of chunks_.front() already written
    std::size_t pending_ = 0;   ///< bytes queued and not yet written
    std::size_t peak_ = 0;      ///< most bytes pending since the heap was last trimmed
};

} // namespace Sandflow::Agent
