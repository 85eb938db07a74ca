#include "progressview.h"

#include "terminaltext_p.h"
#include "viewformat_p.h"

#include <QIODevice>
#include <QJsonArray>
#include <QJsonObject>

#include <sys/ioctl.h>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;
using namespace Internal;

static const QString HideCursor = u"\x1b[?25l"_s;
static const QString ShowCursor = u"\x1b[?25h"_s;

static QString lineKey(const QString &job, const QString &step)
{
    return job + u'\n' + step;
}

ProgressView::ProgressView(QIODevice *terminal, int terminalFd, QObject *parent)
    : QObject(parent)
    , m_terminal(terminal)
    , m_fd(terminalFd)
    , m_clock(&QDateTime::currentDateTimeUtc)
{
    m_timer.setInterval(100);
    connect(&m_timer, &QTimer::timeout, this, &ProgressView::redraw);
}

ProgressView::~ProgressView()
{
    if (m_cursorHidden)
        m_terminal->write(ShowCursor.toUtf8());
}

QSize ProgressView::terminalSize(int fd)
{
    winsize size{};
    if (fd < 0 || ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_col == 0 || size.ws_row == 0)
        return QSize(80, 24);
    return QSize(size.ws_col, size.ws_row);
}

ProgressView::Group &ProgressView::groupOf(const QString &jobId)
{
    for (Group &group : m_groups) {
        if (group.jobId == jobId)
            return group;
    }
    m_groups.append(Group{jobId, 0, {}});
    return m_groups.last();
}

ProgressView::Instance &ProgressView::instanceOf(const RunEvent &event)
{
    for (Group &group : m_groups) {
        for (Instance &instance : group.instances) {
            if (instance.name == event.job)
                return instance;
        }
    }
    Group &group = groupOf(event.jobId.isEmpty() ? event.job : event.jobId);
    Instance instance;
    instance.name = event.job;
    instance.startedAt = event.time;
    group.instances.append(instance);
    return group.instances.last();
}

void ProgressView::handle(const RunEvent &event)
{
    using Type = RunEvent::Type;
    if (m_closed)
        return;
    if (!m_timer.isActive())
        m_timer.start();
    switch (event.type) {
    case Type::RunStarted: {
        m_workflow = event.text;
        m_runId = event.runId;
        m_startedAt = event.time;
        // {"order": [jobId...]} lists the jobs in the order they run; {"jobs": {jobId:
        // instances}} gives the totals of fanned-out jobs up front.
        for (const QJsonValue &jobId : event.details.value(u"order"_s).toArray())
            groupOf(jobId.toString());
        const QJsonObject jobs = event.details.value(u"jobs"_s).toObject();
        for (auto it = jobs.begin(); it != jobs.end(); ++it)
            groupOf(it.key()).total = it.value().toInteger();
        return;
    }
    case Type::RunFinished:
        m_outcome = event.outcome;
        m_durationMs = event.durationMs;
        return;
    case Type::JobStarted:
        instanceOf(event);
        return;
    case Type::JobFinished: {
        Instance &instance = instanceOf(event);
        instance.outcome = event.outcome;
        instance.durationMs = event.durationMs;
        instance.step.clear();
        return;
    }
    case Type::StepStarted: {
        Instance &instance = instanceOf(event);
        instance.step = event.step;
        instance.stepName = event.stepName;
        instance.stepStartedAt = event.time;
        instance.attempt = event.attempt;
        instance.lastLine.clear();
        // A retry's failure shows the lines of the attempt that failed.
        m_lastLines.remove(lineKey(event.job, event.step));
        return;
    }
    case Type::LogLine: {
        Instance &instance = instanceOf(event);
        if (instance.step == event.step && !event.text.trimmed().isEmpty())
            instance.lastLine = event.text;
        QStringList &lines = m_lastLines[lineKey(event.job, event.step)];
        if (lines.size() == PinnedLines)
            lines.removeFirst();
        lines.append(event.text);
        return;
    }
    case Type::StepFinished: {
        const QString conclusion = event.conclusion.isEmpty() ? event.outcome : event.conclusion;
        const QStringList lines = m_lastLines.take(lineKey(event.job, event.step));
        if (isFailure(conclusion)) {
            m_failures.append(Failure{event.job, event.step, event.stepName, event.outcome,
                                      event.durationMs, event.text, lines});
        }
        Instance &instance = instanceOf(event);
        if (instance.step == event.step)
            instance.step.clear();
        return;
    }
    case Type::Warning: {
        QString text = u"warning: "_s;
        if (!event.job.isEmpty())
            text += u"[%1] "_s.arg(event.job);
        if (!event.step.isEmpty())
            text += event.step + u": "_s;
        write(text + event.text + u'\n');
        return;
    }
    case Type::SandboxCreated:
    case Type::SandboxDeleted:
    // Counted in the end summary; a view that redraws in place has no room for each one.
    case Type::EgressDenied:
    case Type::StepRetrying:
        return;
    }
}

