#include "agent.h"

#include "interactive.h"
#include "json.h"
#include "spawn.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <ctime>
#include <initializer_list>

namespace Sandflow::Agent {

namespace {

using AgentProtocol::FrameType;

/// The most read from a command's pipe at a time: one Stdout or Stderr frame.
constexpr std::size_t ReadSize = 64 * 1024;
/// Output queued for the runner beyond which the agent stops reading commands' pipes, so a
/// command printing faster than the runner reads waits in write() instead of filling memory.
constexpr std::size_t HighWater = 4 * 1024 * 1024;
/// How long after the main process exits the agent waits for its pipes' end of file. Only a
/// background process can keep them open that long (`daemon &` inherits stdout); the
/// command is then over for the runner, so the agent takes what the pipes hold at that
/// moment, closes them and sends Exit. Whatever the stragglers write later is lost.
constexpr std::int64_t DrainGraceMs = 1000;

std::int64_t nowMs()
{
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return std::int64_t(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
}

void closeFd(int &fd)
{
    if (fd >= 0)
        close(fd);
    fd = -1;
}

/// Where the command's signals go (see Processes).
Processes processesOf(pid_t pid, int terminalFd)
{
    return {pid, terminalFd >= 0 ? Processes::Scope::Session : Processes::Scope::Group};
}

} // namespace

Agent::Agent(int input, int output, int signals) : input_(input), signals_(signals), output_(output) {}

int Agent::run()
{
    while (!exitCode_)
        pollOnce();
    return *exitCode_;
}

void Agent::pollOnce()
{
    struct Watch {
        Command *command;
        Stream stream;
    };
    std::vector<pollfd> fds{{input_, POLLIN, 0}, {signals_, POLLIN, 0}, {output_.fd(), 0, 0}};
    std::vector<Watch> watches;
    if (!output_.empty())
        fds[2].events = POLLOUT;
    const bool congested = output_.pending() >= HighWater;
    for (auto &[channel, command] : commands_) {
        if (command.stdinFd >= 0 && (!command.stdinQueue.empty() || command.closeStdin)) {
            fds.push_back({command.stdinFd, POLLOUT, 0});
            watches.push_back({&command, Stream::Stdin});
        }
        if (congested)
            continue;
        if (command.stdoutFd >= 0) {
            fds.push_back({command.stdoutFd, POLLIN, 0});
            watches.push_back({&command, Stream::Stdout});
        }
        if (command.stderrFd >= 0) {
            fds.push_back({command.stderrFd, POLLIN, 0});
            watches.push_back({&command, Stream::Stderr});
        }
    }

    if (poll(fds.data(), fds.size(), int(pollTimeout())) < 0) {
        if (errno != EINTR)
            stop(2);
        return;
    }

    if (fds[1].revents)
        reap();
    // Pipes before requests: a request may start or remove commands the watches point to.
    for (std::size_t i = 0; i < watches.size() && !exitCode_; ++i) {
        if (!fds[3 + i].revents)
            continue;
        if (watches[i].stream == Stream::Stdin)
            writeStdin(*watches[i].command);
        else
            readOutput(*watches[i].command, watches[i].stream);
    }
    if (fds[0].revents && !exitCode_)
        readInput();
    if (exitCode_)
        return;
    checkDeadlines();
    finishCommands();
    if (!output_.flush())
        stop(0); // the runner closed its end: nobody is left to report to
}

void Agent::readInput()
{
    if (!reader_.fill(input_)) {
        stop(0);
        return;
    }
    while (const std::optional<Frame> frame = reader_.next()) {
        handleFrame(*frame);
        if (exitCode_)
            return;
    }
    if (reader_.corrupt())
        stop(2);
}

void Agent::handleFrame(const Frame &frame)
{
    switch (frame.type) {
    case std::uint8_t(FrameType::Request):
        handleRequest(frame.channel, frame.payload);
        break;
    case std::uint8_t(FrameType::Stdin):
        feedStdin(frame.channel, frame.payload);
        break;
    default:
        replyError(frame.channel, "unexpected frame type " + std::to_string(frame.type));
    }
}

void Agent::handleRequest(std::uint32_t channel, std::string_view payload)
{
    Request request;
    std::string error;
    if (!parseRequest(payload, request, error)) {
        replyError(channel, error);
        return;
    }
    switch (request.op) {
    case Request::Op::Ping:
        reply(channel, Json::Writer().addBool("ok", true).addInteger("pid", getpid()).finish());
        break;
    case Request::Op::Exec:
        exec(channel, std::move(request.exec));
        break;
    case Request::Op::Signal: {
        if (request.signal.target == 0) {
            const int count = signalDescendants(getpid(), request.signal.signal);
            reply(channel, Json::Writer().addBool("ok", true).addInteger("processes", count).finish());
            break;
        }
        const auto it = commands_.find(request.signal.target);
        if (it == commands_.end() || it->second.exited) {
            replyError(channel, "no running command on channel " + std::to_string(request.signal.target));
            break;
        }
        const Command &command = it->second;
        if (const int error = processesOf(command.pid, command.terminalFd).signal(request.signal.signal))
            replyError(channel, std::string("kill: ") + std::strerror(error));
        else
            reply(channel, Json::Writer().addBool("ok", true).finish());
        break;
    }
    case Request::Op::Resize:
        resize(channel, request.resize);
        break;
    case Request::Op::Shutdown:
        killAll();
        reply(channel, Json::Writer().addBool("ok", true).finish());
        output_.flushAll();
        exitCode_ = 0;
        break;
    }
}

void Agent::exec(std::uint32_t channel, ExecRequest request)
{
    if (channel == 0) {
        replyError(channel, "channel 0 belongs to the agent");
        return;
    }
    if (commands_.contains(channel)) {
        replyError(channel, "channel " + std::to_string(channel) + " is in use");
        return;
    }
    std::erase_if(lingering_, [](const Processes &processes) { return !processes.alive(); });

    completeInteractiveRequest(request);
    Child child;
    const std::string error = spawn(request, child);
    if (!error.empty()) {
        replyError(channel, error);
        return;
    }
    Command &command = commands_[channel];
    command.channel = channel;
    command.pid = child.pid;
    command.stdinFd = child.stdinFd;
    command.stdoutFd = child.stdoutFd;
    command.stderrFd = child.stderrFd;
    command.terminalFd = child.terminalFd;
    if (request.timeoutMs > 0) {
        const std::int64_t now = nowMs();
        command.deadline = request.timeoutMs > INT64_MAX - now ? INT64_MAX : now + request.timeoutMs;
    }
    reply(channel, Json::Writer().addBool("ok", true).addInteger("pid", child.pid).finish());
}

// Stdin for a command that has finished is dropped without a word: the runner cannot know
// that the command got there first, so this is a race, not an error; its Exit frame tells the
// runner that nothing more will be taken. Stdin is queued here, not refused: pausing the
// control channel would also hold back a signal request for the very command that is stuck.
// The runner keeps the queue short (StdinWindow), going by the StdinWritten frames.
void Agent::feedStdin(std::uint32_t channel, std::string_view payload)
{
    const auto it = commands_.find(channel);
    if (it == commands_.end())
        return;
    Command &command = it->second;
    if (command.stdinFd < 0 || command.closeStdin) {
        acknowledgeStdin(command, payload.size());   // nobody will read it
        return;
    }
    if (payload.empty())
        command.closeStdin = true;
    else
        command.stdinQueue.emplace_back(payload);
    writeStdin(command);
}

void Agent::writeStdin(Command &command)
{
    std::size_t written = 0;
    while (!command.stdinQueue.empty()) {
        const std::string &front = command.stdinQueue.front();
        const ssize_t n = write(command.stdinFd, front.data() + command.stdinOffset, front.size() - command.stdinOffset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            // EPIPE, or EIO from a terminal nobody has open: nobody will ever read the rest.
            for (const std::string &chunk : command.stdinQueue)
                written += chunk.size();
            written -= command.stdinOffset;
            command.stdinQueue.clear();
            command.stdinOffset = 0;
            closeFd(command.stdinFd);
            break;
        }
        written += std::size_t(n);
        command.stdinOffset += std::size_t(n);
        if (command.stdinOffset == front.size()) {
            command.stdinQueue.pop_front();
            command.stdinOffset = 0;
        }
    }
    acknowledgeStdin(command, written);
    if (!command.closeStdin || command.stdinFd < 0 || !command.stdinQueue.empty())
        return;
    // A terminal's input does not end by closing the master (its other users keep it open):
    // the line discipline ends a read at the EOF character, as Ctrl-D on a keyboard does.
    if (command.terminalFd >= 0) {
        termios settings{};
        if (tcgetattr(command.terminalFd, &settings) == 0 && settings.c_cc[VEOF] != _POSIX_VDISABLE) {
            const char eof = char(settings.c_cc[VEOF]);
            ssize_t n;
            do {
                n = write(command.stdinFd, &eof, 1);
            } while (n < 0 && errno == EINTR);
            if (n < 0 && errno == EAGAIN)
                return;   // again once the terminal takes input
        }
    }
    closeFd(command.stdinFd);
}

void Agent::acknowledgeStdin(const Command &command, std::size_t bytes)
{
    if (bytes > 0)
        output_.push(FrameType::StdinWritten, command.channel,
                     Json::Writer().addInteger("bytes", std::int64_t(bytes)).finish());
}

void Agent::resize(std::uint32_t channel, const ResizeRequest &request)
{
    const auto it = commands_.find(request.target);
    if (it == commands_.end() || it->second.exited) {
        replyError(channel, "no running command on channel " + std::to_string(request.target));
        return;
    }
    if (it->second.terminalFd < 0) {
        replyError(channel, "the command on channel " + std::to_string(request.target) + " has no terminal");
        return;
    }
    // The kernel sends SIGWINCH to the terminal's foreground process group when the size changes.
    const winsize window{request.size.rows, request.size.columns, 0, 0};
    if (ioctl(it->second.terminalFd, TIOCSWINSZ, &window) != 0)
        replyError(channel, std::string("TIOCSWINSZ: ") + std::strerror(errno));
    else
        reply(channel, Json::Writer().addBool("ok", true).finish());
}

void Agent::readOutput(Command &command, Stream stream)
{
    int &fd = stream == Stream::Stdout ? command.stdoutFd : command.stderrFd;
    const FrameType type = stream == Stream::Stdout ? FrameType::Stdout : FrameType::Stderr;
    const ssize_t n = output_.pushFrom(fd, type, command.channel, ReadSize);
    if (n == 0 || (n < 0 && errno != EAGAIN))
        closeFd(fd);
}

void Agent::reap()
{
    bool terminate = false;
    signalfd_siginfo info{};
    while (read(signals_, &info, sizeof info) == sizeof info)
        terminate = terminate || info.ssi_signo != SIGCHLD;

    // As a subreaper the agent also inherits orphaned grandchildren; they are reaped here too.
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (auto &[channel, command] : commands_) {
            if (command.pid == pid && !command.exited) {
                command.exited = true;
                command.status = status;
                command.drainDeadline = nowMs() + DrainGraceMs;
            }
        }
    }
    if (terminate)
        stop(0);
}

void Agent::checkDeadlines()
{
    const std::int64_t now = nowMs();
    for (auto &[channel, command] : commands_) {
        if (!command.exited && command.deadline && !command.timedOut && now >= command.deadline) {
            processesOf(command.pid, command.terminalFd).signal(SIGKILL);
            command.timedOut = true;
        }
        if (command.exited && now >= command.drainDeadline) {
            for (const Stream stream : {Stream::Stdout, Stream::Stderr}) {
                int &fd = stream == Stream::Stdout ? command.stdoutFd : command.stderrFd;
                if (fd < 0)
                    continue;
                // Only what is buffered now: a straggler that keeps writing cannot keep the
                // agent here, and the main process's output is all in the pipe already.
                int available = 0;
                if (ioctl(fd, FIONREAD, &available) == 0) {
                    while (available > 0) {
                        const std::size_t size = std::min(std::size_t(available), ReadSize);
                        const FrameType type = stream == Stream::Stdout ? FrameType::Stdout : FrameType::Stderr;
                        const ssize_t n = output_.pushFrom(fd, type, command.channel, size);
                        if (n <= 0)
                            break;
                        available -= int(n);
                    }
                }
                closeFd(fd);
            }
        }
    }
}

void Agent::finishCommands()
{
    for (auto it = commands_.begin(); it != commands_.end();) {
        Command &command = it->second;
        if (!command.exited || command.stdoutFd >= 0 || command.stderrFd >= 0) {
            ++it;
            continue;
        }
        Json::Writer exit;
        if (WIFEXITED(command.status))
            exit.addInteger("exitCode", WEXITSTATUS(command.status));
        else
            exit.addInteger("signal", WTERMSIG(command.status)).addBool("timedOut", command.timedOut);
        output_.push(FrameType::Exit, command.channel, exit.finish());
        const Processes left = processesOf(command.pid, command.terminalFd);
        closeFd(command.stdinFd);
        // The last of the master: the terminal hangs up for whatever still has it open.
        closeFd(command.terminalFd);
        if (left.alive())
            lingering_.push_back(left);
        it = commands_.erase(it);
    }
}

std::int64_t Agent::pollTimeout() const
{
    std::int64_t next = INT64_MAX;
    for (const auto &[channel, command] : commands_) {
        if (!command.exited && command.deadline && !command.timedOut)
            next = std::min(next, command.deadline);
        else if (command.exited)
            next = std::min(next, command.drainDeadline);
    }
    if (next == INT64_MAX)
        return -1;
    return std::clamp<std::int64_t>(next - nowMs(), 0, INT_MAX);
}

void Agent::reply(std::uint32_t channel, const std::string &json)
{
    output_.push(FrameType::Reply, channel, json);
}

void Agent::replyError(std::uint32_t channel, const std::string &error)
{
    reply(channel, Json::Writer().addBool("ok", false).addString("error", error).finish());
}

void Agent::killAll()
{
    for (const auto &[channel, command] : commands_)
        processesOf(command.pid, command.terminalFd).signal(SIGKILL);
    for (const Processes &processes : lingering_)
        processes.signal(SIGKILL);
    for (const auto &[channel, command] : commands_) {
        if (!command.exited)
            waitpid(command.pid, nullptr, 0);
    }
}

void Agent::stop(int exitCode)
{
    killAll();
    exitCode_ = exitCode;
}

} // namespace Sandflow::Agent
