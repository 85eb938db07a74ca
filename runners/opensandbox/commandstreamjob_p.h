// A command run through execd's POST /command: its event stream becomes CommandJob's
// started, output and finished, and the exit code is read as the SDKs read it.
#pragma once

#include "execdevents_p.h"
#include "streamcall_p.h"

#include <QElapsedTimer>

namespace Sandflow::Internal {

class CommandStreamJob final : public CommandJob
{
public:
    CommandStreamJob(Transport &transport, const OpenSandboxEndpoint &execd, CommandRequest request);

protected:
    void doStart() override;
    void doCancel() override;

private:
    void received(const QByteArray &bytes);
    void streamEnded(const HttpResult &answer);
    /// The stream's answer had begun but stopped before the final event; `what` says how.
    JobError streamStopped(JobError::Kind kind, const QString &code, const QString &what) const;
    void handleEvent(const QJsonObject &event);
    /// The final `error` event: how the command ended; std::nullopt for exit status 0.
    std::optional<JobError> failure(const QJsonObject &error) const;
    void end(std::optional<JobError> error);

    Transport &m_transport;
    OpenSandboxEndpoint m_execd;
    CommandRequest m_request;
    StreamCall *m_stream = nullptr;
    ExecdEventReader m_events;
    QElapsedTimer m_clock;
    HttpCall *m_interrupt = nullptr;
};

} // namespace Sandflow::Internal
