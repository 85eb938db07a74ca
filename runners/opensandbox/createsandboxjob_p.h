// Creating a sandbox the way the SDKs do: POST /v1/sandboxes, then wait until it runs
// commands (SandboxReadiness). A POST is not idempotent, yet a create must survive a lost
// answer without leaving a second sandbox running: each create carries a label of its own,
// and after a failure that may have made the sandbox the job lists the sandboxes with that
// label and takes the one it finds instead of posting again.
#pragma once

#include "httpcall_p.h"
#include "sandboxreadiness_p.h"

#include <QTimer>

namespace Sandflow::Internal {

class CreateSandboxJob final : public OpenSandboxCreateJob
{
public:
    CreateSandboxJob(Transport &transport, OpenSandboxCreateRequest request);

protected:
    void doStart() override;
    void doCancel() override;

private:
    using Found = std::function<void(const QList<QJsonObject> &sandboxes, const std::optional<JobError> &error)>;

    /// A call for `spec` as the current step, not yet started; it replaces the previous one.
    HttpCall *newStep(RequestSpec spec);
    void post();
    void posted(const HttpResult &answer);
    /// After a failed POST: `next` once the retry policy's wait is over.
    void waitThen(const HttpResult &failed, void (CreateSandboxJob::*next)());
    /// GET /sandboxes with this create's label; `found` gets them, or the list's error.
    void findOwn(Found found);
    void lookForOwn();
    void lookedForOwn(const QList<QJsonObject> &sandboxes, const std::optional<JobError> &error);
    /// The failed POSTs are over: the last one's error, with how often it was sent.
    void giveUp(std::optional<JobError> listError = std::nullopt);
    /// Takes `sandbox` as the result and waits until it is ready.
    void take(const QJsonObject &sandbox);
    /// DELETE each of `ids` in turn, then `done` with whether all went.
    void remove(QStringList ids, bool allGone, std::function<void(bool allGone)> done);
    /// A sandbox was made but cannot be handed over: delete it, then finish with `error`.
    void deleteAndFinish(JobError error);
    /// A POST may have made a sandbox whose id is not known (the job was cancelled, or the
    /// answer had none): delete every sandbox with this create's label, then finish.
    void removeOwnAndFinish(JobError error);
    /// Deletes `ids`, then finishes with `error`, which says whether all went.
    void removeAndFinish(const QStringList &ids, JobError error);

    Transport &m_transport;
    OpenSandboxCreateRequest m_request;
    QString m_token;     ///< the value of this create's label
    QString m_postId;    ///< the X-Request-ID of every POST of this create
    HttpCall *m_step = nullptr;
    SandboxReadiness *m_readiness = nullptr;
    QTimer m_wait;
    void (CreateSandboxJob::*m_afterWait)() = nullptr;
    int m_posts = 0;
    std::optional<JobError> m_lastPostError;
    bool m_mayHaveCreated = false;   ///< a POST was sent, and no answer said it made nothing
    bool m_cleaningUp = false;       ///< deleting before the end; that finishes the job
};

} // namespace Sandflow::Internal
