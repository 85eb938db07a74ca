// Descriptors and byte streams for the fs tool. Files may be gigabytes, so contents always
// move in bounded chunks and are never held whole in memory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace Sandflow::Agent::Fs {

/// Owns one descriptor and closes it when it goes out of scope.
class UniqueFd {
public:
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(const UniqueFd &) = delete;
    UniqueFd &operator=(const UniqueFd &) = delete;
    ~UniqueFd();

    int get() const { return fd_; }
    /// Hands the descriptor over to a new owner.
    int release();

private:
    int fd_;
};

/// Opens `path` like open(2), failing with the errno's code and naming `path`.
UniqueFd openOrFail(const std::string &path, int flags, unsigned mode = 0);

/// Writes all of `data` to `fd`; `name` says what `fd` is in the failure message.
void writeAll(int fd, std::string_view data, std::string_view name);

/// Copies from `from` to `to` until end of file or until `limit` bytes moved (-1: no limit);
/// `fromName` and `toName` name the two ends in failure messages.
void copyStream(int from, std::string_view fromName, int to, std::string_view toName, std::int64_t limit = -1);

/// Copies `from` to `to` with every non-overlapping occurrence of `old` (not empty) replaced
/// by `replacement`, and returns how many there were.
std::int64_t copyReplacing(int from, std::string_view fromName, int to, std::string_view toName,
                           std::string_view old, std::string_view replacement);

} // namespace Sandflow::Agent::Fs
