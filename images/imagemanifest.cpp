#include "imagemanifest_p.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>
#include <QSysInfo>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

const QString OciIndex = u"application/vnd.oci.image.index.v1+json"_s;
const QString DockerList = u"application/vnd.docker.distribution.manifest.list.v2+json"_s;
const QString OciManifest = u"application/vnd.oci.image.manifest.v1+json"_s;
const QString DockerManifest = u"application/vnd.docker.distribution.manifest.v2+json"_s;

const QSet<QString> &layerTypes()
{
    static const QSet<QString> types = {
        u"application/vnd.oci.image.layer.v1.tar"_s,
        u"application/vnd.oci.image.layer.v1.tar+gzip"_s,
        u"application/vnd.oci.image.layer.v1.tar+zstd"_s,
        u"application/vnd.docker.image.rootfs.diff.tar.gzip"_s,
    };
    return types;
}

const QSet<QString> &configTypes()
{
    static const QSet<QString> types = {u"application/vnd.oci.image.config.v1+json"_s,
                                        u"application/vnd.docker.container.image.v1+json"_s};
    return types;
}

// More would be a server's flood, not an image: Docker refuses images of over 127 layers.
constexpr qsizetype MaxLayers = 256;
constexpr qsizetype MaxPlatforms = 1024;
constexpr qint64 MaxBlobBytes = 64LL << 30;

std::optional<BlobDescriptor> readDescriptor(const QJsonValue &value, const QString &what, QString *error)
{
    const QJsonObject object = value.toObject();
    BlobDescriptor descriptor;
    descriptor.mediaType = object.value(u"mediaType"_s).toString();
    descriptor.digest = object.value(u"digest"_s).toString();
    const QJsonValue size = object.value(u"size"_s);
    if (!value.isObject()) {
        *error = u"%1 is not an object"_s.arg(what);
    } else if (!isSha256Digest(descriptor.digest)) {
        *error = u"%1 has the digest `%2`; only sha256 digests (64 lowercase hexadecimal digits) are taken"_s
                     .arg(what, descriptor.digest.left(80));
    } else if (!size.isDouble() || size.toDouble() < 0 || size.toDouble() > double(MaxBlobBytes)
               || size.toDouble() != double(qint64(size.toDouble()))) {
        *error = u"%1 has no valid size"_s.arg(what);
    } else {
        descriptor.size = qint64(size.toDouble());
        return descriptor;
    }
    return std::nullopt;
}

std::optional<ManifestDocument> readIndex(const QJsonObject &root, QString *error)
{
    const QJsonArray entries = root.value(u"manifests"_s).toArray();
    if (entries.size() > MaxPlatforms) {
        *error = u"the index lists %1 manifests, more than %2"_s.arg(entries.size()).arg(MaxPlatforms);
        return std::nullopt;
    }
    ManifestDocument document;
    document.kind = ManifestDocument::Kind::Index;
    for (qsizetype i = 0; i < entries.size(); ++i) {
        std::optional<BlobDescriptor> manifest
            = readDescriptor(entries.at(i), u"manifest %1 of the index"_s.arg(i + 1), error);
        if (!manifest)
            return std::nullopt;
        const QJsonObject platform = entries.at(i).toObject().value(u"platform"_s).toObject();
        document.platforms.append({*manifest, platform.value(u"os"_s).toString(),
                                   platform.value(u"architecture"_s).toString(),
                                   platform.value(u"variant"_s).toString()});
    }
    return document;
}

std::optional<ManifestDocument> readImage(const QJsonObject &root, QString *error)
{
    ManifestDocument document;
    std::optional<BlobDescriptor> config = readDescriptor(root.value(u"config"_s), u"the config"_s, error);
    if (!config)
        return std::nullopt;
    if (!configTypes().contains(config->mediaType)) {
        *error = u"this is not a container image: its config is of type `%1`"_s.arg(config->mediaType.left(120));
        return std::nullopt;
    }
    document.config = *config;
    const QJsonArray layers = root.value(u"layers"_s).toArray();
    if (layers.size() > MaxLayers) {
        *error = u"the image has %1 layers, more than %2"_s.arg(layers.size()).arg(MaxLayers);
        return std::nullopt;
    }
    for (qsizetype i = 0; i < layers.size(); ++i) {
        std::optional<BlobDescriptor> layer = readDescriptor(layers.at(i), u"layer %1"_s.arg(i + 1), error);
        if (!layer)
            return std::nullopt;
        if (!layerTypes().contains(layer->mediaType)) {
            *error = layer->mediaType.contains(u"nondistributable"_s) || layer->mediaType.contains(u"foreign"_s)
                         ? u"layer %1 is a foreign layer (`%2`), which is fetched from elsewhere than the registry: "
                           u"not supported"_s.arg(i + 1).arg(layer->mediaType)
                         : u"layer %1 is of type `%2`, not a tar layer"_s.arg(i + 1).arg(layer->mediaType.left(120));
            return std::nullopt;
        }
        document.layers.append(*layer);
    }
    return document;
}

QStringList stringList(const QJsonValue &value)
{
    QStringList list;
    for (const QJsonValue &item : value.toArray())
        list.append(item.toString());
    return list;
}

QString describe(const PlatformManifest &platform)
{
    QString text = platform.os + u'/' + platform.architecture;
    if (!platform.variant.isEmpty())
        text += u'/' + platform.variant;
    return text;
}

} // namespace

