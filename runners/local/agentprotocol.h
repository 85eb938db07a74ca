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
};

// Requests (all carry "op"):
//   {"op": "ping"}                                  -> Reply {"ok": true, "pid": <agent pid>}
//   {"op": "exec", "argv": [...], "env": {...},     -> Reply {"ok": true, "pid": n} once started, or
//    "cwd": "/w", "uid": n?, "gid": n?,                   {"ok": false, "error": "..."} (then no Exit);
//    "timeoutMs": n?, "stdin": bool,                  then Stdout/Stderr frames, then one Exit frame;
//    "output": "/path"?}                               with "output", both streams are appended
//                                                      to that file instead (no output frames)
//   {"op": "signal", "target": <channel>,           -> Reply {"ok": true} or {"ok": false, "error"}
//    "signal": n}                                      (signals the command's whole process group;
//                                                      target 0: every descendant of the agent,
//                                                      Reply {"ok": true, "processes": n})
//   {"op": "shutdown"}                              -> kills every process group, replies, exits 0
//
// Every command runs in its own process group; on timeout the group gets SIGKILL and the
// Exit frame says "timedOut": true. When the runner's end of the pipe closes, the agent
// kills everything and exits, so a crashed runner leaves nothing running.

} // namespace Sandflow::AgentProtocol
