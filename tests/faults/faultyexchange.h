// One request through the FaultProxy: read from the client's connection, passed on to the
// server (or not), its answer passed back (or not), with the fault its plan says. It
// deletes itself once both connections are done with.
#pragma once

#include "faultschedule.h"
#include "httprequesthead.h"

#include <QPointer>
#include <QTcpSocket>
#include <QTimer>

#include <optional>

class FaultProxy;

class FaultyExchange final : public QObject
{
public:
    FaultyExchange(QTcpSocket *client, FaultProxy &proxy);

private:
    void clientRead();
    void planned();
    /// The request's body as it comes: passed on to the server, unless the proxy answers.
    void takeRequestBytes(const QByteArray &bytes);
    void requestDone();
    void serverRead();
    void answerBytes(QByteArray bytes);
    void serverGone();
    void trickle();
    void answerDirectly(int status, const QByteArray &extraHeaders);
    void resetClient();
    void end();

    FaultProxy &m_proxy;
    QPointer<QTcpSocket> m_client;
    QPointer<QTcpSocket> m_server;
    QByteArray m_buffer;
    std::optional<HttpRequestHead> m_head;
    FaultPlan m_plan;

    // The request's body, as far as it has been passed on.
    qint64 m_requestBodyLeft = 0;      ///< with Content-Length
    bool m_requestChunked = false;
    QByteArray m_requestTail;          ///< the last bytes of a chunked body, to see its end in
    bool m_requestDone = false;
    bool m_ended = false;

    // The answer.
    QByteArray m_answerHead;
    bool m_answerHeadDone = false;
    qint64 m_bodyBytesPassed = 0;
    bool m_stopped = false;            ///< cut or silent: nothing more goes to the client
    QByteArray m_slow;                 ///< what a slow body has yet to trickle out
    bool m_serverDone = false;
    QTimer m_trickle;
};