QByteArray acceptedManifestTypes()
{
    return (QStringList{OciIndex, DockerList, OciManifest, DockerManifest}.join(u", "_s)).toLatin1();
}

bool isSha256Digest(const QString &digest)
{
    static const QRegularExpression sha256(u"^sha256:[a-f0-9]{64}$"_s);
    return sha256.match(digest).hasMatch();
}

std::optional<ManifestDocument> parseManifest(const QByteArray &body, const QString &mediaType, QString *error)
{
    QJsonParseError parse;
    const QJsonDocument json = QJsonDocument::fromJson(body, &parse);
    if (!json.isObject()) {
        *error = parse.error != QJsonParseError::NoError
                     ? u"the manifest is not JSON: %1 at byte %2"_s.arg(parse.errorString()).arg(parse.offset)
                     : u"the manifest is not a JSON object"_s;
        return std::nullopt;
    }
    const QJsonObject root = json.object();
    // The Content-Type decides; a generic one leaves it to the document.
    QString type = mediaType.section(u';', 0, 0).trimmed();
    if (type.isEmpty() || type == u"application/json"_s || type == u"application/octet-stream"_s || type == u"text/plain"_s)
        type = root.value(u"mediaType"_s).toString();
    if (type.isEmpty())   // OCI's media type is optional in the document: its shape tells
        type = root.contains(u"manifests"_s) ? OciIndex : OciManifest;
    if (root.value(u"schemaVersion"_s).toInt() == 1 || type.startsWith(u"application/vnd.docker.distribution.manifest.v1"_s)) {
        *error = u"the image has an obsolete Docker schema 1 manifest; push it again with a current Docker or skopeo"_s;
        return std::nullopt;
    }
    if (type == OciIndex || type == DockerList)
        return readIndex(root, error);
    if (type == OciManifest || type == DockerManifest)
        return readImage(root, error);
    *error = u"the manifest is of type `%1`, neither an image nor an index"_s.arg(type.left(120));
    return std::nullopt;
}

std::optional<BlobDescriptor> selectPlatform(const ManifestDocument &index, const QString &architecture,
                                             const QString &variant, QString *error)
{
    const PlatformManifest *fallback = nullptr;
    QStringList offered;
    for (const PlatformManifest &platform : index.platforms) {
        // Attestations and the like are listed as unknown/unknown.
        if (platform.os != u"linux"_s)
            continue;
        offered.append(describe(platform));
        if (platform.architecture != architecture)
            continue;
        if (platform.variant == variant)
            return platform.manifest;
        // An entry without a variant suits any; arm64's v8 is its only one.
        if (!fallback && (platform.variant.isEmpty() || variant.isEmpty()))
            fallback = &platform;
    }
    if (fallback)
        return fallback->manifest;
    PlatformManifest wanted{{}, u"linux"_s, architecture, variant};
    *error = u"the image has no manifest for %1; it has: %2"_s.arg(
        describe(wanted), offered.isEmpty() ? u"none for linux"_s : offered.join(u", "_s));
    return std::nullopt;
}

QString hostArchitecture()
{
    static const QMap<QString, QString> goNames = {
        {u"x86_64"_s, u"amd64"_s}, {u"i386"_s, u"386"_s},      {u"arm64"_s, u"arm64"_s},
        {u"arm"_s, u"arm"_s},      {u"power64"_s, u"ppc64le"_s}, {u"riscv64"_s, u"riscv64"_s},
        {u"s390x"_s, u"s390x"_s},
    };
    const QString qtName = QSysInfo::currentCpuArchitecture();
    return goNames.value(qtName, qtName);
}

QString hostVariant()
{
    const QString architecture = hostArchitecture();
    if (architecture == u"arm64"_s)
        return u"v8"_s;
    if (architecture == u"arm"_s)
        return u"v7"_s;
    return {};
}

std::optional<ImageConfig> parseImageConfig(const QByteArray &body, QString *error)
{
    QJsonParseError parse;
    const QJsonDocument json = QJsonDocument::fromJson(body, &parse);
    if (!json.isObject()) {
        *error = u"the image config is not a JSON object"_s;
        return std::nullopt;
    }
    const QJsonObject root = json.object();
    const QJsonObject config = root.value(u"config"_s).toObject();
    ImageConfig image;
    image.env = stringList(config.value(u"Env"_s));
    image.workingDir = config.value(u"WorkingDir"_s).toString();
    image.user = config.value(u"User"_s).toString();
    image.entrypoint = stringList(config.value(u"Entrypoint"_s));
    image.cmd = stringList(config.value(u"Cmd"_s));
    image.diffIds = stringList(root.value(u"rootfs"_s).toObject().value(u"diff_ids"_s));
    for (const QString &diffId : std::as_const(image.diffIds)) {
        if (!isSha256Digest(diffId)) {
            *error = u"the image config lists the layer digest `%1`, not a sha256 digest"_s.arg(diffId.left(80));
            return std::nullopt;
        }
    }
    for (const QString &assignment : std::as_const(image.env)) {
        if (assignment.indexOf(u'=') <= 0) {
            *error = u"the image config's environment has `%1`, not NAME=VALUE"_s.arg(assignment.left(80));
            return std::nullopt;
        }
    }
    return image;
}

} // namespace Sandflow::Internal
