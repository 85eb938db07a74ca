// Reading JSON request bodies as execd's Go decoder fills its structs: unknown fields are
// ignored, `null` is the same as absent, and a value of the wrong type is an error. The
// readers keep the first problem as a message naming the field, for a 400 answer. (The
// lifecycle API's BodyReader, in jsonbody_p.h, reports every problem as a 422 instead.)
#pragma once

#include "runner.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QLatin1StringView>
#include <QMap>
#include <QString>

#include <optional>

namespace Sandflow::Internal {

/// `body` parsed as JSON; std::nullopt with `error` set when it is not JSON, or is empty.
std::optional<QJsonValue> parseExecdJson(const QByteArray &body, QString *error);

/// Reads the fields of one JSON object. Each getter returns the field's value, or an empty
/// one when the field is absent, null or (recorded in error()) invalid.
class ExecdFieldReader
{
public:
    /// `where` prefixes messages, e.g. "`/tmp/a`" for an entry of a map keyed by path.
    explicit ExecdFieldReader(const QJsonObject &object, QString where = {});

    QString string(QLatin1StringView key);
    bool boolean(QLatin1StringView key);
    /// A whole number from `minimum` to `maximum`; `expected` describes one for messages
    /// ("a number of milliseconds, 0 or more").
    std::optional<qint64> integer(QLatin1StringView key, qint64 minimum, qint64 maximum, const QString &expected);
    /// An object of strings (null values are empty strings, as Go reads them).
    QMap<QString, QString> stringMap(QLatin1StringView key);
    /// A mode as octal digits (755) converted to permission bits; absent or 0: 0.
    int mode(QLatin1StringView key);
    /// {owner?, group?, mode} of this object, the Permission of execd's file routes.
    FilePermissions permissions();

    /// Records a problem that is not about a field's type (a required field missing).
    void fail(const QString &message);
    bool ok() const { return !m_error; }
    /// The first problem, prefixed with `where`.
    QString error() const { return m_error.value_or(QString()); }

private:
    QJsonValue field(QLatin1StringView key) const;
    void wrongType(QLatin1StringView key, const QString &expected);

    QJsonObject m_object;
    QString m_where;
    std::optional<QString> m_error;
};

} // namespace Sandflow::Internal
