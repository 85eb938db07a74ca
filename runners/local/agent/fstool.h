// `sandflow-agent fs OP ARGS...`: the file operations of a sandbox, run by the runner as an
// ordinary command inside it, so they see exactly the files, mounts and permissions the
// sandbox's commands see. Success exits 0 with the result on stdout; failure exits 1 (2 for
// wrong usage) with one line of JSON on stderr: {"code": CODE, "message": TEXT}.
#pragma once

#include <string>
#include <vector>

namespace Sandflow::Agent::Fs {

/// Runs operation `args[0]` with the arguments after it and returns the exit status.
int run(const std::vector<std::string> &args);

} // namespace Sandflow::Agent::Fs
