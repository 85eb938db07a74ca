#include "runner.h"

#include <algorithm>

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

SandboxState sandboxStateFromName(const QString &name)
{
    for (const SandboxState state : {SandboxState::Pending, SandboxState::Running, SandboxState::Paused,
                                     SandboxState::Terminated, SandboxState::Failed}) {
        if (name.compare(sandboxStateName(state), Qt::CaseInsensitive) == 0)
            return state;
    }
    return SandboxState::Unknown;
}

SandboxPage selectSandboxes(QList<SandboxInfo> sandboxes, const SandboxFilter &filter)
{
    const auto matches = [&filter](const SandboxInfo &sandbox) {
        if (!filter.states.isEmpty()
            && !filter.states.contains(sandboxStateName(sandbox.state), Qt::CaseInsensitive))
            return false;
        for (auto it = filter.metadata.cbegin(); it != filter.metadata.cend(); ++it) {
            const auto found = sandbox.metadata.constFind(it.key());
            if (found == sandbox.metadata.cend() || *found != it.value())
                return false;
        }
        return true;
    };
    sandboxes.removeIf([&matches](const SandboxInfo &sandbox) { return !matches(sandbox); });
    std::stable_sort(sandboxes.begin(), sandboxes.end(), [](const SandboxInfo &a, const SandboxInfo &b) {
        return a.createdAt > b.createdAt;
    });

    SandboxPage page;
    page.page = std::max(filter.page, 1);
    page.pageSize = std::max(filter.pageSize, 1);
    page.totalItems = int(sandboxes.size());
    page.totalPages = (page.totalItems + page.pageSize - 1) / page.pageSize;
    page.hasNextPage = page.page < page.totalPages;
    const qsizetype first = qsizetype(page.page - 1) * page.pageSize;
    if (first < sandboxes.size())
        page.items = sandboxes.mid(first, page.pageSize);
    return page;
}

QString fileTypeName(FileInfo::Type type)
{
    switch (type) {
    case FileInfo::Type::File: return u"file"_s;
    case FileInfo::Type::Directory: return u"directory"_s;
    case FileInfo::Type::Symlink: return u"symlink"_s;
    case FileInfo::Type::Other: break;
    }
    return u"other"_s;
}

} // namespace Sandflow
