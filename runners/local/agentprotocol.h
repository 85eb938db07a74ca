// The wire protocol between the local runner and the agent inside each sandbox.
//
// The agent is the sandbox's first process. It talks to the runner over its stdin (runner
// to agent) and stdout (agent to runner), which bubblewrap passes through; both are pipes.
// Plain C++ without Qt: the agent is a small static binary that must run in any root
// filesystem, and the runner includes this header too.
//
// A frame is a 9-byte header then `length` payload bytes:
//
//   uint32 length   (little endian, payload bytes, at most MaxPayload)
//   uint8  type     (FrameType)
//   uint32 channel  (little endian: the command id a frame belongs to; 0 for the agent)
//
// Requests and replies are UTF-8 JSON objects; output is raw bytes, so a command printing
// a gigabyte costs no encoding.
#pragma once

#include <cstdint>

namespace Sandflow::AgentProtocol {

inline constexpr std::uint32_t HeaderSize = 9;
inline constexpr std::uint32_t MaxPayload = 1u << 20;   // output is split into chunks up to this
/// The most stdin the runner has sent a command that the agent has not acknowledged with
/// StdinWritten. The agent queues what a command does not read yet; this keeps that queue
/// short, whatever the runner is given to send.
inline constexpr std::uint32_t StdinWindow = 1u << 20;

enum class FrameType : std::uint8_t {
    // runner -> agent
    Request = 1,     ///< JSON {"op": ..., ...}; the channel is chosen by the runner, unique per request
    Stdin = 2,       ///< raw bytes for the command's stdin; an empty payload closes it
    // agent -> runner
    Reply = 16,      ///< JSON answer to the Request on the same channel; ends simple requests
    Stdout = 17,     ///< raw output of the command on this channel
    Stderr = 18,
    Exit = 19,       ///< JSON {"exitCode": n} or {"signal": n, "timedOut": bool}; ends a command
    Event = 20,      ///< JSON notices not tied to a request, e.g. {"event": "entrypointExited", ...}
    StdinWritten = 21,   ///< JSON {"bytes": n}: n more bytes of the command's stdin left the agent's
                         ///< queue (written to it, or dropped once it can take no more)
};

// Requests (all carry "op"):
//   {"op": "ping"}                                  -> Reply {"ok": true, "pid": <agent pid>}
//   {"op": "exec", "argv": [...], "env": {...},     -> Reply {"ok": true, "pid": n} once started, or
//    "cwd": "/w", "uid": n?, "gid": n?,                   {"ok": false, "error": "..."} (then no Exit);
//    "timeoutMs": n?, "stdin": bool,                  then Stdout/Stderr frames, then one Exit frame;
//    "output": "/path"?,                               with "output", both streams are appended
//    "pty": {"columns": c, "rows": r}?,                to that file instead (no output frames)
//    "interactiveShell": bool}
//   {"op": "signal", "target": <channel>,           -> Reply {"ok": true} or {"ok": false, "error"}
//    "signal": n}                                      (signals the command's whole process group,
//                                                      with a pty its whole session; target 0:
//                                                      every descendant of the agent,
//                                                      Reply {"ok": true, "processes": n})
//   {"op": "resize", "target": <channel>,           -> Reply {"ok": true} or {"ok": false, "error"}
//    "columns": c, "rows": r}                          (the window of a command's pty; the kernel
//                                                      sends its foreground group SIGWINCH)
//   {"op": "shutdown"}                              -> kills every process group, replies, exits 0
//
// Every command runs in its own process group; on timeout the group gets SIGKILL and the
// Exit frame says "timedOut": true. When the runner's end of the pipe closes, the agent
// kills everything and exits, so a crashed runner leaves nothing running.
//
// Stdin: with "stdin": true, Stdin frames feed the command's stdin pipe; an empty one closes
// it. The agent answers what it wrote (or dropped) with StdinWritten frames, and the runner
// keeps at most StdinWindow bytes unanswered per command, so that a command that does not
// read makes the runner wait, not the agent's memory grow.
//
// Terminals: with "pty", the command runs in a new session on a new pseudo-terminal of the
// sandbox's own devpts instance (sizes 1 to 10000): the slave is its controlling terminal and
// its stdin, stdout and stderr. Stdin frames go to the master (through the line discipline:
// \x03 is Ctrl-C), an empty one sends the terminal's EOF character and ends the input, and
// everything it prints comes as Stdout frames; "stdin" and "output" do not combine with it,
// and TERM is xterm-256color unless "env" names one. The master stays in the agent (never in
// another command) and is closed once the command has finished, hanging up whatever the
// command left on the terminal; its signals, timeout and the agent's end reach its session.
// "interactiveShell" instead of "argv" starts the shell /etc/passwd names for the command's
// user (unless it is nologin or false), else /bin/bash, else /bin/sh, with `-i`, and HOME,
// USER and SHELL set unless "env" has them.

} // namespace Sandflow::AgentProtocol
