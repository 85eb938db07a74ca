// An agent taken over from inside its sandbox: started by the local runner in place of
// sandflow-agent, in a real sandbox, it speaks the protocol of agentprotocol.h faithfully
// (with the real agent's frame reader, request parser and JSON writer) but answers the file
// tool's operations with whatever the test put in the sandbox's environment:
//
//   HOSTILE_INFO      the stdout of `fs info` (default: the path asked for, as a directory)
//   HOSTILE_LIST      the stdout of `fs list` (default: `[]`)
//   HOSTILE_LIST_PAD  that many spaces after it, for an answer of any size
//   HOSTILE_READ      the stdout of `fs read`, whatever range was asked for
//
// Other `fs` operations succeed with `{}`; any other command (the entrypoint) "runs" until
// it is signalled. A command with a pty or a stdin pipe (a terminal) gets forged frames as it
// starts: output on a stream a terminal does not have, counts of written stdin that are
// negative, huge or not numbers, and frames for channels that run nothing; each Stdin frame
// is acknowledged a thousand times over. Plain C++, linked statically, like the agent it
// stands in for.
#include "frames.h"
#include "json.h"
#include "request.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

namespace {

using namespace Sandflow::Agent;
using Sandflow::AgentProtocol::FrameType;
using Sandflow::AgentProtocol::MaxPayload;

std::string environment(const char *name, std::string fallback)
{
    const char *value = std::getenv(name);
    return value ? std::string(value) : fallback;
}

std::string toolAnswer(const std::vector<std::string> &argv)
{
    const std::string &operation = argv[2];
    if (operation == "info") {
        const std::string asked = argv.size() > 3 ? argv[3] : std::string();
        return environment("HOSTILE_INFO", '['
                                               + Json::Writer()
                                                     .addString("path", asked)
                                                     .addString("type", "directory")
                                                     .addInteger("mode", 0755)
                                                     .finish()
                                               + ']');
    }
    if (operation == "list")
        return environment("HOSTILE_LIST", "[]")
            + std::string(std::strtoull(environment("HOSTILE_LIST_PAD", "0").c_str(), nullptr, 10), ' ');
    if (operation == "read")
        return environment("HOSTILE_READ", "forged by the agent\n");
    return "{}";
}

class HostileAgent
{
public:
    bool serve(const Frame &frame)
    {
        if (frame.type == std::uint8_t(FrameType::Stdin)) {
            // Taken and ignored; a terminal's is "written" a thousand times over.
            if (terminals_.contains(frame.channel))
                output_.push(FrameType::StdinWritten, frame.channel,
                             Json::Writer().addInteger("bytes", std::int64_t(frame.payload.size()) * 1000).finish());
            return true;
        }
        if (frame.type != std::uint8_t(FrameType::Request))
            return true;
        Request request;
        std::string error;
        if (!parseRequest(frame.payload, request, error)) {
            reply(frame.channel, Json::Writer().addBool("ok", false).addString("error", error).finish());
            return true;
        }
        switch (request.op) {
        case Request::Op::Ping:
            reply(frame.channel, Json::Writer().addBool("ok", true).addInteger("pid", getpid()).finish());
            return true;
        case Request::Op::Exec:
            exec(frame.channel, request.exec.argv);
            if (request.exec.pty || request.exec.stdinPipe)
                forgeTerminal(frame.channel);
            return true;
        case Request::Op::Resize:
            // Answered, and on the resize's own channel a command that never ran "exits".
            reply(frame.channel, Json::Writer().addBool("ok", true).finish());
            output_.push(FrameType::Exit, frame.channel, Json::Writer().addInteger("exitCode", 0).finish());
            return true;
        case Request::Op::Signal:
            reply(frame.channel, Json::Writer().addBool("ok", true).finish());
            terminals_.erase(request.signal.target);
            if (running_.erase(request.signal.target) > 0)
                output_.push(FrameType::Exit, request.signal.target,
                             Json::Writer().addInteger("signal", request.signal.signal).addBool("timedOut", false).finish());
            return true;
        case Request::Op::Shutdown:
            reply(frame.channel, Json::Writer().addBool("ok", true).finish());
            return false;
        }
        return true;
    }

    void flush() { output_.flushAll(); }

private:
    void reply(std::uint32_t channel, const std::string &json) { output_.push(FrameType::Reply, channel, json); }

    void exec(std::uint32_t channel, const std::vector<std::string> &argv)
    {
        reply(channel, Json::Writer().addBool("ok", true).addInteger("pid", getpid()).finish());
        if (argv.size() < 3 || argv[1] != "fs") {
            running_.insert(channel);
            return;
        }
        const std::string answer = toolAnswer(argv);
        for (std::size_t offset = 0; offset < answer.size(); offset += MaxPayload) {
            output_.push(FrameType::Stdout, channel,
                         std::string_view(answer).substr(offset, std::min<std::size_t>(MaxPayload, answer.size() - offset)));
            output_.flushAll();
        }
        output_.push(FrameType::Exit, channel, Json::Writer().addInteger("exitCode", 0).finish());
    }

    void forgeTerminal(std::uint32_t channel)
    {
        terminals_.insert(channel);
        output_.push(FrameType::Stdout, channel, "forged stdout\n");
        output_.push(FrameType::Stderr, channel, "forged stderr\n");
        for (const std::int64_t bytes : {std::int64_t(-5), std::int64_t(0), INT64_MAX, INT64_MIN})
            output_.push(FrameType::StdinWritten, channel, Json::Writer().addInteger("bytes", bytes).finish());
        output_.push(FrameType::StdinWritten, channel, Json::Writer().addString("bytes", "all of it").finish());
        output_.push(FrameType::StdinWritten, channel, "{}");
        for (const std::uint32_t elsewhere : {std::uint32_t(0), channel + 1000, UINT32_MAX}) {
            output_.push(FrameType::StdinWritten, elsewhere, Json::Writer().addInteger("bytes", 1 << 20).finish());
            output_.push(FrameType::Exit, elsewhere, Json::Writer().addInteger("exitCode", 0).finish());
            reply(elsewhere, Json::Writer().addBool("ok", false).addString("error", "forged").finish());
        }
    }

    OutputQueue output_{STDOUT_FILENO};
    std::set<std::uint32_t> running_;
    std::set<std::uint32_t> terminals_;
};

} // namespace

int main()
{
    FrameReader reader;
    HostileAgent agent;
    // Until the runner closes the control pipe, as the real agent does.
    while (reader.fill(STDIN_FILENO)) {
        while (const std::optional<Frame> frame = reader.next()) {
            if (!agent.serve(*frame)) {
                agent.flush();
                return 0;
            }
        }
        agent.flush();
        if (reader.corrupt())
            return 2;
    }
    return 0;
}