QString ProgressView::groupLine(const Group &group) const
{
    qsizetype running = 0, succeeded = 0, failed = 0, skipped = 0, cancelled = 0;
    for (const Instance &instance : group.instances) {
        if (instance.outcome.isEmpty())
            ++running;
        else if (instance.outcome == u"success"_s)
            ++succeeded;
        else if (isFailure(instance.outcome))
            ++failed;
        else if (instance.outcome == u"cancelled"_s)
            ++cancelled;
        else
            ++skipped;
    }
    const qsizetype total = std::max(group.total, group.instances.size());
    const qsizetype done = succeeded + failed + skipped + cancelled;
    QString symbol = QString::fromUtf16(WaitingSymbol);
    if (running > 0 || (done > 0 && done < total))
        symbol = u"▸"_s;
    else if (done == total)
        symbol = failed > 0 ? u"✘"_s : u"✔"_s;
    QString line = u"%1 %2  %3/%4  running %5  ✔ %6  ✘ %7  ○ %8"_s.arg(symbol, group.jobId)
        .arg(done).arg(total).arg(running).arg(succeeded).arg(failed).arg(skipped);
    if (cancelled > 0)
        line += u"  ⊘ %1"_s.arg(cancelled);
    return line;
}

QString ProgressView::instanceLine(const Instance &instance, const QDateTime &now) const
{
    if (!instance.outcome.isEmpty()) {
        QString line = u"%1 %2  %3"_s.arg(outcomeSymbol(instance.outcome), instance.name, outcomeText(instance.outcome));
        if (!isSkipped(instance.outcome))
            line += u"  "_s + formatElapsed(instance.durationMs);
        return line;
    }
    if (instance.step.isEmpty())
        return u"▸ %1  %2"_s.arg(instance.name, formatElapsed(instance.startedAt.msecsTo(now)));
    QString line = u"▸ %1  %2 %3  %4"_s.arg(instance.name, instance.step, instance.stepName,
                                             formatElapsed(instance.stepStartedAt.msecsTo(now)));
    if (instance.attempt > 1)
        line += u"  attempt %1"_s.arg(instance.attempt);
    return line;
}

