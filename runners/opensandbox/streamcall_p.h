// One long request (a command's event stream, a file upload or download) on a connection
// of its own while it lasts: the answer's body is handed over as it arrives, and the end
// is reported once. Unlike HttpCall there is no limit on the whole call, only on silence,
// and a failed call is never sent again.
#pragma once

#include "httpcall_p.h"

#include <QPointer>

class QHttpMultiPart;
class QNetworkReply;

namespace Sandflow::Internal {

class StreamCall final : public QObject
{
public:
    /// A piece of a 2xx answer's body.
    using Body = std::function<void(const QByteArray &bytes)>;
    /// The end; `body` is set only for an answer other than 2xx (its first 64 KiB).
    using Done = HttpCall::Done;

    /// `parent` (usually the job) must not outlive `transport`.
    StreamCall(Transport &transport, RequestSpec spec, QObject *parent);
    ~StreamCall() override;

    const RequestSpec &spec() const { return m_spec; }
    const QString &requestId() const { return m_requestId; }
    int status() const { return m_status; }
    /// The answer's Content-Length; -1 when it has none.
    qint64 contentLength() const;

    /// Sends the request with `spec().body`, or `multipart` (which the call then owns).
    /// Callbacks come from the event loop, until abort().
    void start(Body body, Done done, QHttpMultiPart *multipart = nullptr);
    /// Drops the request, closing its connection unless the answer had already ended; no
    /// callback comes after it.
    void abort();
    /// Stops listening, but lets the answer come to its end on the same connection, which
    /// then serves the next request; aborting it would close that connection. An answer
    /// that has not ended within the request timeout is aborted after all.
    void letEnd();

private:
    void received();
    void ended();

    Transport &m_transport;
    RequestSpec m_spec;
    Body m_body;
    Done m_done;
    QPointer<QNetworkReply> m_reply;
    QString m_requestId;
    int m_status = 0;
    qint64 m_contentLength = -1;
    QByteArray m_errorBody;
};

} // namespace Sandflow::Internal
