#include "egressdenials_p.h"

#include "runner.h"

#include <algorithm>
#include <limits>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

EgressDenials::EgressDenials(Runner *runner, WorkflowRun::Publish publish)
    : m_publish(std::move(publish))
{
    m_windowEnd.setSingleShot(true);
    connect(&m_windowEnd, &QTimer::timeout, this, &EgressDenials::publishEndedWindows);
    connect(runner, &Runner::egressDenied, this, &EgressDenials::denied);
}

void EgressDenials::publish(const RunEvent &event)
{
    switch (event.type) {
    case RunEvent::Type::SandboxCreated:
        m_sandboxes.insert(event.sandboxId, event);
        break;
    case RunEvent::Type::SandboxDeleted:
        endSandbox(event.sandboxId);
        break;
    case RunEvent::Type::RunFinished:
        for (const QString &sandboxId : m_sandboxes.keys())
            endSandbox(sandboxId);
        break;
    default:
        break;
    }
    m_publish(event);
}

void EgressDenials::denied(const QString &sandboxId, const QString &target, int port)
{
    const auto sandbox = m_sandboxes.constFind(sandboxId);
    if (sandbox == m_sandboxes.cend())
        return;
    const auto [it, first] = m_repeats.try_emplace(Key{sandboxId, target, port});
    Repeats &repeats = it->second;
    if (first) {
        // Named as the run's other events of the sandbox are: its job instance.
        repeats.event = *sandbox;
        repeats.event.type = RunEvent::Type::EgressDenied;
        repeats.event.details = QJsonObject{{u"target"_s, target}};
        if (port != 0)
            repeats.event.details.insert(u"port"_s, port);
    }
    ++repeats.unpublished;
    if (!repeats.sincePublished.isValid() || repeats.sincePublished.hasExpired(CollapseWindowMs))
        publishCount(repeats);
    else if (!m_windowEnd.isActive())
        m_windowEnd.start(int(CollapseWindowMs - repeats.sincePublished.elapsed()));
}

void EgressDenials::publishCount(Repeats &repeats)
{
    RunEvent event = repeats.event;
    event.time = QDateTime::currentDateTimeUtc();
    event.details.insert(u"count"_s, repeats.unpublished);
    repeats.unpublished = 0;
    repeats.sincePublished.start();
    m_publish(event);
}

void EgressDenials::publishEndedWindows()
{
    qint64 nextEndMs = -1;
    for (auto &[key, repeats] : m_repeats) {
        if (repeats.unpublished == 0)
            continue;
        const qint64 leftMs = CollapseWindowMs - repeats.sincePublished.elapsed();
        if (leftMs <= 0)
            publishCount(repeats);
        else
            nextEndMs = nextEndMs < 0 ? leftMs : std::min(nextEndMs, leftMs);
    }
    if (nextEndMs >= 0)
        m_windowEnd.start(int(nextEndMs));
}

void EgressDenials::endSandbox(const QString &sandboxId)
{
    // Keys sort by sandbox id first: the sandbox's repeats are one range.
    auto it = m_repeats.lower_bound(Key{sandboxId, QString(), std::numeric_limits<int>::min()});
    while (it != m_repeats.end() && std::get<0>(it->first) == sandboxId) {
        if (it->second.unpublished > 0)
            publishCount(it->second);
        it = m_repeats.erase(it);
    }
    m_sandboxes.remove(sandboxId);
}

} // namespace Sandflow::Internal
