// Denied egress attempts of a run's sandboxes, as egress_denied events. A program that keeps
// retrying a connection its policy denies may cause thousands of denials a second; the
// events collapse repeats, so that the event stream stays bounded while the counts they
// carry stay exact.
#pragma once

#include "runevent.h"
#include "workflowrun.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QTimer>

#include <map>
#include <tuple>

namespace Sandflow {

class Runner;

namespace Internal {

/// Stands between a run and whoever it publishes to: every event of the run goes through
/// publish(). It learns which job instance a sandbox belongs to from the run's own
/// sandbox_created events and forgets it at sandbox_deleted, so that a denial for a sandbox
/// that is not the run's (a runner may serve others) is ignored.
///
/// How repeats collapse: the denials of one sandbox, target and port are counted, and the
/// count is published as one event (details.count), then reset. The first denial is
/// published at once, and so is one that comes after a quiet window; one that comes within
/// CollapseWindowMs of the last published event is only counted, and waits for the end of
/// that window, for its sandbox's sandbox_deleted, or for run_finished, whichever is first.
/// So each sandbox, target and port gives at most about one event per window, and the counts
/// of all its events add up to every denial.
class EgressDenials final : public QObject
{
public:
    static constexpr qint64 CollapseWindowMs = 1000;

    EgressDenials(Runner *runner, WorkflowRun::Publish publish);

    /// Passes a run's event on, after the denials that must come before it.
    void publish(const RunEvent &event);

private:
    /// The denials of one sandbox, target and port.
    struct Repeats
    {
        RunEvent event;               ///< what each of its events says but the count
        qint64 unpublished = 0;       ///< denials counted since the last event
        QElapsedTimer sincePublished; ///< invalid until the first event
    };
    using Key = std::tuple<QString, QString, int>;   ///< sandbox id, target, port

    void denied(const QString &sandboxId, const QString &target, int port);
    void publishCount(Repeats &repeats);
    /// Publishes the counts whose window has ended; waits for the next one to end.
    void publishEndedWindows();
    /// Publishes what is still counted for the sandbox and forgets it.
    void endSandbox(const QString &sandboxId);

    WorkflowRun::Publish m_publish;
    QHash<QString, RunEvent> m_sandboxes;   ///< the run's live sandboxes: id -> sandbox_created
    std::map<Key, Repeats> m_repeats;
    QTimer m_windowEnd;
};

} // namespace Internal
} // namespace Sandflow
