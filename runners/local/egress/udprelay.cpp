#include "udprelay_p.h"

#include <QSocketNotifier>

#include <sys/socket.h>

#include <cerrno>

namespace Sandflow::Internal {

namespace {
constexpr int IdleMs = 120'000;
constexpr size_t LargestDatagram = 65536;
constexpr int DatagramsPerTurn = 64;
} // namespace

UdpRelay::UdpRelay(UniqueFd sandboxSide, UniqueFd hostSide, QObject *parent)
    : QObject(parent)
    , m_sandboxSide(std::move(sandboxSide))
    , m_hostSide(std::move(hostSide))
    , m_fromSandbox(std::make_unique<QSocketNotifier>(m_sandboxSide.get(), QSocketNotifier::Read))
    , m_fromHost(std::make_unique<QSocketNotifier>(m_hostSide.get(), QSocketNotifier::Read))
{
    connect(m_fromSandbox.get(), &QSocketNotifier::activated, this,
            [this] { forward(m_sandboxSide.get(), m_hostSide.get()); });
    connect(m_fromHost.get(), &QSocketNotifier::activated, this,
            [this] { forward(m_hostSide.get(), m_sandboxSide.get()); });
    m_idle.setSingleShot(true);
    connect(&m_idle, &QTimer::timeout, this, &UdpRelay::finished);
    m_idle.start(IdleMs);
}

UdpRelay::~UdpRelay() = default;

void UdpRelay::forward(int from, int to)
{
    char datagram[LargestDatagram];
    // A bounded share of each turn of the event loop, however fast the sandbox sends.
    for (int turn = 0; turn < DatagramsPerTurn; ++turn) {
        const ssize_t got = ::recv(from, datagram, sizeof datagram, MSG_DONTWAIT);
        if (got < 0) {
            // The sandbox's socket is gone: loopback answered the last datagram with a refusal.
            if (errno == ECONNREFUSED && from == m_sandboxSide.get()) {
                m_fromSandbox->setEnabled(false);
                m_fromHost->setEnabled(false);
                emit finished();
            }
            return;
        }
        // A datagram that cannot go on is lost, as on any network.
        ::send(to, datagram, size_t(got), MSG_DONTWAIT);
        m_idle.start(IdleMs);
    }
}

} // namespace Sandflow::Internal
