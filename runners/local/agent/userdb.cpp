#include "userdb.h"

#include "number.h"

#include <fstream>
#include <utility>
#include <vector>

namespace Sandflow::Agent::Fs {

namespace {

/// name -> id of one database file, whose lines both look like "name:password:id:...".
using Table = std::vector<std::pair<std::string, unsigned>>;

Table load(const char *path)
{
    Table table;
    std::ifstream file(path);
    std::string line;
    while (std::getline(file, line)) {
        const std::string_view view(line);
        const auto first = view.find(':');
        const auto second = first == view.npos ? view.npos : view.find(':', first + 1);
        if (second == view.npos || first == 0)
            continue;
        const auto third = view.find(':', second + 1);
        const auto id = parseNumber<unsigned>(view.substr(second + 1, third == view.npos ? view.npos : third - second - 1));
        if (id)
            table.emplace_back(std::string(view.substr(0, first)), *id);
    }
    return table;
}

// Each file is read once per run: `list` and `search` name the owner of every entry.
const Table &users()
{
    static const Table table = load("/etc/passwd");
    return table;
}

const Table &groups()
{
    static const Table table = load("/etc/group");
    return table;
}

std::string nameIn(const Table &table, unsigned id)
{
    for (const auto &[name, entryId] : table) {
        if (entryId == id)
            return name;
    }
    return std::to_string(id);
}

std::optional<unsigned> idIn(const Table &table, std::string_view nameOrId)
{
    for (const auto &[name, id] : table) {
        if (name == nameOrId)
            return id;
    }
    return parseNumber<unsigned>(nameOrId);
}

} // namespace

std::string userName(uid_t uid)
{
    return nameIn(users(), uid);
}

std::string groupName(gid_t gid)
{
    return nameIn(groups(), gid);
}

std::optional<uid_t> findUser(std::string_view nameOrId)
{
    return idIn(users(), nameOrId);
}

std::optional<gid_t> findGroup(std::string_view nameOrId)
{
    return idIn(groups(), nameOrId);
}

} // namespace Sandflow::Agent::Fs
