#include "provideimagejob.h"

#include "imageimport_p.h"

#include <QtConcurrent/QtConcurrentRun>

namespace Sandflow {

using namespace Qt::StringLiterals;

std::optional<PullPolicy> pullPolicyFromString(const QString &text)
{
    if (text == u"missing"_s)
        return PullPolicy::Missing;
    if (text == u"always"_s)
        return PullPolicy::Always;
    if (text == u"never"_s)
        return PullPolicy::Never;
    return std::nullopt;
}

ProvideImageJob::ProvideImageJob(ImageReference reference, ImageSettings settings, QObject *parent)
    : ResultJob(parent)
    , m_reference(std::move(reference))
    , m_settings(std::move(settings))
    , m_store(m_settings.storeDirectory)
{
    connect(&m_watcher, &QFutureWatcherBase::finished, this, &ProvideImageJob::onWorkerDone);
}

JobError ProvideImageJob::failure(const QString &code, const QString &message, JobError::Kind kind) const
{
    return JobError{kind, code, u"image %1: %2"_s.arg(m_reference.canonical(), message),
                    {{u"image"_s, m_reference.canonical()}}};
}

void ProvideImageJob::doStart()
{
    if (m_reference.source != ImageReference::Source::Registry) {
        import();
        return;
    }
    if (m_settings.pull != PullPolicy::Always) {
        if (const std::optional<StoredImage> stored = m_store.find(m_reference.canonical())) {
            prepare(*stored);
            return;
        }
    }
    if (m_settings.pull == PullPolicy::Never) {
        finish(failure(u"IMAGE_NOT_PRESENT"_s, u"not in the image store %1, and pulling is off (`--pull never`)"_s
                                                   .arg(m_store.directory())));
        return;
    }
    finish(failure(u"IMAGE_PULL_FAILED"_s, u"pulling from %1 is not possible yet"_s.arg(m_reference.registry)));
}

// Reading a layout or an archive and hashing its blobs: the pool's work.
void ProvideImageJob::import()
{
    m_watcher.setFuture(QtConcurrent::run([store = m_store, reference = m_reference, cancelled = m_cancelled] {
        Outcome outcome;
        QString error;
        const std::optional<StoredImage> image = Internal::importImage(store, reference, reference.canonical(), &error);
        if (!image) {
            outcome.error = {JobError::Kind::Infra, u"IMAGE_IMPORT_FAILED"_s,
                             u"image %1: %2"_s.arg(reference.canonical(), error), {{u"image"_s, reference.canonical()}}};
            return outcome;
        }
        outcome.stored = image;
        return outcome;
    }));
}

void ProvideImageJob::prepare(const StoredImage &image)
{
    m_watcher.setFuture(QtConcurrent::run([store = m_store, image, cancelled = m_cancelled] {
        Outcome outcome;
        QString error;
        std::optional<LayerUnpackError> unpackError;
        const std::optional<Internal::ImageConfig> config = store.config(image, &error);
        Internal::UniqueFd hold = config ? store.prepareRoot(image, &error, &unpackError, cancelled.get())
                                         : Internal::UniqueFd();
        if (!hold.isValid()) {
            const bool refused = unpackError && (unpackError->reason == LayerUnpackError::Reason::Refused
                                                 || unpackError->reason == LayerUnpackError::Reason::Unreadable);
            outcome.error = {refused ? JobError::Kind::Invalid : JobError::Kind::Infra,
                             refused ? u"LAYER_REFUSED"_s : u"IMAGE_STORE_FAILED"_s,
                             u"image %1: %2"_s.arg(image.reference, error), {{u"image"_s, image.reference}}};
            if (unpackError && unpackError->reason == LayerUnpackError::Reason::Cancelled)
                outcome.error = cancelledError();
            return outcome;
        }
        outcome.image = ProvidedImage{image, *config, store.rootPath(image),
                                      std::make_shared<Internal::UniqueFd>(std::move(hold))};
        return outcome;
    }));
}

void ProvideImageJob::onWorkerDone()
{
    const Outcome outcome = m_watcher.result();
    if (*m_cancelled) {
        finish(cancelledError());
        return;
    }
    if (outcome.stored) {
        prepare(*outcome.stored);
        return;
    }
    if (!outcome.image) {
        finish(outcome.error);
        return;
    }
    m_result = *outcome.image;
    finish();
}

// A worker stops at its next layer entry; finished comes once it has.
void ProvideImageJob::doCancel()
{
    *m_cancelled = true;
    if (!m_watcher.isRunning())
        finish(cancelledError());
}

} // namespace Sandflow
