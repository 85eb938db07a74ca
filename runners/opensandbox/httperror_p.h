// Failed requests as JobError values. Every error names who failed to answer or what the
// server said (status, its `code` and `message`), and carries the X-Request-ID that was
// sent, so that one line of output leads to the server's log entry.
#pragma once

#include "asyncjob.h"
#include "transport_p.h"

#include <QNetworkReply>

#include <chrono>

namespace Sandflow::Internal {

/// Context keys of every error of the client.
namespace ErrorKey {
inline constexpr QLatin1StringView Status{"status"};           ///< HTTP status; absent without an answer
inline constexpr QLatin1StringView ServerCode{"serverCode"};   ///< the `code` of the server's error body
inline constexpr QLatin1StringView ServerMessage{"serverMessage"};
inline constexpr QLatin1StringView RequestId{"requestId"};
inline constexpr QLatin1StringView Method{"method"};
inline constexpr QLatin1StringView Url{"url"};
inline constexpr QLatin1StringView Api{"api"};                 ///< "lifecycle" or "execd"
inline constexpr QLatin1StringView NetworkError{"networkError"};
inline constexpr QLatin1StringView Attempts{"attempts"};       ///< how often the request was sent
} // namespace ErrorKey

/// Error codes for failures that have no server code.
namespace ErrorCode {
inline constexpr QLatin1StringView Unreachable{"UNREACHABLE"};           ///< no connection could be made
inline constexpr QLatin1StringView ConnectionFailed{"CONNECTION_FAILED"}; ///< it broke off
inline constexpr QLatin1StringView Timeout{"TIMEOUT"};
inline constexpr QLatin1StringView UnexpectedResponse{"UNEXPECTED_RESPONSE"};
} // namespace ErrorCode

/// The context every error of `spec` starts with: request id, method, URL and API.
QJsonObject requestContext(const RequestSpec &spec, const QString &requestId);

/// No HTTP answer came: the connection failed, broke off, or (`timedOut`) stayed silent
/// longer than `timeout`.
JobError transportError(const RequestSpec &spec, const QString &requestId, QNetworkReply::NetworkError error,
                        const QString &errorString, bool timedOut, std::chrono::milliseconds timeout);

/// The server answered `status` (not 2xx) with `body`.
JobError statusError(const RequestSpec &spec, const QString &requestId, int status, const QByteArray &body,
                     const QByteArray &reasonPhrase = {});

/// A 2xx answer that does not say what the protocol says it should; `problem` tells what.
JobError unexpectedResponse(const RequestSpec &spec, const QString &requestId, int status, const QString &problem);

/// Records in `error` that its request was sent `attempts` times; the message says so
/// when that was more than once.
void noteAttempts(JobError &error, int attempts);
/// Says in `error` that its request, though the failure may pass, was not sent again
/// because doing so twice could do twice what it asks.
void noteNotRetried(JobError &error, const RequestSpec &spec);

/// `text` on one line and at most `limit` characters, for quoting a body in a message.
QString shortened(const QString &text, qsizetype limit = 200);

} // namespace Sandflow::Internal
