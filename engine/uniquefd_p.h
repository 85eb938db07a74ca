// One owner for one file descriptor: closed when its owner goes.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <utility>

namespace Sandflow::Internal {

class UniqueFd
{
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : m_fd(fd) {}
    UniqueFd(UniqueFd &&other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    UniqueFd &operator=(UniqueFd &&other) noexcept
    {
        std::swap(m_fd, other.m_fd);
        return *this;
    }
    UniqueFd(const UniqueFd &) = delete;
    UniqueFd &operator=(const UniqueFd &) = delete;
    ~UniqueFd()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }

    bool isValid() const { return m_fd >= 0; }
    int get() const { return m_fd; }
    /// Hands the descriptor to a new owner, which closes it.
    int release() { return std::exchange(m_fd, -1); }

private:
    int m_fd = -1;
};

/// Lets descriptor `fd`, close-on-exec in this process, pass to the program about to be
/// executed. Async-signal-safe: it runs in the child between fork and exec, so that no other
/// program the runner starts meanwhile inherits it.
inline void inheritAcrossExec(int fd)
{
    if (fd >= 0)
        ::fcntl(fd, F_SETFD, 0);
}

} // namespace Sandflow::Internal
