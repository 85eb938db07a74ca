#include "imageimport_p.h"

#include "blobstore_p.h"
#include "imagemanifest_p.h"

#include <QBuffer>
#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <archive.h>
#include <archive_entry.h>

#include <memory>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

constexpr qsizetype ChunkSize = 1 << 20;
// A manifest, an index or a config: JSON of a few kilobytes. More is no image's.
constexpr qint64 MaxDocumentSize = 4 << 20;
constexpr char RefNameAnnotation[] = "org.opencontainers.image.ref.name";

/// Streams `source` into the store as the blob `blob`, verified; nothing when it is there.
bool storeBlob(const BlobStore &store, const BlobDescriptor &blob, QIODevice &source, QString *error)
{
    if (store.hasBlob(blob.digest))
        return true;
    std::unique_ptr<BlobStore::Writer> writer = store.write(blob.digest, blob.size, error);
    if (!writer)
        return false;
    QByteArray chunk(ChunkSize, Qt::Uninitialized);
    for (;;) {
        const qint64 read = source.read(chunk.data(), chunk.size());
        if (read < 0) {
            *error = u"cannot read the blob %1: %2"_s.arg(blob.digest, source.errorString());
            return false;
        }
        if (read == 0)
            break;
        if (!writer->append(QByteArrayView(chunk.constData(), read), error))
            return false;
    }
    return writer->commit(error);
}

class OciLayout
{
public:
    OciLayout(const BlobStore &store, QString path) : m_store(store), m_path(std::move(path)) {}

    /// A document of the layout (index or manifest), checked against its descriptor, and
    /// stored.
    std::optional<QByteArray> document(const BlobDescriptor &blob, QString *error) const
    {
        if (!isSha256Digest(blob.digest) || blob.size > MaxDocumentSize) {
            *error = u"the layout names `%1` (%2 bytes), which is no manifest it can hold"_s.arg(blob.digest.left(80))
                         .arg(blob.size);
            return std::nullopt;
        }
        QFile file(blobPath(blob.digest));
        if (!file.open(QIODevice::ReadOnly)) {
            *error = u"the layout lacks the blob %1: %2"_s.arg(blob.digest, file.errorString());
            return std::nullopt;
        }
        const QByteArray body = file.read(MaxDocumentSize + 1);
        const QString actual = u"sha256:"_s + QString::fromLatin1(QCryptographicHash::hash(body, QCryptographicHash::Sha256).toHex());
        if (actual != blob.digest || body.size() != blob.size) {
            *error = u"the blob %1 of the layout does not match its digest (got %2)"_s.arg(blob.digest, actual);
            return std::nullopt;
        }
        QFile again(blobPath(blob.digest));
        if (!again.open(QIODevice::ReadOnly) || !storeBlob(m_store, blob, again, error))
            return std::nullopt;
        return body;
    }

    bool copy(const BlobDescriptor &blob, QString *error) const
    {
        QFile file(blobPath(blob.digest));
        if (!m_store.hasBlob(blob.digest) && !file.open(QIODevice::ReadOnly)) {
            *error = u"the layout lacks the blob %1: %2"_s.arg(blob.digest, file.errorString());
            return false;
        }
        return storeBlob(m_store, blob, file, error);
    }

private:
    // Only ever of a checked digest: hexadecimal digits, no `/` or `..`.
    QString blobPath(const QString &digest) const { return m_path + u"/blobs/sha256/"_s + digest.section(u':', 1); }

    const BlobStore &m_store;
    QString m_path;
};

