// Evaluation of a parsed expression against a scope, with GitHub Actions' coercion rules.
#include "expression_p.h"
#include "expression.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>

#include <cmath>

namespace Sandflow {

using namespace Qt::StringLiterals;
using Internal::Node;

namespace {

using State = EvaluationResult::State;

bool isContainer(const QJsonValue &value)
{
    return value.isArray() || value.isObject();
}

/// GitHub's ToNumber: null 0, booleans 0/1, strings trimmed and parsed (empty 0, else NaN),
/// arrays and objects NaN.
double toNumber(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        return 0;
    case QJsonValue::Bool:
        return value.toBool() ? 1 : 0;
    case QJsonValue::Double:
        return value.toDouble();
    case QJsonValue::String: {
        const QString text = value.toString().trimmed();
        return text.isEmpty() ? 0 : Internal::parseNumber(text).value_or(qQNaN());
    }
    case QJsonValue::Array:
    case QJsonValue::Object:
        break;
    }
    return qQNaN();
}

/// An intermediate result. Besides the value it keeps where an array or object was read from,
/// because GitHub compares those by reference: two reads of the same place of the same context
/// are equal, while arrays and objects built during evaluation (`fromJSON`, `.*`) are equal to
/// nothing. It also keeps whether the value came out of a `.*` filter, because member access
/// on a filtered array maps over its elements instead of indexing it.
struct Result
{
    // Every member has an initializer, so designated initializers may leave any of them out.
    State state = State::Value;
    QJsonValue value = {};
    QString error = {};
    QString origin = {};   ///< context and keys joined by U+001F; empty when built here
    bool filtered = false;
};

Result unresolved()
{
    return {.state = State::Unresolved};
}

Result failure(const QString &message)
{
    return {.state = State::Error, .error = message};
}

/// The part that decides the outcome when not all parts are values. An error outranks an
/// unresolved part: it is certain, whatever the unknown values turn out to be.
std::optional<Result> problemOf(const QList<Result> &parts)
{
    for (State state : {State::Error, State::Unresolved}) {
        for (const Result &part : parts) {
            if (part.state == state)
                return part;
        }
    }
    return std::nullopt;
}

/// A member of an array or object, with the name it was found under. Undefined when missing.
struct Member
{
    QJsonValue value = QJsonValue::Undefined;
    QString name;
};

Member arrayMember(const QJsonArray &array, const QJsonValue &key)
{
    const double index = std::floor(toNumber(key));
    if (!(index >= 0 && index < double(array.size())))   // also false for NaN
        return {};
    return {array.at(qsizetype(index)), QString::number(qsizetype(index))};
}

/// Names match exactly first, then case-insensitively, as in GitHub.
Member objectMember(const QJsonObject &object, const QJsonValue &key)
{
    const QString name = key.isString() ? key.toString() : Expression::toText(key);
    if (const auto exact = object.constFind(name); exact != object.constEnd())
        return {exact.value(), name};
    for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
        if (it.key().compare(name, Qt::CaseInsensitive) == 0)
            return {it.value(), it.key()};
    }
    return {};
}

Member member(const QJsonValue &container, const QJsonValue &key)
{
    if (!key.isString() && !key.isDouble())
        return {};
    if (container.isArray())
        return arrayMember(container.toArray(), key);
    if (container.isObject())
        return objectMember(container.toObject(), key);
    return {};
}

/// The elements of an array or the values of an object, appended to `out`.
void appendMembers(const QJsonValue &container, QJsonArray *out)
{
    if (container.isArray()) {
        for (const QJsonValue &element : container.toArray())
            out->append(element);
    } else if (container.isObject()) {
        for (const QJsonValue &element : container.toObject())
            out->append(element);
    }
}

bool equals(const Result &left, const Result &right)
{
    if (isContainer(left.value) && left.value.type() == right.value.type())
        return !left.origin.isEmpty() && left.origin == right.origin;
    return Internal::looseCompare(left.value, right.value) == 0;
}

bool holds(Node::Comparison comparison, const Result &left, const Result &right)
{
    const std::partial_ordering order = Internal::looseCompare(left.value, right.value);
    switch (comparison) {
    case Node::Comparison::Equal:
        return equals(left, right);
    case Node::Comparison::NotEqual:
        return !equals(left, right);
    case Node::Comparison::Less:
        return order < 0;
    case Node::Comparison::LessOrEqual:
        return order <= 0;
    case Node::Comparison::Greater:
        return order > 0;
    case Node::Comparison::GreaterOrEqual:
        return order >= 0;
    }
    Q_UNREACHABLE();
    return false;
}

class Evaluator
{
public:
    explicit Evaluator(const ExpressionScope &scope) : m_scope(scope) {}

    Result evaluate(const Node &node) const
    {
        switch (node.kind) {
        case Node::Kind::Literal:
            return {.value = node.value};
        case Node::Kind::Context:
            return context(node);
        case Node::Kind::Index:
            return index(node);
        case Node::Kind::Filter:
            return filter(node);
        case Node::Kind::Not:
            return negation(node);
        case Node::Kind::And:
        case Node::Kind::Or:
            return logical(node);
        case Node::Kind::Compare:
            return comparison(node);
        case Node::Kind::Call:
            return call(node);
        }
        Q_UNREACHABLE();
        return {};
    }

private:
    QList<Result> evaluateAll(const std::vector<Node> &nodes) const
    {
        QList<Result> results;
        results.reserve(qsizetype(nodes.size()));
        for (const Node &node : nodes)
            results.append(evaluate(node));
        return results;
    }

