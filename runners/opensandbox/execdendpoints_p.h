// Each sandbox's execd endpoint, resolved through the lifecycle API once and shared by every
// call to that sandbox, and the job that runs a client call once the endpoint is known.
#pragma once

#include "httperror_p.h"
#include "opensandboxclient.h"

#include <QHash>
#include <QPointer>
#include <QSet>

#include <functional>
#include <type_traits>

namespace Sandflow::Internal {

class ExecdEndpoints final : public QObject
{
public:
    using Resolved = std::function<void(const std::optional<JobError> &error, const OpenSandboxEndpoint &endpoint)>;

    explicit ExecdEndpoints(OpenSandboxClient &client);

    /// Calls `resolved` with the execd endpoint of `sandboxId`: at once when it is known,
    /// else once the server has said it. Calls for a sandbox whose endpoint is being asked
    /// for wait for that one answer. Returns a ticket for cancel().
    quint64 resolve(const QString &sandboxId, Resolved resolved);
    /// `resolved` of that ticket will not be called.
    void cancel(quint64 ticket);
    /// What the creation of `sandboxId` found out.
    void remember(const QString &sandboxId, const OpenSandboxEndpoint &endpoint);
    /// Asks the server again next time: the sandbox is gone, or no longer answers there.
    void forget(const QString &sandboxId);

private:
    struct Waiter
    {
        quint64 ticket = 0;
        Resolved resolved;
    };

    void answered(const QString &sandboxId, ResultJob<OpenSandboxEndpoint> *lookup);

    OpenSandboxClient &m_client;
    QHash<QString, OpenSandboxEndpoint> m_known;
    QHash<QString, QList<Waiter>> m_waiting;
    QSet<quint64> m_live;           ///< tickets still waiting, not cancelled
    quint64 m_lastTicket = 0;
};

/// A runner call on a sandbox's execd: resolves the endpoint, then runs the client job that
/// `make` builds for it and finishes as that job does, with its result, signals and error.
template <typename Base>
class ExecdJob final : public Base
{
public:
    using Make = std::function<Base *(const OpenSandboxEndpoint &execd)>;

    ExecdJob(ExecdEndpoints &endpoints, QString sandboxId, Make make)
        : m_endpoints(&endpoints)
        , m_sandboxId(std::move(sandboxId))
        , m_make(std::move(make))
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
        });
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

    QPointer<ExecdEndpoints> m_endpoints;
    QString m_sandboxId;
    Make m_make;
    Base *m_inner = nullptr;
    quint64 m_ticket = 0;
};

} // namespace Sandflow::Internal