std::optional<BlobDescriptor> taggedManifest(const QString &layoutPath, const QString &tag, QString *error)
{
    QFile indexFile(layoutPath + u"/index.json"_s);
    if (!indexFile.open(QIODevice::ReadOnly)) {
        *error = u"`%1` is no OCI image layout: %2"_s.arg(layoutPath, indexFile.errorString());
        return std::nullopt;
    }
    const QJsonArray manifests = QJsonDocument::fromJson(indexFile.read(MaxDocumentSize)).object()
                                     .value(u"manifests"_s).toArray();
    QStringList tags;
    std::optional<QJsonObject> chosen;
    for (const QJsonValue &value : manifests) {
        const QJsonObject entry = value.toObject();
        const QString name = entry.value(u"annotations"_s).toObject().value(QLatin1StringView(RefNameAnnotation)).toString();
        tags.append(name.isEmpty() ? u"(untagged)"_s : name);
        if (tag.isEmpty() ? manifests.size() == 1 : name == tag)
            chosen = entry;
    }
    if (!chosen) {
        *error = tag.isEmpty() ? u"the OCI layout `%1` holds %2 images; name one by its tag (`oci-layout:PATH:TAG`): %3"_s
                                     .arg(layoutPath).arg(manifests.size()).arg(tags.join(u", "_s))
                               : u"the OCI layout `%1` has no image tagged `%2`; it has: %3"_s
                                     .arg(layoutPath, tag, tags.isEmpty() ? u"none"_s : tags.join(u", "_s));
        return std::nullopt;
    }
    BlobDescriptor blob{chosen->value(u"mediaType"_s).toString(), chosen->value(u"digest"_s).toString(),
                        chosen->value(u"size"_s).toInteger(-1)};
    if (!isSha256Digest(blob.digest) || blob.size < 0) {
        *error = u"the OCI layout `%1` names its image by `%2`, not a sha256 digest"_s.arg(layoutPath, blob.digest.left(80));
        return std::nullopt;
    }
    return blob;
}

struct ArchiveDeleter
{
    void operator()(archive *reader) const { archive_read_free(reader); }
};
using ArchiveReader = std::unique_ptr<archive, ArchiveDeleter>;

ArchiveReader openArchive(const QString &path, QString *error)
{
    ArchiveReader reader(archive_read_new());
    archive_read_support_format_tar(reader.get());
    archive_read_support_filter_gzip(reader.get());
    if (archive_read_open_filename(reader.get(), QFile::encodeName(path).constData(), 1 << 16) != ARCHIVE_OK) {
        *error = u"cannot read the archive `%1`: %2"_s.arg(path, QString::fromLocal8Bit(archive_error_string(reader.get())));
        return {};
    }
    return reader;
}

/// An archive entry's data as a sequential device, for storeBlob.
class ArchiveEntryDevice final : public QIODevice
{
public:
    explicit ArchiveEntryDevice(archive *reader) : m_reader(reader) { open(QIODevice::ReadOnly); }
    bool isSequential() const override { return true; }

protected:
    qint64 readData(char *data, qint64 size) override
    {
        const la_ssize_t read = archive_read_data(m_reader, data, size_t(size));
        if (read < 0)
            setErrorString(QString::fromLocal8Bit(archive_error_string(m_reader)));
        return read;
    }
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    archive *m_reader;
};

QString normalizedEntryName(const char *name)
{
    QString path = QString::fromUtf8(name);
    while (path.startsWith(u"./"_s))
        path.remove(0, 2);
    return path;
}

/// The regular file `name` of the archive, at most MaxDocumentSize bytes.
std::optional<QByteArray> readArchiveDocument(const QString &archivePath, const QString &name, QString *error)
{
    const ArchiveReader reader = openArchive(archivePath, error);
    if (!reader)
        return std::nullopt;
    archive_entry *entry = nullptr;
    int status;
    while ((status = archive_read_next_header(reader.get(), &entry)) == ARCHIVE_OK) {
        if (archive_entry_filetype(entry) != AE_IFREG || normalizedEntryName(archive_entry_pathname(entry)) != name)
            continue;
        if (archive_entry_size(entry) > MaxDocumentSize) {
            *error = u"`%1` in the archive `%2` is %3 bytes, more than a document of an image"_s.arg(name, archivePath)
                         .arg(archive_entry_size(entry));
            return std::nullopt;
        }
        QByteArray data(archive_entry_size(entry), Qt::Uninitialized);
        if (archive_read_data(reader.get(), data.data(), size_t(data.size())) == data.size())
            return data;
        break;
    }
    *error = status == ARCHIVE_EOF
                 ? u"`%1` is no `docker save` archive: it has no %2"_s.arg(archivePath, name)
                 : u"the archive `%1` is damaged or lacks %2: %3"_s.arg(archivePath, name,
                                                                         QString::fromLocal8Bit(archive_error_string(reader.get())));
    return std::nullopt;
}

} // namespace

