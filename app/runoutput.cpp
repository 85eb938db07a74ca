#include "runoutput.h"

#include "jsonlinesview.h"
#include "junitwriter.h"
#include "plainview.h"
#include "progressview.h"
#include "runsummarytext.h"
#include "secretmasker.h"
#include "steplogwriter.h"
#include "summarywriter.h"

#include <unistd.h>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

namespace {

bool isInteractive()
{
    return isatty(STDOUT_FILENO) && qEnvironmentVariable("TERM") != u"dumb"_s;
}

} // namespace

RunOutput::RunOutput(const RunOptions &run, const Options &options, const Terminal &terminal)
    : m_run(run)
    , m_terminal(terminal)
    , m_options(options)
    , m_journal(run.runDirectory + u"/events.jsonl"_s)
    , m_junitPath(options.junitPath.isEmpty() ? run.runDirectory + u"/junit.xml"_s : options.junitPath)
{
    m_bus.setMasker(SecretMasker(run.secrets.values()));
    m_logs = m_bus.addSink(std::make_unique<StepLogWriter>(run.runDirectory, options.logLimitBytes));
    m_summary = m_bus.addSink(std::make_unique<SummaryWriter>(run.runDirectory, m_logs));
    m_bus.addSink(std::make_unique<JUnitWriter>(m_junitPath));
    // The journal keeps every event for tools and for resuming; a view keeps only some.
    // Unbuffered: what a killed run leaves in it is everything up to its end.
    if (m_journal.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Unbuffered))
        m_bus.addSink(std::make_unique<JsonLinesView>(&m_journal));
    // One write per line or frame reaches the terminal as one write.
    m_stdout.open(STDOUT_FILENO, QIODevice::WriteOnly | QIODevice::Unbuffered);
    if (options.json)
        m_bus.addSink(std::make_unique<JsonLinesView>(&m_stdout));
    else if (isInteractive())
        m_bus.addSink(std::make_unique<ProgressView>(&m_stdout, STDOUT_FILENO));
    else
        m_bus.addSink(std::make_unique<PlainView>(&m_stdout));
}

RunOutput::~RunOutput()
{
    close();
}

void RunOutput::publish(const RunEvent &event)
{
    m_bus.publish(event);
}

void RunOutput::notice(const QString &text)
{
    if (m_bus.isClosed()) {
        m_terminal.err(text + u'\n');
        return;
    }
    RunEvent event;
    event.type = RunEvent::Type::Warning;
    event.time = QDateTime::currentDateTimeUtc();
    event.runId = m_run.runId;
    event.text = text;
    m_bus.publish(event);
}

void RunOutput::close()
{
    if (m_bus.isClosed())
        return;
    m_bus.close();
    ReportLocations locations;
    locations.runDirectory = m_run.runDirectory;
    locations.summaryFile = m_summary->filePath();
    locations.junitFile = m_junitPath;
    locations.stepLog = [logs = m_logs](const QString &job, const QString &step) { return logs->logPath(job, step); };
    const QString summary = formatRunSummary(m_summary->summary(), locations);
    // With --json, stdout is for programs only.
    if (m_options.json)
        m_terminal.err(summary);
    else
        m_terminal.out(summary);
}

} // namespace Sandflow::Cli
