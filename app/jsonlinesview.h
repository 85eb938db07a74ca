// `sandflow run --json`: every event as one compact JSON object per line, for programs.
#pragma once

#include "runevent.h"

class QIODevice;

namespace Sandflow::Cli {

class JsonLinesView final : public RunEventSink
{
public:
    /// Writes to `device`, one write per line; open it unbuffered (stdout by its file
    /// descriptor) so that a reader gets each line as it happens.
    explicit JsonLinesView(QIODevice *device);

    void handle(const RunEvent &event) override;

private:
    QIODevice *m_device;
};

} // namespace Sandflow::Cli
