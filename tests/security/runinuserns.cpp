// run-in-userns PROGRAM [ARG...]: runs PROGRAM as root of a new user namespace that maps the
// host's ids 0-1099999999 to themselves, as the runtime of a CI container may. PROGRAM is
// root there but not in the host's first namespace, so the kernel refuses it what only that
// namespace may do, id-mapped mounts among them. Exits with PROGRAM's status.
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

bool writeMap(pid_t pid, const char *file)
{
    const std::string path = "/proc/" + std::to_string(pid) + "/" + file;
    static const char map[] = "0 0 1100000000\n";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    const bool written = fd >= 0 && ::write(fd, map, sizeof map - 1) == ssize_t(sizeof map - 1);
    if (fd >= 0)
        ::close(fd);
    return written;
}

} // namespace

int main(int argc, char *argv[])
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: run-in-userns PROGRAM [ARG...]\n");
        return 2;
    }
    int unshared[2];
    int mapped[2];
    if (::pipe2(unshared, O_CLOEXEC) != 0 || ::pipe2(mapped, O_CLOEXEC) != 0)
        return 125;
    const pid_t child = ::fork();
    if (child < 0)
        return 125;
    if (child == 0) {
        ::close(mapped[1]);
        const char status = ::unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
        if (::write(unshared[1], &status, 1) != 1 || status != 'y')
            _exit(125);
        char go = 0;
        if (::read(mapped[0], &go, 1) != 1 || go != 'y')
            _exit(125);
        ::execvp(argv[1], argv + 1);
        std::fprintf(stderr, "run-in-userns: %s: %s\n", argv[1], std::strerror(errno));
        _exit(127);
    }
    ::close(unshared[1]);
    ::close(mapped[0]);
    char status = 0;
    const bool ok = ::read(unshared[0], &status, 1) == 1 && status == 'y' && writeMap(child, "uid_map")
                    && writeMap(child, "gid_map");
    if (!ok)
        std::fprintf(stderr, "run-in-userns: cannot make and map the user namespace: %s\n", std::strerror(errno));
    const char go = ok ? 'y' : 'n';
    [[maybe_unused]] const ssize_t told = ::write(mapped[1], &go, 1);
    int waited = 0;
    while (::waitpid(child, &waited, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(waited) ? WEXITSTATUS(waited) : 128 + WTERMSIG(waited);
}