std::optional<StoredImage> importOciLayout(const ImageStore &store, const QString &layoutPath, const QString &tag,
                                           QString *error)
{
    const BlobStore blobs = store.blobs();
    const OciLayout layout(blobs, layoutPath);
    std::optional<BlobDescriptor> descriptor = taggedManifest(layoutPath, tag, error);
    // An index names the image of each platform; one level of them, as registries serve.
    for (int level = 0; descriptor && level < 2; ++level) {
        const std::optional<QByteArray> body = layout.document(*descriptor, error);
        if (!body)
            return std::nullopt;
        const std::optional<ManifestDocument> document = parseManifest(*body, descriptor->mediaType, error);
        if (!document)
            return std::nullopt;
        if (document->kind == ManifestDocument::Kind::Index) {
            descriptor = selectPlatform(*document, hostArchitecture(), hostVariant(), error);
            continue;
        }
        StoredImage image;
        image.manifestDigest = descriptor->digest;
        image.config = document->config;
        image.layers = document->layers;
        if (!layout.document(image.config, error))
            return std::nullopt;
        for (const BlobDescriptor &layer : std::as_const(image.layers)) {
            if (!layout.copy(layer, error))
                return std::nullopt;
        }
        return image;
    }
    if (descriptor)
        *error = u"the OCI layout `%1` nests indexes deeper than images do"_s.arg(layoutPath);
    return std::nullopt;
}

