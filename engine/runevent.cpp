#include "runevent.h"

#include "runevent_p.h"

namespace Sandflow {

using namespace Qt::StringLiterals;

QString Internal::formatEventTime(const QDateTime &time)
{
    if (!time.isValid())
        return {};
    return time.toUTC().toString(u"yyyy-MM-ddTHH:mm:ss.zzz"_s) + u'Z';
}

QString RunEvent::typeName(Type type)
{
    switch (type) {
    case Type::RunStarted: return u"run_started"_s;
    case Type::RunFinished: return u"run_finished"_s;
    case Type::JobStarted: return u"job_started"_s;
    case Type::JobFinished: return u"job_finished"_s;
    case Type::SandboxCreated: return u"sandbox_created"_s;
    case Type::SandboxDeleted: return u"sandbox_deleted"_s;
    case Type::StepStarted: return u"step_started"_s;
    case Type::StepRetrying: return u"step_retrying"_s;
    case Type::StepFinished: return u"step_finished"_s;
    case Type::LogLine: return u"log_line"_s;
    case Type::Warning: return u"warning"_s;
    case Type::EgressDenied: return u"egress_denied"_s;
    }
    Q_UNREACHABLE();
    return {};
}

static bool isFinished(RunEvent::Type type)
{
    return type == RunEvent::Type::RunFinished || type == RunEvent::Type::JobFinished
        || type == RunEvent::Type::StepFinished;
}

QJsonObject RunEvent::toJson() const
{
    QJsonObject object{{u"type"_s, typeName(type)}};
    const auto addText = [&object](const QString &key, const QString &value) {
        if (!value.isEmpty())
            object.insert(key, value);
    };
    addText(u"time"_s, Internal::formatEventTime(time));
    addText(u"runId"_s, runId);
    addText(u"job"_s, job);
    addText(u"jobId"_s, jobId);
    // Instance 0 is a real index, so it is kept whenever the event concerns a job.
    if (!job.isEmpty() || instance != 0)
        object.insert(u"instance"_s, instance);
    addText(u"step"_s, step);
    addText(u"stepName"_s, stepName);
    addText(u"outcome"_s, outcome);
    addText(u"conclusion"_s, conclusion);
    // A finished event always says how long it took, even when that rounds to 0 ms.
    if (durationMs != 0 || isFinished(type))
        object.insert(u"durationMs"_s, durationMs);
    if (attempt != 0)
        object.insert(u"attempt"_s, attempt);
    addText(u"stream"_s, stream);
    addText(u"text"_s, text);
    addText(u"sandboxId"_s, sandboxId);
    if (!details.isEmpty())
        object.insert(u"details"_s, details);
    return object;
}

} // namespace Sandflow
