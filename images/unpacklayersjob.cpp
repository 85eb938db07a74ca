#include "unpacklayersjob.h"

#include <QtConcurrent/QtConcurrentRun>

namespace Sandflow {

using namespace Qt::StringLiterals;

UnpackLayersJob::UnpackLayersJob(QList<ImageLayer> layers, QString rootDirectory, QObject *parent)
    : ResultJob(parent)
    , m_layers(std::move(layers))
    , m_rootDirectory(std::move(rootDirectory))
{
    connect(&m_watcher, &QFutureWatcherBase::finished, this, [this] { finishWith(m_watcher.result()); });
}

void UnpackLayersJob::doStart()
{
    m_watcher.setFuture(QtConcurrent::run([layers = m_layers, root = m_rootDirectory, cancelled = m_cancelled] {
        Outcome outcome;
        outcome.error = unpackLayers(layers, root, outcome.stats, cancelled.get());
        return outcome;
    }));
}

// The worker stops at its next entry; finished comes once it has, so that nothing writes
// in the root after it.
void UnpackLayersJob::doCancel()
{
    *m_cancelled = true;
}

void UnpackLayersJob::finishWith(const Outcome &outcome)
{
    m_result = outcome.stats;
    if (!outcome.error) {
        finish();
        return;
    }
    const LayerUnpackError &error = *outcome.error;
    if (error.reason == LayerUnpackError::Reason::Cancelled) {
        finish(cancelledError());
        return;
    }
    JobError jobError;
    switch (error.reason) {
    case LayerUnpackError::Reason::Refused:
        jobError = {JobError::Kind::Invalid, u"LAYER_REFUSED"_s, error.message, {}};
        break;
    case LayerUnpackError::Reason::Unreadable:
        jobError = {JobError::Kind::Invalid, u"LAYER_UNREADABLE"_s, error.message, {}};
        break;
    default:
        jobError = {JobError::Kind::Infra, u"LAYER_UNPACK_FAILED"_s, error.message, {}};
        break;
    }
    jobError.context.insert(u"layer"_s, error.layer);
    if (!error.entry.isEmpty())
        jobError.context.insert(u"entry"_s, error.entry);
    finish(jobError);
}

} // namespace Sandflow
