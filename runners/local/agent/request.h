// Requests from the runner, checked against agentprotocol.h before anything acts on them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Sandflow::Agent {

/// A terminal's window, in character cells.
struct WindowSize {
    unsigned short columns = 0;   ///< 1 to MaxWindowSize
    unsigned short rows = 0;
};

inline constexpr unsigned short MaxWindowSize = 10000;

struct ExecRequest {
    std::vector<std::string> argv;                 ///< non-empty, no NUL bytes; empty with interactiveShell
    /// Instead of argv: the user's shell from /etc/passwd, else bash, else sh, interactive.
    bool interactiveShell = false;
    std::optional<std::vector<std::string>> env;   ///< "KEY=VALUE" entries; absent: inherit the agent's
    std::optional<std::string> cwd;                ///< absent: the agent's working directory
    std::optional<uid_t> uid;                      ///< without gid: the user's groups, from /etc/passwd and /etc/group
    std::optional<gid_t> gid;                      ///< only together with uid
    std::int64_t timeoutMs = 0;                    ///< 0: no limit
    bool stdinPipe = false;                        ///< feed stdin from Stdin frames instead of /dev/null
    /// Run on a new terminal of this size: its slave is the command's controlling terminal
    /// and its stdin, stdout and stderr; Stdin frames go to its master, output comes as Stdout.
    std::optional<WindowSize> pty;
    /// Append stdout and stderr to this file instead of streaming them (background commands).
    std::optional<std::string> output;
};

struct SignalRequest {
    std::uint32_t target = 0;   ///< the channel of the command to signal
    int signal = 0;
};

struct ResizeRequest {
    std::uint32_t target = 0;   ///< the channel of a command that runs on a terminal
    WindowSize size;
};

struct Request {
    enum class Op { Ping, Exec, Signal, Resize, Shutdown };
    Op op = Op::Ping;
    ExecRequest exec;        ///< Op::Exec only
    SignalRequest signal;    ///< Op::Signal only
    ResizeRequest resize;    ///< Op::Resize only
};

/// Parses a Request frame's payload. Unknown ops and fields, wrong types and values out of
/// range are errors; null stands for an absent optional field. On failure returns false and
/// describes the problem in `error`.
bool parseRequest(std::string_view payload, Request &request, std::string &error);

} // namespace Sandflow::Agent
