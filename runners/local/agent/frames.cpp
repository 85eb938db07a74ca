#include "frames.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace Sandflow::Agent {

using AgentProtocol::HeaderSize;
using AgentProtocol::MaxPayload;

namespace {

constexpr std::size_t ReadSize = 64 * 1024;
constexpr int MaxIovecs = 64;
/// Input capacity worth keeping between frames; a larger buffer is returned once empty.
constexpr std::size_t KeptCapacity = 64 * 1024;
/// Queued output beyond which the heap is trimmed once the queue is empty again. Chunks are
/// freed in the order they were allocated, which leaves the heap fragmented and keeps an
/// idle agent megabytes larger than it needs to be after a command printed a lot.
constexpr std::size_t TrimAfter = 1024 * 1024;

std::uint32_t readLe32(const char *bytes)
{
    std::uint32_t value = 0;
    for (int i = 3; i >= 0; --i)
        value = (value << 8) | static_cast<unsigned char>(bytes[i]);
    return value;
}

void writeHeader(char *header, std::uint32_t length, AgentProtocol::FrameType type, std::uint32_t channel)
{
    for (int i = 0; i < 4; ++i) {
        header[i] = char(length >> (8 * i));
        header[5 + i] = char(channel >> (8 * i));
    }
    header[4] = char(type);
}

} // namespace

bool FrameReader::fill(int fd)
{
    if (start_ == buffer_.size()) {
        buffer_.clear();
        start_ = 0;
        if (buffer_.capacity() > KeptCapacity)
            buffer_.shrink_to_fit();
    } else if (start_ > buffer_.size() / 2) {
        // Compact only when the consumed part dominates, so a large frame arriving in many
        // small reads is not moved again after every read.
        buffer_.erase(0, start_);
        start_ = 0;
    }
    char chunk[ReadSize];
    ssize_t n;
    do {
        n = read(fd, chunk, sizeof chunk);
    } while (n < 0 && errno == EINTR);
    if (n <= 0)
        return false;
    buffer_.append(chunk, std::size_t(n));
    return true;
}

std::optional<Frame> FrameReader::next()
{
    const std::size_t available = buffer_.size() - start_;
    if (corrupt_ || available < HeaderSize)
        return std::nullopt;
    const char *header = buffer_.data() + start_;
    const std::uint32_t length = readLe32(header);
    if (length > MaxPayload) {
        corrupt_ = true;
        return std::nullopt;
    }
    if (available < HeaderSize + length)
        return std::nullopt;
    const Frame frame{static_cast<std::uint8_t>(header[4]), readLe32(header + 5),
                      std::string_view(header + HeaderSize, length)};
    start_ += HeaderSize + length;
    return frame;
}

void OutputQueue::push(AgentProtocol::FrameType type, std::uint32_t channel, std::string_view payload)
{
    Chunk chunk{std::make_unique_for_overwrite<char[]>(HeaderSize + payload.size()), HeaderSize + payload.size()};
    writeHeader(chunk.data.get(), std::uint32_t(payload.size()), type, channel);
    std::memcpy(chunk.data.get() + HeaderSize, payload.data(), payload.size());
    pending_ += chunk.size;
    peak_ = std::max(peak_, pending_);
    chunks_.push_back(std::move(chunk));
}

ssize_t OutputQueue::pushFrom(int source, AgentProtocol::FrameType type, std::uint32_t channel, std::size_t max)
{
    auto data = std::make_unique_for_overwrite<char[]>(HeaderSize + max);
    ssize_t n;
    do {
        n = read(source, data.get() + HeaderSize, max);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        writeHeader(data.get(), std::uint32_t(n), type, channel);
        pending_ += HeaderSize + std::size_t(n);
        peak_ = std::max(peak_, pending_);
        chunks_.push_back({std::move(data), HeaderSize + std::size_t(n)});
    }
    return n;
}

bool OutputQueue::flush()
{
    while (!chunks_.empty()) {
        iovec vectors[MaxIovecs];
        int count = 0;
        for (auto it = chunks_.begin(); it != chunks_.end() && count < MaxIovecs; ++it, ++count) {
            const std::size_t skip = count == 0 ? offset_ : 0;
            vectors[count] = {it->data.get() + skip, it->size - skip};
        }
        const ssize_t written = writev(fd_, vectors, count);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN;
        }
        pending_ -= std::size_t(written);
        std::size_t left = std::size_t(written);
        while (left > 0) {
            const std::size_t rest = chunks_.front().size - offset_;
            if (left < rest) {
                offset_ += left;
                break;
            }
            left -= rest;
            offset_ = 0;
            chunks_.pop_front();
        }
    }
    if (peak_ >= TrimAfter) {
        malloc_trim(0);
        peak_ = 0;
    }
    return true;
}

void OutputQueue::flushAll()
{
    const int flags = fcntl(fd_, F_GETFL);
    if (flags >= 0 && fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK) == 0)
        flush();
}

} // namespace Sandflow::Agent
