// The network namespace of a sandbox with a network policy: loopback only, so that nothing
// made inside it reaches past it, plus the runner's sockets in it: the resolver's, bound at
// the address the sandbox's /etc/resolv.conf names, and the proxy's listener. Made by the runner (a thread of its own enters the new
// namespace and leaves with it), entered by the sandbox's bubblewrap as it starts. Owned by
// the runner's user namespace: the sandbox's root can neither reconfigure it nor add to it.
#pragma once

#include "uniquefd_p.h"

#include <QString>

#include <optional>

namespace Sandflow::Internal {

struct SandboxNetwork
{
    /// Where the sandbox's resolver listens, as its resolv.conf says: port 53 of this address
    /// on the sandbox's own loopback.
    static constexpr char ResolverAddress[] = "127.0.0.53";
    static constexpr quint16 ResolverPort = 53;

    UniqueFd namespaceFd;     ///< the namespace, open (close-on-exec)
    UniqueFd resolverUdp;     ///< bound to ResolverAddress:ResolverPort
    UniqueFd resolverTcp;     ///< bound there too, listening
    /// The runner's proxy (egressfilter_p.h): listening on every address of the namespace,
    /// IPv4 and IPv6, on `proxyPort`, which the kernel chose before the sandbox existed.
    UniqueFd proxyListener;
    quint16 proxyPort = 0;

    /// A new namespace with loopback up and the runner's sockets; std::nullopt with `error`
    /// set when this process may not make one (it needs CAP_SYS_ADMIN).
    static std::optional<SandboxNetwork> create(QString *error);

    /// The resolv.conf the sandbox reads.
    static QByteArray resolvConf();
    /// resolvConf() in a memory file, for bubblewrap to read (close-on-exec); invalid on
    /// failure.
    static UniqueFd resolvConfDescriptor();
};

} // namespace Sandflow::Internal
