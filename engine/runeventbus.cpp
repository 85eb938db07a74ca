#include "runeventbus.h"

namespace Sandflow {

RunEventBus::~RunEventBus()
{
    close();
}

void RunEventBus::publish(const RunEvent &event)
{
    if (m_closed)
        return;
    const RunEvent masked = m_masker.mask(event);
    for (const auto &sink : m_sinks)
        sink->handle(masked);
}

void RunEventBus::close()
{
    if (m_closed)
        return;
    m_closed = true;
    for (const auto &sink : m_sinks)
        sink->close();
}

} // namespace Sandflow
