#include "tcprelay_p.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace Sandflow::Internal {

namespace {

// What one direction holds between its two sockets, on top of their buffers.
constexpr size_t PipeBytes = 1 << 20;

/// Ends a side that failed the other way too, with a reset rather than a clean end: the
/// program on it learns the connection broke.
void abort(int fd)
{
    const linger immediately{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &immediately, sizeof immediately);
    ::shutdown(fd, SHUT_RDWR);
}

} // namespace

TcpRelay::TcpRelay(UniqueFd sandboxSide, UniqueFd hostSide, QObject *parent)
    : QObject(parent)
    , m_sandboxSide(std::move(sandboxSide))
    , m_hostSide(std::move(hostSide))
{
    m_download = std::thread([this] { pump(m_hostSide.get(), m_sandboxSide.get()); });
    m_upload = std::thread([this] { pump(m_sandboxSide.get(), m_hostSide.get()); });
}

TcpRelay::~TcpRelay()
{
    ::shutdown(m_sandboxSide.get(), SHUT_RDWR);
    ::shutdown(m_hostSide.get(), SHUT_RDWR);
    m_download.join();
    m_upload.join();
}

// Socket to pipe to socket: the bytes stay in the kernel. An end of input is passed on as a
// half-close, so request/response protocols that close their sending side work through it.
void TcpRelay::pump(int from, int to)
{
    // splice has no MSG_NOSIGNAL: a write to a side that is gone raises SIGPIPE at this
    // thread, which would end the runner. Blocked here, it only leaves EPIPE.
    sigset_t pipeSignal;
    sigemptyset(&pipeSignal);
    sigaddset(&pipeSignal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipeSignal, nullptr);
    int pipe[2];
    bool clean = false;
    if (::pipe2(pipe, O_CLOEXEC) == 0) {
        ::fcntl(pipe[1], F_SETPIPE_SZ, int(PipeBytes));
        for (;;) {
            const ssize_t got = ::splice(from, nullptr, pipe[1], nullptr, PipeBytes, SPLICE_F_MOVE);
            if (got == 0) {
                clean = true;
                break;
            }
            if (got < 0) {
                if (errno == EINTR)
                    continue;
                break;
            }
            ssize_t left = got;
            while (left > 0) {
                // No SPLICE_F_MORE: it corks the socket, and a reply would wait for more.
                const ssize_t sent = ::splice(pipe[0], nullptr, to, nullptr, size_t(left), SPLICE_F_MOVE);
                if (sent < 0 && errno == EINTR)
                    continue;
                if (sent <= 0)
                    break;
                left -= sent;
            }
            if (left > 0)
                break;
        }
        ::close(pipe[0]);
        ::close(pipe[1]);
    }
    if (clean) {
        ::shutdown(to, SHUT_WR);
    } else {
        abort(from);
        abort(to);
    }
    // The second direction to end tells the owner, on its own thread.
    if (m_running.fetch_sub(1) == 1)
        QMetaObject::invokeMethod(this, &TcpRelay::finished, Qt::QueuedConnection);
}

} // namespace Sandflow::Internal
