#include "retry_p.h"

#include <QDateTime>
#include <QLocale>
#include <QRandomGenerator>

#include <algorithm>
#include <limits>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

Failure classifyFailure(int status, QNetworkReply::NetworkError error, bool timedOut)
{
    if (status == 429)
        return Failure::NothingDone;
    if (status == 500 || status == 502 || status == 503 || status == 504)
        return Failure::MaybeDone;
    if (status != 0)
        return Failure::Final;
    if (timedOut)
        return Failure::MaybeDone;
    switch (error) {
    case QNetworkReply::ConnectionRefusedError:
        return Failure::NothingDone;
    case QNetworkReply::RemoteHostClosedError:
    case QNetworkReply::ContentReSendError:   // closed, and the body could not be sent again
    case QNetworkReply::TimeoutError:
    case QNetworkReply::TemporaryNetworkFailureError:
    case QNetworkReply::NetworkSessionFailedError:
    case QNetworkReply::UnknownNetworkError:
    case QNetworkReply::ProxyConnectionClosedError:
    case QNetworkReply::ProxyTimeoutError:
        // The request may have reached the server before the connection went.
        return Failure::MaybeDone;
    default:
        // An unknown host, a TLS failure, a protocol error: the same again next time.
        return Failure::Final;
    }
}

std::optional<std::chrono::milliseconds> retryAfter(const QByteArray &value, const QDateTime &now)
{
    const QByteArray text = value.trimmed();
    if (text.isEmpty())
        return std::nullopt;
    bool numeric = false;
    const qint64 seconds = text.toLongLong(&numeric);
    if (numeric) {
        if (seconds < 0)
            return std::nullopt;
        // Saturated, not multiplied past qint64: an overflowed wait came out negative, and
        // a timer refuses a negative interval and never fires, so the call hung.
        constexpr qint64 MaxSeconds = std::numeric_limits<qint64>::max() / 1000;
        return std::chrono::milliseconds(std::min(seconds, MaxSeconds) * 1000);
    }
    // Servers write IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`); the RFC 2822 reader
    // takes the other dates a mail-style writer may produce.
    QDateTime when = QLocale::c().toDateTime(QString::fromLatin1(text), u"ddd, dd MMM yyyy HH:mm:ss 'GMT'"_s);
    if (when.isValid())
        when.setTimeSpec(Qt::UTC);
    else
        when = QDateTime::fromString(QString::fromLatin1(text), Qt::RFC2822Date);
    if (!when.isValid())
        return std::nullopt;
    return std::chrono::milliseconds(std::max<qint64>(0, now.msecsTo(when)));
}

std::chrono::milliseconds retryDelay(const OpenSandboxRetryPolicy &policy, int attemptsMade,
                                     std::optional<std::chrono::milliseconds> asked)
{
    // Whatever a server asks, the wait stays within [0, maxDelay].
    if (asked)
        return std::max(std::chrono::milliseconds(0), std::min(*asked, policy.maxDelay));
    // Full jitter: a uniform wait below a limit that doubles with each attempt. When a
    // server falters, the many sandboxes of a batch fail together; spreading their retries
    // evenly over the whole window keeps them from coming back in one wave, and unlike
    // decorrelated jitter it needs no memory of the previous wait.
    qint64 limit = std::clamp<qint64>(policy.initialDelay.count(), 0, policy.maxDelay.count());
    for (int attempt = 1; attempt < attemptsMade && limit < policy.maxDelay.count(); ++attempt)
        limit = std::min<qint64>(limit * 2, policy.maxDelay.count());
    return std::chrono::milliseconds(qint64(QRandomGenerator::global()->bounded(quint64(limit) + 1)));
}

} // namespace Sandflow::Internal