std::optional<StoredImage> importDockerArchive(const ImageStore &store, const QString &archivePath,
                                               const QString &tag, QString *error)
{
    // One small document read at a time, whatever the entries' order: an archive's size bounds
    // nothing of what is held in memory.
    const std::optional<QByteArray> manifestJson = readArchiveDocument(archivePath, u"manifest.json"_s, error);
    if (!manifestJson)
        return std::nullopt;
    const QJsonArray manifest = QJsonDocument::fromJson(*manifestJson).array();
    if (manifest.isEmpty()) {
        *error = u"`%1` is no `docker save` archive: it has no manifest.json naming an image"_s.arg(archivePath);
        return std::nullopt;
    }
    std::optional<QJsonObject> chosen;
    QStringList tags;
    for (const QJsonValue &value : manifest) {
        const QStringList repoTags = value.toObject().value(u"RepoTags"_s).toVariant().toStringList();
        tags.append(repoTags.isEmpty() ? u"(untagged)"_s : repoTags.join(u' '));
        if (tag.isEmpty() ? manifest.size() == 1 : repoTags.contains(tag))
            chosen = value.toObject();
    }
    if (!chosen) {
        *error = u"the archive `%1` has %2: %3"_s.arg(archivePath,
                                                      tag.isEmpty() ? u"several images, name one"_s
                                                                    : u"no image tagged `%1`"_s.arg(tag),
                                                      tags.join(u", "_s));
        return std::nullopt;
    }
    const QString configName = normalizedEntryName(chosen->value(u"Config"_s).toString().toUtf8().constData());
    const std::optional<QByteArray> configJson = readArchiveDocument(archivePath, configName, error);
    if (!configJson)
        return std::nullopt;
    const QByteArray &configBody = *configJson;
    const std::optional<ImageConfig> config = parseImageConfig(configBody, error);
    if (!config)
        return std::nullopt;
    QStringList layerNames;
    for (const QJsonValue &value : chosen->value(u"Layers"_s).toArray())
        layerNames.append(normalizedEntryName(value.toString().toUtf8().constData()));
    if (layerNames.size() != config->diffIds.size()) {
        *error = u"the archive `%1` lists %2 layers for an image whose config names %3"_s.arg(archivePath)
                     .arg(layerNames.size()).arg(config->diffIds.size());
        return std::nullopt;
    }
    const BlobStore blobs = store.blobs();
    StoredImage image;
    image.config = {u"application/vnd.docker.container.image.v1+json"_s,
                    u"sha256:"_s + QString::fromLatin1(QCryptographicHash::hash(configBody, QCryptographicHash::Sha256).toHex()),
                    configBody.size()};
    // The layers `docker save` writes are uncompressed tars: each is its own diff id.
    QHash<QString, QList<qsizetype>> layerIndex;   // a layer may come twice
    for (qsizetype i = 0; i < layerNames.size(); ++i) {
        if (!isSha256Digest(config->diffIds.at(i))) {
            *error = u"the config of `%1` names layer %2 by `%3`, not a sha256 digest"_s.arg(archivePath).arg(i + 1)
                         .arg(config->diffIds.at(i).left(80));
            return std::nullopt;
        }
        layerIndex[layerNames.at(i)].append(i);
        image.layers.append({u"application/vnd.docker.image.rootfs.diff.tar"_s, config->diffIds.at(i), -1});
    }
    // Second pass: the layers, streamed into the store.
    const ArchiveReader reader = openArchive(archivePath, error);
    if (!reader)
        return std::nullopt;
    archive_entry *entry = nullptr;
    while (archive_read_next_header(reader.get(), &entry) == ARCHIVE_OK) {
        const QString name = normalizedEntryName(archive_entry_pathname(entry));
        const auto found = layerIndex.constFind(name);
        if (found == layerIndex.constEnd() || archive_entry_filetype(entry) != AE_IFREG)
            continue;
        for (const qsizetype index : *found) {
            BlobDescriptor &layer = image.layers[index];
            layer.size = archive_entry_size(entry);
            ArchiveEntryDevice data(reader.get());
            if (!storeBlob(blobs, layer, data, error)) {
                *error = u"layer %1 of `%2`: %3"_s.arg(index + 1).arg(archivePath, *error);
                return std::nullopt;
            }
        }
    }
    for (qsizetype i = 0; i < image.layers.size(); ++i) {
        if (image.layers.at(i).size < 0) {
            *error = u"the archive `%1` lacks layer %2 (`%3`)"_s.arg(archivePath).arg(i + 1).arg(layerNames.at(i));
            return std::nullopt;
        }
    }
    QBuffer configData;
    configData.setData(configBody);
    configData.open(QIODevice::ReadOnly);
    if (!storeBlob(blobs, image.config, configData, error))
        return std::nullopt;
    return image;
}

std::optional<StoredImage> importImage(const ImageStore &store, const ImageReference &source, const QString &name,
                                       QString *error)
{
    std::optional<StoredImage> image = source.source == ImageReference::Source::OciLayout
                                           ? importOciLayout(store, source.path, source.tag, error)
                                           : importDockerArchive(store, source.path, source.tag, error);
    if (!image)
        return std::nullopt;
    image->reference = name;
    // Run again and again from the same layout: recorded once, not rewritten (and synced)
    // by every sandbox.
    if (const std::optional<StoredImage> stored = store.find(name);
        stored && stored->manifestDigest == image->manifestDigest && stored->config.digest == image->config.digest)
        return stored;
    image->storedAt = QDateTime::currentDateTimeUtc();
    if (!store.save(*image, error))
        return std::nullopt;
    return image;
}

} // namespace Sandflow::Internal
