#include "relaytool.h"

#include "fsio.h"
#include "number.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace Sandflow::Agent::Relay {

namespace {

using Fs::UniqueFd;

/// How much one direction reads before writing it on. Nothing more is read while a chunk
/// waits, so a slow receiver slows the sender down instead of filling memory.
constexpr std::size_t ChunkSize = 64 * 1024;

struct Failure {
    int status;
    std::string message;
};

[[noreturn]] void fail(int status, std::string message)
{
    throw Failure{status, std::move(message)};
}

[[noreturn]] void failErrno(int error, std::string_view what)
{
    fail(ExitBroken, std::string(what) + ": " + std::strerror(error));
}

/// Makes `fd` non-blocking while the relay runs, and gives it its flags back afterwards:
/// stdin and stdout may be shared with whoever started the tool.
class NonBlocking {
public:
    explicit NonBlocking(int fd) : fd_(fd), flags_(fcntl(fd, F_GETFL))
    {
        if (flags_ < 0 || fcntl(fd, F_SETFL, flags_ | O_NONBLOCK) != 0)
            failErrno(errno, "cannot make a standard descriptor non-blocking");
    }
    NonBlocking(const NonBlocking &) = delete;
    NonBlocking &operator=(const NonBlocking &) = delete;
    ~NonBlocking() { fcntl(fd_, F_SETFL, flags_); }

private:
    int fd_;
    int flags_;
};

std::string endpoint(std::uint16_t port)
{
    return "127.0.0.1:" + std::to_string(port);
}

UniqueFd connectTo(std::uint16_t port)
{
    UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (socket.get() < 0)
        failErrno(errno, "cannot create a socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int error = 0;
    if (connect(socket.get(), reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0)
        error = errno;
    // A non-blocking connect goes on by itself, even when a signal interrupted the call; its
    // outcome is known once the socket is writable.
    if (error == EINPROGRESS || error == EINTR) {
        pollfd watch{socket.get(), POLLOUT, 0};
        while (poll(&watch, 1, -1) < 0) {
            if (errno != EINTR)
                failErrno(errno, "cannot wait for the connection to " + endpoint(port));
        }
        socklen_t size = sizeof error;
        if (getsockopt(socket.get(), SOL_SOCKET, SO_ERROR, &error, &size) != 0)
            failErrno(errno, "cannot connect to " + endpoint(port));
    }
    if (error == ECONNREFUSED || error == ENETUNREACH || error == EHOSTUNREACH || error == ETIMEDOUT)
        fail(ExitUnreachable, "nothing accepts connections on " + endpoint(port) + ": " + std::strerror(error));
    if (error != 0)
        failErrno(error, "cannot connect to " + endpoint(port));
    return UniqueFd(socket.release());
}

/// One direction of the relay: bytes read from `from` wait in `buffer` until `to` took them.
struct Flow {
    Flow(int from, int to) : from(from), to(to) {}

    int from;
    int to;
    std::vector<char> buffer = std::vector<char>(ChunkSize);
    std::size_t begin = 0;
    std::size_t end = 0;
    bool ended = false;   // `from` reached its end

    bool waiting() const { return begin < end; }

    /// Reads what `from` has into the empty buffer. Returns 0 or an errno value.
    int fill()
    {
        for (;;) {
            const ssize_t got = read(from, buffer.data(), buffer.size());
            if (got >= 0) {
                begin = 0;
                end = std::size_t(got);
                ended = got == 0;
                return 0;
            }
            if (errno != EINTR)
                return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : errno;
        }
    }

    /// Writes as much of the buffer as `to` takes now. Returns 0 or an errno value.
    int drain()
    {
        while (waiting()) {
            const ssize_t written = write(to, buffer.data() + begin, end - begin);
            if (written >= 0)
                begin += std::size_t(written);
            else if (errno != EINTR)
                return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : errno;
        }
        return 0;
    }
};

void relay(int socket, std::uint16_t port)
{
    Flow request{STDIN_FILENO, socket};
    Flow answer{socket, STDOUT_FILENO};
    bool requestDone = false;     // nothing more goes to the service
    bool requestRefused = false;  // the connection broke before the service took all of it

    while (!answer.ended || answer.waiting()) {
        std::array<pollfd, 2> watches{};
        std::array<Flow *, 2> flows{};
        nfds_t count = 0;
        for (Flow *flow : {&request, &answer}) {
            if (flow == &request && requestDone)
                continue;
            watches[count] = flow->waiting() ? pollfd{flow->to, POLLOUT, 0} : pollfd{flow->from, POLLIN, 0};
            flows[count++] = flow;
        }
        if (poll(watches.data(), count, -1) < 0) {
            if (errno == EINTR)
                continue;
            failErrno(errno, "cannot wait for the connection to " + endpoint(port));
        }

        for (nfds_t i = 0; i < count; ++i) {
            if (!watches[i].revents)
                continue;
            Flow &flow = *flows[i];
            const bool writing = flow.waiting();
            const int error = writing ? flow.drain() : flow.fill();
            if (&flow == &request) {
                if (error == EPIPE || error == ECONNRESET) {
                    // The rest of the request cannot go anywhere; the answer side still
                    // delivers whatever the service sent before.
                    requestDone = requestRefused = true;
                } else if (error != 0) {
                    failErrno(error, writing ? "cannot send to " + endpoint(port) : "cannot read standard input");
                } else if (flow.ended) {
                    // The service sees the end of the request and may still answer.
                    if (shutdown(socket, SHUT_WR) != 0 && errno != ENOTCONN)
                        failErrno(errno, "cannot end the request to " + endpoint(port));
                    requestDone = true;
                }
            } else if (error != 0) {
                failErrno(error, writing ? "cannot write to standard output"
                                         : "the connection to " + endpoint(port) + " failed");
            }
        }
    }
    if (requestRefused)
        fail(ExitBroken, "the connection to " + endpoint(port) + " broke before the service took the whole request");
}

void report(const std::string &message)
{
    const std::string line = message + '\n';
    // Nothing better can be done when stderr is gone; the exit status still tells.
    if (::write(STDERR_FILENO, line.data(), line.size()) < 0)
        return;
}

} // namespace

int run(const std::vector<std::string> &args)
{
    const std::optional<std::uint16_t> port = args.size() == 1 ? parseNumber<std::uint16_t>(args[0]) : std::nullopt;
    if (!port) {
        report("usage: relay PORT (0 to 65535)");
        return ExitUsage;
    }
    // A closed pipe or connection shows as EPIPE from write(), to be reported, not as a signal.
    signal(SIGPIPE, SIG_IGN);
    try {
        const UniqueFd socket = connectTo(*port);
        const NonBlocking input(STDIN_FILENO);
        const NonBlocking output(STDOUT_FILENO);
        relay(socket.get(), *port);
        return ExitDone;
    } catch (const Failure &failure) {
        report(failure.message);
        return failure.status;
    }
}

} // namespace Sandflow::Agent::Relay
