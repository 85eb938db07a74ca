// The expression contexts of a running job instance: what `${{ }}` can read while a
// workflow runs, growing as steps end.
#pragma once

#include "expression.h"
#include "workflow.h"

#include <QJsonObject>

namespace Sandflow::Internal {

/// The contexts that are the same for the whole run.
struct RunConstants
{
    QJsonObject vars;
    QJsonObject secrets;   ///< the real values, read from the host's environment
    QJsonObject run;       ///< {id, dir}
};

/// The run's constants: `secrets` as given, `run` with its id and directory, and `vars`
/// evaluated (they may read secrets and run).
RunConstants runConstants(const Workflow &workflow, const QMap<QString, QString> &secrets, const QString &runId,
                          const QString &runDirectory);

/// A boolean setting's evaluated value: truthy, except that the text `false` (in any case)
/// is false, as variables are text.
bool settingIsTrue(const QJsonValue &value);

/// One instance's contexts. `steps` and `job.status` change as the instance runs; `env`
/// is set by the caller for the level being evaluated (workflow, job or step).
class InstanceScope final : public ExpressionScope
{
public:
    explicit InstanceScope(const RunConstants *constants) : m_constants(constants) {}

    std::optional<QJsonValue> context(const QString &name) const override;
    ExecutionStatus status() const override { return m_status; }

    QJsonObject matrix;
    QJsonObject task;
    QJsonObject needs;
    QJsonObject job;       ///< {id, name, status}
    QJsonObject env;
    QJsonObject steps;     ///< id -> {outputs, outcome, conclusion}

    void setStatus(ExecutionStatus status);

    /// Evaluates `text` to a string; an error or an unresolved part sets `error`.
    QString text(const Text &text, QString *error) const;
    /// Evaluates every value of `map` into `into` (later keys see earlier ones through
    /// `env` only when `intoEnv` is set, as env maps build on each other).
    bool textMap(const TextMap &map, QJsonObject *into, QString *error, bool intoEnv = false);

private:
    const RunConstants *m_constants;
    ExecutionStatus m_status = ExecutionStatus::Success;
};

} // namespace Sandflow::Internal
