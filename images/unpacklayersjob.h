// Unpacking an image's layers onto a root directory as a job: the work (decompressing,
// writing files) runs on QtConcurrent's pool, never on the event loop.
#pragma once

#include "layerunpacker.h"
#include "runner.h"

#include <QFutureWatcher>

#include <memory>

namespace Sandflow {

/// Applies layers in order, base layer first, onto an existing root directory, with
/// unpackLayers(). The result says what was applied. Errors:
/// - `LAYER_REFUSED` (Invalid): an entry breaks a rule; the message names layer, entry and why
/// - `LAYER_UNREADABLE` (Invalid): a blob is no tar archive, or a corrupt one
/// - `LAYER_UNPACK_FAILED` (Infra): the file system refused a write
/// The context holds "layer" and, where one entry is concerned, "entry". Cancelling stops
/// between two entries; what was applied by then stays in the root.
class UnpackLayersJob final : public ResultJob<LayerUnpackStats>
{
    Q_OBJECT

public:
    UnpackLayersJob(QList<ImageLayer> layers, QString rootDirectory, QObject *parent = nullptr);

protected:
    void doStart() override;
    void doCancel() override;

private:
    struct Outcome
    {
        LayerUnpackStats stats;
        std::optional<LayerUnpackError> error;
    };

    void finishWith(const Outcome &outcome);

    QList<ImageLayer> m_layers;
    QString m_rootDirectory;
    // Shared with the worker, which may still look at it after the job is gone.
    std::shared_ptr<std::atomic_bool> m_cancelled = std::make_shared<std::atomic_bool>(false);
    QFutureWatcher<Outcome> m_watcher;
};

} // namespace Sandflow
