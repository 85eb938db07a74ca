#include "createsandboxjob_p.h"

#include "httperror_p.h"
#include "wirejson_p.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QUuid>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

CreateSandboxJob::CreateSandboxJob(Transport &transport, OpenSandboxCreateRequest request)
    : m_transport(transport)
    , m_request(std::move(request))
    , m_readiness(new SandboxReadiness(transport, this))
{
    m_wait.setSingleShot(true);
    connect(&m_wait, &QTimer::timeout, this, [this] { (this->*m_afterWait)(); });
}

void CreateSandboxJob::doStart()
{
    // 32 hex digits: a valid Kubernetes label value, and no other create picks the same.
    m_token = QUuid::createUuid().toString(QUuid::Id128);
    m_request.metadata.insert(CreateTokenKey, m_token);
    m_postId = Transport::newRequestId();
    post();
}

HttpCall *CreateSandboxJob::newStep(RequestSpec spec)
{
    return nextStep(m_step, m_transport, std::move(spec), this);
}

void CreateSandboxJob::post()
{
    ++m_posts;
    m_mayHaveCreated = true;
    HttpCall *call = newStep(
        withJsonBody(m_transport.lifecycle("POST", u"/sandboxes"_s), QJsonDocument(createSandboxJson(m_request))));
    // This job sends it again itself, once it knows that the failed attempt made nothing,
    // under the same request id, so that the server's log shows one create.
    call->setRetries(HttpCall::Retries::Once);
    call->setRequestId(m_postId);
    call->start([this](const HttpResult &answer) { posted(answer); });
}

void CreateSandboxJob::posted(const HttpResult &answer)
{
    if (!answer.error) {
        QString problem;
        const std::optional<QJsonObject> object = jsonObjectBody(answer.body, &problem);
        if (object && sandboxFromJson(*object, &problem))
            return take(*object);
        // It made something, but which? The label finds it.
        return removeOwnAndFinish(unexpectedResponse(m_step->spec(), answer.requestId, answer.status, problem));
    }
    m_lastPostError = answer.error;
    m_mayHaveCreated = answer.failure == Failure::MaybeDone;
    const bool attemptsLeft = m_posts < m_transport.config().retry.maxAttempts;
    switch (answer.failure) {
    case Failure::Final:
        return giveUp();
    case Failure::NothingDone:
        return attemptsLeft ? waitThen(answer, &CreateSandboxJob::post) : giveUp();
    case Failure::MaybeDone:
        // Without attempts left, one look at once: a sandbox it made is the result, not
        // something to leave behind.
        return attemptsLeft ? waitThen(answer, &CreateSandboxJob::lookForOwn) : lookForOwn();
    }
}

void CreateSandboxJob::waitThen(const HttpResult &failed, void (CreateSandboxJob::*next)())
{
    m_afterWait = next;
    m_wait.start(retryDelay(m_transport.config().retry, m_posts, failed.retryAfter));
}

void CreateSandboxJob::findOwn(Found found)
{
    SandboxFilter filter;
    filter.metadata.insert(CreateTokenKey, m_token);
    newStep(m_transport.lifecycle("GET", u"/sandboxes"_s, listSandboxesQuery(filter)))
        ->start([this, found](const HttpResult &answer) {
            if (answer.error)
                return found({}, answer.error);
            QString problem;
            const std::optional<QJsonObject> page = jsonObjectBody(answer.body, &problem);
            if (!page || !sandboxPageFromJson(*page, &problem))
                return found({}, unexpectedResponse(m_step->spec(), answer.requestId, answer.status, problem));
            // Only those that carry the token: a server (or a proxy) that drops the filter
            // lists sandboxes of others, which the caller would take or delete.
            QList<QJsonObject> sandboxes;
            for (const QJsonValue &item : page->value("items"_L1).toArray()) {
                const QJsonObject sandbox = item.toObject();
                if (sandbox.value("metadata"_L1).toObject().value(CreateTokenKey).toString() == m_token)
                    sandboxes.append(sandbox);
            }
            found(sandboxes, std::nullopt);
        });
}

void CreateSandboxJob::lookForOwn()
{
    findOwn([this](const QList<QJsonObject> &sandboxes, const std::optional<JobError> &error) {
        lookedForOwn(sandboxes, error);
    });
}

