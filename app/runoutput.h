// Everything a run writes, fed from its event stream: step logs, summary.json, the JUnit
// report and an event journal in the run directory, and on the terminal the progress view
// (a TTY), plain lines (a pipe) or JSON lines (`--json`), then the end summary.
#pragma once

#include "runeventbus.h"
#include "terminal.h"
#include "workflowrun.h"

#include <QFile>

#include <memory>

namespace Sandflow {
class StepLogWriter;
class SummaryWriter;
struct Workflow;
}

namespace Sandflow::Cli {

class RunOutput
{
public:
    struct Options
    {
        bool json = false;     ///< JSON lines on stdout instead of a view for people
        QString junitPath;     ///< empty: junit.xml in the run directory
        qint64 logLimitBytes = 10 * 1024 * 1024;   ///< per step log
    };

    RunOutput(const RunOptions &run, const Options &options, const Terminal &terminal);
    ~RunOutput();

    void publish(const RunEvent &event);
    /// A message for the user that is not about a job or step, e.g. that an interrupt
    /// was understood.
    void notice(const QString &text);
    /// The run is over: closes every file and prints the end summary.
    void close();

private:
    const RunOptions &m_run;
    const Terminal &m_terminal;
    Options m_options;
    QFile m_stdout;
    QFile m_journal;
    RunEventBus m_bus;
    SummaryWriter *m_summary = nullptr;
    StepLogWriter *m_logs = nullptr;
    QString m_junitPath;
};

} // namespace Sandflow::Cli
