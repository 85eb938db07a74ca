// Reading JSON request bodies the way the lifecycle server's model validation does: a body
// that is absent or not JSON is refused as a whole, and within a body every member that does
// not fit is reported at once, each in a 422 `detail` entry with its location.
#pragma once

#include "apierror_p.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QRegularExpression>
#include <QString>
#include <QStringList>

#include <optional>

namespace Sandflow::Internal {

/// The request body as JSON (any value, not only objects), or a 422: "missing" when the body
/// is empty or `null`, "json_invalid" when it is not JSON, with the offset and reason Qt's
/// parser gives (the real server gives Python's, which may differ by a character).
Parsed<QJsonValue> parseJsonBody(const QByteArray &body);
/// A body that must be a JSON object (a model): parseJsonBody, then the model check.
Parsed<QJsonObject> parseModelBody(const QByteArray &body);

/// A string pattern as the API's model states it (and quotes it in issues), matched the way the
/// model matches it: it may match anywhere unless anchored, and a final `$` matches only at the
/// very end of the value, not before a trailing newline.
struct FieldPattern
{
    explicit FieldPattern(const QString &text);

    QString text;
    QRegularExpression regex;
};

/// `["body"]`: where every body member's location starts.
const QJsonArray &bodyLoc();

/// `loc` with `key` (a member name or an index) appended.
QJsonArray locAt(const QJsonArray &loc, const QJsonValue &key);

/// Reads the members of a JSON body and collects an issue for every one that does not fit.
/// Each read returns the value, or std::nullopt when the member is absent, null or of the
/// wrong type; only absent required members and wrong types add issues, so optional members
/// may be null. Integers accept whole numbers written as floats (600.0), as the server does.
/// Strings are not taken for numbers or booleans, where the server's model would coerce
/// "600" or "true": no client sends those, and refusing them keeps the rules simple.
class BodyReader
{
public:
    enum class Need { Optional, Required };

    /// The member `key` of `object`, which is at `loc`, with no type check.
    std::optional<QJsonValue> member(const QJsonObject &object, const QString &key, const QJsonArray &loc,
                                     Need need = Need::Optional);
    std::optional<QString> string(const QJsonObject &object, const QString &key, const QJsonArray &loc,
                                  Need need = Need::Optional);
    std::optional<bool> boolean(const QJsonObject &object, const QString &key, const QJsonArray &loc,
                                Need need = Need::Optional);
    /// Whole numbers beyond 64 bits are clamped to its range.
    std::optional<qint64> integer(const QJsonObject &object, const QString &key, const QJsonArray &loc,
                                  Need need = Need::Optional);
    /// A nested model, which must be an object.
    std::optional<QJsonObject> model(const QJsonObject &object, const QString &key, const QJsonArray &loc,
                                     Need need = Need::Optional);
    /// A map of string values (null values are kept as null, for the caller to judge).
    std::optional<QJsonObject> stringMap(const QJsonObject &object, const QString &key, const QJsonArray &loc,
                                         Need need = Need::Optional, bool nullable = false);
    std::optional<QJsonArray> list(const QJsonObject &object, const QString &key, const QJsonArray &loc,
                                   Need need = Need::Optional);

    /// `value`, at `loc`, as a string; std::nullopt and an issue when it is not one.
    std::optional<QString> string(const QJsonValue &value, const QJsonArray &loc);
    /// `value` as an object that a nested model is read from.
    std::optional<QJsonObject> model(const QJsonValue &value, const QJsonArray &loc);
    /// `value` as an integer.
    std::optional<qint64> integer(const QJsonValue &value, const QJsonArray &loc);
    /// A query or path parameter (always text) as an integer: optional sign, digits, spaces
    /// around; "int_parsing" otherwise. Beyond 64 bits it is clamped, as for integer().
    std::optional<qint64> integer(const QString &text, const QJsonArray &loc);

    // Constraints on a value already read. Each returns whether the value satisfies it and
    // adds an issue when it does not.
    bool matches(const QString &value, const FieldPattern &pattern, const QJsonArray &loc);
    bool atMost(const QString &value, qsizetype maxLength, const QJsonArray &loc);
    bool atLeast(const QString &value, qsizetype minLength, const QJsonArray &loc);
    /// `input` is the value as sent (query parameters are reported as their text).
    bool atLeast(qint64 value, qint64 minimum, const QJsonArray &loc, const QJsonValue &input);
    bool atMost(qint64 value, qint64 maximum, const QJsonArray &loc, const QJsonValue &input);
    bool oneOf(const QString &value, const QStringList &choices, const QJsonArray &loc);

    /// A rule across members, reported the way a model validator's ValueError is.
    void valueError(const QString &message, const QJsonArray &loc, const QJsonValue &input);
    void add(ValidationIssue issue);

    qsizetype issueCount() const { return m_issues.size(); }
    bool hasIssues() const { return !m_issues.isEmpty(); }
    /// The 422 listing every issue.
    ApiError error() const { return ApiError::validation(m_issues); }

private:
    void typeIssue(const QString &type, const QString &msg, const QJsonValue &input, const QJsonArray &loc);

    QList<ValidationIssue> m_issues;
};

} // namespace Sandflow::Internal
