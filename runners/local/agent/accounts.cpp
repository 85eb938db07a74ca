#include "accounts.h"

#include "accountfile.h"
#include "number.h"

#include <algorithm>
#include <string>
#include <string_view>

namespace Sandflow::Agent {

namespace {

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
    forEachAccountEntry("/etc/passwd", [&](const std::vector<std::string_view> &entry) {
        if (entry.size() < 4 || parseNumber<unsigned>(entry[2]) != uid)
            return true;
        if (const auto gid = parseNumber<unsigned>(entry[3])) {
            name = entry[0];
            groups.primary = gid_t(*gid);
        }
        return false;
    });
    groups.all.push_back(groups.primary);
    if (name.empty())
        return groups;
    forEachAccountEntry("/etc/group", [&](const std::vector<std::string_view> &entry) {
        if (entry.size() < 4 || !listsMember(entry[3], name))
            return true;
        const auto gid = parseNumber<unsigned>(entry[2]);
        if (gid && std::find(groups.all.begin(), groups.all.end(), gid_t(*gid)) == groups.all.end())
            groups.all.push_back(gid_t(*gid));
        return true;
    });
    return groups;
}

} // namespace Sandflow::Agent
