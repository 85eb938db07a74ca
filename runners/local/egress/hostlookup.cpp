#include "hostlookup_p.h"

#include <QThreadPool>
#include <QtConcurrent>

#include <netdb.h>
#include <sys/socket.h>

#include <memory>

namespace Sandflow::Internal {

namespace {

// Lookups block their thread for as long as the host's DNS takes; a few at once are plenty
// for the sandboxes of one runner, and more would only wait on the same DNS server.
constexpr int LookupThreads = 8;

/// Never destroyed: a lookup still blocked on the host's DNS must not hold up the exit.
QThreadPool *lookupPool()
{
    static QThreadPool *const pool = [] {
        auto *threads = new QThreadPool;
        threads->setMaxThreadCount(LookupThreads);
        return threads;
    }();
    return pool;
}

struct AddressInfoDeleter
{
    void operator()(addrinfo *info) const { freeaddrinfo(info); }
};
using AddressInfo = std::unique_ptr<addrinfo, AddressInfoDeleter>;

int addressInfo(const QByteArray &name, int family, int flags, AddressInfo &result)
{
    addrinfo hints{};
    hints.ai_family = family;
    // One entry per address rather than one per socket type; no AI_ADDRCONFIG: the sandbox's
    // view of the network, not the host's, decides which families are usable.
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = flags;
    addrinfo *list = nullptr;
    const int status = getaddrinfo(name.constData(), nullptr, &hints, &list);
    result.reset(list);
    return status;
}

HostLookup blockingLookup(const QString &name, int family)
{
    const QByteArray encoded = name.toLatin1();
    AddressInfo list;
    if (addressInfo(encoded, AF_UNSPEC, AI_NUMERICHOST, list) == 0)
        return {HostLookup::Outcome::NoSuchName, {}};
    const int status = addressInfo(encoded, family, 0, list);
    HostLookup result;
    if (status == 0) {
        for (const addrinfo *entry = list.get(); entry; entry = entry->ai_next) {
            const QHostAddress address(entry->ai_addr);
            if (!address.isNull() && !result.addresses.contains(address))
                result.addresses.append(address);
        }
        result.outcome = result.addresses.isEmpty() ? HostLookup::Outcome::NoAddress : HostLookup::Outcome::Found;
        return result;
    }
    switch (status) {
    case EAI_NONAME: {
        // getaddrinfo says "no such name" when only the other family has addresses (a name
        // with only an IPv4 address in /etc/hosts); DNS calls that a name without data.
        const int otherFamily = family == AF_INET ? AF_INET6 : AF_INET;
        const bool otherExists = addressInfo(encoded, otherFamily, 0, list) == 0;
        result.outcome = otherExists ? HostLookup::Outcome::NoAddress : HostLookup::Outcome::NoSuchName;
        return result;
    }
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
    case EAI_ADDRFAMILY:
        result.outcome = HostLookup::Outcome::NoAddress;
        return result;
    default:
        result.outcome = HostLookup::Outcome::Failed;
        return result;
    }
}

} // namespace

QFuture<HostLookup> lookUpHost(const QString &name, QAbstractSocket::NetworkLayerProtocol family)
{
    const int addressFamily = family == QAbstractSocket::IPv4Protocol ? AF_INET : AF_INET6;
    return QtConcurrent::run(lookupPool(), blockingLookup, name, addressFamily);
}

} // namespace Sandflow::Internal
