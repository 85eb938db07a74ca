// The FileInfo objects of the fs tool's output, built from stat results.
#pragma once

#include <sys/stat.h>

#include <string>
#include <utility>
#include <vector>

namespace Sandflow::Agent::Fs {

/// One FileInfo JSON object describing `path`, whose stat result is `st`.
std::string fileInfo(const std::string &path, const struct stat &st);

/// A JSON array of the FileInfo of each (path, stat) pair, in the order given.
std::string fileInfoArray(const std::vector<std::pair<std::string, struct stat>> &entries);

} // namespace Sandflow::Agent::Fs
