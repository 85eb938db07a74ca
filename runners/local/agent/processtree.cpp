#include "processtree.h"

#include "number.h"

#include <dirent.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <string>

namespace Sandflow::Agent {

namespace {

/// The parent of `pid` from /proc/PID/stat, or -1 when it is gone or a zombie.
pid_t parentOf(const std::string &pid)
{
    std::ifstream file("/proc/" + pid + "/stat");
    std::string line;
    if (!std::getline(file, line))
        return -1;
    // "pid (comm) state ppid ...": comm may hold anything, so read after its last ')'.
    const std::size_t close = line.rfind(')');
    if (close == std::string::npos || close + 4 >= line.size() || line[close + 2] == 'Z')
        return -1;
    const std::size_t start = close + 4;
    const std::size_t end = line.find(' ', start);
    return parseNumber<pid_t>(std::string_view(line).substr(start, end - start)).value_or(-1);
}

} // namespace

std::vector<pid_t> descendantsOf(pid_t root)
{
    std::multimap<pid_t, pid_t> children;
    if (DIR *proc = opendir("/proc")) {
        while (const dirent *entry = readdir(proc)) {
            const auto pid = parseNumber<pid_t>(entry->d_name);
            if (!pid)
                continue;
            const pid_t parent = parentOf(entry->d_name);
            if (parent > 0)
                children.emplace(parent, *pid);
        }
        closedir(proc);
    }
    std::vector<pid_t> result;
    std::vector<pid_t> pending = {root};
    while (!pending.empty()) {
        const pid_t parent = pending.back();
        pending.pop_back();
        const auto [first, last] = children.equal_range(parent);
        for (auto it = first; it != last; ++it) {
            result.push_back(it->second);
            pending.push_back(it->second);
        }
    }
    return result;
}

int signalDescendants(pid_t root, int signal)
{
    std::vector<pid_t> signalled;
    for (;;) {
        bool found = false;
        for (const pid_t pid : descendantsOf(root)) {
            if (std::find(signalled.begin(), signalled.end(), pid) != signalled.end())
                continue;
            found = true;
            if (kill(pid, signal) == 0)
                signalled.push_back(pid);
        }
        if (!found)
            return int(signalled.size());
    }
}

} // namespace Sandflow::Agent
