// An HTTP proxy on a loopback port that passes requests on to a server and plays faults on
// them, as a FaultSchedule says: resets, 5xx bursts, 429 with Retry-After, answers and
// streams cut off or gone silent, slow bodies. It keeps the Host header as the client sent
// it, so that a server which names itself after it (`sandflow serve` hands out endpoints
// so) sends the traffic to its sandboxes through the proxy too.
//
// Each connection carries one request: the proxy sends it on with `Connection: close` and
// answers with `Connection: close`, so that where an answer ends never has to be worked out.
#pragma once

#include "faultschedule.h"

#include <QHostAddress>
#include <QTcpServer>

class FaultProxy final : public QObject
{
public:
    struct Counts
    {
        int requests = 0;
        int execdRequests = 0;      ///< to a sandbox's port, through the server's proxy route
        int forwardedCreates = 0;   ///< POST /v1/sandboxes passed on whole: each one the server saw
    };

    FaultProxy(quint16 serverPort, FaultSchedule &schedule);

    bool listen();
    /// `http://127.0.0.1:PORT`
    QString url() const;

    const Counts &counts() const { return m_counts; }
    FaultSchedule &schedule() { return m_schedule; }
    quint16 serverPort() const { return m_serverPort; }

    /// Called by the connections as requests come.
    Counts &counting() { return m_counts; }

private:
    quint16 m_serverPort;
    FaultSchedule &m_schedule;
    QTcpServer m_server;
    Counts m_counts;
};
