#include "sandboxnetwork_p.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

QByteArray SandboxNetwork::resolvConf()
{
    return QByteArray("# The sandbox's resolver: it answers the names the sandbox's network policy allows.\n"
                      "nameserver ")
           + ResolverAddress + '\n';
}

UniqueFd SandboxNetwork::resolvConfDescriptor()
{
    const QByteArray text = resolvConf();
    UniqueFd fd(::memfd_create("sandflow-resolv.conf", MFD_CLOEXEC));
    if (!fd.isValid() || ::write(fd.get(), text.constData(), size_t(text.size())) != text.size()
        || ::lseek(fd.get(), 0, SEEK_SET) != 0)
        return {};
    return fd;
}

namespace {

// Runs on a thread of its own, which leaves the runner's network namespace for the new one
// and ends there: no other thread of the runner ever changes namespace.
QString makeNetwork(SandboxNetwork *network)
{
    if (::unshare(CLONE_NEWNET) != 0)
        return u"cannot make a network namespace: %1"_s.arg(QString::fromLocal8Bit(strerror(errno)));
    network->namespaceFd = UniqueFd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!network->namespaceFd.isValid())
        return u"cannot open the new network namespace: %1"_s.arg(QString::fromLocal8Bit(strerror(errno)));
    // Loopback comes down in a new namespace.
    const UniqueFd control(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq request{};
    std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    request.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
    if (!control.isValid() || ::ioctl(control.get(), SIOCSIFFLAGS, &request) != 0)
        return u"cannot bring up loopback in the sandbox's network namespace: %1"_s.arg(QString::fromLocal8Bit(strerror(errno)));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(SandboxNetwork::ResolverPort);
    ::inet_pton(AF_INET, SandboxNetwork::ResolverAddress, &address.sin_addr);
    const auto bound = [&address](int type) {
        UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        const int one = 1;
        if (fd.isValid() && type == SOCK_STREAM)
            ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (!fd.isValid() || ::bind(fd.get(), reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0
            || (type == SOCK_STREAM && ::listen(fd.get(), 64) != 0))
            return UniqueFd();
        return fd;
    };
    network->resolverUdp = bound(SOCK_DGRAM);
    network->resolverTcp = bound(SOCK_STREAM);
    if (!network->resolverUdp.isValid() || !network->resolverTcp.isValid())
        return u"cannot bind the sandbox's resolver to %1:%2: %3"_s.arg(QLatin1StringView(SandboxNetwork::ResolverAddress))
            .arg(SandboxNetwork::ResolverPort)
            .arg(QString::fromLocal8Bit(strerror(errno)));
    // Dual-stack where the kernel has IPv6: the proxy takes the sandbox's IPv6 sockets too.
    sockaddr_in6 any6{};
    any6.sin6_family = AF_INET6;
    network->proxyListener = UniqueFd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    const int zero = 0;
    if (!network->proxyListener.isValid()
        || ::setsockopt(network->proxyListener.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) != 0
        || ::bind(network->proxyListener.get(), reinterpret_cast<const sockaddr *>(&any6), sizeof any6) != 0) {
        sockaddr_in any4{};
        any4.sin_family = AF_INET;
        network->proxyListener = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (!network->proxyListener.isValid()
            || ::bind(network->proxyListener.get(), reinterpret_cast<const sockaddr *>(&any4), sizeof any4) != 0)
            return u"cannot bind the sandbox's proxy: %1"_s.arg(QString::fromLocal8Bit(strerror(errno)));
    }
    sockaddr_storage proxy{};
    socklen_t proxyLength = sizeof proxy;
    if (::listen(network->proxyListener.get(), 4096) != 0
        || ::getsockname(network->proxyListener.get(), reinterpret_cast<sockaddr *>(&proxy), &proxyLength) != 0)
        return u"cannot listen for the sandbox's proxy: %1"_s.arg(QString::fromLocal8Bit(strerror(errno)));
    network->proxyPort = ntohs(proxy.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6 *>(&proxy)->sin6_port
                                                           : reinterpret_cast<const sockaddr_in *>(&proxy)->sin_port);
    return {};
}

} // namespace

std::optional<SandboxNetwork> SandboxNetwork::create(QString *error)
{
    SandboxNetwork network;
    // A few system calls: the thread is joined at once.
    std::thread maker([&network, error] { *error = makeNetwork(&network); });
    maker.join();
    if (!error->isEmpty())
        return std::nullopt;
    return network;
}

} // namespace Sandflow::Internal
