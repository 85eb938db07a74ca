#include "asyncjob.h"

#include <QMetaObject>

namespace Sandflow {

using namespace Qt::StringLiterals;

QString JobError::kindName(Kind kind)
{
    switch (kind) {
    case Kind::Task: return u"task"_s;
    case Kind::Infra: return u"infra"_s;
    case Kind::Timeout: return u"timeout"_s;
    case Kind::Cancelled: return u"cancelled"_s;
    case Kind::Invalid: return u"invalid"_s;
    }
    return {};
}

QJsonObject JobError::toJson() const
{
    QJsonObject object{{u"kind"_s, kindName(kind)}, {u"code"_s, code}, {u"message"_s, message}};
    if (!context.isEmpty())
        object.insert(u"context"_s, context);
    return object;
}

AsyncJob::AsyncJob(QObject *parent)
    : QObject(parent)
{
}

// A started job must finish before it is destroyed, or its owner waits forever.
AsyncJob::~AsyncJob()
{
    Q_ASSERT_X(!m_started || m_finished, "AsyncJob", "destroyed while running");
}

void AsyncJob::start()
{
    Q_ASSERT_X(!m_started, "AsyncJob::start", "started twice");
    if (m_started)
        return;
    m_started = true;
    // Deferred, so that a job finishing at once still reaches receivers connected after start().
    QMetaObject::invokeMethod(this, [this] {
        if (m_finished || m_cancelling)
            return;
        m_running = true;
        doStart();
    }, Qt::QueuedConnection);
}

void AsyncJob::cancel()
{
    if (m_finished || m_cancelling)
        return;
    m_cancelling = true;
    if (!m_running) {
        // Nothing to stop yet: the work never begins, and finished still comes from the
        // event loop, as it would after start().
        m_started = true;
        QMetaObject::invokeMethod(this, [this] { finish(cancelledError()); }, Qt::QueuedConnection);
        return;
    }
    doCancel();
}

void AsyncJob::doCancel()
{
    finish(cancelledError());
}

JobError AsyncJob::cancelledError()
{
    return {JobError::Kind::Cancelled, u"CANCELLED"_s, u"cancelled"_s, {}};
}

void AsyncJob::finish(std::optional<JobError> error)
{
    if (m_finished)
        return;
    m_finished = true;
    m_error = std::move(error);
    emit finished(this);
    if (m_autoDelete)
        deleteLater();
}

} // namespace Sandflow
