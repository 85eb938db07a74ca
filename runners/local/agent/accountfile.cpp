#include "accountfile.h"

#include <fstream>
#include <string>

namespace Sandflow::Agent {

void forEachAccountEntry(const char *path, const std::function<bool(const std::vector<std::string_view> &)> &entry)
{
    std::ifstream file(path);
    std::vector<std::string_view> fields;
    for (std::string line; std::getline(file, line);) {
        fields.clear();
        std::string_view rest(line);
        for (;;) {
            const std::size_t colon = rest.find(':');
            fields.push_back(rest.substr(0, colon));
            if (colon == rest.npos)
                break;
            rest.remove_prefix(colon + 1);
        }
        if (!entry(fields))
            return;
    }
}

} // namespace Sandflow::Agent
