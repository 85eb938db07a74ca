// Hands every event of a run to every sink, in order, with secrets masked.
#pragma once

#include "runevent.h"
#include "secretmasker.h"

#include <memory>
#include <vector>

namespace Sandflow {

class RunEventBus
{
public:
    RunEventBus() = default;
    /// Closes the sinks if close() was not called.
    ~RunEventBus();
    RunEventBus(const RunEventBus &) = delete;
    RunEventBus &operator=(const RunEventBus &) = delete;

    /// The bus owns its sinks; the returned pointer stays valid as long as the bus, so a
    /// caller can still read what a sink gathered (a summary) after the run.
    template<typename Sink>
    Sink *addSink(std::unique_ptr<Sink> sink)
    {
        Sink *raw = sink.get();
        m_sinks.push_back(std::move(sink));
        return raw;
    }

    void setMasker(SecretMasker masker) { m_masker = std::move(masker); }

    /// Masks the event, then hands it to each sink in the order they were added. Ignored
    /// after close().
    void publish(const RunEvent &event);
    /// Closes every sink, once, in order.
    void close();
    bool isClosed() const { return m_closed; }

private:
    std::vector<std::unique_ptr<RunEventSink>> m_sinks;
    SecretMasker m_masker;
    bool m_closed = false;
};

} // namespace Sandflow
