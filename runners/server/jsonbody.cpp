#include "jsonbody_p.h"

#include <QJsonDocument>
#include <QRegularExpression>

#include <cmath>
#include <limits>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

// Qt's parser holds only objects and arrays at the top; a scalar body is still JSON.
std::optional<QJsonValue> scalarJson(const QByteArray &body)
{
    const QJsonDocument wrapped = QJsonDocument::fromJson('[' + body + ']');
    if (!wrapped.isArray() || wrapped.array().size() != 1)
        return std::nullopt;
    return wrapped.array().first();
}

qint64 clamped(double whole)
{
    constexpr auto largest = std::numeric_limits<qint64>::max();
    constexpr auto smallest = std::numeric_limits<qint64>::min();
    if (whole >= double(largest))
        return largest;
    if (whole <= double(smallest))
        return smallest;
    return qint64(whole);
}

QString quotedChoices(const QStringList &choices)
{
    QStringList quoted;
    for (const QString &choice : choices)
        quoted.append(u"'%1'"_s.arg(choice));
    if (quoted.size() < 2)
        return quoted.join(QString());
    const QString last = quoted.takeLast();
    return quoted.join(u", "_s) + u" or "_s + last;
}

} // namespace

FieldPattern::FieldPattern(const QString &text)
    : text(text)
    , regex(text.endsWith(u'$') ? text.chopped(1) + u"\\z"_s : text)
{
}

Parsed<QJsonValue> parseJsonBody(const QByteArray &body)
{
    if (body.trimmed().isEmpty() || body.trimmed() == "null")
        return ApiError::validation({{u"missing"_s, bodyLoc(), u"Field required"_s, QJsonValue::Null, {}}});
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(body, &error);
    if (error.error == QJsonParseError::NoError)
        return document.isObject() ? QJsonValue(document.object()) : QJsonValue(document.array());
    if (const std::optional<QJsonValue> scalar = scalarJson(body))
        return *scalar;
    return ApiError::validation({{u"json_invalid"_s, locAt(bodyLoc(), error.offset), u"JSON decode error"_s,
                                  QJsonObject(), QJsonObject{{u"error"_s, error.errorString()}}}});
}

Parsed<QJsonObject> parseModelBody(const QByteArray &body)
{
    const Parsed<QJsonValue> json = parseJsonBody(body);
    if (!json)
        return json.error();
    BodyReader reader;
    const std::optional<QJsonObject> object = reader.model(json.value(), bodyLoc());
    if (!object)
        return reader.error();
    return *object;
}

const QJsonArray &bodyLoc()
{
    static const QJsonArray loc{u"body"_s};
    return loc;
}

QJsonArray locAt(const QJsonArray &loc, const QJsonValue &key)
{
    QJsonArray result = loc;
    result.append(key);
    return result;
}

std::optional<QJsonValue> BodyReader::member(const QJsonObject &object, const QString &key, const QJsonArray &loc,
                                             Need need)
{
    const auto found = object.constFind(key);
    if (found == object.constEnd()) {
        if (need == Need::Required)
            add({u"missing"_s, locAt(loc, key), u"Field required"_s, object, {}});
        return std::nullopt;
    }
    // An optional member may be null; a required one must have a value of its type, so null
    // goes on to the type check and is reported there.
    if (found->isNull() && need == Need::Optional)
        return std::nullopt;
    return *found;
}

std::optional<QString> BodyReader::string(const QJsonObject &object, const QString &key, const QJsonArray &loc,
                                          Need need)
{
    const std::optional<QJsonValue> value = member(object, key, loc, need);
    return value ? string(*value, locAt(loc, key)) : std::nullopt;
}

std::optional<QString> BodyReader::string(const QJsonValue &value, const QJsonArray &loc)
{
    if (!value.isString()) {
        typeIssue(u"string_type"_s, u"Input should be a valid string"_s, value, loc);
        return std::nullopt;
    }
    return value.toString();
}

std::optional<bool> BodyReader::boolean(const QJsonObject &object, const QString &key, const QJsonArray &loc,
                                        Need need)
{
    const std::optional<QJsonValue> value = member(object, key, loc, need);
    if (!value)
        return std::nullopt;
    if (!value->isBool()) {
        typeIssue(u"bool_type"_s, u"Input should be a valid boolean"_s, *value, locAt(loc, key));
        return std::nullopt;
    }
    return value->toBool();
}

std::optional<qint64> BodyReader::integer(const QJsonObject &object, const QString &key, const QJsonArray &loc,
                                          Need need)
{
    const std::optional<QJsonValue> value = member(object, key, loc, need);
    return value ? integer(*value, locAt(loc, key)) : std::nullopt;
}

std::optional<qint64> BodyReader::integer(const QJsonValue &value, const QJsonArray &loc)
{
    if (!value.isDouble()) {
        typeIssue(u"int_type"_s, u"Input should be a valid integer"_s, value, loc);
        return std::nullopt;
    }
    const qint64 sentinel = std::numeric_limits<qint64>::min();
    if (const qint64 exact = value.toInteger(sentinel); exact != sentinel)
        return exact;
    const double number = value.toDouble();
    if (!std::isfinite(number) || std::trunc(number) != number) {
        typeIssue(u"int_from_float"_s, u"Input should be a valid integer, got a number with a fractional part"_s,
                  value, loc);
        return std::nullopt;
    }
    return clamped(number);
}

