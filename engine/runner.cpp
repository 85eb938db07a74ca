#include "runner.h"

namespace Sandflow {

using namespace Qt::StringLiterals;

QString sandboxStateName(SandboxState state)
{
    switch (state) {
    case SandboxState::Pending: return u"Pending"_s;
    case SandboxState::Running: return u"Running"_s;
    case SandboxState::Paused: return u"Paused"_s;
    case SandboxState::Terminated: return u"Terminated"_s;
    case SandboxState::Failed: return u"Failed"_s;
    case SandboxState::Unknown: break;
    }
    return u"Unknown"_s;
}

} // namespace Sandflow
