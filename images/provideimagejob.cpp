#include "provideimagejob.h"

#include "imageimport_p.h"

#include <QTimer>
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

ProvideImageJob::ProvideImageJob(ImageReference reference, ImageSettings settings,
                                 std::optional<Internal::RegistryCredentials> credentials, QObject *parent)
    : ResultJob(parent)
    , m_reference(std::move(reference))
    , m_settings(std::move(settings))
    , m_credentials(std::move(credentials))
    , m_store(m_settings.storeDirectory)
{
    connect(&m_watcher, &QFutureWatcherBase::finished, this, &ProvideImageJob::onWorkerDone);
}

void ProvideImageJob::doStart()
{
    holdTheStore();
}

void ProvideImageJob::holdTheStore()
{
    if (isFinished())
        return;
    bool busy = false;
    QString error;
    m_storeHold = m_store.writeHold(false, &busy, &error);
    if (busy) {
        QTimer::singleShot(std::chrono::milliseconds(50), this, &ProvideImageJob::holdTheStore);
        return;
    }
    if (!m_storeHold.isValid()) {
        finish(JobError{JobError::Kind::Infra, u"IMAGE_STORE_FAILED"_s, u"image %1: %2"_s.arg(m_reference.canonical(), error),
                        {{u"image"_s, m_reference.canonical()}}});
        return;
    }
    provide();
}

void ProvideImageJob::provide()
{
    if (m_reference.source != ImageReference::Source::Registry) {
        import();
        return;
    }
    if (m_settings.pull == PullPolicy::Always) {
        pull();
        return;
    }
    // The store's record is read, and the root made, on the pool: a missing image comes back
    // to be pulled.
    m_watcher.setFuture(QtConcurrent::run([store = m_store, reference = m_reference.canonical(), cancelled = m_cancelled] {
        if (const std::optional<StoredImage> stored = store.find(reference))
            return prepared(store, *stored, false, cancelled.get());
        Outcome outcome;
        outcome.missing = true;
        return outcome;
    }));
}

void ProvideImageJob::pull()
{
    PullOptions options = m_settings.pullOptions;
    if (m_credentials)
        options.credentials = m_credentials;
    m_pull = std::make_unique<PullImageJob>(m_reference, m_store.directory(), options);
    m_pull->setAutoDelete(false);
    connect(m_pull.get(), &PullImageJob::progress, this, &ProvideImageJob::progress);
    connect(m_pull.get(), &AsyncJob::finished, this, &ProvideImageJob::onPulled);
    m_pull->start();
}

void ProvideImageJob::onPulled()
{
    if (std::optional<JobError> error = m_pull->error()) {
        if (error->kind != JobError::Kind::Cancelled)
            error->kind = JobError::Kind::Infra;
        finish(*error);
        return;
    }
    const PulledImage &pulled = m_pull->result();
    prepare({pulled.reference, pulled.manifestDigest, pulled.config, pulled.layers, QDateTime::currentDateTimeUtc()},
            true);
}

// Reading a layout or an archive and hashing its blobs: the pool's work, and the root then.
void ProvideImageJob::import()
{
    m_watcher.setFuture(QtConcurrent::run([store = m_store, reference = m_reference, cancelled = m_cancelled] {
        QString error;
        const std::optional<StoredImage> image = Internal::importImage(store, reference, reference.canonical(), &error);
        if (image)
            return prepared(store, *image, false, cancelled.get());
        Outcome outcome;
        outcome.error = {JobError::Kind::Infra, u"IMAGE_IMPORT_FAILED"_s, u"image %1: %2"_s.arg(reference.canonical(), error),
                         {{u"image"_s, reference.canonical()}}};
        return outcome;
    }));
}

void ProvideImageJob::prepare(const StoredImage &image, bool save)
{
    m_watcher.setFuture(QtConcurrent::run([store = m_store, image, save, cancelled = m_cancelled] {
        return prepared(store, image, save, cancelled.get());
    }));
}

ProvideImageJob::Outcome ProvideImageJob::prepared(const ImageStore &store, const StoredImage &image, bool save,
                                                   const std::atomic_bool *cancelled)
{
    Outcome outcome;
    QString error;
    if (save && !store.save(image, &error)) {
        outcome.error = {JobError::Kind::Infra, u"IMAGE_STORE_FAILED"_s, u"image %1: %2"_s.arg(image.reference, error),
                         {{u"image"_s, image.reference}}};
        return outcome;
    }
    std::optional<LayerUnpackError> unpackError;
    const std::optional<Internal::ImageConfig> config = store.config(image, &error);
    Internal::UniqueFd hold = config ? store.prepareRoot(image, &error, &unpackError, cancelled) : Internal::UniqueFd();
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
                                  std::make_shared<Internal::UniqueFd>(std::move(hold)), std::nullopt, {},
                                  Internal::imageBashPath(store.rootPath(image))};
    if (!config->user.isEmpty())
        outcome.image->user = Internal::resolveImageUser(config->user, outcome.image->root, &outcome.image->userError);
    return outcome;
}

void ProvideImageJob::onWorkerDone()
{
    const Outcome outcome = m_watcher.result();
    if (*m_cancelled) {
        finish(cancelledError());
        return;
    }
    if (outcome.missing) {
        if (m_settings.pull == PullPolicy::Never)
            finish(JobError{JobError::Kind::Infra, u"IMAGE_NOT_PRESENT"_s,
                            u"image %1: not in the image store %2, and pulling is off (`--pull never`)"_s
                                .arg(m_reference.canonical(), m_store.directory()),
                            {{u"image"_s, m_reference.canonical()}}});
        else
            pull();
        return;
    }
    if (!outcome.image) {
        finish(outcome.error);
        return;
    }
    m_result = *outcome.image;
    finish();
}

// A pull stops its transfers; a worker stops at its next layer entry. Finished comes once
// either has.
void ProvideImageJob::doCancel()
{
    *m_cancelled = true;
    if (m_pull && !m_pull->isFinished())
        m_pull->cancel();
    else if (!m_watcher.isRunning())
        finish(cancelledError());
}

} // namespace Sandflow
