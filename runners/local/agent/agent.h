// The agent's event loop: serves the runner's requests, runs commands and streams their output.
#pragma once

#include "frames.h"
#include "processtree.h"
#include "request.h"

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Sandflow::Agent {

class Agent {
public:
    /// `input` and `output` are the protocol pipes, `signals` a signalfd for SIGCHLD and the
    /// signals that ask the agent to end.
    Agent(int input, int output, int signals);

    /// Runs until the runner goes away or asks to shut down; returns the exit code.
    int run();

private:
    struct Command {
        std::uint32_t channel = 0;
        pid_t pid = -1;                   ///< also the process group
        int stdinFd = -1;
        int stdoutFd = -1;
        int stderrFd = -1;
        int terminalFd = -1;              ///< the pty's master, with a pty; stdin and stdout are copies
        std::deque<std::string> stdinQueue;
        std::size_t stdinOffset = 0;      ///< bytes of stdinQueue.front() already written
        bool closeStdin = false;          ///< close once stdinQueue is written (with a pty: send EOF)
        std::int64_t deadline = 0;        ///< monotonic ms of the timeout; 0 for none
        bool timedOut = false;
        bool exited = false;              ///< the main process has been reaped
        int status = 0;
        std::int64_t drainDeadline = 0;   ///< when to stop waiting for the pipes' end of file
    };

    enum class Stream { Stdin, Stdout, Stderr };

    void pollOnce();
    void readInput();
    void handleFrame(const Frame &frame);
    void handleRequest(std::uint32_t channel, std::string_view payload);
    void exec(std::uint32_t channel, ExecRequest request);
    void feedStdin(std::uint32_t channel, std::string_view payload);
    void writeStdin(Command &command);
    /// Tells the runner that `bytes` more of the command's stdin left the agent.
    void acknowledgeStdin(const Command &command, std::size_t bytes);
    void resize(std::uint32_t channel, const ResizeRequest &request);
    void readOutput(Command &command, Stream stream);
    void reap();
    void checkDeadlines();
    void finishCommands();
    std::int64_t pollTimeout() const;
    void reply(std::uint32_t channel, const std::string &json);
    void replyError(std::uint32_t channel, const std::string &error);
    /// Kills every process group the agent started and waits for the main processes.
    void killAll();
    void stop(int exitCode);

    int input_;
    int signals_;
    FrameReader reader_;
    OutputQueue output_;
    std::map<std::uint32_t, Command> commands_;
    /// What finished commands left running, e.g. `sleep 100 &`: their groups, or with a pty
    /// their sessions.
    std::vector<Processes> lingering_;
    std::optional<int> exitCode_;
};

} // namespace Sandflow::Agent
