// Loading a workflow file: parse, build the model, validate, report every problem.
#pragma once

#include "diagnostics.h"
#include "stepplugin.h"
#include "workflow.h"

#include <QByteArray>
#include <QMap>
#include <QString>

#include <optional>

namespace Sandflow {

/// The outcome of a load: the workflow when there were no errors, and every diagnostic.
struct LoadResult
{
    std::optional<Workflow> workflow;
    Diagnostics diagnostics;

    bool ok() const { return workflow.has_value(); }
};

/// Reads workflow files. All problems of a file are reported, as
/// `FILE:LINE:COL: error: MESSAGE`, and no workflow is returned when there are errors.
class WorkflowLoader
{
public:
    explicit WorkflowLoader(const StepTypeRegistry &stepTypes);

    /// `--var k=v`: overrides a `vars:` entry (one the workflow must declare).
    void setVariable(const QString &name, const QString &value);
    /// `--runner`: replaces the workflow's `runner` (`local` or `opensandbox`) before it is
    /// checked, so that what the runner needs (an image per sandbox) is checked for it.
    void setRunner(const QString &runner);

    LoadResult loadFile(const QString &path) const;
    /// Loads from memory; `fileName` names the source in messages, relative paths resolve
    /// against `baseDirectory`.
    LoadResult loadData(const QByteArray &text, const QString &fileName, const QString &baseDirectory) const;

private:
    const StepTypeRegistry &m_stepTypes;
    QMap<QString, QString> m_variables;
    QString m_runner;
};

} // namespace Sandflow
