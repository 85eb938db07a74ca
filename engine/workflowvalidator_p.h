// Checks that need the whole model: references between sections, dependency cycles, and
// every expression against the contexts available where it is written.
#pragma once

#include "workflow.h"

#include <QMap>

namespace Sandflow::Internal {

/// What expressions may reference at one place in the workflow.
struct ExpressionScopeInfo
{
    QStringList contexts;               ///< context names available here
    QStringList envKeys;
    QStringList matrixKeys;
    QStringList taskFields;
    QStringList stepIds;                ///< steps that have run before this point
    QStringList laterStepIds;           ///< steps of the job that run after it (for a hint)
    QMap<QString, QStringList> needs;   ///< needed job -> its declared outputs
    QString jobId;
    bool hasMatrix = false;
    bool hasDataset = false;
    bool statusFunctions = false;       ///< true in `if:` only
};

class WorkflowValidator
{
public:
    WorkflowValidator(const QString &fileName, Workflow *workflow, Diagnostics *diagnostics);

    void validate();

private:
    void resolveSandboxes();
    void checkSandbox(const SandboxSpec &spec, const ExpressionScopeInfo &scope);
    void checkNeeds();
    void checkCycles();
    void checkJob(const Job &job);
    void checkLiteralSettings(const Step &step);
    void checkSteps(const Job &job, ExpressionScopeInfo scope);

    ExpressionScopeInfo workflowScope() const;
    ExpressionScopeInfo jobScope(const Job &job) const;

    void checkText(const Text &text, const ExpressionScopeInfo &scope, bool isCondition = false);
    void checkTexts(const TextMap &texts, const ExpressionScopeInfo &scope);
    void checkReference(const ExpressionReference &reference, SourcePos pos, const ExpressionScopeInfo &scope);
    void checkCall(const ExpressionCall &call, SourcePos pos, bool isCondition);
    void error(SourcePos pos, const QString &message);

    QString m_fileName;
    Workflow *m_workflow;
    Diagnostics *m_diagnostics;
};

} // namespace Sandflow::Internal
