// One REST request and its whole answer, each attempt within the client's request timeout.
// The building block of every job that is a single call, and of the steps of longer ones.
// It is the one place where failed calls are sent again (see OpenSandboxRetryPolicy).
#pragma once

#include "asyncjob.h"
#include "retry_p.h"
#include "transport_p.h"

#include <QJsonArray>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <optional>

class QNetworkReply;

namespace Sandflow::Internal {

struct HttpResult
{
    int status = 0;                 ///< 0: no HTTP answer
    QByteArray body;
    QList<QPair<QByteArray, QByteArray>> headers;   ///< of an answer, as sent
    QString requestId;
    std::optional<JobError> error;  ///< no answer in time, or a status other than 2xx
    Failure failure = Failure::Final;   ///< with `error`: what it says about another attempt
    /// What the server asked for with Retry-After.
    std::optional<std::chrono::milliseconds> retryAfter;
};

class HttpCall final : public QObject
{
public:
    using Done = std::function<void(const HttpResult &)>;

    /// Whether this call sends a failed request again.
    enum class Retries {
        ByPolicy,   ///< when the request is idempotent, by the client's retry policy
        Once,       ///< never: the caller has a loop of its own (readiness pings, the create) or no time
    };

    /// `parent` (usually the job) must not outlive `transport`.
    HttpCall(Transport &transport, RequestSpec spec, QObject *parent);
    ~HttpCall() override;

    const RequestSpec &spec() const { return m_spec; }
    void setRetries(Retries retries) { m_retries = retries; }
    /// The X-Request-ID to send instead of a new one, for calls that are one operation.
    void setRequestId(const QString &requestId) { m_requestId = requestId; }
    /// How long each attempt may wait for its answer, instead of the client's request timeout.
    void setAttemptTimeout(std::chrono::milliseconds timeout) { m_attemptTimeout = timeout; }

    /// Sends the request, and sends it again while a failure may pass and attempts are
    /// left, always with the same request id; `done` is called once, from the event loop,
    /// unless abort() came first.
    void start(Done done);
    /// Drops the request, or the wait before its next attempt; `done` is not called.
    void abort();

private:
    void send();
    /// Stops an answer that grows past what a REST answer may be, before it is all in memory.
    void received();
    void finished();
    HttpResult read(QNetworkReply *reply) const;
    std::chrono::milliseconds attemptTimeout() const;
    bool sendsAgain(const HttpResult &result) const;

    Transport &m_transport;
    RequestSpec m_spec;
    Retries m_retries = Retries::ByPolicy;
    Done m_done;
    QPointer<QNetworkReply> m_reply;
    QString m_requestId;
    std::optional<std::chrono::milliseconds> m_attemptTimeout;
    QTimer m_deadline;
    QTimer m_nextAttempt;
    int m_attempts = 0;
    bool m_timedOut = false;
    bool m_tooLarge = false;
};

/// Whether `reply` ended without a whole HTTP answer: no connection, a broken one, or
/// (`timedOut`) one that the caller aborted for silence.
bool brokeOff(const QNetworkReply *reply, bool timedOut);

/// A job made of calls one after another: `step` (the call before, if any) is aborted and
/// deleted later, and becomes a new call of `spec`, a child of `parent`.
HttpCall *nextStep(HttpCall *&step, Transport &transport, RequestSpec spec, QObject *parent);

/// A JSON object body; std::nullopt (with `problem` set) when it is not one.
std::optional<QJsonObject> jsonObjectBody(const QByteArray &body, QString *problem);
/// A JSON array body; std::nullopt (with `problem` set) when it is not one.
std::optional<QJsonArray> jsonArrayBody(const QByteArray &body, QString *problem);

} // namespace Sandflow::Internal
