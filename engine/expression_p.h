// Private parts of expressions: the syntax tree and the helpers the parser, the evaluator and
// the function table share. Not installed, not used outside engine/expression*.cpp and
// engine/template.cpp.
#pragma once

#include "expression.h"

#include <QSharedData>

#include <compare>
#include <optional>
#include <vector>

namespace Sandflow::Internal {

/// One node of the syntax tree. `a.b` is stored as `a['b']`: both mean the same.
struct Node
{
    enum class Kind {
        Literal,   ///< value
        Context,   ///< name: a named context such as `steps`
        Index,     ///< children: object, key
        Filter,    ///< children: object (`object.*` or `object[*]`)
        Not,       ///< children: operand
        And,       ///< children: two or more operands
        Or,        ///< children: two or more operands
        Compare,   ///< comparison; children: left, right
        Call,      ///< name: the function as written; children: arguments
    };
    enum class Comparison { Equal, NotEqual, Less, LessOrEqual, Greater, GreaterOrEqual };

    // Every member has an initializer, so designated initializers may leave any of them out.
    Kind kind = Kind::Literal;
    Comparison comparison = Comparison::Equal;
    QJsonValue value = {};
    QString name = {};
    int offset = 0;   ///< of the first token of the node (the name for Context and Call)
    int height = 1;   ///< levels of this subtree, bounded so evaluating it cannot overflow the stack
    std::vector<Node> children = {};
};

class ExpressionNode : public QSharedData
{
public:
    QString source;
    Node root;
};

/// Reads a number written as an expression literal (`12`, `-1.5e3`, `0xff`); strings are
/// coerced to numbers with the same grammar. std::nullopt when `text` is not exactly a number.
std::optional<double> parseNumber(QStringView text);

/// GitHub's loose ordering: two strings compare case-insensitively, anything else as numbers
/// (null 0, booleans 0/1, strings parsed, arrays and objects NaN). Unordered when NaN is involved.
std::partial_ordering looseCompare(const QJsonValue &left, const QJsonValue &right);

using FunctionImplementation = EvaluationResult (*)(const QList<QJsonValue> &arguments,
                                                    const ExpressionScope &scope);

/// The implementation of a function of expressionFunctions() for a call with `argumentCount`
/// arguments; when there is none, `error` says why (unknown name, wrong argument count).
struct ResolvedFunction
{
    FunctionImplementation implementation = nullptr;
    QString error;
};
ResolvedFunction resolveFunction(const QString &name, int argumentCount);

} // namespace Sandflow::Internal
