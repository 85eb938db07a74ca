#include "sandboxuserns_p.h"

#include <QFile>

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

bool writeMap(pid_t pid, const QString &file)
{
    QFile map(u"/proc/%1/%2"_s.arg(pid).arg(file));
    const QByteArray line = "0 0 " + QByteArray::number(MappedUserNamespace::MappedIds) + '\n';
    return map.open(QIODevice::WriteOnly | QIODevice::Unbuffered) && map.write(line) == line.size();
}

void closeBoth(int fds[2])
{
    ::close(fds[0]);
    ::close(fds[1]);
}

} // namespace

// A short-lived child makes the namespace and waits while this process, still outside it
// and root there, writes its maps and opens it. The open descriptor keeps the namespace
// alive after the child has gone. All of this takes about a millisecond, once per runner.
MappedUserNamespace MappedUserNamespace::create(QString *error)
{
    MappedUserNamespace result;
    const auto fail = [error](const QString &what) {
        *error = u"%1: %2"_s.arg(what, QString::fromLocal8Bit(strerror(errno)));
    };
    if (geteuid() != 0) {
        *error = u"only root can map a range of user ids"_s;
        return result;
    }
    int unshared[2];
    int mapped[2];
    if (pipe2(unshared, O_CLOEXEC) != 0) {
        fail(u"pipe"_s);
        return result;
    }
    if (pipe2(mapped, O_CLOEXEC) != 0) {
        fail(u"pipe"_s);
        closeBoth(unshared);
        return result;
    }
    const pid_t child = fork();
    if (child < 0) {
        fail(u"fork"_s);
        closeBoth(unshared);
        closeBoth(mapped);
        return result;
    }
    if (child == 0) {
        // Async-signal-safe calls only: the runner may have other threads. Its own copy
        // of the write end would keep the end of file from ever coming.
        ::close(mapped[1]);
        const char status = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
        [[maybe_unused]] const ssize_t told = write(unshared[1], &status, 1);
        char done;
        [[maybe_unused]] const ssize_t waited = read(mapped[0], &done, 1);
        _exit(0);
    }
    ::close(unshared[1]);
    ::close(mapped[0]);
    char status = 'n';
    while (read(unshared[0], &status, 1) < 0 && errno == EINTR) {
    }
    if (status != 'y') {
        *error = u"user namespaces are not available"_s;
    } else if (!writeMap(child, u"uid_map"_s) || !writeMap(child, u"gid_map"_s)) {
        fail(u"cannot write the user namespace's id maps"_s);
    } else {
        const QByteArray path = "/proc/" + QByteArray::number(child) + "/ns/user";
        result.m_fd = ::open(path.constData(), O_RDONLY | O_CLOEXEC);
        if (result.m_fd < 0)
            fail(u"cannot open the user namespace"_s);
    }
    ::close(unshared[0]);
    ::close(mapped[1]);   // the child ends on end of file
    while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    return result;
}

MappedUserNamespace::MappedUserNamespace(MappedUserNamespace &&other) noexcept
    : m_fd(std::exchange(other.m_fd, -1))
{
}

MappedUserNamespace &MappedUserNamespace::operator=(MappedUserNamespace &&other) noexcept
{
    std::swap(m_fd, other.m_fd);
    return *this;
}

MappedUserNamespace::~MappedUserNamespace()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

} // namespace Sandflow::Internal
