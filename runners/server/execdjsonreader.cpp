#include "execdjsonreader_p.h"

#include "execdjson_p.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

#include <cmath>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

std::optional<QJsonValue> parseExecdJson(const QByteArray &body, QString *error)
{
    if (body.trimmed().isEmpty()) {
        *error = u"the body is empty; expected JSON"_s;
        return std::nullopt;
    }
    // QJsonDocument reads only objects and arrays, which is all execd's bodies are.
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        *error = u"invalid JSON at offset %1: %2"_s.arg(parseError.offset).arg(parseError.errorString());
        return std::nullopt;
    }
    return document.isObject() ? QJsonValue(document.object()) : QJsonValue(document.array());
}

ExecdFieldReader::ExecdFieldReader(const QJsonObject &object, QString where)
    : m_object(object)
    , m_where(std::move(where))
{
}

QJsonValue ExecdFieldReader::field(QLatin1StringView key) const
{
    const QJsonValue value = m_object.value(key);
    return value.isNull() ? QJsonValue(QJsonValue::Undefined) : value;
}

void ExecdFieldReader::fail(const QString &message)
{
    if (!m_error)
        m_error = m_where.isEmpty() ? message : m_where + u": "_s + message;
}

void ExecdFieldReader::wrongType(QLatin1StringView key, const QString &expected)
{
    fail(u"`%1` must be %2"_s.arg(key, expected));
}

QString ExecdFieldReader::string(QLatin1StringView key)
{
    const QJsonValue value = field(key);
    if (!value.isUndefined() && !value.isString())
        wrongType(key, u"a string"_s);
    return value.toString();
}

bool ExecdFieldReader::boolean(QLatin1StringView key)
{
    const QJsonValue value = field(key);
    if (!value.isUndefined() && !value.isBool())
        wrongType(key, u"true or false"_s);
    return value.toBool();
}

std::optional<qint64> ExecdFieldReader::integer(QLatin1StringView key, qint64 minimum, qint64 maximum,
                                               const QString &expected)
{
    const QJsonValue value = field(key);
    if (value.isUndefined())
        return std::nullopt;
    const double number = value.toDouble();
    if (!value.isDouble() || number != std::trunc(number) || number < double(minimum) || number > double(maximum)) {
        wrongType(key, expected);
        return std::nullopt;
    }
    return value.toInteger();
}

QMap<QString, QString> ExecdFieldReader::stringMap(QLatin1StringView key)
{
    const QJsonValue value = field(key);
    if (value.isUndefined())
        return {};
    if (!value.isObject()) {
        wrongType(key, u"an object of strings"_s);
        return {};
    }
    QMap<QString, QString> map;
    const QJsonObject object = value.toObject();
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (!it->isString() && !it->isNull()) {
            fail(u"`%1` must be an object of strings, and `%2` is not a string"_s.arg(key, it.key()));
            return {};
        }
        map.insert(it.key(), it->toString());
    }
    return map;
}

int ExecdFieldReader::mode(QLatin1StringView key)
{
    const QString expected = u"a mode in octal digits, such as 755"_s;
    const std::optional<qint64> digits = integer(key, 0, 7777, expected);
    if (!digits)
        return 0;
    const std::optional<int> mode = modeFromDigits(*digits);
    if (!mode)
        wrongType(key, expected);
    return mode.value_or(0);
}

FilePermissions ExecdFieldReader::permissions()
{
    FilePermissions permissions;
    permissions.owner = string("owner"_L1);
    permissions.group = string("group"_L1);
    permissions.mode = mode("mode"_L1);
    return permissions;
}

} // namespace Sandflow::Internal
