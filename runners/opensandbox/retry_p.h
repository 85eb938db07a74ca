// When a failed call may be sent again, and how long to wait before. HttpCall repeats the
// idempotent calls with it; the create repeats its POST only once it knows that the failed
// attempt made no sandbox.
#pragma once

#include "opensandboxclient.h"

#include <QNetworkReply>

#include <chrono>
#include <optional>

class QDateTime;

namespace Sandflow::Internal {

/// What a failed attempt says about sending the request again.
enum class Failure {
    Final,         ///< another attempt would fail alike: a 4xx but 429, an unknown host, a bad answer
    NothingDone,   ///< the server did not act on it: the connection was refused, or 429
    MaybeDone,     ///< it may have acted: the connection broke off, no answer in time, 500/502/503/504
};

/// How an attempt failed: `status` is 0 without an HTTP answer, and then `error` or
/// `timedOut` (the client gave up waiting) says why.
Failure classifyFailure(int status, QNetworkReply::NetworkError error, bool timedOut);

/// A Retry-After header's wait, given in seconds or as an HTTP date; std::nullopt when
/// the value is absent, unreadable or negative. A date in the past is no wait; a number of
/// seconds too large for milliseconds is the largest wait there is (retryDelay caps it).
std::optional<std::chrono::milliseconds> retryAfter(const QByteArray &value, const QDateTime &now);

/// The wait after `attemptsMade` failed attempts: what the server `asked` for when it did,
/// else a random one below the doubling limit; never more than the policy's maxDelay.
std::chrono::milliseconds retryDelay(const OpenSandboxRetryPolicy &policy, int attemptsMade,
                                     std::optional<std::chrono::milliseconds> asked);

} // namespace Sandflow::Internal
