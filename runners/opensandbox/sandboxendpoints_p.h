// Each sandbox's endpoints (execd's, and those of ports requests are relayed to), resolved
// through the lifecycle API once and shared by every call to that port, and the job that runs
// an execd call once its endpoint is known.
#pragma once

#include "httperror_p.h"
#include "opensandboxclient.h"

#include <QHash>
#include <QPointer>
#include <QSet>

#include <functional>
#include <type_traits>

namespace Sandflow::Internal {

class SandboxEndpoints final : public QObject
{
public:
    using Resolved = std::function<void(const std::optional<JobError> &error, const OpenSandboxEndpoint &endpoint)>;

    explicit SandboxEndpoints(OpenSandboxClient &client);

    /// Calls `resolved` with the endpoint of `port` (execd's by default) of `sandboxId`: at
    /// once when it is known, else once the server has said it. Calls for an endpoint being
    /// asked for wait for that one answer. Returns a ticket for cancel().
    quint64 resolve(const QString &sandboxId, Resolved resolved, quint16 port = ExecdPort);
    /// `resolved` of that ticket will not be called.
    void cancel(quint64 ticket);
    /// The execd endpoint the creation of `sandboxId` found out.
    void remember(const QString &sandboxId, const OpenSandboxEndpoint &endpoint);
    /// Asks the server again next time, for every port of `sandboxId`: the sandbox is gone,
    /// was resumed, or no longer answers there.
    void forget(const QString &sandboxId);

private:
    struct Waiter
    {
        quint64 ticket = 0;
        Resolved resolved;
    };

    using Key = QPair<QString, quint16>;   ///< sandbox id and port

    void answered(const Key &key, ResultJob<OpenSandboxEndpoint> *lookup);

    OpenSandboxClient &m_client;
    QHash<Key, OpenSandboxEndpoint> m_known;
    QHash<Key, QList<Waiter>> m_waiting;
    QSet<quint64> m_live;           ///< tickets still waiting, not cancelled
    quint64 m_lastTicket = 0;
};

/// A runner call on a sandbox's execd (or on another port the server resolves, such as the
/// egress API's): resolves the endpoint, then runs the client job that `make` builds for it
/// and finishes as that job does, with its result, signals and error.
template <typename Base>
class ExecdJob final : public Base
{
public:
    using Make = std::function<Base *(const OpenSandboxEndpoint &execd)>;

    ExecdJob(SandboxEndpoints &endpoints, QString sandboxId, Make make, quint16 port = ExecdPort)
        : m_endpoints(&endpoints)
        , m_sandboxId(std::move(sandboxId))
        , m_make(std::move(make))
        , m_port(port)
    {
    }

    ~ExecdJob() override
    {
        if (m_ticket && m_endpoints)
            m_endpoints->cancel(m_ticket);
    }

protected:
    void doStart() override
    {
        m_ticket = m_endpoints->resolve(m_sandboxId, [this](const std::optional<JobError> &error,
                                                            const OpenSandboxEndpoint &execd) {
            m_ticket = 0;
            if (error)
                return this->finish(error);
            run(execd);
        }, m_port);
    }

    void doCancel() override
    {
        if (m_inner)
            return m_inner->cancel();   // it may have to stop a command first; then this one ends
        if (m_ticket)
            m_endpoints->cancel(std::exchange(m_ticket, 0));
        this->finish(AsyncJob::cancelledError());
    }

private:
    void run(const OpenSandboxEndpoint &execd)
    {
        m_inner = m_make(execd);
        m_inner->setParent(this);
        m_inner->setAutoDelete(false);
        if constexpr (std::is_base_of_v<CommandJob, Base>) {
            QObject::connect(m_inner, &CommandJob::started, this, [this](const QString &commandId) {
                this->m_commandId = commandId;
                emit this->started(commandId);
            });
            QObject::connect(m_inner, &CommandJob::output, this, &CommandJob::output);
        } else if constexpr (std::is_base_of_v<FileReadJob, Base>) {
            QObject::connect(m_inner, &FileReadJob::data, this, &FileReadJob::data);
        }
        QObject::connect(m_inner, &AsyncJob::finished, this, [this] { innerFinished(); });
        m_inner->start();
    }

    void innerFinished()
    {
        if constexpr (std::is_base_of_v<CommandJob, Base>)
            this->m_exitCode = m_inner->exitCode();
        else if constexpr (requires { this->m_result = m_inner->result(); })
            this->m_result = m_inner->result();
        const std::optional<JobError> &error = m_inner->error();
        // The sandbox may have moved (a rescheduled pod): look it up again next time.
        if (error && error->code == ErrorCode::Unreachable && m_endpoints)
            m_endpoints->forget(m_sandboxId);
        this->finish(error);
    }

    QPointer<SandboxEndpoints> m_endpoints;
    QString m_sandboxId;
    Make m_make;
    quint16 m_port;
    Base *m_inner = nullptr;
    quint64 m_ticket = 0;
};

} // namespace Sandflow::Internal
