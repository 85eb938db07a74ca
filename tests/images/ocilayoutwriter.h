// Writes real OCI image layouts for the tests: layers from LayerWriter (gzip), a config with
// the fields a runner honours, a manifest and the index that tags it, each blob named by its
// sha256 as the image spec says. What `umoci` or `skopeo copy ... oci:DIR:TAG` would write,
// made without them; skopeo turns them into registry images and `docker save` archives.
#pragma once

#include "layerwriter.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryFile>

struct ImageSpec
{
    QList<LayerWriter> layers;     ///< base first
    QStringList env;
    QString workingDir;
    QString user;
    QStringList entrypoint;
    QStringList cmd;
};
Q_DECLARE_METATYPE(ImageSpec)

class OciLayoutWriter
{
public:
    explicit OciLayoutWriter(QString directory) : m_directory(std::move(directory)) {}

    /// Adds the image `spec` tagged `tag`; false when a blob cannot be written.
    bool add(const QString &tag, const ImageSpec &spec)
    {
        if (!QDir().mkpath(m_directory + QStringLiteral("/blobs/sha256")))
            return false;
        QJsonArray layers;
        QJsonArray diffIds;
        for (const LayerWriter &layer : spec.layers) {
            QTemporaryFile plain;
            QTemporaryFile compressed;
            if (!plain.open() || !compressed.open() || !layer.write(plain.fileName())
                || !layer.write(compressed.fileName(), LayerWriter::Compression::Gzip))
                return false;
            diffIds.append(QStringLiteral("sha256:") + sha256(readAll(plain.fileName())));
            const QByteArray blob = readAll(compressed.fileName());
            layers.append(descriptor(QStringLiteral("application/vnd.oci.image.layer.v1.tar+gzip"), writeBlob(blob), blob.size()));
        }
        QJsonObject config{{QStringLiteral("Env"), QJsonArray::fromStringList(spec.env)}};
        if (!spec.workingDir.isEmpty())
            config.insert(QStringLiteral("WorkingDir"), spec.workingDir);
        if (!spec.user.isEmpty())
            config.insert(QStringLiteral("User"), spec.user);
        if (!spec.entrypoint.isEmpty())
            config.insert(QStringLiteral("Entrypoint"), QJsonArray::fromStringList(spec.entrypoint));
        if (!spec.cmd.isEmpty())
            config.insert(QStringLiteral("Cmd"), QJsonArray::fromStringList(spec.cmd));
        const QByteArray configBlob = QJsonDocument(QJsonObject{
            {QStringLiteral("architecture"), hostArchitecture()},
            {QStringLiteral("os"), QStringLiteral("linux")},
            {QStringLiteral("config"), config},
            {QStringLiteral("rootfs"), QJsonObject{{QStringLiteral("type"), QStringLiteral("layers")},
                                                   {QStringLiteral("diff_ids"), diffIds}}}}).toJson(QJsonDocument::Compact);
        const QByteArray manifest = QJsonDocument(QJsonObject{
            {QStringLiteral("schemaVersion"), 2},
            {QStringLiteral("mediaType"), QStringLiteral("application/vnd.oci.image.manifest.v1+json")},
            {QStringLiteral("config"), descriptor(QStringLiteral("application/vnd.oci.image.config.v1+json"),
                                                  writeBlob(configBlob), configBlob.size())},
            {QStringLiteral("layers"), layers}}).toJson(QJsonDocument::Compact);
        QJsonObject entry = descriptor(QStringLiteral("application/vnd.oci.image.manifest.v1+json"), writeBlob(manifest),
                                       manifest.size());
        entry.insert(QStringLiteral("annotations"),
                     QJsonObject{{QStringLiteral("org.opencontainers.image.ref.name"), tag}});
        m_manifests.append(entry);
        return writeFile(QStringLiteral("index.json"),
                         QJsonDocument(QJsonObject{{QStringLiteral("schemaVersion"), 2},
                                                   {QStringLiteral("manifests"), m_manifests}}).toJson())
               && writeFile(QStringLiteral("oci-layout"), R"({"imageLayoutVersion":"1.0.0"})");
    }

