// Manifests, indexes and configs as registries send them (OCI and Docker schema 2), and the
// refusals of what a hostile or odd server could send instead.
#include "imagemanifest_p.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Sandflow::Internal;
using namespace Qt::StringLiterals;

namespace {

QString digestOf(char fill)
{
    return u"sha256:"_s + QString(64, QLatin1Char(fill));
}

QJsonObject descriptor(const QString &mediaType, char fill, qint64 size)
{
    return {{u"mediaType"_s, mediaType}, {u"digest"_s, digestOf(fill)}, {u"size"_s, size}};
}

QByteArray imageManifest(const QString &mediaType, const QJsonArray &layers,
                         const QString &configType = u"application/vnd.oci.image.config.v1+json"_s)
{
    return QJsonDocument(QJsonObject{{u"schemaVersion"_s, 2},
                                     {u"mediaType"_s, mediaType},
                                     {u"config"_s, descriptor(configType, 'c', 1234)},
                                     {u"layers"_s, layers}})
        .toJson(QJsonDocument::Compact);
}

QJsonObject platformEntry(char fill, const QString &os, const QString &architecture, const QString &variant = {})
{
    QJsonObject platform{{u"os"_s, os}, {u"architecture"_s, architecture}};
    if (!variant.isEmpty())
        platform.insert(u"variant"_s, variant);
    QJsonObject entry = descriptor(u"application/vnd.oci.image.manifest.v1+json"_s, fill, 500);
    entry.insert(u"platform"_s, platform);
    return entry;
}

QByteArray index(const QJsonArray &manifests)
{
    return QJsonDocument(QJsonObject{{u"schemaVersion"_s, 2}, {u"manifests"_s, manifests}})
        .toJson(QJsonDocument::Compact);
}

} // namespace

class TestImageManifest : public QObject
{
    Q_OBJECT

private slots:
    void readsImageManifests_data();
    void readsImageManifests();
    void readsIndexesAndPicksThePlatform();
    void refuses_data();
    void refuses();
    void readsTheConfig();
    void refusesBadConfigs();
    void hostPlatformInGoNames();
};

void TestImageManifest::readsImageManifests_data()
{
    QTest::addColumn<QString>("documentType");
    QTest::addColumn<QString>("contentType");
    QTest::addColumn<QString>("layerType");
    QTest::newRow("OCI") << u"application/vnd.oci.image.manifest.v1+json"_s
                         << u"application/vnd.oci.image.manifest.v1+json"_s
                         << u"application/vnd.oci.image.layer.v1.tar+gzip"_s;
    QTest::newRow("Docker schema 2") << u"application/vnd.docker.distribution.manifest.v2+json"_s
                                     << u"application/vnd.docker.distribution.manifest.v2+json"_s
                                     << u"application/vnd.docker.image.rootfs.diff.tar.gzip"_s;
    QTest::newRow("generic content type") << u"application/vnd.oci.image.manifest.v1+json"_s
                                          << u"application/json; charset=utf-8"_s
                                          << u"application/vnd.oci.image.layer.v1.tar+zstd"_s;
    QTest::newRow("no media type anywhere") << QString() << QString() << u"application/vnd.oci.image.layer.v1.tar"_s;
}

void TestImageManifest::readsImageManifests()
{
    QFETCH(QString, documentType);
    QFETCH(QString, contentType);
    QFETCH(QString, layerType);
    const QByteArray body = imageManifest(documentType, {descriptor(layerType, '1', 100), descriptor(layerType, '2', 0)});
    QString error;
    const std::optional<ManifestDocument> document = parseManifest(body, contentType, &error);
    QVERIFY2(document, qPrintable(error));
    QCOMPARE(document->kind, ManifestDocument::Kind::Image);
    QCOMPARE(document->config.digest, digestOf('c'));
    QCOMPARE(document->config.size, 1234);
    QCOMPARE(document->layers.size(), 2);
    QCOMPARE(document->layers.at(0).digest, digestOf('1'));
    QCOMPARE(document->layers.at(0).size, 100);
    QCOMPARE(document->layers.at(1).digest, digestOf('2'));
    QCOMPARE(document->layers.at(1).mediaType, layerType);
}

