#include "maxsandboxes.h"

#include <QThread>

#include <algorithm>
#include <unistd.h>

namespace Sandflow::Cli {

int defaultMaxSandboxes(int cores, qint64 memoryBytes)
{
    constexpr qint64 MiB = 1024 * 1024;
    const qint64 memoryMiB = memoryBytes > 0 ? memoryBytes / MiB : 4096;
    return int(std::clamp<qint64>(std::min<qint64>(qint64(cores) * 4, memoryMiB / 512), 1, 256));
}

int defaultMaxSandboxesHere()
{
    const qint64 pages = sysconf(_SC_PHYS_PAGES);
    const qint64 pageSize = sysconf(_SC_PAGE_SIZE);
    return defaultMaxSandboxes(QThread::idealThreadCount(), pages > 0 && pageSize > 0 ? pages * pageSize : 0);
}

} // namespace Sandflow::Cli