    const QString &directory() const { return m_directory; }
    /// The path of a blob of the layout.
    QString blobPath(const QString &digest) const
    {
        return m_directory + QStringLiteral("/blobs/sha256/") + digest.section(QLatin1Char(':'), 1);
    }
    /// The digest of the last layer `add` wrote for the last image.
    QString lastLayerDigest() const
    {
        const QJsonObject manifest = QJsonDocument::fromJson(readAll(blobPath(m_manifests.last().toObject()
                                                                                   .value(QStringLiteral("digest")).toString())))
                                         .object();
        return manifest.value(QStringLiteral("layers")).toArray().last().toObject().value(QStringLiteral("digest")).toString();
    }

    static QString hostArchitecture()
    {
#if defined(__x86_64__)
        return QStringLiteral("amd64");
#elif defined(__aarch64__)
        return QStringLiteral("arm64");
#else
        return QStringLiteral("unknown");
#endif
    }

    /// A layer with `programs` of this machine (and the libraries they load, as `ldd` lists
    /// them) under a merged /usr, with /bin, /lib and /lib64 linking into it: a base layer in
    /// which a shell runs.
    static LayerWriter hostProgramsLayer(const QStringList &programs)
    {
        LayerWriter layer;
        layer.symlink("bin", "usr/bin").symlink("lib", "usr/lib").symlink("lib64", "usr/lib64");
        QStringList files;
        for (const QString &program : programs) {
            files.append(program);
            QProcess ldd;
            ldd.start(QStringLiteral("ldd"), {program});
            ldd.waitForFinished();
            static const QRegularExpression library(QStringLiteral("(/\\S+)"));
            for (const QRegularExpressionMatch &match : library.globalMatch(QString::fromLocal8Bit(ldd.readAllStandardOutput())))
                files.append(match.captured(1));
        }
        files.removeDuplicates();
        QStringList made;
        for (const QString &file : std::as_const(files)) {
            // Where the image keeps it: below usr/, whichever top-level link the host used.
            QString inImage = QFileInfo(file).canonicalFilePath();
            if (!inImage.startsWith(QStringLiteral("/usr/")))
                inImage = QStringLiteral("/usr") + inImage;
            const QString listed = file.startsWith(QStringLiteral("/usr/")) || file.startsWith(QStringLiteral("/bin/"))
                                       ? QStringLiteral("/usr/bin/") + QFileInfo(file).fileName()
                                       : QStringLiteral("/usr") + file;
            for (const QString &path : {inImage, listed}) {
                if (made.contains(path))
                    continue;
                made.append(path);
                const QStringList parts = path.mid(1).split(QLatin1Char('/'));
                for (qsizetype i = 1; i < parts.size(); ++i) {
                    const QString directory = parts.mid(0, i).join(QLatin1Char('/'));
                    if (!made.contains(directory)) {
                        made.append(directory);
                        layer.directory(directory.toUtf8());
                    }
                }
                layer.file(path.mid(1).toUtf8(), readAll(file), 0755);
            }
        }
        return layer;
    }

    static QByteArray readAll(const QString &path)
    {
        QFile file(path);
        return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    }

private:
    static QString sha256(const QByteArray &data)
    {
        return QString::fromLatin1(QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex());
    }
    static QJsonObject descriptor(const QString &mediaType, const QString &digest, qint64 size)
    {
        return {{QStringLiteral("mediaType"), mediaType}, {QStringLiteral("digest"), digest}, {QStringLiteral("size"), size}};
    }
    QString writeBlob(const QByteArray &data)
    {
        const QString digest = QStringLiteral("sha256:") + sha256(data);
        QFile file(blobPath(digest));
        if (file.open(QIODevice::WriteOnly))
            file.write(data);
        return digest;
    }
    bool writeFile(const QString &name, const QByteArray &data)
    {
        QFile file(m_directory + QLatin1Char('/') + name);
        return file.open(QIODevice::WriteOnly) && file.write(data) == data.size();
    }

    QString m_directory;
    QJsonArray m_manifests;
};