void TestImageManifest::readsIndexesAndPicksThePlatform()
{
    const QByteArray body = index({
        platformEntry('a', u"linux"_s, u"amd64"_s),
        platformEntry('b', u"linux"_s, u"arm"_s, u"v6"_s),
        platformEntry('c', u"linux"_s, u"arm"_s, u"v7"_s),
        platformEntry('d', u"linux"_s, u"arm64"_s, u"v8"_s),
        platformEntry('e', u"unknown"_s, u"unknown"_s),   // an attestation, as buildx writes
        platformEntry('f', u"windows"_s, u"amd64"_s),
    });
    QString error;
    for (const QString &type : {u"application/vnd.oci.image.index.v1+json"_s,
                                u"application/vnd.docker.distribution.manifest.list.v2+json"_s}) {
        const std::optional<ManifestDocument> document = parseManifest(body, type, &error);
        QVERIFY2(document, qPrintable(error));
        QCOMPARE(document->kind, ManifestDocument::Kind::Index);
        QCOMPARE(document->platforms.size(), 6);
    }
    const ManifestDocument document = *parseManifest(body, {}, &error);
    QCOMPARE(selectPlatform(document, u"amd64"_s, {}, &error)->digest, digestOf('a'));
    QCOMPARE(selectPlatform(document, u"arm"_s, u"v7"_s, &error)->digest, digestOf('c'));
    QCOMPARE(selectPlatform(document, u"arm64"_s, u"v8"_s, &error)->digest, digestOf('d'));
    // An entry without a variant suits any variant, and one with a variant suits a host
    // that names none.
    const std::optional<ManifestDocument> plain
        = parseManifest(index(QJsonArray{platformEntry('9', u"linux"_s, u"arm64"_s)}), {}, &error);
    QVERIFY2(plain, qPrintable(error));
    QCOMPARE(selectPlatform(*plain, u"arm64"_s, u"v8"_s, &error)->digest, digestOf('9'));
    QCOMPARE(selectPlatform(document, u"arm64"_s, {}, &error)->digest, digestOf('d'));

    QVERIFY(!selectPlatform(document, u"riscv64"_s, {}, &error));
    QCOMPARE(error, u"the image has no manifest for linux/riscv64; it has: linux/amd64, linux/arm/v6, linux/arm/v7, "
                    u"linux/arm64/v8"_s);
}

void TestImageManifest::refuses_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("contentType");
    QTest::addColumn<QString>("message");
    const QString oci = u"application/vnd.oci.image.manifest.v1+json"_s;
    const QString gzipLayer = u"application/vnd.oci.image.layer.v1.tar+gzip"_s;
    QTest::newRow("not JSON") << QByteArray("<html>") << oci << u"the manifest is not JSON"_s;
    QTest::newRow("an array") << QByteArray("[]") << oci << u"the manifest is not a JSON object"_s;
    QTest::newRow("schema 1") << QByteArray("{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}")
                              << u"application/vnd.docker.distribution.manifest.v1+prettyjws"_s
                              << u"obsolete Docker schema 1 manifest"_s;
    QTest::newRow("unknown type") << imageManifest(oci, {}) << u"application/vnd.example+json"_s
                                  << u"the manifest is of type `application/vnd.example+json`"_s;
    QTest::newRow("an artifact, not an image")
        << imageManifest(oci, {}, u"application/vnd.cncf.helm.config.v1+json"_s) << oci
        << u"this is not a container image: its config is of type `application/vnd.cncf.helm.config.v1+json`"_s;
    QJsonObject traversal = descriptor(gzipLayer, '1', 10);
    traversal.insert(u"digest"_s, u"sha256:../../../etc/passwd"_s);
    QTest::newRow("a digest that is a path") << imageManifest(oci, {traversal}) << oci
                                             << u"layer 1 has the digest `sha256:../../../etc/passwd`"_s;
    QJsonObject sha512 = descriptor(gzipLayer, '1', 10);
    sha512.insert(u"digest"_s, u"sha512:"_s + QString(128, u'a'));
    QTest::newRow("sha512") << imageManifest(oci, {sha512}) << oci << u"only sha256 digests"_s;
    QTest::newRow("negative size") << imageManifest(oci, {descriptor(gzipLayer, '1', -1)}) << oci
                                   << u"layer 1 has no valid size"_s;
    QJsonObject fractional = descriptor(gzipLayer, '1', 10);
    fractional.insert(u"size"_s, 1.5);
    QTest::newRow("fractional size") << imageManifest(oci, {fractional}) << oci << u"layer 1 has no valid size"_s;
    QTest::newRow("foreign layer")
        << imageManifest(oci, {descriptor(u"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"_s, '1', 10)})
        << oci << u"layer 1 is a foreign layer"_s;
    QTest::newRow("not a tar layer") << imageManifest(oci, {descriptor(u"text/plain"_s, '1', 10)}) << oci
                                     << u"layer 1 is of type `text/plain`, not a tar layer"_s;
    QJsonArray many;
    for (int i = 0; i < 300; ++i)
        many.append(descriptor(gzipLayer, '1', 10));
    QTest::newRow("too many layers") << imageManifest(oci, many) << oci << u"the image has 300 layers, more than 256"_s;
    QTest::newRow("index entry without digest")
        << QByteArray("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"size\":1}]}")
        << u"application/vnd.oci.image.index.v1+json"_s << u"manifest 1 of the index has the digest ``"_s;
}

