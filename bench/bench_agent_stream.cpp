// Streams 1 GiB of command output through sandflow-agent and reads the frames as fast as it
// can. The baseline, in the same run, reads the same command's output straight from a pipe,
// the least any runner could do. The two take turns over several rounds (rounds.h). Prints
// figures; not a test.
#include "agentprotocol.h"
#include "rounds.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

extern char **environ;

namespace {

namespace Protocol = Sandflow::AgentProtocol;

constexpr std::uint64_t Bytes = 1ull << 30;
constexpr int Rounds = 5;
constexpr std::size_t BufferSize = 1 << 20;
const std::string Command = "head -c " + std::to_string(Bytes) + " /dev/zero";

struct Process {
    pid_t pid = -1;
    int input = -1;    ///< its stdin, -1 when it reads ours
    int output = -1;   ///< its stdout
};

/// Starts `argv` with its stdout (and with `withInput` its stdin) on pipes.
Process start(const std::vector<const char *> &argv, bool withInput)
{
    int out[2], in[2] = {-1, -1};
    if (pipe(out) != 0 || (withInput && pipe(in) != 0))
        return {};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    if (withInput) {
        posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
        posix_spawn_file_actions_addclose(&actions, in[1]);
    }
    Process process;
    std::vector<char *> args;
    for (const char *arg : argv)
        args.push_back(const_cast<char *>(arg));
    args.push_back(nullptr);
    if (posix_spawnp(&process.pid, args[0], &actions, nullptr, args.data(), environ) != 0)
        process.pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    process.output = out[0];
    if (withInput) {
        close(in[0]);
        process.input = in[1];
    }
    return process;
}

double seconds(std::chrono::steady_clock::time_point since)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

/// MB/s reading the command's stdout from a plain pipe; negative when bytes are missing.
double baseline()
{
    const auto started = std::chrono::steady_clock::now();
    const Process process = start({"sh", "-c", Command.c_str()}, false);
    if (process.pid < 0)
        return -1;
    std::vector<char> buffer(BufferSize);
    std::uint64_t total = 0;
    ssize_t n;
    while ((n = read(process.output, buffer.data(), buffer.size())) > 0)
        total += std::uint64_t(n);
    const double elapsed = seconds(started);
    close(process.output);
    waitpid(process.pid, nullptr, 0);
    return total == Bytes ? double(total) / elapsed / 1e6 : -1;
}

std::uint32_t le32(const unsigned char *bytes)
{
    return bytes[0] | bytes[1] << 8 | bytes[2] << 16 | std::uint32_t(bytes[3]) << 24;
}

/// MB/s reading the same output as Stdout frames from the agent; negative on a problem.
double throughAgent()
{
    const auto started = std::chrono::steady_clock::now();
    const Process agent = start({SANDFLOW_AGENT_PATH}, true);
    const std::string request = R"({"op": "exec", "argv": ["sh", "-c", ")" + Command + R"("]})";
    std::string frame(Protocol::HeaderSize, '\0');
    for (int i = 0; i < 4; ++i)
        frame[std::size_t(i)] = char(request.size() >> (8 * i));
    frame[4] = char(Protocol::FrameType::Request);
    frame[5] = 1; // channel 1, little endian
    frame += request;
    if (agent.pid < 0 || write(agent.input, frame.data(), frame.size()) != ssize_t(frame.size()))
        return -1;

    // Walk the frames in place: `header` collects a header, then `payloadLeft` bytes follow.
    std::vector<unsigned char> buffer(BufferSize);
    unsigned char header[Protocol::HeaderSize];
    std::size_t headerFill = 0, payloadLeft = 0;
    std::uint8_t type = 0;
    std::uint64_t total = 0;
    bool exited = false;
    std::string exitPayload;
    while (!exited) {
        const ssize_t n = read(agent.output, buffer.data(), buffer.size());
        if (n <= 0)
            return -1;
        for (std::size_t pos = 0; pos < std::size_t(n);) {
            if (payloadLeft == 0 && headerFill < Protocol::HeaderSize) {
                const std::size_t take = std::min(Protocol::HeaderSize - headerFill, std::size_t(n) - pos);
                std::memcpy(header + headerFill, buffer.data() + pos, take);
                headerFill += take;
                pos += take;
                if (headerFill < Protocol::HeaderSize)
                    break;
                type = header[4];
                payloadLeft = le32(header);
                headerFill = payloadLeft == 0 ? 0 : Protocol::HeaderSize;
                continue;
            }
            const std::size_t take = std::min(payloadLeft, std::size_t(n) - pos);
            if (type == std::uint8_t(Protocol::FrameType::Stdout))
                total += take;
            else if (type == std::uint8_t(Protocol::FrameType::Exit))
                exitPayload.append(reinterpret_cast<const char *>(buffer.data() + pos), take);
            pos += take;
            payloadLeft -= take;
            if (payloadLeft == 0) {
                headerFill = 0;
                exited = type == std::uint8_t(Protocol::FrameType::Exit);
            }
        }
    }
    const double elapsed = seconds(started);
    close(agent.input); // the agent exits when its stdin closes
    close(agent.output);
    waitpid(agent.pid, nullptr, 0);
    return total == Bytes && exitPayload == R"({"exitCode": 0})" ? double(total) / elapsed / 1e6 : -1;
}

} // namespace

int main()
{
    bool complete = true;
    const auto checked = [&complete](double figure) {
        complete = complete && figure >= 0;
        return figure;
    };
    const Bench::Rounds rounds = Bench::alternate(Rounds, [&] { return checked(baseline()); },
                                                  [&] { return checked(throughAgent()); });
    if (!complete) {
        std::fprintf(stderr, "bench_agent_stream: a run did not deliver %llu bytes\n",
                     static_cast<unsigned long long>(Bytes));
        return 1;
    }
    std::printf("bench_agent_stream: `%s`, %d rounds in alternating order after one untimed run of each; "
                "medians\n", Command.c_str(), Rounds);
    Bench::printComparison(rounds, "MB/s", "baseline, plain pipe read(1 MiB):", "sandflow-agent, Stdout frames:");
    return 0;
}
