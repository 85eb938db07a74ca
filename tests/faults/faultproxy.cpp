#include "faultproxy.h"

#include "faultyexchange.h"

#include <QTcpSocket>

using namespace Qt::StringLiterals;

FaultProxy::FaultProxy(quint16 serverPort, FaultSchedule &schedule)
    : m_serverPort(serverPort)
    , m_schedule(schedule)
{
    connect(&m_server, &QTcpServer::newConnection, this, [this] {
        while (QTcpSocket *client = m_server.nextPendingConnection())
            new FaultyExchange(client, *this);
    });
}

bool FaultProxy::listen()
{
    return m_server.listen(QHostAddress::LocalHost, 0);
}

QString FaultProxy::url() const
{
    return u"http://127.0.0.1:%1"_s.arg(m_server.serverPort());
}
