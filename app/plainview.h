// The run as plain lines, for output that is not a terminal (CI logs, pipes): every line
// names its job so that `grep '^\[build\]'` follows one job.
//
//     [build] ▶ job started
//     [build] sandbox sb-1 created
//     [build] ▶ step-1 Install
//     [build] step-1 | output line (stdout and stderr alike)
//     [build] ↻ step-1 attempt 1 failed: exit status 1; retrying in 2.0s
//     [build] ✔ step-1 success 1.2s
//     [build] ✔ step-2 failure, allowed to fail 0.3s: exit status 1
//     [build] ✘ step-3 timed_out 30.0s: timed out after 30s
//     [build] ✔ job success 5.0s
//     warning: [build] step-1: text
//     run r1 failure in 11.3s
#pragma once

#include "runevent.h"

class QIODevice;

namespace Sandflow::Cli {

class PlainView final : public RunEventSink
{
public:
    /// Writes to `device`, one write per line; open it unbuffered so lines appear live.
    explicit PlainView(QIODevice *device);

    void handle(const RunEvent &event) override;

    /// The line an event prints as; empty for an event that prints nothing.
    static QString line(const RunEvent &event);

private:
    QIODevice *m_device;
};

} // namespace Sandflow::Cli
