// Runner::relayToPort over OpenSandbox: the raw HTTP request goes to the endpoint the server
// gives for the port, with its request target put below the endpoint's path and the
// endpoint's headers added, and the answer comes back as the service (or the proxy in
// front of it) writes it.
#pragma once

#include "opensandboxclient.h"

#include <QPointer>

class QTcpSocket;

namespace Sandflow::Internal {

class SandboxEndpoints;

class PortRelayJob final : public FileReadJob
{
public:
    /// Takes ownership of `request`: one whole HTTP/1.x request, head and body. The port's
    /// endpoint comes from `endpoints`, asked for once and shared by the relays after.
    PortRelayJob(OpenSandboxClient &client, SandboxEndpoints &endpoints, QString sandboxId, quint16 port,
                 QIODevice *request);
    ~PortRelayJob() override;

protected:
    void doStart() override;
    void doCancel() override;

private:
    void resolved(const OpenSandboxEndpoint &endpoint);
    /// Reads the request's head, rewritten for the endpoint, then streams its body.
    void pump();
    /// The head as the endpoint needs it; false (and the job failed) when it is not HTTP.
    bool rewriteHead();
    void socketError();
    void end(std::optional<JobError> error);
    JobError relayError(const QString &code, const QString &message, JobError::Kind kind = JobError::Kind::Task) const;

    OpenSandboxClient &m_client;
    QPointer<SandboxEndpoints> m_endpoints;
    quint64 m_ticket = 0;
    QString m_sandboxId;
    quint16 m_port;
    QIODevice *m_request;
    OpenSandboxEndpoint m_endpoint;
    QUrl m_url;                     ///< the endpoint's, in the client's protocol
    QTcpSocket *m_socket = nullptr;
    QByteArray m_head;
    bool m_headSent = false;
    bool m_requestEnded = false;
    bool m_answered = false;
};

} // namespace Sandflow::Internal