void CreateSandboxJob::lookedForOwn(const QList<QJsonObject> &sandboxes, const std::optional<JobError> &error)
{
    if (error)
        return giveUp(error);
    if (sandboxes.isEmpty()) {
        m_mayHaveCreated = false;
        return m_posts < m_transport.config().retry.maxAttempts ? post() : giveUp();
    }
    // Take one that may still run; the others came of attempts whose answers were lost too.
    qsizetype taken = 0;
    while (taken < sandboxes.size() && ServerStatus::of(sandboxes.at(taken)).over())
        ++taken;
    if (taken == sandboxes.size())
        taken = 0;
    QStringList extra;
    for (qsizetype i = 0; i < sandboxes.size(); ++i) {
        if (i != taken)
            extra.append(sandboxes.at(i).value("id"_L1).toString());
    }
    // One that cannot be deleted now still ends with its timeout.
    remove(extra, true, [this, sandbox = sandboxes.at(taken)](bool) { take(sandbox); });
}

void CreateSandboxJob::giveUp(std::optional<JobError> listError)
{
    JobError error = *m_lastPostError;
    noteAttempts(error, m_posts);
    error.context.insert(u"createToken"_s, m_token);
    if (listError) {
        error.message += u"; whether it made a sandbox is not known: listing those labelled %1=%2 failed too (%3)"_s
                             .arg(CreateTokenKey, m_token, listError->message);
    }
    finish(error);
}

void CreateSandboxJob::take(const QJsonObject &sandbox)
{
    QString problem;
    m_result = sandboxFromJson(sandbox, &problem).value_or(SandboxInfo());
    m_mayHaveCreated = false;
    // The create answer has no image; it is the one asked for.
    if (m_result.image.isEmpty())
        m_result.image = m_request.image;
    const ServerStatus status = ServerStatus::of(sandbox);
    if (status.running())
        m_result.state = SandboxState::Running;
    if (!m_request.waitUntilReady)
        return finish();
    m_readiness->start(m_result, status, [this](std::optional<JobError> error) {
        m_result = m_readiness->sandbox();
        if (error)
            return deleteAndFinish(*error);
        m_execd = m_readiness->execd();
        finish();
    });
}

void CreateSandboxJob::remove(QStringList ids, bool allGone, std::function<void(bool allGone)> done)
{
    if (ids.isEmpty())
        return done(allGone);
    const QString id = ids.takeFirst();
    newStep(m_transport.lifecycle("DELETE", u"/sandboxes/"_s + pathSegment(id)))
        ->start([this, ids, allGone, done](const HttpResult &answer) { remove(ids, allGone && !answer.error, done); });
}

void CreateSandboxJob::deleteAndFinish(JobError error)
{
    m_cleaningUp = true;
    removeAndFinish({m_result.id}, std::move(error));
}

void CreateSandboxJob::removeAndFinish(const QStringList &ids, JobError error)
{
    remove(ids, true, [this, error](bool gone) mutable {
        error.context.insert(u"sandboxDeleted"_s, gone);
        finish(error);
    });
}

void CreateSandboxJob::removeOwnAndFinish(JobError error)
{
    m_cleaningUp = true;
    error.context.insert(u"createToken"_s, m_token);
    findOwn([this, error](const QList<QJsonObject> &sandboxes, const std::optional<JobError> &listError) mutable {
        if (listError)
            return finish(error);
        QStringList ids;
        for (const QJsonObject &sandbox : sandboxes)
            ids.append(sandbox.value("id"_L1).toString());
        removeAndFinish(ids, error);
    });
}

void CreateSandboxJob::doCancel()
{
    m_wait.stop();
    m_readiness->abort();
    if (m_cleaningUp)
        return;   // the deletion is under way; it finishes the job
    if (m_step)
        m_step->abort();
    // Once the server has made the sandbox, nobody else knows of it: remove it.
    if (!m_result.id.isEmpty())
        return deleteAndFinish(cancelledError());
    if (m_mayHaveCreated)
        return removeOwnAndFinish(cancelledError());
    finish(cancelledError());
}

} // namespace Sandflow::Internal