std::optional<qint64> BodyReader::integer(const QString &text, const QJsonArray &loc)
{
    static const QRegularExpression whole(QRegularExpression::anchoredPattern(u"\\s*[-+]?[0-9]+\\s*"_s));
    if (!whole.match(text).hasMatch()) {
        typeIssue(u"int_parsing"_s, u"Input should be a valid integer, unable to parse string as an integer"_s,
                  text, loc);
        return std::nullopt;
    }
    bool ok = false;
    const qint64 number = text.trimmed().toLongLong(&ok);
    if (ok)
        return number;
    return text.trimmed().startsWith(u'-') ? std::numeric_limits<qint64>::min() : std::numeric_limits<qint64>::max();
}

std::optional<QJsonObject> BodyReader::model(const QJsonObject &object, const QString &key, const QJsonArray &loc,
                                             Need need)
{
    const std::optional<QJsonValue> value = member(object, key, loc, need);
    return value ? model(*value, locAt(loc, key)) : std::nullopt;
}

std::optional<QJsonObject> BodyReader::model(const QJsonValue &value, const QJsonArray &loc)
{
    if (!value.isObject()) {
        typeIssue(u"model_attributes_type"_s, u"Input should be a valid dictionary or object to extract fields from"_s,
                  value, loc);
        return std::nullopt;
    }
    return value.toObject();
}

std::optional<QJsonObject> BodyReader::stringMap(const QJsonObject &object, const QString &key, const QJsonArray &loc,
                                                 Need need, bool nullable)
{
    const std::optional<QJsonValue> value = member(object, key, loc, need);
    if (!value)
        return std::nullopt;
    const QJsonArray mapLoc = locAt(loc, key);
    if (!value->isObject()) {
        typeIssue(u"dict_type"_s, u"Input should be a valid dictionary"_s, *value, mapLoc);
        return std::nullopt;
    }
    const QJsonObject map = value->toObject();
    const qsizetype before = issueCount();
    for (auto it = map.constBegin(); it != map.constEnd(); ++it) {
        if (!(nullable && it->isNull()))
            string(*it, locAt(mapLoc, it.key()));
    }
    return issueCount() == before ? std::optional(map) : std::nullopt;
}

std::optional<QJsonArray> BodyReader::list(const QJsonObject &object, const QString &key, const QJsonArray &loc,
                                           Need need)
{
    const std::optional<QJsonValue> value = member(object, key, loc, need);
    if (!value)
        return std::nullopt;
    if (!value->isArray()) {
        typeIssue(u"list_type"_s, u"Input should be a valid list"_s, *value, locAt(loc, key));
        return std::nullopt;
    }
    return value->toArray();
}

bool BodyReader::matches(const QString &value, const FieldPattern &pattern, const QJsonArray &loc)
{
    if (pattern.regex.match(value).hasMatch())
        return true;
    add({u"string_pattern_mismatch"_s, loc, u"String should match pattern '%1'"_s.arg(pattern.text), value,
         QJsonObject{{u"pattern"_s, pattern.text}}});
    return false;
}

bool BodyReader::atMost(const QString &value, qsizetype maxLength, const QJsonArray &loc)
{
    if (value.size() <= maxLength)
        return true;
    add({u"string_too_long"_s, loc, u"String should have at most %1 characters"_s.arg(maxLength), value,
         QJsonObject{{u"max_length"_s, maxLength}}});
    return false;
}

bool BodyReader::atLeast(const QString &value, qsizetype minLength, const QJsonArray &loc)
{
    if (value.size() >= minLength)
        return true;
    const QString unit = minLength == 1 ? u"character"_s : u"characters"_s;
    add({u"string_too_short"_s, loc, u"String should have at least %1 %2"_s.arg(minLength).arg(unit), value,
         QJsonObject{{u"min_length"_s, minLength}}});
    return false;
}

bool BodyReader::atLeast(qint64 value, qint64 minimum, const QJsonArray &loc, const QJsonValue &input)
{
    if (value >= minimum)
        return true;
    add({u"greater_than_equal"_s, loc, u"Input should be greater than or equal to %1"_s.arg(minimum), input,
         QJsonObject{{u"ge"_s, minimum}}});
    return false;
}

bool BodyReader::atMost(qint64 value, qint64 maximum, const QJsonArray &loc, const QJsonValue &input)
{
    if (value <= maximum)
        return true;
    add({u"less_than_equal"_s, loc, u"Input should be less than or equal to %1"_s.arg(maximum), input,
         QJsonObject{{u"le"_s, maximum}}});
    return false;
}

bool BodyReader::oneOf(const QString &value, const QStringList &choices, const QJsonArray &loc)
{
    if (choices.contains(value))
        return true;
    const QString expected = quotedChoices(choices);
    add({u"enum"_s, loc, u"Input should be %1"_s.arg(expected), value, QJsonObject{{u"expected"_s, expected}}});
    return false;
}

void BodyReader::valueError(const QString &message, const QJsonArray &loc, const QJsonValue &input)
{
    add({u"value_error"_s, loc, u"Value error, "_s + message, input, {}});
}

void BodyReader::add(ValidationIssue issue)
{
    m_issues.append(std::move(issue));
}

void BodyReader::typeIssue(const QString &type, const QString &msg, const QJsonValue &input, const QJsonArray &loc)
{
    add({type, loc, msg, input, {}});
}

} // namespace Sandflow::Internal
