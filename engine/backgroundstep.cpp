#include "workflowrun_p.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// Often enough to show a server's log as it goes, rarely enough to cost nothing.
constexpr int PollIntervalMs = 250;

} // namespace

BackgroundStep::BackgroundStep(Runner *runner, QString sandboxId, QString commandId, LineSink lines, QObject *parent)
    : QObject(parent)
    , m_runner(runner)
    , m_sandboxId(std::move(sandboxId))
    , m_commandId(std::move(commandId))
    , m_lines(std::move(lines))
{
    m_timer.setInterval(PollIntervalMs);
    connect(&m_timer, &QTimer::timeout, this, &BackgroundStep::poll);
    m_timer.start();
}

void BackgroundStep::stop()
{
    m_stopping = true;
    m_timer.stop();
    if (!m_polling)
        poll();
}

// Logs first, then status: a command seen as ended has had all its output read.
void BackgroundStep::poll()
{
    if (m_polling)
        return;
    m_polling = true;
    auto *logs = m_runner->commandLogs(m_sandboxId, m_commandId, m_cursor);
    connect(logs, &AsyncJob::finished, this, [this, logs] {
        if (!logs->error()) {
            m_lines.add(CommandJob::Stream::Stdout, logs->result().data);
            m_cursor = logs->result().nextCursor;
        }
        auto *status = m_runner->commandStatus(m_sandboxId, m_commandId);
        connect(status, &AsyncJob::finished, this, [this, status] {
            m_polling = false;
            const bool gone = status->error().has_value();
            const bool running = !gone && status->result().running;
            if (!running) {
                m_timer.stop();
                m_lines.flush();
                emit ended(gone ? std::nullopt : status->result().exitCode);
                return;
            }
            if (m_stopping) {
                // Still running when the job is over: stopped, and that is not a failure.
                // Ended once the interrupt is answered, not when it is sent: what follows
                // (the sandbox's deletion, the program's exit) would cut it off midway.
                auto *interrupt = m_runner->interruptCommand(m_sandboxId, m_commandId);
                connect(interrupt, &AsyncJob::finished, this, [this] {
                    m_lines.flush();
                    emit ended(std::nullopt);
                });
                interrupt->start();
            }
        });
        status->start();
    });
    logs->start();
}

} // namespace Sandflow::Internal
