// Feeds arbitrary text to the `${{ }}` expression language: as a template (text with
// expression parts, as in any workflow string) and as a bare condition (as in `if:`), then
// evaluates what parses against a small fixed set of contexts. Parsing and evaluating must
// report problems, never crash, hang, leak or recurse without bound; and what they report
// must hold together: errors located inside the source, an error message for every error,
// the same result from a second evaluation, and a template without expressions its own text.
#include "expression.h"
#include "fuzzrequire.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {

using namespace Sandflow;
using namespace Qt::StringLiterals;

/// A few contexts of each kind of value; `needs` is not known yet, so it leaves what reads
/// it unresolved.
class FuzzScope : public ExpressionScope
{
public:
    FuzzScope()
        : m_contexts(QJsonDocument::fromJson(R"({
            "vars": {"greeting": "hello", "one": 1, "half": 0.5, "flag": true, "nothing": null,
                     "list": [1, 2, "three", [4]], "obj": {"a": 1, "b": {"c": "d"}}, "json": "[true, 2]"},
            "steps": {"build": {"outputs": {"version": "1.2"}, "outcome": "success"},
                      "my-step": {"outputs": {"x": "y"}}},
            "matrix": {"os": "linux", "n": 3},
            "items": [{"name": "a", "tags": ["x", "y"]}, {"name": "b", "tags": []}, {"other": 1}]
        })").object())
    {
    }

    std::optional<QJsonValue> context(const QString &name) const override
    {
        if (!m_contexts.contains(name))
            return std::nullopt;
        return m_contexts.value(name);
    }

private:
    QJsonObject m_contexts;
};

bool sameResult(const EvaluationResult &a, const EvaluationResult &b)
{
    // Compared as text: a NaN is not equal to itself.
    return a.state == b.state && a.error == b.error && a.value.type() == b.value.type()
           && Expression::toText(a.value) == Expression::toText(b.value);
}

void checkResult(const EvaluationResult &result)
{
    require((result.state == EvaluationResult::State::Error) == !result.error.isEmpty());
    (void)Expression::isTruthy(result.value);
    (void)Expression::toText(result.value);
}

void checkExpression(const Expression &expression, qsizetype sourceSize, const ExpressionScope &scope)
{
    if (!expression.isValid())
        return;
    require(expression.source().size() <= sourceSize);
    for (const ExpressionReference &reference : expression.references())
        require(!reference.context.isEmpty() && reference.offset >= 0 && reference.offset < expression.source().size());
    for (const ExpressionCall &call : expression.calls())
        require(!call.function.isEmpty() && call.argumentCount >= 0 && call.offset >= 0
                && call.offset < expression.source().size());
    const EvaluationResult result = expression.evaluate(scope);
    checkResult(result);
    require(sameResult(result, expression.evaluate(scope)));
}

void checkTemplate(const Template &parsed, const QList<Template::ParseError> &errors, const QString &source,
                   const ExpressionScope &scope)
{
    for (const Template::ParseError &error : errors)
        require(error.offset >= 0 && error.offset <= source.size() && !error.message.isEmpty());
    int previous = -1;
    for (const Template::Segment &segment : parsed.segments()) {
        require(segment.offset > previous && segment.offset < qMax<qsizetype>(source.size(), 1));
        previous = segment.offset;
        checkExpression(segment.expression, source.size(), scope);
    }
    const EvaluationResult result = parsed.evaluate(scope);
    checkResult(result);
    require(sameResult(result, parsed.evaluate(scope)));
    if (!errors.isEmpty())
        require(result.state == EvaluationResult::State::Error);
    else if (parsed.isLiteral())
        require(result.isValue() && result.value.toString() == source);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const FuzzScope scope;
    const QString source = QString::fromUtf8(reinterpret_cast<const char *>(data), qsizetype(size));

    Expression::ParseError error;
    const Expression expression = Expression::parse(source, &error);
    require(expression.isValid() == error.message.isEmpty());
    require(error.offset >= 0 && error.offset <= source.size());
    checkExpression(expression, source.size(), scope);

    QList<Template::ParseError> errors;
    checkTemplate(Template::parse(source, &errors), errors, source, scope);
    errors.clear();
    const Template condition = Template::fromExpression(source, &errors);
    for (const Template::ParseError &conditionError : errors)
        require(conditionError.offset >= 0 && conditionError.offset <= source.size());
    checkResult(condition.evaluate(scope));
    return 0;
}
