#include "processtree.h"

#include "number.h"

#include <dirent.h>
#include <signal.h>

#include <cerrno>
#include <algorithm>
#include <fstream>
#include <map>
#include <string>

namespace Sandflow::Agent {

namespace {

/// Fields of /proc/PID/stat, counted from the state (field 3) on.
enum class StatField { Parent = 1, Session = 3 };

/// A field of /proc/PID/stat, or -1 when the process is gone or a zombie.
pid_t statField(const std::string &pid, StatField field)
{
    std::ifstream file("/proc/" + pid + "/stat");
    std::string line;
    if (!std::getline(file, line))
        return -1;
    // "pid (comm) state ppid pgrp session ...": comm may hold anything, so read after its last ')'.
    const std::size_t close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size() || line[close + 2] == 'Z')
        return -1;
    std::size_t start = close + 2;
    for (int skipped = 0; skipped < int(field); ++skipped) {
        start = line.find(' ', start);
        if (start == std::string::npos)
            return -1;
        ++start;
    }
    const std::size_t end = line.find(' ', start);
    return parseNumber<pid_t>(std::string_view(line).substr(start, end - start)).value_or(-1);
}

/// Calls `visit` with the pid of every process and the value of its `field`.
template<typename Visit>
void forEachProcess(StatField field, Visit visit)
{
    DIR *proc = opendir("/proc");
    if (!proc)
        return;
    while (const dirent *entry = readdir(proc)) {
        const auto pid = parseNumber<pid_t>(entry->d_name);
        if (!pid)
            continue;
        const pid_t value = statField(entry->d_name, field);
        if (value > 0)
            visit(*pid, value);
    }
    closedir(proc);
}

std::vector<pid_t> sessionMembers(pid_t session)
{
    std::vector<pid_t> members;
    forEachProcess(StatField::Session, [&](pid_t pid, pid_t sessionOfPid) {
        if (sessionOfPid == session)
            members.push_back(pid);
    });
    return members;
}

/// Signals every process `find` lists, listing again until a pass finds none it has not
/// tried yet, so that children forked meanwhile are caught too. Each is tried once: one that
/// refuses the signal must not keep the agent listing for ever. Returns how many it reached.
template<typename Find>
int signalAll(Find find, int signal)
{
    std::vector<pid_t> tried;
    int reached = 0;
    for (;;) {
        bool found = false;
        for (const pid_t pid : find()) {
            if (std::find(tried.begin(), tried.end(), pid) != tried.end())
                continue;
            found = true;
            tried.push_back(pid);
            if (kill(pid, signal) == 0)
                ++reached;
        }
        if (!found)
            return reached;
    }
}

} // namespace

std::vector<pid_t> descendantsOf(pid_t root)
{
    std::multimap<pid_t, pid_t> children;
    forEachProcess(StatField::Parent, [&](pid_t pid, pid_t parent) { children.emplace(parent, pid); });
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
    return signalAll([root] { return descendantsOf(root); }, signal);
}

int Processes::signal(int signal) const
{
    if (scope == Scope::Group)
        return kill(-leader, signal) == 0 ? 0 : errno;
    return signalAll([this] { return sessionMembers(leader); }, signal) > 0 ? 0 : ESRCH;
}

bool Processes::alive() const
{
    if (scope == Scope::Group)
        return kill(-leader, 0) == 0;
    return !sessionMembers(leader).empty();
}

} // namespace Sandflow::Agent
