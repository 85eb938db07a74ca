// What a sandbox of an image needs before it starts: the image in the store (pulled from its
// registry, or copied from an OCI layout or a `docker save` archive), its layers unpacked
// into the root its sandboxes share, and its config. As a job, because pulling waits on the
// network and unpacking is CPU-bound work for QtConcurrent's pool: neither on the event loop.
#pragma once

#include "imagemanifest_p.h"
#include "imagereference.h"
#include "imagestore.h"
#include "imageuser_p.h"
#include "pullimagejob.h"
#include "runner.h"

#include <QFutureWatcher>

#include <memory>

namespace Sandflow {

/// When a registry's image is fetched: `missing` from the store, `always` (to see a tag's
/// latest), `never` (offline: the store has it or the sandbox fails).
enum class PullPolicy { Missing, Always, Never };

/// The policy `text` names ("missing", "always", "never"), or std::nullopt.
std::optional<PullPolicy> pullPolicyFromString(const QString &text);

/// How a runner gets its images.
struct ImageSettings
{
    QString storeDirectory;   ///< ImageStore::directoryIn(the state directory)
    PullPolicy pull = PullPolicy::Missing;
    /// Insecure registries, mirrors, Docker's config.json; a request's credentials go over it.
    PullOptions pullOptions;
};

/// An image ready for a sandbox. The root stays (prune leaves it) while `hold` lives: a
/// sandbox keeps it until it is gone.
struct ProvidedImage
{
    StoredImage image;
    Internal::ImageConfig config;
    QString root;
    std::shared_ptr<Internal::UniqueFd> hold;
    /// What the root says, read off the event loop: the ids of the config's User (none
    /// without one; none and `userError` set when the image does not have it), and where
    /// the image has bash (empty: nowhere).
    std::optional<Internal::ImageUser> user;
    QString userError;
    QString bashPath;
};

/// Provides `reference`'s image, pulling it with `credentials` when there are any. Errors
/// (all Infra, so that a sandbox's retries apply: a missing image or a registry that turns
/// the credentials down may be fixed by pushing or granting it; but a layer that breaks the
/// unpacker's rules, which is Invalid), each naming the image and the reason:
/// - `IMAGE_NOT_PRESENT`: the pull policy is `never` and the store lacks it
/// - `IMAGE_IMPORT_FAILED`: an OCI layout or archive that cannot be read, or breaks a rule
/// - the pull's errors (pullimagejob.h), `LAYER_REFUSED` (unpacklayersjob.h)
/// - `IMAGE_STORE_FAILED`: the store cannot be written
class ProvideImageJob final : public ResultJob<ProvidedImage>
{
    Q_OBJECT

public:
    ProvideImageJob(ImageReference reference, ImageSettings settings,
                    std::optional<Internal::RegistryCredentials> credentials = std::nullopt, QObject *parent = nullptr);

signals:
    /// While pulling: bytes and layers fetched so far, of how many.
    void progress(qint64 bytesDone, qint64 bytesTotal, int layersDone, int layersTotal);

protected:
    void doStart() override;
    void doCancel() override;

private:
    struct Outcome
    {
        std::optional<ProvidedImage> image;
        bool missing = false;   ///< the store lacks the image: to pull, if the policy allows
        JobError error;
    };

    /// Takes the store's write hold, waiting (without blocking) while prune works; then goes on.
    void holdTheStore();
    void provide();
    void import();
    void pull();
    void onPulled();
    /// Unpacks (once) and holds `image`'s root on the pool; records it first when `save`.
    void prepare(const StoredImage &image, bool save);
    /// The work of prepare(), on a worker thread.
    static Outcome prepared(const ImageStore &store, const StoredImage &image, bool save,
                            const std::atomic_bool *cancelled);
    void onWorkerDone();

    ImageReference m_reference;
    ImageSettings m_settings;
    std::optional<Internal::RegistryCredentials> m_credentials;
    ImageStore m_store;
    std::unique_ptr<PullImageJob> m_pull;
    Internal::UniqueFd m_storeHold;   ///< held while the job may write to the store
    std::shared_ptr<std::atomic_bool> m_cancelled = std::make_shared<std::atomic_bool>(false);
    QFutureWatcher<Outcome> m_watcher;
};

} // namespace Sandflow
