// Helpers for tests that drive LocalRunner through the Runner interface with real sandboxes.
#pragma once

#include "localrunner.h"
#include "runnertesting.h"

namespace RunnerTesting {

inline Sandflow::LocalRunner::Options runnerOptions()
{
    Sandflow::LocalRunner::Options options;
    options.agentPath = QStringLiteral(SANDFLOW_AGENT_PATH);
    // Requests name images as clients do; tests reach no registry but their own, so the images
    // they name run on the host's tree. The tests of images themselves use real ones.
    options.hostImages = {QStringLiteral("*")};
    return options;
}

} // namespace RunnerTesting
