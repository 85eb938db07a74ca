// `sandflow run`: a validated workflow compiled into a task tree and run against a runner,
// every job instance in its own sandbox, with the run reported as RunEvents.
#pragma once

#include "asyncjob.h"
#include "runevent.h"
#include "tasktree.h"

#include <QMap>
#include <QString>

#include <functional>
#include <memory>

namespace Sandflow {

class Runner;
struct Workflow;

struct RunOptions
{
    QString runId;
    /// Absolute: logs and reports go here, and downloads with a relative `to`.
    QString runDirectory;
    /// Live sandboxes at most, across the run; 0: no limit of the run's own.
    int maxSandboxes = 0;
    /// Sandboxes are not deleted at the end (`--keep`); keptSandboxes() lists them.
    bool keepSandboxes = false;
    /// Values of the workflow's `secrets`, by name (read from the host's environment).
    QMap<QString, QString> secrets;
    /// The whole run's time; when it runs out the run is cancelled (clean-up steps still
    /// run) and it ends timed out. std::nullopt: no limit.
    std::optional<qint64> timeoutMs;
    /// A cancelled step gets this long to end after its interrupt before it is abandoned.
    qint64 cancelGraceMs = 10'000;
};

/// Runs one workflow. The workflow must outlive the run. The job finishes without error
/// when the run succeeded, with a Task error when it failed and a Cancelled one when it was
/// cancelled (cancel() is the first Ctrl-C; forceStop() the second).
class WorkflowRun final : public AsyncJob
{
    Q_OBJECT

public:
    using Publish = std::function<void(const RunEvent &)>;

    WorkflowRun(const Workflow &workflow, Runner *runner, RunOptions options, Publish publish,
                QObject *parent = nullptr);
    ~WorkflowRun() override;

    /// Stops at once: no clean-up steps run; sandboxes still alive are deleted without
    /// waiting (the runner's deletions are still under way, see Runner::isDeleting).
    void forceStop();

    /// How the run ended, once finished.
    TaskOutcome outcome() const;
    /// With keepSandboxes: each kept sandbox's id and its job instance.
    QList<std::pair<QString, QString>> keptSandboxes() const;

protected:
    void doStart() override;
    void doCancel() override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Sandflow
