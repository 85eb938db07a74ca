#include "sandboxuserns_p.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace Sandflow::Internal {

namespace {

/// Appends `value` in decimal; snprintf is not async-signal-safe.
char *appendNumber(char *out, unsigned long value)
{
    char digits[24];
    std::size_t count = 0;
    do {
        digits[count++] = char('0' + value % 10);
        value /= 10;
    } while (value);
    while (count)
        *out++ = digits[--count];
    return out;
}

bool writeMap(pid_t pid, const char *file)
{
    char path[64] = "/proc/";
    char *end = appendNumber(path + 6, static_cast<unsigned long>(pid));
    *end++ = '/';
    for (const char *c = file; *c;)
        *end++ = *c++;
    *end = '\0';

    char line[48] = "0 0 ";
    end = appendNumber(line + 4, MappedIds);
    *end++ = '\n';
    const int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool written = write(fd, line, std::size_t(end - line)) == end - line;
    close(fd);
    return written;
}

} // namespace

bool canMapUserRange()
{
    return geteuid() == 0;
}

bool enterMappedUserNamespace()
{
    int unshared[2];
    if (pipe2(unshared, O_CLOEXEC) != 0)
        return false;
    const pid_t self = getpid();
    const pid_t helper = fork();
    if (helper < 0)
        return false;
    if (helper == 0) {
        close(unshared[1]);
        char byte;
        const bool proceed = read(unshared[0], &byte, 1) == 1 && byte == 'y';
        _exit(proceed && writeMap(self, "uid_map") && writeMap(self, "gid_map") ? 0 : 1);
    }
    close(unshared[0]);
    const bool entered = unshare(CLONE_NEWUSER) == 0;
    // Told either way, so that the helper always ends.
    const char byte = entered ? 'y' : 'n';
    [[maybe_unused]] const ssize_t told = write(unshared[1], &byte, 1);
    close(unshared[1]);
    int status = 0;
    while (waitpid(helper, &status, 0) < 0 && errno == EINTR) {
    }
    return entered && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

} // namespace Sandflow::Internal
