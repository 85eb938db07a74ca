#include "fileinfo.h"

#include "json.h"
#include "userdb.h"

#include <cstdint>

namespace Sandflow::Agent::Fs {

namespace {

const char *typeName(mode_t mode)
{
    if (S_ISREG(mode))
        return "file";
    if (S_ISDIR(mode))
        return "directory";
    if (S_ISLNK(mode))
        return "symlink";
    return "other";
}

std::int64_t milliseconds(const struct timespec &time)
{
    return std::int64_t(time.tv_sec) * 1000 + time.tv_nsec / 1'000'000;
}

} // namespace

std::string fileInfo(const std::string &path, const struct stat &st)
{
    return Json::Writer()
        .addString("path", path)
        .addString("type", typeName(st.st_mode))
        .addInteger("size", st.st_size)
        .addInteger("modifiedAt", milliseconds(st.st_mtim))
        .addInteger("changedAt", milliseconds(st.st_ctim))
        .addString("owner", userName(st.st_uid))
        .addString("group", groupName(st.st_gid))
        .addInteger("uid", st.st_uid)
        .addInteger("gid", st.st_gid)
        .addInteger("mode", st.st_mode & 0777)
        .finish();
}

std::string fileInfoArray(const std::vector<std::pair<std::string, struct stat>> &entries)
{
    std::string text = "[";
    for (const auto &[path, st] : entries) {
        if (text.size() > 1)
            text += ", ";
        text += fileInfo(path, st);
    }
    text += ']';
    return text;
}

} // namespace Sandflow::Agent::Fs
