// What a command that a person talks to gets beyond what its request names: a shell when it
// names no program, and the variables that shells and full-screen programs look for.
#pragma once

#include "request.h"

namespace Sandflow::Agent {

/// Completes `request` before spawn(). With `interactiveShell`, argv becomes the user's shell
/// started interactive (`-i`): the one /etc/passwd names for the user the command runs as,
/// when it is there and lets people in (not nologin or false), else /bin/bash, else /bin/sh;
/// and HOME, USER and SHELL are set unless the environment has them. With a pty, TERM is
/// xterm-256color unless the environment has it. An absent environment becomes the agent's
/// own, with these added.
void completeInteractiveRequest(ExecRequest &request);

} // namespace Sandflow::Agent