QString ProgressView::render(int width, int height, const QDateTime &now) const
{
    QStringList lines;
    const qint64 elapsed = m_outcome.isEmpty() ? m_startedAt.msecsTo(now) : m_durationMs;
    QString header = u"%1  %2  "_s.arg(m_workflow, m_runId);
    if (!m_outcome.isEmpty())
        header += outcomeText(m_outcome) + u" in "_s;
    lines.append(header + formatElapsed(elapsed));
    // A running instance's line, then the latest line its step printed.
    const auto addInstance = [&](const Instance &instance, const QString &indent) {
        lines.append(indent + instanceLine(instance, now));
        if (instance.outcome.isEmpty() && !instance.step.isEmpty() && !instance.lastLine.isEmpty())
            lines.append(indent + u"    "_s + instance.lastLine.trimmed());
    };
    for (const Group &group : m_groups) {
        if (group.total > 1 || group.instances.size() > 1) {
            lines.append(groupLine(group));
            // The instances running now, the first few of them.
            qsizetype running = 0;
            for (const Instance &instance : group.instances) {
                if (!instance.outcome.isEmpty())
                    continue;
                if (++running <= ShownRunningInstances)
                    addInstance(instance, u"  "_s);
            }
            if (running > ShownRunningInstances)
                lines.append(u"  … %1 more running"_s.arg(running - ShownRunningInstances));
        } else if (group.instances.isEmpty()) {
            lines.append(u"%1 %2  waiting"_s.arg(QString::fromUtf16(WaitingSymbol), group.jobId));
        } else {
            addInstance(group.instances.first(), QString());
        }
    }
    for (const Failure &failure : m_failures) {
        lines.append(u"✘ %1 › %2 %3: %4 after %5"_s.arg(failure.job, failure.step, failure.stepName,
                                                         outcomeText(failure.outcome), formatElapsed(failure.durationMs)));
        if (!failure.error.isEmpty())
            lines.last() += u": "_s + failure.error;
        for (const QString &line : failure.lastLines)
            lines.append(u"    "_s + line);
    }
    if (height > 0 && lines.size() > height) {
        const qsizetype cut = lines.size() - (height - 1);
        lines.resize(height - 1);
        lines.append(u"+%1 more"_s.arg(cut));
    }
    // Each line takes exactly one row: a line that wrapped would take rows a redraw does
    // not go back over, and step output could move the cursor.
    for (QString &line : lines)
        line = terminalLine(line, width);
    return lines.join(u'\n');
}

void ProgressView::write(const QString &above)
{
    const QSize size = terminalSize(m_fd);
    if (size.height() < 2) {
        // No room for a frame and the cursor below it. The last frame, if any, stays where
        // it is, above the screen: a terminal made higher again brings it back, and the
        // next frame covers it. Unless something is printed below it now.
        if (!above.isEmpty()) {
            m_terminal->write(terminalText(above).toUtf8());
            m_frame.clear();
        }
        return;
    }
    // One line is left free: a frame as high as the terminal would scroll it, and the top
    // line could then not be redrawn.
    const QStringList frame = render(size.width(), size.height() - 1, m_clock()).split(u'\n');
    if (above.isEmpty() && frame == m_frame)
        return;
    QString out;
    if (!m_cursorHidden) {
        out += HideCursor;
        m_cursorHidden = true;
    }
    if (!m_frame.isEmpty()) {
        // The rows the previous frame takes now: a terminal made narrower since has
        // wrapped its longer lines onto more rows.
        qsizetype rows = 0;
        for (const QString &line : std::as_const(m_frame))
            rows += terminalRows(line, size.width());
        // Back to the previous frame's first row, and clear it and all below. The first
        // row is cleared on its own and the rest from the row below it: clearing to the
        // end of the screen from its top-left corner makes some terminals (tmux) push the
        // whole screen into the scrollback first, a frame at every redraw when the view
        // started on the top row. The row below the frame's first one is at worst the
        // cursor's own.
        out += u"\x1b[%1F\x1b[2K\x1b[B\x1b[J\x1b[A"_s.arg(rows);
    }
    out += terminalText(above) + frame.join(u'\n') + u'\n';
    // The whole frame in one write: a terminal never shows half of one.
    m_terminal->write(out.toUtf8());
    m_frame = frame;
}

void ProgressView::redraw()
{
    write({});
}

void ProgressView::close()
{
    if (m_closed)
        return;
    m_timer.stop();
    write({});
    m_closed = true;
    if (m_cursorHidden) {
        m_terminal->write(ShowCursor.toUtf8());
        m_cursorHidden = false;
    }
}

} // namespace Sandflow::Cli
