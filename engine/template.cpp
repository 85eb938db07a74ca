// Strings with `${{ ... }}` parts.
//
// Segments with a non-empty literal are text; the others are expression parts. When parsing
// reported errors, a bad part is kept as an invalid expression, so that evaluating the template
// fails instead of quietly dropping the part.
#include "expression.h"

#include <algorithm>

namespace Sandflow {

using namespace Qt::StringLiterals;

namespace {

constexpr QStringView Open = u"${{";
constexpr QStringView Close = u"}}";

void report(QList<Template::ParseError> *errors, qsizetype offset, const QString &message)
{
    if (errors)
        errors->append({int(offset), message});
}

/// The offset of the `}}` closing an expression that starts at `from`, skipping single-quoted
/// strings (a `''` escape reads as closing and reopening the string); -1 if there is none.
qsizetype findClose(const QString &source, qsizetype from)
{
    bool inString = false;
    for (qsizetype i = from; i < source.size(); ++i) {
        if (source[i] == u'\'')
            inString = !inString;
        else if (!inString && QStringView(source).sliced(i).startsWith(Close))
            return i;
    }
    return -1;
}

bool isExpressionPart(const Template::Segment &segment)
{
    return segment.literal.isEmpty();
}

} // namespace

Template Template::parse(const QString &source, QList<ParseError> *errors)
{
    Template result;
    result.m_source = source;
    qsizetype position = 0;
    while (position < source.size()) {
        const qsizetype open = source.indexOf(Open, position);
        const qsizetype textEnd = open < 0 ? source.size() : open;
        if (textEnd > position)
            result.m_segments.append({source.sliced(position, textEnd - position), {}, int(position)});
        if (open < 0)
            break;

        const qsizetype start = open + Open.size();
        const qsizetype close = findClose(source, start);
        if (close < 0) {
            report(errors, open, u"unterminated `${{`"_s);
            result.m_segments.append({{}, Expression(), int(open)});
            break;
        }
        Expression::ParseError error;
        const Expression expression = Expression::parse(source.sliced(start, close - start), &error);
        if (!expression.isValid())
            report(errors, start + error.offset, error.message);
        result.m_segments.append({{}, expression, int(open)});
        position = close + Close.size();
    }
    return result;
}

Template Template::fromExpression(const QString &source, QList<ParseError> *errors)
{
    const QStringView trimmed = QStringView(source).trimmed();
    if (trimmed.startsWith(Open) && trimmed.endsWith(Close)) {
        Template result = parse(source, errors);
        // Blanks around a condition's `${{ }}` are layout, not text that would make it a string.
        result.m_segments.removeIf([](const Segment &segment) {
            return !isExpressionPart(segment) && segment.literal.trimmed().isEmpty();
        });
        return result;
    }

    Template result;
    result.m_source = source;
    Expression::ParseError error;
    const Expression expression = Expression::parse(source, &error);
    if (!expression.isValid())
        report(errors, error.offset, error.message);
    result.m_segments.append({{}, expression, 0});
    return result;
}

bool Template::isLiteral() const
{
    return std::none_of(m_segments.cbegin(), m_segments.cend(), isExpressionPart);
}

EvaluationResult Template::evaluate(const ExpressionScope &scope) const
{
    if (m_segments.size() == 1 && isExpressionPart(m_segments.first()))
        return m_segments.first().expression.evaluate(scope);

    // An error outranks an unresolved part: it is certain, whatever the unknown values are.
    QString text;
    bool unresolved = false;
    for (const Segment &segment : m_segments) {
        if (!isExpressionPart(segment)) {
            text += segment.literal;
            continue;
        }
        const EvaluationResult part = segment.expression.evaluate(scope);
        if (part.state == EvaluationResult::State::Error)
            return part;
        unresolved = unresolved || part.state == EvaluationResult::State::Unresolved;
        text += Expression::toText(part.value);
    }
    if (unresolved)
        return {EvaluationResult::State::Unresolved, {}, {}};
    return {EvaluationResult::State::Value, text, {}};
}

} // namespace Sandflow
