// `sandflow-agent relay PORT`: joins the tool's stdin and stdout to a TCP connection to
// 127.0.0.1:PORT. The runner runs it inside a sandbox, in the sandbox's own network
// namespace, to reach a service that listens only on the sandbox's loopback.
//
// Everything on stdin goes to the service; at the end of stdin the connection is half-closed,
// so the service sees the end of the request while its answer still flows. Everything the
// service sends comes out on stdout, until it closes the connection. Failures write one line
// of text to stderr and exit with one of the statuses below.
#pragma once

#include <string>
#include <vector>

namespace Sandflow::Agent::Relay {

/// The service closed the connection and all it sent is on stdout.
inline constexpr int ExitDone = 0;
/// The connection or a pipe failed midway (e.g. the service reset the connection).
inline constexpr int ExitBroken = 1;
/// Wrong usage: a runner bug rather than a problem of the sandbox.
inline constexpr int ExitUsage = 2;
/// Nothing accepts connections on the port.
inline constexpr int ExitUnreachable = 3;

/// Relays to the port `args[0]` and returns the exit status.
int run(const std::vector<std::string> &args);

} // namespace Sandflow::Agent::Relay
