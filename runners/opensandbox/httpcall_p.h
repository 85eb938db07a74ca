// One REST request and its whole answer, within the client's request timeout. The building
// block of every job that is a single call, and of the steps of longer ones.
#pragma once

#include "asyncjob.h"
#include "transport_p.h"

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
};

class HttpCall final : public QObject
{
public:
    using Done = std::function<void(const HttpResult &)>;

    /// `parent` (usually the job) must not outlive `transport`.
    HttpCall(Transport &transport, RequestSpec spec, QObject *parent);
    ~HttpCall() override;

    const RequestSpec &spec() const { return m_spec; }

    /// Sends the request; `done` is called once, from the event loop, unless abort() came
    /// first.
    void start(Done done);
    /// Drops the request; `done` is not called.
    void abort();

private:
    void finished();

    Transport &m_transport;
    RequestSpec m_spec;
    Done m_done;
    QPointer<QNetworkReply> m_reply;
    QString m_requestId;
    QTimer m_deadline;
    bool m_timedOut = false;
};

/// Whether `reply` ended without a whole HTTP answer: no connection, a broken one, or
/// (`timedOut`) one that the caller aborted for silence.
bool brokeOff(const QNetworkReply *reply, bool timedOut);

/// A JSON object body; std::nullopt (with `problem` set) when it is not one.
std::optional<QJsonObject> jsonObjectBody(const QByteArray &body, QString *problem);

} // namespace Sandflow::Internal
