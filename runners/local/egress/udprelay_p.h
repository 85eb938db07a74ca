// One datagram flow through the egress proxy: the sandbox's socket, connected to a socket of
// the runner's in its namespace, and a socket of the host's connected to where the policy let
// it connect. Datagrams go both ways on the event loop (flows are small: DNS-like requests,
// not bulk). A flow ends when the sandbox's socket is gone (its side refuses), or after it
// has been idle for a while.
#pragma once

#include "uniquefd_p.h"

#include <QObject>
#include <QTimer>

#include <memory>

class QSocketNotifier;

namespace Sandflow::Internal {

class UdpRelay : public QObject
{
    Q_OBJECT

public:
    /// Both sockets connected, non-blocking.
    UdpRelay(UniqueFd sandboxSide, UniqueFd hostSide, QObject *parent = nullptr);
    ~UdpRelay() override;

signals:
    void finished();

private:
    void forward(int from, int to);

    UniqueFd m_sandboxSide;
    UniqueFd m_hostSide;
    std::unique_ptr<QSocketNotifier> m_fromSandbox;
    std::unique_ptr<QSocketNotifier> m_fromHost;
    QTimer m_idle;
};

} // namespace Sandflow::Internal
