#include "steplogwriter.h"

#include "runevent_p.h"
#include "units.h"

#include <QDir>
#include <QFileInfo>

namespace Sandflow {

using namespace Qt::StringLiterals;

static QString formatBytes(qint64 bytes)
{
    if (bytes < 1024)
        return u"%1 B"_s.arg(bytes);
    const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    double value = double(bytes) / 1024;
    qsizetype unit = 0;
    for (; value >= 1024 && unit < 3; ++unit)
        value /= 1024;
    return u"%1 %2"_s.arg(value, 0, 'f', 1).arg(QLatin1StringView(units[unit]));
}

static QString finishedLine(const RunEvent &event)
{
    QString line = u"--- %1 after %2"_s.arg(event.outcome, formatDuration(event.durationMs));
    if (!event.conclusion.isEmpty() && event.conclusion != event.outcome)
        line += u" (continue-on-error: %1)"_s.arg(event.conclusion);
    if (!event.text.isEmpty())
        line += u": "_s + event.text;
    return line;
}

StepLogWriter::StepLogWriter(const QString &runDirectory, qint64 maxBytesPerStep)
    : m_runDirectory(runDirectory)
    , m_maxBytes(maxBytesPerStep)
{
}

StepLogWriter::~StepLogWriter() = default;

QString StepLogWriter::safeFileName(const QString &name)
{
    QString safe;
    bool pendingDash = false;
    for (const QChar c : name) {
        const bool keep = (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z')
            || (c >= u'0' && c <= u'9') || c == u'.' || c == u'_' || c == u'-';
        if (!keep) {
            pendingDash = !safe.isEmpty();
            continue;
        }
        if (pendingDash && c != u'-' && !safe.endsWith(u'-'))
            safe.append(u'-');
        pendingDash = false;
        safe.append(c);
    }
    while (safe.startsWith(u'-'))
        safe.remove(0, 1);
    while (safe.endsWith(u'-'))
        safe.chop(1);
    // `.` and `..` are names a file system already gives a meaning to.
    if (safe.isEmpty() || safe == u"."_s || safe == u".."_s)
        return u"_"_s;
    return safe;
}

QString StepLogWriter::jobDirectory(const QString &job)
{
    const auto known = m_jobDirectories.constFind(job);
    if (known != m_jobDirectories.constEnd())
        return *known;
    const QString base = safeFileName(job);
    QString name = base;
    // Compared without case, so that the run directory can be copied to a file system
    // that ignores it.
    const auto taken = [this](const QString &candidate) {
        for (const QString &directory : std::as_const(m_jobDirectories)) {
            if (directory.compare(candidate, Qt::CaseInsensitive) == 0)
                return true;
        }
        return false;
    };
    for (int n = 2; taken(name); ++n)
        name = u"%1~%2"_s.arg(base).arg(n);
    m_jobDirectories.insert(job, name);
    return name;
}

QString StepLogWriter::logPath(const QString &job, const QString &step) const
{
    const auto directory = m_jobDirectories.constFind(job);
    if (directory == m_jobDirectories.constEnd())
        return {};
    return *directory + u'/' + safeFileName(step) + u".log"_s;
}

StepLogWriter::StepLog *StepLogWriter::open(const RunEvent &event)
{
    const QString path = logPath(event.job, event.step);
    if (const auto it = m_open.find(path); it != m_open.end())
        return it->second.get();
    auto log = std::make_unique<StepLog>();
    const QString absolute = QDir(m_runDirectory).filePath(path);
    QDir().mkpath(QFileInfo(absolute).path());
    // A step seen again after it finished (it should not) goes on in its file.
    const bool again = m_started.contains(path);
    log->file.setFileName(absolute);
    if (!log->file.open(QIODevice::WriteOnly | (again ? QIODevice::Append : QIODevice::Truncate))) {
        m_errors.append(u"%1: %2"_s.arg(absolute, log->file.errorString()));
        return nullptr;
    }
    m_started.insert(path);
    return m_open.emplace(path, std::move(log)).first->second.get();
}

void StepLogWriter::write(StepLog &log, const QString &line)
{
    const QByteArray bytes = line.toUtf8() + '\n';
    // Unbuffered would be one system call per line too; flushing keeps QFile's own buffer
    // out of the way of readers that follow the file.
    if (log.file.write(bytes) != bytes.size() || !log.file.flush())
        m_errors.append(u"%1: %2"_s.arg(log.file.fileName(), log.file.errorString()));
}

void StepLogWriter::handle(const RunEvent &event)
{
    const bool stepEvent = event.type == RunEvent::Type::StepStarted
        || event.type == RunEvent::Type::LogLine || event.type == RunEvent::Type::StepFinished;
    if (event.job.isEmpty())
        return;
    // Directories are named in the order jobs appear, so that `~2` goes to the later one.
    jobDirectory(event.job);
    if (!stepEvent || event.step.isEmpty())
        return;
    StepLog *log = open(event);
    if (!log)
        return;
    const QString time = Internal::formatEventTime(event.time) + u' ';
    switch (event.type) {
    case RunEvent::Type::StepStarted:
        if (event.attempt > 1)
            write(*log, time + u"--- attempt %1"_s.arg(event.attempt));
        break;
    case RunEvent::Type::LogLine: {
        if (log->truncated)
            break;
        const QString line = time + (event.stream == u"stderr"_s ? u"err | "_s : u"out | "_s) + event.text;
        const qint64 size = line.toUtf8().size() + 1;
        if (log->outputBytes + size > m_maxBytes) {
            log->truncated = true;
            write(*log, time + u"… truncated: this step's output passed the %1 log limit; the rest is not kept"_s
                                   .arg(formatBytes(m_maxBytes)));
            break;
        }
        log->outputBytes += size;
        write(*log, line);
        break;
    }
    case RunEvent::Type::StepFinished:
        write(*log, time + finishedLine(event));
        m_open.erase(logPath(event.job, event.step));
        break;
    default:
        break;
    }
}

void StepLogWriter::close()
{
    m_open.clear();
}

} // namespace Sandflow
