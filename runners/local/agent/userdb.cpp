#include "userdb.h"

#include "accountfile.h"
#include "number.h"

#include <utility>
#include <vector>

namespace Sandflow::Agent::Fs {

namespace {

/// name -> id of one database file, whose lines both look like "name:password:id:...".
using Table = std::vector<std::pair<std::string, unsigned>>;

Table load(const char *path)
{
    Table table;
    forEachAccountEntry(path, [&table](const std::vector<std::string_view> &entry) {
        const auto id = entry.size() >= 3 ? parseNumber<unsigned>(entry[2]) : std::nullopt;
        if (id && !entry[0].empty())
            table.emplace_back(std::string(entry[0]), *id);
        return true;
    });
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
