// One connection through the egress proxy: bytes copied both ways, in the kernel (splice),
// between the sandbox's side (accepted in the sandbox's network namespace) and the host's
// side (connected to where the policy let the sandbox connect). Each direction has a thread
// of its own that blocks in splice: a download runs at the speed of the two sockets, never
// waiting for the runner's event loop.
#pragma once

#include "uniquefd_p.h"

#include <QObject>

#include <atomic>
#include <thread>

namespace Sandflow::Internal {

class TcpRelay : public QObject
{
    Q_OBJECT

public:
    /// Starts copying at once; both sockets must be blocking.
    TcpRelay(UniqueFd sandboxSide, UniqueFd hostSide, QObject *parent = nullptr);
    /// Ends both directions (the sockets are shut down) and waits for their threads.
    ~TcpRelay() override;

signals:
    /// Both directions have ended: each side has closed, or one failed.
    void finished();

private:
    void pump(int from, int to);

    UniqueFd m_sandboxSide;
    UniqueFd m_hostSide;
    std::atomic_int m_running{2};
    std::thread m_download;
    std::thread m_upload;
};

} // namespace Sandflow::Internal
