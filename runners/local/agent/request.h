// Requests from the runner, checked against agentprotocol.h before anything acts on them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Sandflow::Agent {

struct ExecRequest {
    std::vector<std::string> argv;                 ///< non-empty, no NUL bytes
    std::optional<std::vector<std::string>> env;   ///< "KEY=VALUE" entries; absent: inherit the agent's
    std::optional<std::string> cwd;                ///< absent: the agent's working directory
    std::optional<uid_t> uid;                      ///< without gid: the user's groups, from /etc/passwd and /etc/group
    std::optional<gid_t> gid;                      ///< only together with uid
    std::int64_t timeoutMs = 0;                    ///< 0: no limit
    bool stdinPipe = false;                        ///< feed stdin from Stdin frames instead of /dev/null
    /// Append stdout and stderr to this file instead of streaming them (background commands).
    std::optional<std::string> output;
};

struct SignalRequest {
    std::uint32_t target = 0;   ///< the channel of the command to signal
    int signal = 0;
};

struct Request {
    enum class Op { Ping, Exec, Signal, Shutdown };
    Op op = Op::Ping;
    ExecRequest exec;        ///< Op::Exec only
    SignalRequest signal;    ///< Op::Signal only
};

/// Parses a Request frame's payload. Unknown ops and fields, wrong types and values out of
/// range are errors; null stands for an absent optional field. On failure returns false and
/// describes the problem in `error`.
bool parseRequest(std::string_view payload, Request &request, std::string &error);

} // namespace Sandflow::Agent
