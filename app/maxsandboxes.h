// How many sandboxes a run keeps alive at once when `--max-sandboxes` does not say.
#pragma once

#include <QtGlobal>

namespace Sandflow::Cli {

/// Four per core, to keep the cores busy while sandboxes start and wait, but no more than one
/// per 512 MiB of memory, so that each can have that much; at least 1, at most 256.
/// `memoryBytes` of 0 or less: unknown, taken as 4 GiB.
int defaultMaxSandboxes(int cores, qint64 memoryBytes);

/// defaultMaxSandboxes() for this machine's cores and physical memory.
int defaultMaxSandboxesHere();

} // namespace Sandflow::Cli
