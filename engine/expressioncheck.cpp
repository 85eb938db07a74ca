// Static checks of expressions: every context, field and function that validation can see
// is checked where it is written, so a typo fails at validate time rather than mid-run.
#include "workflowvalidator_p.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

static const QStringList &allContexts()
{
    static const QStringList contexts = {u"vars"_s, u"env"_s, u"secrets"_s, u"matrix"_s, u"task"_s,
                                         u"steps"_s, u"needs"_s, u"job"_s, u"run"_s};
    return contexts;
}

// " (did you mean `x`?)" for a likely typo, else the names there are.
static QString hintOrList(const QString &word, const QStringList &names)
{
    const QString hint = didYouMean(word, names);
    if (!hint.isEmpty())
        return hint;
    QStringList quoted;
    for (const QString &name : names)
        quoted.append(u"`%1`"_s.arg(name));
    return u" (there are %1)"_s.arg(quoted.join(u", "_s));
}

void WorkflowValidator::checkTexts(const TextMap &texts, const ExpressionScopeInfo &scope)
{
    for (const TextEntry &entry : texts)
        checkText(entry.value, scope);
}

void WorkflowValidator::checkText(const Text &text, const ExpressionScopeInfo &scope, bool isCondition)
{
    if (!text.isSet)
        return;
    qsizetype index = 0;
    for (const Template::Segment &segment : text.value.segments()) {
        if (!segment.expression.isValid())
            continue;
        const SourcePos start = text.expressionPos.value(index++, text.pos);
        const auto at = [&](int offset) { return SourcePos{start.line, start.column + offset}; };
        for (const ExpressionReference &reference : segment.expression.references())
            checkReference(reference, at(reference.offset), scope);
        for (const ExpressionCall &call : segment.expression.calls())
            checkCall(call, at(call.offset), isCondition);
    }
}

void WorkflowValidator::checkCall(const ExpressionCall &call, SourcePos pos, bool isCondition)
{
    const QList<ExpressionFunction> &functions = expressionFunctions();
    const auto function = std::find_if(functions.cbegin(), functions.cend(), [&](const ExpressionFunction &f) {
        return f.name.compare(call.function, Qt::CaseInsensitive) == 0;
    });
    if (function == functions.cend()) {
        QStringList names;
        for (const ExpressionFunction &f : functions)
            names.append(f.name + u"()"_s);
        error(pos, u"unknown function `%1()`%2"_s.arg(call.function, didYouMean(call.function + u"()"_s, names)));
        return;
    }
    if (function->isStatusFunction && !isCondition) {
        error(pos, u"`%1()` can only be used in `if:`"_s.arg(function->name));
        return;
    }
    const bool tooFew = call.argumentCount < function->minArguments;
    const bool tooMany = function->maxArguments >= 0 && call.argumentCount > function->maxArguments;
    if (!tooFew && !tooMany)
        return;
    QString expected;
    if (function->minArguments == function->maxArguments)
        expected = u"%1"_s.arg(function->minArguments);
    else if (function->maxArguments < 0)
        expected = u"at least %1"_s.arg(function->minArguments);
    else
        expected = u"%1 to %2"_s.arg(function->minArguments).arg(function->maxArguments);
    error(pos, u"`%1()` takes %2 argument%3, not %4"_s
                   .arg(function->name, expected, expected == u"1"_s ? QString() : u"s"_s)
                   .arg(call.argumentCount));
}