void TestImageManifest::refuses()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, contentType);
    QFETCH(QString, message);
    QString error;
    QVERIFY(!parseManifest(body, contentType, &error));
    QVERIFY2(error.contains(message), qPrintable(error));
}

void TestImageManifest::readsTheConfig()
{
    const QByteArray body = QJsonDocument(QJsonObject{
        {u"architecture"_s, u"amd64"_s},
        {u"config"_s, QJsonObject{{u"Env"_s, QJsonArray{u"PATH=/usr/bin:/bin"_s, u"LANG=C.UTF-8"_s}},
                                  {u"WorkingDir"_s, u"/src"_s},
                                  {u"User"_s, u"1000:1000"_s},
                                  {u"Entrypoint"_s, QJsonArray{u"/entry.sh"_s}},
                                  {u"Cmd"_s, QJsonArray{u"serve"_s, u"--port=80"_s}}}},
        {u"rootfs"_s, QJsonObject{{u"type"_s, u"layers"_s}, {u"diff_ids"_s, QJsonArray{digestOf('1'), digestOf('2')}}}},
    }).toJson();
    QString error;
    const std::optional<ImageConfig> config = parseImageConfig(body, &error);
    QVERIFY2(config, qPrintable(error));
    QCOMPARE(config->env, (QStringList{u"PATH=/usr/bin:/bin"_s, u"LANG=C.UTF-8"_s}));
    QCOMPARE(config->workingDir, u"/src"_s);
    QCOMPARE(config->user, u"1000:1000"_s);
    QCOMPARE(config->entrypoint, QStringList{u"/entry.sh"_s});
    QCOMPARE(config->cmd, (QStringList{u"serve"_s, u"--port=80"_s}));
    QCOMPARE(config->diffIds, (QStringList{digestOf('1'), digestOf('2')}));
    // A config with none of it (a scratch image) is empty, not an error.
    const std::optional<ImageConfig> bare = parseImageConfig("{}", &error);
    QVERIFY2(bare, qPrintable(error));
    QVERIFY(bare->env.isEmpty() && bare->entrypoint.isEmpty() && bare->diffIds.isEmpty());
}

void TestImageManifest::refusesBadConfigs()
{
    QString error;
    QVERIFY(!parseImageConfig("not json", &error));
    QCOMPARE(error, u"the image config is not a JSON object"_s);
    QVERIFY(!parseImageConfig("{\"rootfs\":{\"diff_ids\":[\"md5:abc\"]}}", &error));
    QCOMPARE(error, u"the image config lists the layer digest `md5:abc`, not a sha256 digest"_s);
    QVERIFY(!parseImageConfig("{\"config\":{\"Env\":[\"=x\"]}}", &error));
    QCOMPARE(error, u"the image config's environment has `=x`, not NAME=VALUE"_s);
}

void TestImageManifest::hostPlatformInGoNames()
{
    const QString architecture = hostArchitecture();
    QVERIFY(!architecture.isEmpty());
    // Qt's names that differ from Go's never come through.
    QVERIFY(architecture != u"x86_64"_s && architecture != u"i386"_s && architecture != u"power64"_s);
    QCOMPARE(acceptedManifestTypes().count(','), 3);
}

QTEST_GUILESS_MAIN(TestImageManifest)
#include "tst_imagemanifest.moc"
