// `${{ expr }}` expressions: parsed once at load time into an immutable AST, checked
// statically against the contexts a location offers, evaluated later against values.
#pragma once

#include <QJsonValue>
#include <QList>
#include <QSharedDataPointer>
#include <QString>
#include <QStringList>

#include <optional>

namespace Sandflow {

namespace Internal { class ExpressionNode; }

/// A reference to a named context, e.g. `steps.build.outputs.version` gives context
/// "steps" and path ["build", "outputs", "version"]. The path stops at the first member
/// that is not a literal name (`matrix[x]`, `a.*`).
struct ExpressionReference
{
    QString context;
    QStringList path;
    int offset = 0;   ///< offset of the context name in the expression source
};

/// A call of a function, with its argument count, for static checks.
struct ExpressionCall
{
    QString function;
    int argumentCount = 0;
    int offset = 0;   ///< offset of the function name in the expression source
};

/// Status of the enclosing job or step, which the status functions read.
enum class ExecutionStatus { Success, Failure, Cancelled };

/// What an expression is evaluated against. A context that is not known yet (for example
/// `steps` while planning) is reported as std::nullopt and makes the result unresolved.
class ExpressionScope
{
public:
    virtual ~ExpressionScope() = default;
    virtual std::optional<QJsonValue> context(const QString &name) const = 0;
    virtual ExecutionStatus status() const { return ExecutionStatus::Success; }
};

/// The outcome of evaluating an expression or a template.
struct EvaluationResult
{
    enum class State { Value, Unresolved, Error };

    State state = State::Value;
    QJsonValue value;
    QString error;   ///< set when state is Error, e.g. "fromJSON: invalid JSON at offset 3"

    bool isValue() const { return state == State::Value; }
};

/// One parsed expression (the text between `${{` and `}}`, or a bare `if:` condition).
/// Implicitly shared and immutable: copying is cheap.
class Expression
{
public:
    struct ParseError
    {
        int offset = 0;     ///< offset into the source where the problem is
        QString message;    ///< e.g. "expected `)`", "unterminated string"
    };

    Expression();
    ~Expression();
    Expression(const Expression &);
    Expression &operator=(const Expression &);

    /// Parses `source`. On failure returns an invalid expression and fills `error`.
    static Expression parse(const QString &source, ParseError *error);

    bool isValid() const;
    QString source() const;

    QList<ExpressionReference> references() const;
    QList<ExpressionCall> calls() const;

    EvaluationResult evaluate(const ExpressionScope &scope) const;

    /// GitHub Actions truthiness: false, 0, -0, NaN, "" and null are false.
    static bool isTruthy(const QJsonValue &value);
    /// How a value reads when interpolated into a string: null is empty, numbers without
    /// a needless fraction, arrays and objects as compact JSON.
    static QString toText(const QJsonValue &value);

private:
    QSharedDataPointer<Internal::ExpressionNode> d;
};

/// The functions expressions may call, with the argument counts they accept.
struct ExpressionFunction
{
    QString name;
    int minArguments;
    int maxArguments;   ///< -1: unbounded
    bool isStatusFunction;
};
const QList<ExpressionFunction> &expressionFunctions();

/// A string value with `${{ }}` parts: literal text and expressions, in order.
class Template
{
public:
    struct Segment
    {
        QString literal;          ///< set for a literal run
        Expression expression;    ///< valid for an expression part
        int offset = 0;           ///< offset of the segment in the template source
                                  ///< (for an expression: of its `${{`)
    };
    struct ParseError
    {
        int offset = 0;           ///< offset in the template source
        QString message;
    };

    Template() = default;
    /// Parses every `${{ ... }}` in `source`; every bad part is reported, not just the first.
    static Template parse(const QString &source, QList<ParseError> *errors);
    /// A template that is one expression with no surrounding text (used for bare `if:`).
    static Template fromExpression(const QString &source, QList<ParseError> *errors);

    QString source() const { return m_source; }
    bool isLiteral() const;                 ///< no expressions at all
    const QList<Segment> &segments() const { return m_segments; }

    /// A template that is exactly one `${{ }}` keeps the value's type (a number stays a
    /// number); anything else is the concatenation of the parts' text.
    EvaluationResult evaluate(const ExpressionScope &scope) const;

private:
    QString m_source;
    QList<Segment> m_segments;
};

} // namespace Sandflow
