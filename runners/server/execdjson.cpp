#include "execdjson_p.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

QString rfc3339Nano(const QDateTime &time)
{
    if (!time.isValid())
        return u"0001-01-01T00:00:00Z"_s;
    const QDate date = time.date();
    const QTime clock = time.time();
    QString text = u"%1-%2-%3T%4:%5:%6"_s.arg(date.year(), 4, 10, QLatin1Char('0'))
                       .arg(date.month(), 2, 10, QLatin1Char('0'))
                       .arg(date.day(), 2, 10, QLatin1Char('0'))
                       .arg(clock.hour(), 2, 10, QLatin1Char('0'))
                       .arg(clock.minute(), 2, 10, QLatin1Char('0'))
                       .arg(clock.second(), 2, 10, QLatin1Char('0'));
    if (const int ms = clock.msec()) {
        QString fraction = u"%1"_s.arg(ms, 3, 10, QLatin1Char('0'));
        while (fraction.endsWith(u'0'))
            fraction.chop(1);
        text += u'.' + fraction;
    }
    const int offset = time.offsetFromUtc();
    if (offset == 0)
        return text + u'Z';
    const int minutes = qAbs(offset) / 60;
    return text + (offset < 0 ? u'-' : u'+')
        + u"%1:%2"_s.arg(minutes / 60, 2, 10, QLatin1Char('0')).arg(minutes % 60, 2, 10, QLatin1Char('0'));
}

QString execdTime(const QDateTime &time)
{
    return rfc3339Nano(time.isValid() ? time.toLocalTime() : time);
}

QJsonObject fileInfoJson(const FileInfo &info)
{
    return {
        {u"path"_s, info.path},
        {u"type"_s, fileTypeName(info.type)},
        {u"size"_s, info.size},
        {u"modified_at"_s, execdTime(info.modifiedAt)},
        {u"created_at"_s, execdTime(info.changedAt)},
        {u"owner"_s, info.owner},
        {u"group"_s, info.group},
        {u"mode"_s, modeToDigits(info.mode)},
    };
}

QJsonObject commandStatusJson(const CommandStatus &status)
{
    QJsonObject json{
        {u"id"_s, status.id},
        {u"content"_s, status.command},
        {u"running"_s, status.running},
        {u"started_at"_s, execdTime(status.startedAt)},
    };
    if (status.exitCode)
        json.insert(u"exit_code"_s, *status.exitCode);
    if (!status.error.isEmpty())
        json.insert(u"error"_s, status.error);
    if (status.finishedAt)
        json.insert(u"finished_at"_s, execdTime(*status.finishedAt));
    return json;
}

QJsonObject metricsJson(const SandboxMetrics &metrics)
{
    return {
        {u"cpu_count"_s, metrics.cpuCount},
        {u"cpu_used_pct"_s, metrics.cpuUsedPercent},
        {u"mem_total_mib"_s, metrics.memoryTotalMiB},
        {u"mem_used_mib"_s, metrics.memoryUsedMiB},
        {u"timestamp"_s, metrics.timestamp.toMSecsSinceEpoch()},
    };
}

} // namespace Sandflow::Internal
