#include "plainview.h"

#include "viewformat_p.h"

#include <QIODevice>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;
using namespace Internal;

PlainView::PlainView(QIODevice *device)
    : m_device(device)
{
}

static QString finished(const QString &what, const RunEvent &event)
{
    const QString conclusion = event.conclusion.isEmpty() ? event.outcome : event.conclusion;
    QString text = u"%1 %2 %3"_s.arg(outcomeSymbol(conclusion), what, outcomeText(event.outcome));
    if (conclusion != event.outcome)
        text += u", allowed to fail"_s;
    if (!isSkipped(conclusion))
        text += u' ' + formatElapsed(event.durationMs);
    // A message that only repeats the outcome ("cancelled: cancelled") is left out.
    if (!event.text.isEmpty() && event.text != event.outcome && event.text != outcomeText(event.outcome))
        text += u": "_s + event.text;
    return text;
}

// `10.0.0.1:443`, `[2001:db8::1]:443`, or a name alone, with how many attempts the event
// stands for when it is more than one.
static QString egressDenied(const RunEvent &event)
{
    const QString target = event.details.value(u"target"_s).toString();
    const int port = event.details.value(u"port"_s).toInt();
    QString text = u"egress denied: "_s;
    if (port == 0)
        text += u"name "_s + target;
    else
        text += (target.contains(u':') ? u"[%1]:%2"_s : u"%1:%2"_s).arg(target).arg(port);
    const qint64 count = event.details.value(u"count"_s).toInteger();
    if (count > 1)
        text += u" (%1 attempts)"_s.arg(count);
    return text;
}

QString PlainView::line(const RunEvent &event)
{
    using Type = RunEvent::Type;
    const QString prefix = u"[%1] "_s.arg(event.job);
    switch (event.type) {
    case Type::RunStarted:
        return u"run %1 started: %2"_s.arg(event.runId, event.text);
    case Type::RunFinished:
        return u"run %1 %2 in %3"_s.arg(event.runId, outcomeText(event.outcome), formatElapsed(event.durationMs));
    case Type::JobStarted:
        return prefix + u"▶ job started"_s;
    case Type::JobFinished:
        return prefix + finished(u"job"_s, event);
    case Type::SandboxCreated:
        return prefix + u"sandbox %1 created"_s.arg(event.sandboxId);
    case Type::SandboxDeleted:
        return prefix + u"sandbox %1 %2"_s.arg(event.sandboxId, event.details.value(u"kept"_s).toBool()
                                                                     ? u"kept"_s : u"deleted"_s);
    case Type::StepStarted: {
        QString text = prefix + u"▶ %1 %2"_s.arg(event.step, event.stepName);
        if (event.attempt > 1)
            text += u" (attempt %1)"_s.arg(event.attempt);
        return text;
    }
    case Type::StepRetrying:
        return prefix + u"↻ %1 attempt %2 failed: %3; retrying in %4"_s.arg(
                   event.step, QString::number(event.attempt), event.text,
                   formatElapsed(event.details.value(u"backoffMs"_s).toInteger()));
    case Type::StepFinished:
        return prefix + finished(event.step, event);
    case Type::LogLine:
        return prefix + u"%1 | %2"_s.arg(event.step, event.text);
    case Type::EgressDenied:
        return prefix + egressDenied(event);
    case Type::Warning: {
        QString text = u"warning: "_s;
        if (!event.job.isEmpty())
            text += prefix;
        if (!event.step.isEmpty())
            text += event.step + u": "_s;
        return text + event.text;
    }
    }
    return {};
}

void PlainView::handle(const RunEvent &event)
{
    const QString text = line(event);
    if (!text.isEmpty())
        m_device->write(text.toUtf8() + '\n');
}

} // namespace Sandflow::Cli
