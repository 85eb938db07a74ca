// The functions expressions may call, as in GitHub Actions.
#include "expression_p.h"
#include "expression.h"

#include "diagnostics.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>

namespace Sandflow {

using namespace Qt::StringLiterals;

namespace {

using Arguments = QList<QJsonValue>;

EvaluationResult value(const QJsonValue &result)
{
    return {EvaluationResult::State::Value, result, {}};
}

EvaluationResult failure(const QString &message)
{
    return {EvaluationResult::State::Error, {}, message};
}

/// The text of a string, number, boolean or null. Arrays and objects have none: GitHub's
/// string functions never match them.
std::optional<QString> primitiveText(const QJsonValue &value)
{
    if (value.isArray() || value.isObject())
        return std::nullopt;
    return Expression::toText(value);
}

/// Applies a case-insensitive text test to the first two arguments.
template <typename Test>
EvaluationResult textTest(const Arguments &arguments, Test test)
{
    const std::optional<QString> text = primitiveText(arguments[0]);
    const std::optional<QString> part = primitiveText(arguments[1]);
    return value(text && part && test(*text, *part));
}

/// contains(search, item): an element of an array loosely equal to item, or a substring.
EvaluationResult contains(const Arguments &arguments, const ExpressionScope &)
{
    if (arguments[0].isArray()) {
        const QJsonArray array = arguments[0].toArray();
        return value(std::any_of(array.constBegin(), array.constEnd(), [&](const QJsonValue &element) {
            return Internal::looseCompare(element, arguments[1]) == 0;
        }));
    }
    return textTest(arguments, [](const QString &text, const QString &part) {
        return text.contains(part, Qt::CaseInsensitive);
    });
}

EvaluationResult startsWith(const Arguments &arguments, const ExpressionScope &)
{
    return textTest(arguments, [](const QString &text, const QString &part) {
        return text.startsWith(part, Qt::CaseInsensitive);
    });
}

EvaluationResult endsWith(const Arguments &arguments, const ExpressionScope &)
{
    return textTest(arguments, [](const QString &text, const QString &part) {
        return text.endsWith(part, Qt::CaseInsensitive);
    });
}

/// The argument index of a `{N}` placeholder starting at `open`, with the offset of its `}`.
struct Placeholder
{
    qsizetype index = -1;   ///< -1 when malformed
    qsizetype close = -1;
};

Placeholder readPlaceholder(const QString &pattern, qsizetype open)
{
    const qsizetype close = pattern.indexOf(u'}', open + 1);
    if (close < 0)
        return {};
    const QStringView digits = QStringView(pattern).sliced(open + 1, close - open - 1);
    const bool allDigits = !digits.isEmpty() && std::all_of(digits.begin(), digits.end(), [](QChar c) {
        return c >= u'0' && c <= u'9';
    });
    bool ok = false;
    const qsizetype index = allDigits ? digits.toLongLong(&ok) : -1;
    return ok ? Placeholder{index, close} : Placeholder{};
}

/// format(pattern, args...): `{N}` is the text of argument N, `{{` and `}}` are braces.
EvaluationResult format(const Arguments &arguments, const ExpressionScope &)
{
    const QString pattern = Expression::toText(arguments[0]);
    QString result;
    for (qsizetype i = 0; i < pattern.size(); ++i) {
        const QChar c = pattern[i];
        const bool doubled = i + 1 < pattern.size() && pattern[i + 1] == c;
        if ((c == u'{' || c == u'}') && doubled) {
            result += c;
            ++i;
        } else if (c == u'}') {
            return failure(u"format: unmatched `}` at offset %1"_s.arg(i));
        } else if (c == u'{') {
            const Placeholder placeholder = readPlaceholder(pattern, i);
            if (placeholder.index < 0)
                return failure(u"format: malformed placeholder at offset %1"_s.arg(i));
            if (placeholder.index >= arguments.size() - 1)
                return failure(u"format: no argument for `{%1}`"_s.arg(placeholder.index));
            result += Expression::toText(arguments[placeholder.index + 1]);
            i = placeholder.close;
        } else {
            result += c;
        }
    }
    return value(result);
}

/// join(array, separator = ','); a string (or other primitive) is returned as is.
EvaluationResult join(const Arguments &arguments, const ExpressionScope &)
{
    if (!arguments[0].isArray())
        return value(primitiveText(arguments[0]).value_or(QString()));
    const QString separator = arguments.size() > 1 ? Expression::toText(arguments[1]) : u","_s;
    QStringList texts;
    for (const QJsonValue &element : arguments[0].toArray())
        texts.append(Expression::toText(element));
    return value(texts.join(separator));
}

/// One value as compact JSON; QJsonDocument only takes arrays and objects, so wrap it.
QString compactJson(const QJsonValue &value)
{
    const QByteArray wrapped = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(wrapped.sliced(1, wrapped.size() - 2));
}

/// GitHub's layout: two-space indentation, `{}` and `[]` when empty.
void writePrettyJson(const QJsonValue &value, const QString &indent, QString *out)
{
    const bool isObject = value.isObject();
    const QJsonObject object = value.toObject();
    const QJsonArray array = value.toArray();
    const qsizetype count = isObject ? object.size() : array.size();
    if ((!isObject && !value.isArray()) || count == 0) {
        *out += compactJson(value);
        return;
    }
    const QString inner = indent + u"  "_s;
    *out += isObject ? u'{' : u'[';
    for (qsizetype i = 0; i < count; ++i) {
        *out += (i > 0 ? u",\n"_s : u"\n"_s) + inner;
        if (isObject) {
            const auto entry = object.constBegin() + i;
            *out += compactJson(entry.key()) + u": "_s;
            writePrettyJson(entry.value(), inner, out);
        } else {
            writePrettyJson(array.at(i), inner, out);
        }
    }
    *out += u'\n' + indent + (isObject ? u'}' : u']');
}

EvaluationResult toJson(const Arguments &arguments, const ExpressionScope &)
{
    QString json;
    writePrettyJson(arguments[0], {}, &json);
    return value(json);
}

/// fromJSON(text): any JSON value. QJsonDocument only parses arrays and objects, so the text
/// is parsed as the only element of an array.
EvaluationResult fromJson(const Arguments &arguments, const ExpressionScope &)
{
    const QByteArray text = Expression::toText(arguments[0]).toUtf8();
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson('[' + text + ']', &error);
    if (error.error != QJsonParseError::NoError) {
        const qsizetype offset = std::clamp<qsizetype>(error.offset - 1, 0, text.size());
        return failure(u"fromJSON: invalid JSON at offset %1: %2"_s.arg(offset).arg(error.errorString()));
    }
    if (document.array().size() != 1)
        return failure(u"fromJSON: invalid JSON: expected exactly one value"_s);
    return value(document.array().first());
}

template <ExecutionStatus Status>
EvaluationResult hasStatus(const Arguments &, const ExpressionScope &scope)
{
    return value(scope.status() == Status);
}

EvaluationResult always(const Arguments &, const ExpressionScope &)
{
    return value(true);
}

struct Function
{
    ExpressionFunction signature;
    Internal::FunctionImplementation implementation;
};

const QList<Function> &functions()
{
    static const QList<Function> table = {
        {{u"contains"_s, 2, 2, false}, contains},
        {{u"startsWith"_s, 2, 2, false}, startsWith},
        {{u"endsWith"_s, 2, 2, false}, endsWith},
        {{u"format"_s, 1, -1, false}, format},
        {{u"join"_s, 1, 2, false}, join},
        {{u"toJSON"_s, 1, 1, false}, toJson},
        {{u"fromJSON"_s, 1, 1, false}, fromJson},
        {{u"success"_s, 0, 0, true}, hasStatus<ExecutionStatus::Success>},
        {{u"failure"_s, 0, 0, true}, hasStatus<ExecutionStatus::Failure>},
        {{u"cancelled"_s, 0, 0, true}, hasStatus<ExecutionStatus::Cancelled>},
        {{u"always"_s, 0, 0, true}, always},
    };
    return table;
}

QString argumentWord(int count)
{
    return count == 1 ? u"1 argument"_s : u"%1 arguments"_s.arg(count);
}

/// "takes 2 arguments", "takes 1 to 2 arguments", "takes at least 1 argument".
QString arity(const ExpressionFunction &function)
{
    if (function.maxArguments < 0)
        return u"takes at least %1"_s.arg(argumentWord(function.minArguments));
    if (function.minArguments == function.maxArguments)
        return u"takes %1"_s.arg(argumentWord(function.minArguments));
    return u"takes %1 to %2"_s.arg(function.minArguments).arg(argumentWord(function.maxArguments));
}

} // namespace

const QList<ExpressionFunction> &expressionFunctions()
{
    static const QList<ExpressionFunction> signatures = [] {
        QList<ExpressionFunction> result;
        for (const Function &function : functions())
            result.append(function.signature);
        return result;
    }();
    return signatures;
}

Internal::ResolvedFunction Internal::resolveFunction(const QString &name, int argumentCount)
{
    const QList<Function> &table = functions();
    const auto found = std::find_if(table.begin(), table.end(), [&](const Function &function) {
        return function.signature.name.compare(name, Qt::CaseInsensitive) == 0;
    });
    if (found == table.end()) {
        QStringList names;
        for (const Function &function : table)
            names.append(function.signature.name);
        return {nullptr, u"unknown function `%1`%2"_s.arg(name, didYouMean(name, names))};
    }
    const ExpressionFunction &signature = found->signature;
    if (argumentCount < signature.minArguments
        || (signature.maxArguments >= 0 && argumentCount > signature.maxArguments)) {
        return {nullptr, u"%1() %2, got %3"_s.arg(signature.name, arity(signature)).arg(argumentCount)};
    }
    return {found->implementation, {}};
}

} // namespace Sandflow
