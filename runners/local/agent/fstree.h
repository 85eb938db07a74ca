// Paths and whole directory trees for the fs tool: creating, walking, copying and removing.
// None of these follows a symbolic link found inside a tree.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <string>
#include <vector>

namespace Sandflow::Agent::Fs {

/// lstat(2) of `path`, failing with the errno's code and naming `path`.
struct stat lstatOrFail(const std::string &path);

/// `parent` and `name` joined by exactly one slash.
std::string childPath(const std::string &parent, const std::string &name);
/// The directory holding `path`: "." for a bare name, "/" for a name right under the root.
std::string parentPath(const std::string &path);
/// The last component of `path`.
std::string baseName(const std::string &path);

/// Like `mkdir -p`: creates the missing directories of `path` with `mode` (less the umask)
/// and returns them, outermost first. An existing non-directory on the way fails NOT_A_DIRECTORY.
std::vector<std::string> makeDirectories(const std::string &path, mode_t mode);

/// Calls `visit` with the path and lstat result of every entry under directory `dir`, `depth`
/// levels deep (-1: all), in lexical order, each directory's entries right after it.
/// Subdirectories that cannot be read are reported but not entered.
void walk(const std::string &dir, int depth,
          const std::function<void(const std::string &path, const struct stat &st)> &visit);

/// Copies `from` (any file type but devices, sockets and FIFOs) to the new path `to`,
/// recursively, keeping modes, times and symbolic links, and owners where permitted.
void copyTree(const std::string &from, const std::string &to);

/// Removes directory `dir` and everything in it.
void removeTree(const std::string &dir);

} // namespace Sandflow::Agent::Fs
