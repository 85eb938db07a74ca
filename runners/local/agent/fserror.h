// How the fs tool fails: every operation throws one Failure, which the dispatcher turns into
// the exit status and the one line of JSON on stderr that the runner maps to an API error.
#pragma once

#include <string>
#include <string_view>

namespace Sandflow::Agent::Fs {

struct Failure {
    std::string code;     ///< one of the codes of the fs contract, e.g. "NOT_FOUND"
    std::string message;  ///< for people; names the path concerned
    int status = 1;       ///< 2 for wrong usage, so a runner bug is told apart from a bad path
};

[[noreturn]] void fail(std::string code, std::string message);

/// Fails with the code that `error` (an errno value) stands for, e.g. "cannot open PATH: reason".
[[noreturn]] void failErrno(int error, std::string_view action, std::string_view path);

} // namespace Sandflow::Agent::Fs
