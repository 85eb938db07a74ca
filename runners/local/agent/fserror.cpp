#include "fserror.h"

#include <cerrno>
#include <cstring>

namespace Sandflow::Agent::Fs {

namespace {

const char *codeOf(int error)
{
    switch (error) {
    case ENOENT:
        return "NOT_FOUND";
    case EACCES:
    case EPERM:
    case EROFS:
        return "PERMISSION_DENIED";
    case ENOTDIR:
        return "NOT_A_DIRECTORY";
    case EISDIR:
        return "IS_A_DIRECTORY";
    case EEXIST:
    case ENOTEMPTY:
        return "ALREADY_EXISTS";
    case EINVAL:
    case ENAMETOOLONG:
        return "INVALID_ARGUMENT";
    default:
        return "IO_ERROR";
    }
}

} // namespace

void fail(std::string code, std::string message)
{
    throw Failure{std::move(code), std::move(message), 1};
}

void failErrno(int error, std::string_view action, std::string_view path)
{
    std::string message(action);
    message += ' ';
    message += path;
    message += ": ";
    message += std::strerror(error);
    fail(codeOf(error), std::move(message));
}

} // namespace Sandflow::Agent::Fs