    Result context(const Node &node) const
    {
        const std::optional<QJsonValue> value = m_scope.context(node.name);
        if (!value)
            return unresolved();
        return {.value = value->isUndefined() ? QJsonValue() : *value, .origin = node.name};
    }

    Result index(const Node &node) const
    {
        const QList<Result> parts = evaluateAll(node.children);
        if (const std::optional<Result> problem = problemOf(parts))
            return *problem;
        const Result &object = parts[0];
        const QJsonValue &key = parts[1].value;
        if (object.filtered)
            return mapMember(object.value.toArray(), key);

        const Member found = member(object.value, key);
        if (found.value.isUndefined())
            return {};
        const QString origin = object.origin.isEmpty() ? QString() : object.origin + u'\x1f' + found.name;
        return {.value = found.value, .origin = origin};
    }

    /// `filtered.name`: the member of every element that has it.
    static Result mapMember(const QJsonArray &filtered, const QJsonValue &key)
    {
        QJsonArray values;
        for (const QJsonValue &element : filtered) {
            const Member found = member(element, key);
            if (!found.value.isUndefined())
                values.append(found.value);
        }
        return {.value = values, .filtered = true};
    }

    /// `object.*` lists the values of an object or the elements of an array; on an already
    /// filtered array it flattens one level.
    Result filter(const Node &node) const
    {
        const Result object = evaluate(node.children[0]);
        if (object.state != State::Value)
            return object;
        QJsonArray values;
        if (object.filtered) {
            for (const QJsonValue &element : object.value.toArray())
                appendMembers(element, &values);
        } else {
            appendMembers(object.value, &values);
        }
        return {.value = values, .filtered = true};
    }

    Result negation(const Node &node) const
    {
        const Result operand = evaluate(node.children[0]);
        if (operand.state != State::Value)
            return operand;
        return {.value = !Expression::isTruthy(operand.value)};
    }

    /// `&&` yields the first falsy operand, `||` the first truthy one, else the last operand;
    /// later operands are not evaluated, so they cannot make the result unresolved.
    Result logical(const Node &node) const
    {
        const bool stopWhenTruthy = node.kind == Node::Kind::Or;
        Result result;
        for (const Node &operand : node.children) {
            result = evaluate(operand);
            if (result.state != State::Value || Expression::isTruthy(result.value) == stopWhenTruthy)
                break;
        }
        return result;
    }

    Result comparison(const Node &node) const
    {
        const QList<Result> parts = evaluateAll(node.children);
        if (const std::optional<Result> problem = problemOf(parts))
            return *problem;
        return {.value = holds(node.comparison, parts[0], parts[1])};
    }

    Result call(const Node &node) const
    {
        const Internal::ResolvedFunction function =
            Internal::resolveFunction(node.name, int(node.children.size()));
        if (!function.implementation)
            return failure(function.error);
        const QList<Result> arguments = evaluateAll(node.children);
        if (const std::optional<Result> problem = problemOf(arguments))
            return *problem;

        QList<QJsonValue> values;
        values.reserve(arguments.size());
        for (const Result &argument : arguments)
            values.append(argument.value);
        const EvaluationResult result = function.implementation(values, m_scope);
        return {.state = result.state, .value = result.value, .error = result.error};
    }

    const ExpressionScope &m_scope;
};

/// Numbers read as in JavaScript: `3` not `3.0`, no exponent for integers below 1e21.
QString numberText(double number)
{
    if (std::isnan(number))
        return u"NaN"_s;
    if (std::isinf(number))
        return number > 0 ? u"Infinity"_s : u"-Infinity"_s;
    const double magnitude = std::abs(number);
    const bool plain = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e21);
    return QString::number(number, plain ? 'f' : 'g', QLocale::FloatingPointShortest);
}

} // namespace

std::partial_ordering Internal::looseCompare(const QJsonValue &left, const QJsonValue &right)
{
    if (left.isString() && right.isString())
        return QString::compare(left.toString(), right.toString(), Qt::CaseInsensitive) <=> 0;
    return toNumber(left) <=> toNumber(right);
}

EvaluationResult Expression::evaluate(const ExpressionScope &scope) const
{
    if (!isValid())
        return {EvaluationResult::State::Error, {}, u"invalid expression"_s};
    const Result result = Evaluator(scope).evaluate(d->root);
    if (result.state != State::Value)
        return {result.state, {}, result.error};
    return {State::Value, result.value, {}};
}

bool Expression::isTruthy(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        return false;
    case QJsonValue::Bool:
        return value.toBool();
    case QJsonValue::Double: {
        const double number = value.toDouble();
        return number != 0 && !std::isnan(number);
    }
    case QJsonValue::String:
        return !value.toString().isEmpty();
    case QJsonValue::Array:
    case QJsonValue::Object:
        break;
    }
    return true;
}

QString Expression::toText(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        return {};
    case QJsonValue::Bool:
        return value.toBool() ? u"true"_s : u"false"_s;
    case QJsonValue::Double:
        return numberText(value.toDouble());
    case QJsonValue::String:
        return value.toString();
    case QJsonValue::Array:
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    case QJsonValue::Object:
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    }
    return {};
}

} // namespace Sandflow
