// /etc/passwd and /etc/group as the agent reads them: lines of colon-separated fields.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

namespace Sandflow::Agent {

/// Calls `entry` with the fields of each line of `path`; `entry` returns false to stop.
/// A missing file has no lines.
void forEachAccountEntry(const char *path, const std::function<bool(const std::vector<std::string_view> &)> &entry);

} // namespace Sandflow::Agent
