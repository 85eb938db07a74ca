#include "fsio.h"

#include "fserror.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace Sandflow::Agent::Fs {

UniqueFd::~UniqueFd()
{
    if (fd_ >= 0)
        close(fd_);
}

int UniqueFd::release()
{
    const int fd = fd_;
    fd_ = -1;
    return fd;
}

UniqueFd openOrFail(const std::string &path, int flags, unsigned mode)
{
    const int fd = open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0)
        failErrno(errno, "cannot open", path);
    return UniqueFd(fd);
}

void writeAll(int fd, std::string_view data, std::string_view name)
{
    while (!data.empty()) {
        const ssize_t written = write(fd, data.data(), data.size());
        if (written < 0) {
            if (errno == EINTR)
                continue;
            failErrno(errno, "cannot write to", name);
        }
        data.remove_prefix(std::size_t(written));
    }
}

namespace {

constexpr std::size_t ChunkSize = 256 * 1024;

/// Reads at most `size` bytes; 0 means end of file.
std::size_t readSome(int fd, char *data, std::size_t size, std::string_view name)
{
    for (;;) {
        const ssize_t got = read(fd, data, size);
        if (got >= 0)
            return std::size_t(got);
        if (errno != EINTR)
            failErrno(errno, "cannot read", name);
    }
}

} // namespace

void copyStream(int from, std::string_view fromName, int to, std::string_view toName, std::int64_t limit)
{
    std::vector<char> buffer(ChunkSize);
    while (limit != 0) {
        const std::size_t wanted = limit < 0 ? ChunkSize : std::min(ChunkSize, std::size_t(limit));
        const std::size_t got = readSome(from, buffer.data(), wanted, fromName);
        if (got == 0)
            return;
        writeAll(to, std::string_view(buffer.data(), got), toName);
        if (limit > 0)
            limit -= std::int64_t(got);
    }
}

std::int64_t copyReplacing(int from, std::string_view fromName, int to, std::string_view toName,
                           std::string_view old, std::string_view replacement)
{
    std::int64_t count = 0;
    std::vector<char> buffer(ChunkSize);
    std::string pending; // read but not yet searched to the end
    std::string output;
    for (;;) {
        const std::size_t got = readSome(from, buffer.data(), buffer.size(), fromName);
        pending.append(buffer.data(), got);
        std::size_t done = 0;
        for (std::size_t at; (at = pending.find(old, done)) != std::string::npos; done = at + old.size()) {
            output.append(pending, done, at - done);
            output += replacement;
            ++count;
        }
        // The last old.size() - 1 bytes may begin an occurrence that the next chunk completes.
        const std::size_t held = got == 0 ? 0 : std::min(pending.size() - done, old.size() - 1);
        output.append(pending, done, pending.size() - done - held);
        pending.erase(0, pending.size() - held);
        writeAll(to, output, toName);
        output.clear();
        if (got == 0)
            return count;
    }
}

} // namespace Sandflow::Agent::Fs
