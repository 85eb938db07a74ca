#include "imagestore.h"

#include "blobstore_p.h"
#include "layertree_p.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QSet>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Sandflow {

using namespace Qt::StringLiterals;
using Internal::BlobDescriptor;
using Internal::UniqueFd;

namespace {

QString errnoText(int error = errno)
{
    return QString::fromLocal8Bit(strerror(error));
}

QString hexOf(const QString &digest)
{
    return digest.section(u':', 1);
}

QJsonObject descriptorJson(const BlobDescriptor &blob)
{
    return {{u"mediaType"_s, blob.mediaType}, {u"digest"_s, blob.digest}, {u"size"_s, blob.size}};
}

std::optional<BlobDescriptor> descriptorFrom(const QJsonValue &value)
{
    const QJsonObject object = value.toObject();
    BlobDescriptor blob{object.value(u"mediaType"_s).toString(), object.value(u"digest"_s).toString(),
                        object.value(u"size"_s).toInteger(-1)};
    // The file is the store's own, but its digests become paths: checked all the same.
    if (!Internal::isSha256Digest(blob.digest) || blob.size < 0)
        return std::nullopt;
    return blob;
}

std::optional<StoredImage> imageFrom(const QByteArray &json)
{
    const QJsonObject object = QJsonDocument::fromJson(json).object();
    StoredImage image;
    image.reference = object.value(u"reference"_s).toString();
    image.manifestDigest = object.value(u"manifest"_s).toString();
    image.storedAt = QDateTime::fromString(object.value(u"storedAt"_s).toString(), Qt::ISODateWithMs);
    const std::optional<BlobDescriptor> config = descriptorFrom(object.value(u"config"_s));
    if (image.reference.isEmpty() || !config)
        return std::nullopt;
    image.config = *config;
    for (const QJsonValue &value : object.value(u"layers"_s).toArray()) {
        const std::optional<BlobDescriptor> layer = descriptorFrom(value);
        if (!layer)
            return std::nullopt;
        image.layers.append(*layer);
    }
    return image;
}

// The store's own directories are root's alone when the runner is root: an image's root holds
// its setuid programs with their owners, which no one on the host may reach to run.
bool makePrivateDirectory(const QString &path)
{
    return QDir().mkpath(path) && QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
}

// Exclusive or shared, waiting: only ever called off the event loop.
UniqueFd lockFile(const QString &path, int operation, QString *error)
{
    UniqueFd fd(::open(QFile::encodeName(path).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd.isValid()) {
        *error = u"cannot open the lock %1: %2"_s.arg(path, errnoText());
        return {};
    }
    while (::flock(fd.get(), operation) != 0) {
        if (errno != EINTR) {
            *error = u"cannot lock %1: %2"_s.arg(path, errnoText());
            return {};
        }
    }
    return fd;
}

} // namespace

qint64 StoredImage::size() const
{
    qint64 total = config.size;
    for (const BlobDescriptor &layer : layers)
        total += layer.size;
    return total;
}

ImageStore::ImageStore(QString directory)
    : m_directory(std::move(directory))
{
}

QString ImageStore::directoryIn(const QString &stateDirectory)
{
    return stateDirectory + u"/images"_s;
}

Internal::BlobStore ImageStore::blobs() const
{
    return Internal::BlobStore(m_directory);
}

QString ImageStore::referencePath(const QString &reference) const
{
    return m_directory + u"/images/"_s
           + QString::fromLatin1(QCryptographicHash::hash(reference.toUtf8(), QCryptographicHash::Sha256).toHex())
           + u".json"_s;
}

std::optional<StoredImage> ImageStore::find(const QString &reference) const
{
    QFile file(referencePath(reference));
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    std::optional<StoredImage> image = imageFrom(file.readAll());
    if (!image || image->reference != reference)
        return std::nullopt;
    // A blob pruned or lost since makes the image one to fetch again.
    const Internal::BlobStore store = blobs();
    if (!store.hasBlob(image->config.digest))
        return std::nullopt;
    for (const BlobDescriptor &layer : std::as_const(image->layers)) {
        if (!store.hasBlob(layer.digest))
            return std::nullopt;
    }
    return image;
}

QList<StoredImage> ImageStore::images() const
{
    QList<StoredImage> found;
    const QFileInfoList files = QDir(m_directory + u"/images"_s).entryInfoList({u"*.json"_s}, QDir::Files, QDir::Name);
    for (const QFileInfo &info : files) {
        QFile file(info.filePath());
        if (!file.open(QIODevice::ReadOnly))
            continue;
        if (std::optional<StoredImage> image = imageFrom(file.readAll()))
            found.append(*image);
    }
    std::sort(found.begin(), found.end(),
              [](const StoredImage &a, const StoredImage &b) { return a.reference < b.reference; });
    return found;
}

bool ImageStore::save(const StoredImage &image, QString *error) const
{
    const Internal::BlobStore store = blobs();
    QList<BlobDescriptor> needed = image.layers;
    needed.prepend(image.config);
    for (const BlobDescriptor &blob : std::as_const(needed)) {
        if (!store.hasBlob(blob.digest)) {
            *error = u"the image store lacks the blob %1 of %2"_s.arg(blob.digest, image.reference);
            return false;
        }
    }
    QJsonArray layers;
    for (const BlobDescriptor &layer : image.layers)
        layers.append(descriptorJson(layer));
    const QJsonObject object{{u"reference"_s, image.reference},
                             {u"manifest"_s, image.manifestDigest},
                             {u"config"_s, descriptorJson(image.config)},
                             {u"layers"_s, layers},
                             {u"storedAt"_s, (image.storedAt.isValid() ? image.storedAt : QDateTime::currentDateTimeUtc())
                                                 .toString(Qt::ISODateWithMs)}};
    const QString path = referencePath(image.reference);
    QSaveFile file(path);
    if (!makePrivateDirectory(m_directory) || !makePrivateDirectory(QFileInfo(path).path()) || !file.open(QIODevice::WriteOnly)
        || file.write(QJsonDocument(object).toJson()) < 0 || !file.commit()) {
        *error = u"cannot record %1 in the image store: %2"_s.arg(image.reference, file.errorString());
        return false;
    }
    return true;
}

bool ImageStore::remove(const QString &reference) const
{
    return QFile::remove(referencePath(reference));
}

std::optional<Internal::ImageConfig> ImageStore::config(const StoredImage &image, QString *error) const
{
    QFile file(blobs().blobPath(image.config.digest));
    if (!file.open(QIODevice::ReadOnly)) {
        *error = u"cannot read the config of %1: %2"_s.arg(image.reference, file.errorString());
        return std::nullopt;
    }
    return Internal::parseImageConfig(file.readAll(), error);
}

QList<ImageLayer> ImageStore::layerFiles(const StoredImage &image) const
{
    const Internal::BlobStore store = blobs();
    QList<ImageLayer> files;
    for (const BlobDescriptor &layer : image.layers)
        files.append({store.blobPath(layer.digest), layer.digest});
    return files;
}

QString ImageStore::rootPath(const StoredImage &image) const
{
    return m_directory + u"/roots/"_s + hexOf(image.config.digest);
}

QString ImageStore::lockPath(const StoredImage &image) const
{
    return rootPath(image) + u".lock"_s;
}

UniqueFd ImageStore::prepareRoot(const StoredImage &image, QString *error,
                                 std::optional<LayerUnpackError> *unpackError,
                                 const std::atomic_bool *cancelled) const
{
    const QString root = rootPath(image);
    const QString temporary = m_directory + u"/tmp"_s;
    if (!makePrivateDirectory(m_directory) || !makePrivateDirectory(QFileInfo(root).path())
        || !makePrivateDirectory(temporary)) {
        *error = u"cannot make the image store's directories in %1"_s.arg(m_directory);
        return {};
    }
    // Held shared for as long as the root is used; prune takes it exclusively, and only when
    // no one holds it. Unpacking has a lock of its own, so that the second of two runs that
    // both find the root missing waits for the first to make it, and then finds it made.
    UniqueFd hold = lockFile(lockPath(image), LOCK_SH, error);
    if (!hold.isValid() || QFileInfo(root).isDir())
        return hold;
    const UniqueFd unpackLock = lockFile(root + u".unpack"_s, LOCK_EX, error);
    if (!unpackLock.isValid())
        return {};
    if (!QFileInfo(root).isDir()) {
        QByteArray unpacking = QFile::encodeName(temporary + u"/root-"_s + hexOf(image.config.digest).left(16)
                                                 + u".XXXXXX"_s);
        if (!::mkdtemp(unpacking.data())) {
            *error = u"cannot make a directory in %1: %2"_s.arg(temporary, errnoText());
            return {};
        }
        // The image's root directory is its own: its mode comes from the layers, or 0755.
        ::chmod(unpacking.constData(), 0755);
        LayerUnpackStats stats;
        const std::optional<LayerUnpackError> failure =
            unpackLayers(layerFiles(image), QFile::decodeName(unpacking), stats, cancelled);
        if (failure || ::rename(unpacking.constData(), QFile::encodeName(root).constData()) != 0) {
            const int renameError = errno;
            const qsizetype slash = unpacking.lastIndexOf('/');
            const UniqueFd parent(::open(unpacking.left(slash).constData(), O_PATH | O_DIRECTORY | O_CLOEXEC));
            Internal::removeTree(parent.get(), unpacking.mid(slash + 1));
            *error = failure ? failure->message
                             : u"cannot move the root of %1 into place: %2"_s.arg(image.reference, errnoText(renameError));
            if (unpackError)
                *unpackError = failure;
            return {};
        }
    }
    return hold;
}

UniqueFd ImageStore::writeHold(bool wait, bool *busy, QString *error) const
{
    *busy = false;
    const QString path = m_directory + u"/store.lock"_s;
    UniqueFd fd(makePrivateDirectory(m_directory) ? ::open(QFile::encodeName(path).constData(),
                                                           O_RDWR | O_CREAT | O_CLOEXEC, 0600)
                                                  : -1);
    if (!fd.isValid()) {
        *error = u"cannot open the image store's lock %1: %2"_s.arg(path, errnoText());
        return {};
    }
    while (::flock(fd.get(), LOCK_SH | (wait ? 0 : LOCK_NB)) != 0) {
        if (errno == EWOULDBLOCK) {
            *busy = true;
            return {};
        }
        if (errno != EINTR) {
            *error = u"cannot lock %1: %2"_s.arg(path, errnoText());
            return {};
        }
    }
    return fd;
}

ImagePruneStats ImageStore::prune() const
{
    ImagePruneStats stats;
    QString error;
    const UniqueFd exclusive = makePrivateDirectory(m_directory)
                                   ? lockFile(m_directory + u"/store.lock"_s, LOCK_EX, &error)
                                   : UniqueFd();
    if (!exclusive.isValid())
        return stats;
    QSet<QString> used;
    QSet<QString> usedRoots;
    for (const StoredImage &image : images()) {
        used.insert(hexOf(image.config.digest));
        usedRoots.insert(hexOf(image.config.digest));
        if (!image.manifestDigest.isEmpty())
            used.insert(hexOf(image.manifestDigest));
        for (const BlobDescriptor &layer : image.layers)
            used.insert(hexOf(layer.digest));
    }
    // An index's blob is no image's: it goes, and is fetched again when needed.
    const QFileInfoList blobFiles = QDir(m_directory + u"/blobs/sha256"_s).entryInfoList(QDir::Files);
    for (const QFileInfo &blob : blobFiles) {
        if (!used.contains(blob.fileName()) && QFile::remove(blob.filePath())) {
            ++stats.blobs;
            stats.bytes += blob.size();
        }
    }
    const QFileInfoList roots = QDir(m_directory + u"/roots"_s).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QFileInfo &root : roots) {
        if (usedRoots.contains(root.fileName()))
            continue;
        const QString lockName = root.filePath() + u".lock"_s;
        // Held by a sandbox, even of an image no reference names any more: it stays.
        UniqueFd lock(::open(QFile::encodeName(lockName).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        if (!lock.isValid() || ::flock(lock.get(), LOCK_EX | LOCK_NB) != 0)
            continue;
        const UniqueFd parent(::open(QFile::encodeName(root.path()).constData(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        // The lock file stays: a run about to unpack the root again may have it open.
        if (Internal::removeTree(parent.get(), QFile::encodeName(root.fileName())) == 0)
            ++stats.roots;
    }
    // With every writer held off, whatever tmp/ holds was left by one that was killed.
    const QFileInfoList leftovers = QDir(m_directory + u"/tmp"_s).entryInfoList(QDir::AllEntries | QDir::NoDotAndDotDot
                                                                                 | QDir::Hidden | QDir::System);
    for (const QFileInfo &leftover : leftovers) {
        const UniqueFd parent(::open(QFile::encodeName(leftover.path()).constData(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        Internal::removeTree(parent.get(), QFile::encodeName(leftover.fileName()));
    }
    return stats;
}

} // namespace Sandflow
