// A job instance's sandbox, from the workflow's spec to the fully resolved request a
// runner takes.
#pragma once

#include "runner.h"
#include "runscope_p.h"
#include "workflow.h"

namespace Sandflow::Internal {

/// Evaluates `spec` in `scope`; on a problem returns false with `error` naming it.
bool buildSandboxRequest(const Workflow &workflow, const SandboxSpec &spec, const InstanceScope &scope,
                         SandboxRequest *request, QString *error);

} // namespace Sandflow::Internal
