// Helpers for tests that drive LocalRunner through the Runner interface with real sandboxes.
#pragma once

#include "localrunner.h"
#include "runnertesting.h"

namespace RunnerTesting {

inline Sandflow::LocalRunner::Options runnerOptions()
{
    Sandflow::LocalRunner::Options options;
    options.agentPath = QStringLiteral(SANDFLOW_AGENT_PATH);
    return options;
}

} // namespace RunnerTesting