void WorkflowValidator::checkReference(const ExpressionReference &reference, SourcePos pos,
                                       const ExpressionScopeInfo &scope)
{
    const QString &context = reference.context;
    if (!allContexts().contains(context)) {
        // GitHub's own contexts have no counterpart here; say which contexts there are.
        const QString hint = context == u"github"_s || context == u"runner"_s || context == u"inputs"_s
            ? u" (GitHub's; the contexts here are %1)"_s.arg(allContexts().join(u", "_s))
            : didYouMean(context, allContexts());
        error(pos, u"unknown context `%1`%2"_s.arg(context, hint));
        return;
    }
    if (!scope.contexts.contains(context)) {
        error(pos, u"context `%1` is not available here"_s.arg(context));
        return;
    }
    if (reference.path.isEmpty())
        return;
    const QString &field = reference.path.first();
    const auto fieldPos = SourcePos{pos.line, pos.column + int(context.size()) + 1};

    if (context == u"vars"_s) {
        QStringList names;
        for (const TextEntry &entry : std::as_const(m_workflow->vars))
            names.append(entry.key);
        if (!names.contains(field))
            error(fieldPos, u"unknown variable `%1`%2"_s.arg(field, didYouMean(field, names)));
    } else if (context == u"secrets"_s) {
        if (const QStringList secrets = m_workflow->secretNames(); !secrets.contains(field))
            error(fieldPos, u"unknown secret `%1` (declare it under `secrets:`)%2"_s.arg(field, didYouMean(field, secrets)));
    } else if (context == u"env"_s) {
        if (!scope.envKeys.contains(field)) {
            const QString hint = didYouMean(field, scope.envKeys);
            error(fieldPos, u"unknown environment variable `%1`%2"_s
                                .arg(field, hint.isEmpty() ? u" (the `env` context holds `env:` entries of the workflow, "
                                                             u"job and step)"_s : hint));
        }
    } else if (context == u"matrix"_s) {
        if (!scope.hasMatrix)
            error(pos, u"job `%1` has no matrix"_s.arg(scope.jobId));
        else if (!scope.matrixKeys.contains(field))
            error(fieldPos, u"unknown matrix key `%1`%2"_s.arg(field, didYouMean(field, scope.matrixKeys)));
    } else if (context == u"task"_s) {
        if (!scope.hasDataset)
            error(pos, u"`task` is only available in jobs with a `strategy.dataset`"_s);
        else if (!scope.taskFields.isEmpty() && !scope.taskFields.contains(field))
            error(fieldPos, u"the dataset has no field `%1`%2"_s.arg(field, didYouMean(field, scope.taskFields)));
    } else if (context == u"steps"_s) {
        if (scope.laterStepIds.contains(field) && !scope.stepIds.contains(field)) {
            error(fieldPos, u"step `%1` has not run yet at this point"_s.arg(field));
        } else if (!scope.stepIds.contains(field)) {
            error(fieldPos, u"unknown step `%1`%2"_s.arg(field, didYouMean(field, scope.stepIds)));
        } else if (reference.path.size() > 1) {
            const QString &member = reference.path.at(1);
            const QStringList members = {u"outputs"_s, u"outcome"_s, u"conclusion"_s};
            if (!members.contains(member))
                error(fieldPos, u"`steps.%1` has no `%2`%3"_s.arg(field, member, hintOrList(member, members)));
        }
    } else if (context == u"needs"_s) {
        if (!scope.needs.contains(field)) {
            error(fieldPos, u"job `%1` is not in the `needs` of job `%2`"_s.arg(field, scope.jobId));
        } else if (reference.path.size() > 1) {
            const QString &member = reference.path.at(1);
            const QStringList members = {u"outputs"_s, u"result"_s};
            if (!members.contains(member)) {
                error(fieldPos, u"`needs.%1` has no `%2`%3"_s.arg(field, member, hintOrList(member, members)));
            } else if (member == u"outputs"_s && reference.path.size() > 2) {
                const QString &output = reference.path.at(2);
                const QStringList outputs = scope.needs.value(field);
                if (!outputs.contains(output))
                    error(fieldPos, u"job `%1` has no output `%2`%3"_s.arg(field, output, didYouMean(output, outputs)));
            }
        }
    } else if (context == u"job"_s || context == u"run"_s) {
        const QStringList fields = context == u"job"_s ? QStringList{u"id"_s, u"name"_s, u"status"_s}
                                                      : QStringList{u"id"_s, u"dir"_s};
        if (!fields.contains(field))
            error(fieldPos, u"`%1` has no field `%2`%3"_s.arg(context, field, hintOrList(field, fields)));
    }
}

} // namespace Sandflow::Internal
