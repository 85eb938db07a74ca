#include "runscope_p.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

bool settingIsTrue(const QJsonValue &value)
{
    if (value.isString() && value.toString().compare(u"false"_s, Qt::CaseInsensitive) == 0)
        return false;
    return Expression::isTruthy(value);
}

std::optional<QJsonValue> InstanceScope::context(const QString &name) const
{
    if (name == u"vars"_s)
        return m_constants->vars;
    if (name == u"secrets"_s)
        return m_constants->secrets;
    if (name == u"run"_s)
        return m_constants->run;
    if (name == u"matrix"_s)
        return matrix;
    if (name == u"task"_s)
        return task;
    if (name == u"needs"_s)
        return needs;
    if (name == u"job"_s)
        return job;
    if (name == u"env"_s)
        return env;
    if (name == u"steps"_s)
        return steps;
    return std::nullopt;
}

void InstanceScope::setStatus(ExecutionStatus status)
{
    m_status = status;
    static const char *const names[] = {"success", "failure", "cancelled"};
    job.insert(u"status"_s, QString::fromLatin1(names[int(status)]));
}

RunConstants runConstants(const Workflow &workflow, const QMap<QString, QString> &secrets, const QString &runId,
                          const QString &runDirectory)
{
    RunConstants constants;
    for (auto it = secrets.cbegin(); it != secrets.cend(); ++it)
        constants.secrets.insert(it.key(), it.value());
    constants.run = QJsonObject{{u"id"_s, runId}, {u"dir"_s, runDirectory}};
    InstanceScope scope(&constants);
    QString ignored;   // the validator has checked what vars may read
    scope.textMap(workflow.vars, &constants.vars, &ignored);
    return constants;
}

QString InstanceScope::text(const Text &text, QString *error) const
{
    if (!text.isSet)
        return {};
    const EvaluationResult result = text.value.evaluate(*this);
    if (result.state == EvaluationResult::State::Error) {
        *error = u"%1:%2: %3"_s.arg(text.pos.line).arg(text.pos.column).arg(result.error);
        return {};
    }
    if (result.state == EvaluationResult::State::Unresolved) {
        *error = u"%1:%2: `%3` cannot be worked out here"_s.arg(text.pos.line).arg(text.pos.column).arg(text.source());
        return {};
    }
    return Expression::toText(result.value);
}

bool InstanceScope::textMap(const TextMap &map, QJsonObject *into, QString *error, bool intoEnv)
{
    for (const TextEntry &entry : map) {
        const QString value = text(entry.value, error);
        if (!error->isEmpty())
            return false;
        into->insert(entry.key, value);
        if (intoEnv)
            env.insert(entry.key, value);
    }
    return true;
}

} // namespace Sandflow::Internal
