// How `sandflow run` and `sandflow serve` let `sandflow sandbox` reach their local
// sandboxes from another terminal: each records where its OpenSandbox server listens
// (controlendpoints.h). A run, which has no server of its own, starts one on a free
// loopback port with a key of its own.
#pragma once

#include "controlendpoints.h"

#include <QString>

#include <memory>

namespace Sandflow {
class Runner;
class SandboxServer;
}

namespace Sandflow::Cli {

/// A new random API key: 128 bits, as 32 hex digits.
QString newApiKey();

/// A run's server over its runner, recorded while it lives. Destroying it closes the
/// server; the sandboxes stay the run's to delete.
class RunControl
{
public:
    ~RunControl();

    /// Serves `runner`'s sandboxes (it must outlive this) and records the server in
    /// `stateDirectory` for "run RUN-ID". Nothing, with `error` saying why, on failure.
    static std::unique_ptr<RunControl> start(Runner *runner, const QString &stateDirectory, const QString &runId,
                                             QString *error);

private:
    RunControl() = default;
    std::unique_ptr<SandboxServer> m_server;
    std::unique_ptr<ControlEndpointRegistration> m_registration;
};

} // namespace Sandflow::Cli
