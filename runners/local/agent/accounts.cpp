#include "accounts.h"

#include "number.h"

#include <algorithm>
#include <fstream>
#include <string>
#include <string_view>

namespace Sandflow::Agent {

namespace {

/// The colon-separated fields of a passwd or group line.
std::vector<std::string_view> fields(std::string_view line)
{
    std::vector<std::string_view> result;
    for (;;) {
        const std::size_t colon = line.find(':');
        result.push_back(line.substr(0, colon));
        if (colon == line.npos)
            return result;
        line.remove_prefix(colon + 1);
    }
}

bool listsMember(std::string_view members, std::string_view name)
{
    for (;;) {
        const std::size_t comma = members.find(',');
        if (members.substr(0, comma) == name)
            return true;
        if (comma == members.npos)
            return false;
        members.remove_prefix(comma + 1);
    }
}

} // namespace

Groups groupsOf(uid_t uid)
{
    Groups groups;
    groups.primary = gid_t(uid);
    std::string name;
    std::ifstream passwd("/etc/passwd");
    for (std::string line; std::getline(passwd, line);) {
        const std::vector<std::string_view> entry = fields(line);
        if (entry.size() >= 4 && parseNumber<unsigned>(entry[2]) == uid) {
            if (const auto gid = parseNumber<unsigned>(entry[3])) {
                name = entry[0];
                groups.primary = gid_t(*gid);
            }
            break;
        }
    }
    groups.all.push_back(groups.primary);
    if (name.empty())
        return groups;
    std::ifstream group("/etc/group");
    for (std::string line; std::getline(group, line);) {
        const std::vector<std::string_view> entry = fields(line);
        if (entry.size() < 4 || !listsMember(entry[3], name))
            continue;
        const auto gid = parseNumber<unsigned>(entry[2]);
        if (gid && std::find(groups.all.begin(), groups.all.end(), gid_t(*gid)) == groups.all.end())
            groups.all.push_back(gid_t(*gid));
    }
    return groups;
}

} // namespace Sandflow::Agent
