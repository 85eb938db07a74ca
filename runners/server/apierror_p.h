// The two shapes of error body the OpenSandbox lifecycle server sends: `{code, message}` for
// every check its handlers make, and FastAPI's 422 `{"detail": [...]}` for a request that
// does not fit the API's model. Clients of upstream read `code` and `message` and treat any
// other body as UNEXPECTED_RESPONSE, so both shapes are kept as the real server sends them.
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>

#include <optional>
#include <utility>

namespace Sandflow::Internal {

/// One entry of a 422 body's `detail` array.
struct ValidationIssue
{
    QString type;       ///< the kind of misfit: "missing", "string_type", "json_invalid", ...
    QJsonArray loc;     ///< where: ["body", "volumes", 0, "name"], ["query", "page"], ["path", "port"]
    QString msg;        ///< one sentence, e.g. "Field required"
    QJsonValue input;   ///< the offending value; for a missing field, the object that lacks it
    QJsonObject ctx;    ///< the broken constraint, e.g. {"ge": 60}; left out when empty

    QJsonObject toJson() const;
};

/// An error response: its HTTP status and JSON body.
struct ApiError
{
    int status = 500;
    QJsonObject body;

    /// `{code, message}` with `status`, e.g. 400 SANDBOX::INVALID_METADATA_LABEL.
    static ApiError coded(int status, const QString &code, const QString &message);
    /// 422 `{"detail": [issues...]}`.
    static ApiError validation(const QList<ValidationIssue> &issues);

    /// One line for logs: `CODE: message`, or each issue as `loc.path: msg`.
    QString message() const;
};

/// A value read from a request, or the error response to send instead of handling it.
template <typename T>
class Parsed
{
public:
    Parsed(T value) : m_value(std::move(value)) {}
    Parsed(ApiError error) : m_error(std::move(error)) {}

    bool ok() const { return m_value.has_value(); }
    explicit operator bool() const { return ok(); }

    /// Only when ok().
    const T &value() const & { return *m_value; }
    T &&value() && { return std::move(*m_value); }
    const T *operator->() const { return &*m_value; }

    /// Only when !ok().
    const ApiError &error() const { return m_error; }

private:
    std::optional<T> m_value;
    ApiError m_error;
};

} // namespace Sandflow::Internal
