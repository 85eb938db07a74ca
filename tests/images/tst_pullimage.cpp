// PullImageJob against a real registry (docker-registry on a loopback port, localregistry.h)
// holding images the test makes with umoci and pushes with skopeo: what lands in the store,
// what the registry was asked (its access log), authentication, mirrors, indexes, tampered
// blobs, concurrent pulls and cancelling.
#include "blobstore_p.h"
#include "localregistry.h"
#include "pullimagejob.h"
#include "sha256_p.h"

#include <QDir>
#include <QElapsedTimer>
#include <QHttpServer>
#include <QHttpServerResponse>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

using namespace Sandflow;
using namespace Sandflow::Internal;
using namespace Qt::StringLiterals;

namespace {

constexpr int PullLimitMs = 60'000;

ImageReference reference(const QString &text)
{
    QString error;
    const std::optional<ImageReference> parsed = ImageReference::parse(text, &error);
    if (!parsed)
        qFatal("bad reference %s: %s", qPrintable(text), qPrintable(error));
    return *parsed;
}

struct Outcome
{
    std::optional<JobError> error;
    PulledImage image;
    QList<qint64> progressBytes;   ///< bytesDone of each progress signal
    qint64 bytesTotal = 0;
    int layersDone = 0;
};

/// Runs a pull to its end.
Outcome pull(const QString &text, const QString &store, const PullOptions &options = {})
{
    PullImageJob job(reference(text), store, options);
    job.setAutoDelete(false);
    Outcome outcome;
    QObject::connect(&job, &PullImageJob::progress, [&outcome](qint64 done, qint64 total, int layersDone, int) {
        outcome.progressBytes.append(done);
        outcome.bytesTotal = total;
        outcome.layersDone = layersDone;
    });
    QSignalSpy finished(&job, &AsyncJob::finished);
    job.start();
    if (!finished.wait(PullLimitMs))
        qFatal("the pull of %s did not finish", qPrintable(text));
    outcome.error = job.error();
    outcome.image = job.result();
    return outcome;
}

QString describe(const std::optional<JobError> &error)
{
    return error ? error->code + u": "_s + error->message : u"no error"_s;
}

QString describe(const Outcome &outcome)
{
    return describe(outcome.error);
}

QStringList entriesOf(const QString &directory)
{
    return QDir(directory).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden);
}

QByteArray randomBytes(qsizetype size)
{
    QByteArray data(size, Qt::Uninitialized);
    QRandomGenerator::global()->fillRange(reinterpret_cast<quint32 *>(data.data()), size / 4);
    return data;
}

} // namespace

class TestPullImage : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();

    void pullsATaggedImage();
    void pullsByDigest();
    void secondPullFetchesNoBlob();
    void picksTheHostPlatformOfAnIndex();
    void refusesATamperedBlob();
    void refusesATamperedManifest();
    void missingImageIsNotFound();
    void unreachableRegistryIsInfra();
    void failingRegistryIsInfra();
    void silentRegistryTimesOut();
    void basicAuthentication();
    void tokenAuthentication();
    void mirrorIsAskedFirst();
    void blobAMirrorLacksComesFromTheRegistry();
    void followsBlobRedirects();
    void concurrentPullsStoreEachBlobOnce();
    void pullsOfTwoProcessesStoreEachBlobOnce();
    void cancelLeavesNothingHalfWritten();
    void removesWhatAKilledPullLeft();
    void killedPullLeavesOnlyVerifiedBlobs_data();
    void killedPullLeavesOnlyVerifiedBlobs();

private:
    QString store() const { return m_dir->filePath(u"store"_s); }
    QStringList temporaries() const { return entriesOf(store() + u"/tmp"_s); }
    /// Makes the test image (two layers, a config that sets every field the runner reads)
    /// once and pushes it to `registry` as `repositoryAndTag`; says why not on failure.
    bool pushTestImage(LocalRegistry &registry, const QString &repositoryAndTag);
    /// Starts `registry` in the test's directory `name` and pushes the test image to it.
    bool serveTestImage(LocalRegistry &registry, const QString &name, const QString &repositoryAndTag);

    QTemporaryDir m_shared;
    LocalRegistry m_registry;   // test/img:v1, test/multi:v1, test/big:v1
    std::unique_ptr<QTemporaryDir> m_dir;
};

bool TestPullImage::serveTestImage(LocalRegistry &registry, const QString &name, const QString &repositoryAndTag)
{
    if (!registry.start(m_dir->filePath(name))) {
        qWarning("%s", qPrintable(registry.failure()));
        return false;
    }
    return pushTestImage(registry, repositoryAndTag);
}

bool TestPullImage::pushTestImage(LocalRegistry &registry, const QString &repositoryAndTag)
{
    OciImage image(m_shared.filePath(u"layout"_s), u"img"_s);
    const bool made = QFile::exists(m_shared.filePath(u"layout/index.json"_s))
                      || (image.create() && image.addLayer({{u"etc/motd"_s, "first layer\n"}})
                          && image.addLayer({{u"work/data.txt"_s, "second layer\n"}})
                          && image.configure({u"--config.env"_s, u"X=1"_s, u"--config.workingdir"_s, u"/work"_s,
                                              u"--config.user"_s, u"1000:1000"_s, u"--config.entrypoint"_s,
                                              u"/bin/sh"_s, u"--config.cmd"_s, u"-c"_s, u"--config.cmd"_s, u"true"_s}));
    if (!made) {
        qWarning("%s", qPrintable(image.failure()));
        return false;
    }
    if (!registry.push(image.source(), repositoryAndTag)) {
        qWarning("%s", qPrintable(registry.failure()));
        return false;
    }
    return true;
}

void TestPullImage::initTestCase()
{
    if (const QString missing = LocalRegistry::missingTools(); !missing.isEmpty())
        QSKIP(qPrintable(missing));
    QVERIFY(m_shared.isValid());
    QVERIFY2(m_registry.start(m_shared.filePath(u"registry"_s)), qPrintable(m_registry.failure()));
    QVERIFY(pushTestImage(m_registry, u"test/img:v1"_s));

    // An index of two platforms: this host's, and one that is not (its config says so).
    const QString foreign = hostArchitecture() == u"arm64"_s ? u"amd64"_s : u"arm64"_s;
    OciImage native(m_shared.filePath(u"multi"_s), u"native"_s);
    OciImage other(m_shared.filePath(u"multi"_s), u"other"_s);
    QVERIFY2(native.create() && native.addLayer({{u"arch"_s, "native\n"}})
                 && native.configure({u"--architecture"_s, hostArchitecture(), u"--config.env"_s, u"ARCH=native"_s}),
             qPrintable(native.failure()));
    QVERIFY2(other.create() && other.addLayer({{u"arch"_s, "other\n"}})
                 && other.configure({u"--architecture"_s, foreign, u"--config.env"_s, u"ARCH=other"_s}),
             qPrintable(other.failure()));
    QFile layoutIndex(m_shared.filePath(u"multi/index.json"_s));
    QVERIFY(layoutIndex.open(QIODevice::ReadOnly));
    QJsonObject layout = QJsonDocument::fromJson(layoutIndex.readAll()).object();
    layoutIndex.close();
    QJsonArray platforms;
    for (const QJsonValue &entry : layout.value(u"manifests"_s).toArray()) {
        QJsonObject manifest = entry.toObject();
        const bool isNative = manifest.value(u"annotations"_s).toObject().value(u"org.opencontainers.image.ref.name"_s)
                              == u"native"_s;
        manifest.remove(u"annotations"_s);
        manifest.insert(u"platform"_s, QJsonObject{{u"os"_s, u"linux"_s},
                                                   {u"architecture"_s, isNative ? hostArchitecture() : foreign}});
        platforms.append(manifest);
    }
    const QByteArray index = QJsonDocument(QJsonObject{{u"schemaVersion"_s, 2},
                                                       {u"mediaType"_s, u"application/vnd.oci.image.index.v1+json"_s},
                                                       {u"manifests"_s, platforms}})
                                 .toJson(QJsonDocument::Compact);
    const QString indexDigest = Sha256::of(index);
    QFile indexBlob(m_shared.filePath(u"multi/blobs/sha256/"_s) + indexDigest.mid(7));
    QVERIFY(indexBlob.open(QIODevice::WriteOnly) && indexBlob.write(index) == index.size());
    indexBlob.close();
    QJsonArray entries = layout.value(u"manifests"_s).toArray();
    entries.append(QJsonObject{{u"mediaType"_s, u"application/vnd.oci.image.index.v1+json"_s},
                               {u"digest"_s, indexDigest},
                               {u"size"_s, index.size()},
                               {u"annotations"_s, QJsonObject{{u"org.opencontainers.image.ref.name"_s, u"multi"_s}}}});
    layout.insert(u"manifests"_s, entries);
    QVERIFY(layoutIndex.open(QIODevice::WriteOnly | QIODevice::Truncate));
    layoutIndex.write(QJsonDocument(layout).toJson());
    layoutIndex.close();
    QVERIFY2(m_registry.push(u"oci:%1:multi"_s.arg(m_shared.filePath(u"multi"_s)), u"test/multi:v1"_s),
             qPrintable(m_registry.failure()));

    // Large enough that a pull is still under way when the test cancels it.
    OciImage big(m_shared.filePath(u"big"_s), u"big"_s);
    QVERIFY2(big.create() && big.addLayer({{u"random"_s, randomBytes(24 << 20)}}), qPrintable(big.failure()));
    QVERIFY2(m_registry.push(big.source(), u"test/big:v1"_s), qPrintable(m_registry.failure()));
}

void TestPullImage::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestPullImage::pullsATaggedImage()
{
    const Outcome outcome = pull(m_registry.host() + u"/test/img:v1"_s, store());
    QVERIFY2(!outcome.error, qPrintable(describe(outcome)));
    const PulledImage &image = outcome.image;
    QCOMPARE(image.reference, m_registry.host() + u"/test/img:v1"_s);
    QCOMPARE(image.layers.size(), 2);
    QCOMPARE(image.referenceDigest, image.manifestDigest);
    const BlobStore blobs(store());
    for (const QString &digest : {image.manifestDigest, image.config.digest, image.layers.at(0).digest,
                                  image.layers.at(1).digest}) {
        QVERIFY2(blobs.hasBlob(digest), qPrintable(digest));
        QFile file(blobs.blobPath(digest));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(Sha256::of(file.readAll()), digest);
    }
    QCOMPARE(image.imageConfig.env.filter(u"X="_s), QStringList{u"X=1"_s});
    QCOMPARE(image.imageConfig.workingDir, u"/work"_s);
    QCOMPARE(image.imageConfig.user, u"1000:1000"_s);
    QCOMPARE(image.imageConfig.entrypoint, QStringList{u"/bin/sh"_s});
    QCOMPARE(image.imageConfig.cmd, (QStringList{u"-c"_s, u"true"_s}));
    QCOMPARE(image.imageConfig.diffIds.size(), 2);
    // Progress ends at everything, and never goes back.
    QVERIFY(!outcome.progressBytes.isEmpty());
    QCOMPARE(outcome.progressBytes.last(), image.config.size + image.layers.at(0).size + image.layers.at(1).size);
    QCOMPARE(outcome.bytesTotal, outcome.progressBytes.last());
    QVERIFY(std::is_sorted(outcome.progressBytes.begin(), outcome.progressBytes.end()));
    QCOMPARE(outcome.layersDone, 2);
    QVERIFY(temporaries().isEmpty());
}

void TestPullImage::pullsByDigest()
{
    const Outcome byTag = pull(m_registry.host() + u"/test/img:v1"_s, m_dir->filePath(u"first"_s));
    QVERIFY2(!byTag.error, qPrintable(describe(byTag)));
    const Outcome byDigest = pull(m_registry.host() + u"/test/img@"_s + byTag.image.manifestDigest, store());
    QVERIFY2(!byDigest.error, qPrintable(describe(byDigest)));
    QCOMPARE(byDigest.image.manifestDigest, byTag.image.manifestDigest);
    QCOMPARE(byDigest.image.layers.size(), 2);
    QVERIFY(BlobStore(store()).hasBlob(byDigest.image.layers.at(1).digest));

    // A digest of something else is no manifest there.
    const Outcome unknown = pull(m_registry.host() + u"/test/img@"_s + Sha256::of("no such manifest"), store());
    QVERIFY(unknown.error);
    QCOMPARE(unknown.error->code, u"IMAGE_NOT_FOUND"_s);
}

void TestPullImage::secondPullFetchesNoBlob()
{
    const QByteArray blobGets = "\"GET /v2/test/img/blobs/";
    const int before = m_registry.requestCount(blobGets);
    const Outcome first = pull(m_registry.host() + u"/test/img:v1"_s, store());
    QVERIFY2(!first.error, qPrintable(describe(first)));
    // The config and both layers, each once.
    QCOMPARE(m_registry.requestCount(blobGets), before + 3);
    const Outcome second = pull(m_registry.host() + u"/test/img:v1"_s, store());
    QVERIFY2(!second.error, qPrintable(describe(second)));
    QCOMPARE(m_registry.requestCount(blobGets), before + 3);
    QCOMPARE(second.image.manifestDigest, first.image.manifestDigest);
    QCOMPARE(second.image.imageConfig.workingDir, u"/work"_s);
    // All of it was there from the start.
    QCOMPARE(second.progressBytes.first(), second.bytesTotal);
}

void TestPullImage::picksTheHostPlatformOfAnIndex()
{
    const Outcome outcome = pull(m_registry.host() + u"/test/multi:v1"_s, store());
    QVERIFY2(!outcome.error, qPrintable(describe(outcome)));
    QVERIFY(outcome.image.referenceDigest != outcome.image.manifestDigest);
    QVERIFY(BlobStore(store()).hasBlob(outcome.image.referenceDigest));
    QVERIFY(BlobStore(store()).hasBlob(outcome.image.manifestDigest));
    QVERIFY2(outcome.image.imageConfig.env.contains(u"ARCH=native"_s), qPrintable(outcome.image.imageConfig.env.join(u' ')));

    // Asked for, the other platform.
    PullOptions options;
    options.architecture = hostArchitecture() == u"arm64"_s ? u"amd64"_s : u"arm64"_s;
    const Outcome other = pull(m_registry.host() + u"/test/multi:v1"_s, store(), options);
    QVERIFY2(!other.error, qPrintable(describe(other)));
    QVERIFY(other.image.imageConfig.env.contains(u"ARCH=other"_s));

    // One there is not.
    options.architecture = u"s390x"_s;
    const Outcome missing = pull(m_registry.host() + u"/test/multi:v1"_s, store(), options);
    QVERIFY(missing.error);
    QCOMPARE(missing.error->code, u"PLATFORM_NOT_FOUND"_s);
}

void TestPullImage::refusesATamperedBlob()
{
    // A registry of its own: the tampering must not reach the other tests.
    LocalRegistry registry;
    QVERIFY(serveTestImage(registry, u"registry"_s, u"test/img:v1"_s));
    const Outcome good = pull(registry.host() + u"/test/img:v1"_s, m_dir->filePath(u"reference"_s));
    QVERIFY2(!good.error, qPrintable(describe(good)));
    const QString layer = good.image.layers.at(1).digest;

    // The same size, other bytes: only the digest can tell.
    QFile data(registry.blobDataPath(layer));
    QVERIFY2(data.open(QIODevice::ReadWrite), qPrintable(data.fileName()));
    QByteArray content = data.readAll();
    content[content.size() / 2] = char(content.at(content.size() / 2) ^ 0x55);
    QVERIFY(data.seek(0) && data.write(content) == content.size());
    data.close();

    const Outcome tampered = pull(registry.host() + u"/test/img:v1"_s, store());
    QVERIFY(tampered.error);
    QCOMPARE(tampered.error->code, u"BLOB_DIGEST_MISMATCH"_s);
    QCOMPARE(tampered.error->kind, JobError::Kind::Invalid);
    QVERIFY2(tampered.error->message.contains(layer), qPrintable(tampered.error->message));
    QCOMPARE(tampered.error->context.value(u"blob"_s).toString(), layer);
    QVERIFY(!BlobStore(store()).hasBlob(layer));
    QVERIFY(temporaries().isEmpty());
}

void TestPullImage::refusesATamperedManifest()
{
    LocalRegistry registry;
    QVERIFY(serveTestImage(registry, u"registry"_s, u"test/img:v1"_s));
    QVERIFY2(registry.push(u"oci:%1:multi"_s.arg(m_shared.filePath(u"multi"_s)), u"test/multi:v1"_s),
             qPrintable(registry.failure()));
    const Outcome good = pull(registry.host() + u"/test/img:v1"_s, m_dir->filePath(u"reference"_s));
    QVERIFY2(!good.error, qPrintable(describe(good)));
    const Outcome goodIndex = pull(registry.host() + u"/test/multi:v1"_s, m_dir->filePath(u"reference"_s));
    QVERIFY2(!goodIndex.error, qPrintable(describe(goodIndex)));
    const QString manifest = good.image.manifestDigest;
    const QString platformManifest = goodIndex.image.manifestDigest;

    // One letter of each manifest changed, the size kept.
    for (const QString &digest : {manifest, platformManifest}) {
        QFile data(registry.blobDataPath(digest));
        QVERIFY2(data.open(QIODevice::ReadWrite), qPrintable(data.fileName()));
        QByteArray content = data.readAll();
        QVERIFY(content.contains("schemaVersion"));
        content.replace("schemaVersion", "SchemaVersion");
        QVERIFY(data.seek(0) && data.write(content) == content.size());
    }

    // Through the index, the manifest is checked against the index's descriptor.
    const Outcome throughIndex = pull(registry.host() + u"/test/multi:v1"_s, store());
    QVERIFY(throughIndex.error);
    QCOMPARE(throughIndex.error->code, u"BLOB_DIGEST_MISMATCH"_s);
    QVERIFY2(throughIndex.error->message.contains(platformManifest), qPrintable(throughIndex.error->message));
    QVERIFY(!BlobStore(store()).hasBlob(platformManifest));

    // By tag: the registry's Docker-Content-Digest is what it is checked against.
    for (const QString &text : {registry.host() + u"/test/img:v1"_s, registry.host() + u"/test/img@"_s + manifest}) {
        const Outcome tampered = pull(text, store());
        QVERIFY(tampered.error);
        QCOMPARE(tampered.error->code, u"BLOB_DIGEST_MISMATCH"_s);
        QVERIFY2(tampered.error->message.contains(manifest), qPrintable(tampered.error->message));
        QVERIFY(!BlobStore(store()).hasBlob(manifest));
    }
}

void TestPullImage::missingImageIsNotFound()
{
    for (const QString &missing : {u"/test/img:no-such-tag"_s, u"/test/no-such-repository:v1"_s}) {
        const Outcome outcome = pull(m_registry.host() + missing, store());
        QVERIFY(outcome.error);
        QCOMPARE(outcome.error->code, u"IMAGE_NOT_FOUND"_s);
        QCOMPARE(outcome.error->kind, JobError::Kind::Invalid);
        QVERIFY2(outcome.error->message.contains(m_registry.host() + missing), qPrintable(outcome.error->message));
        QCOMPARE(outcome.error->context.value(u"registry"_s).toString(), m_registry.host());
        QCOMPARE(outcome.error->context.value(u"image"_s).toString(), m_registry.host() + missing);
    }
}

void TestPullImage::unreachableRegistryIsInfra()
{
    QTcpServer closed;
    QVERIFY(closed.listen(QHostAddress::LocalHost, 0));
    const quint16 port = closed.serverPort();
    closed.close();
    const Outcome outcome = pull(u"127.0.0.1:%1/test/img:v1"_s.arg(port), store());
    QVERIFY(outcome.error);
    QCOMPARE(outcome.error->code, u"REGISTRY_UNREACHABLE"_s);
    QCOMPARE(outcome.error->kind, JobError::Kind::Infra);
    QVERIFY2(outcome.error->message.contains(u"127.0.0.1:%1"_s.arg(port)), qPrintable(outcome.error->message));
}

void TestPullImage::failingRegistryIsInfra()
{
    LocalRegistry registry;
    QVERIFY(serveTestImage(registry, u"registry"_s, u"test/img:v1"_s));
    // The tag's link, which the registry reads, made unreadable: it answers 500.
    const QString link = registry.storageDirectory()
                         + u"/docker/registry/v2/repositories/test/img/_manifests/tags/v1/current/link"_s;
    QVERIFY(QFile::remove(link) && QDir().mkdir(link));
    const Outcome outcome = pull(registry.host() + u"/test/img:v1"_s, store());
    QVERIFY(outcome.error);
    QCOMPARE(outcome.error->code, u"REGISTRY_ERROR"_s);
    QCOMPARE(outcome.error->kind, JobError::Kind::Infra);
    QVERIFY2(outcome.error->message.contains(u"HTTP 500"_s), qPrintable(outcome.error->message));
}

void TestPullImage::silentRegistryTimesOut()
{
    // Takes connections and never says a word.
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    PullOptions options;
    options.silenceLimitMs = 300;
    QElapsedTimer clock;
    clock.start();
    const Outcome outcome = pull(u"127.0.0.1:%1/test/img:v1"_s.arg(silent.serverPort()), store(), options);
    QVERIFY(outcome.error);
    QCOMPARE(outcome.error->code, u"REGISTRY_UNREACHABLE"_s);
    QCOMPARE(outcome.error->kind, JobError::Kind::Infra);
    QVERIFY2(clock.elapsed() < 10'000, qPrintable(QString::number(clock.elapsed())));
}

void TestPullImage::basicAuthentication()
{
    LocalRegistry registry;
    registry.setAuth(LocalRegistry::Auth::Basic);
    registry.setUser(u"puller"_s, u"s3cret"_s);
    QVERIFY(serveTestImage(registry, u"registry"_s, u"private/img:v1"_s));
    const QString image = registry.host() + u"/private/img:v1"_s;

    const Outcome anonymous = pull(image, store());
    QVERIFY(anonymous.error);
    QCOMPARE(anonymous.error->code, u"REGISTRY_AUTH_REQUIRED"_s);
    QVERIFY2(anonymous.error->message.contains(u"credentials"_s), qPrintable(anonymous.error->message));

    PullOptions wrong;
    wrong.credentials = RegistryCredentials{u"puller"_s, u"guess"_s};
    const Outcome refused = pull(image, store(), wrong);
    QVERIFY(refused.error);
    QCOMPARE(refused.error->code, u"REGISTRY_AUTH_FAILED"_s);
    QCOMPARE(refused.error->kind, JobError::Kind::Invalid);
    QVERIFY2(refused.error->message.contains(u"turned the credentials down"_s), qPrintable(refused.error->message));

    PullOptions right;
    right.credentials = RegistryCredentials{u"puller"_s, u"s3cret"_s};
    const Outcome pulled = pull(image, store(), right);
    QVERIFY2(!pulled.error, qPrintable(describe(pulled)));
    QCOMPARE(pulled.image.layers.size(), 2);

    // From a config.json, into a store of its own so that the blobs are fetched again.
    PullOptions fromConfig;
    fromConfig.dockerConfig = QJsonDocument(QJsonObject{
        {u"auths"_s, QJsonObject{{registry.host(), QJsonObject{{u"auth"_s, QString::fromLatin1(QByteArray("puller:s3cret").toBase64())}}}}}})
                                  .toJson();
    const Outcome configured = pull(image, m_dir->filePath(u"second"_s), fromConfig);
    QVERIFY2(!configured.error, qPrintable(describe(configured)));
}

void TestPullImage::tokenAuthentication()
{
    // The token service: what the registry's challenges send clients to. The registry takes
    // any token ("silly" auth); this one gives one to anyone but "intruder".
    QHttpServer tokens;
    QList<QUrlQuery> asked;
    QList<QByteArray> authorizations;
    tokens.route(u"/token"_s, [&](const QHttpServerRequest &request) {
        asked.append(request.query());
        authorizations.append(request.value("Authorization"));
        if (request.value("Authorization") == "Basic " + QByteArray("intruder:x").toBase64())
            return QHttpServerResponse(QHttpServerResponder::StatusCode::Unauthorized);
        return QHttpServerResponse(QJsonObject{{u"token"_s, u"granted"_s}, {u"expires_in"_s, 300}});
    });
    const quint16 tokenPort = tokens.listen(QHostAddress::LocalHost, 0);
    QVERIFY(tokenPort != 0);

    LocalRegistry registry;
    registry.setAuth(LocalRegistry::Auth::Token);
    registry.setTokenRealm(u"http://127.0.0.1:%1/token"_s.arg(tokenPort));
    QVERIFY(serveTestImage(registry, u"registry"_s, u"test/img:v1"_s));
    const QString image = registry.host() + u"/test/img:v1"_s;

    // Anonymous, as Docker Hub's public images: one token for the whole pull.
    const Outcome anonymous = pull(image, store());
    QVERIFY2(!anonymous.error, qPrintable(describe(anonymous)));
    QCOMPARE(asked.size(), 1);
    QCOMPARE(asked.first().queryItemValue(u"service"_s), u"sandflow-test"_s);
    QCOMPARE(asked.first().queryItemValue(u"scope"_s), u"repository:test/img:pull"_s);
    QVERIFY(authorizations.first().isEmpty());

    // With credentials, the token service sees them.
    PullOptions user;
    user.credentials = RegistryCredentials{u"member"_s, u"pw"_s};
    const Outcome withUser = pull(image, m_dir->filePath(u"second"_s), user);
    QVERIFY2(!withUser.error, qPrintable(describe(withUser)));
    QCOMPARE(authorizations.last(), "Basic " + QByteArray("member:pw").toBase64());

    PullOptions intruder;
    intruder.credentials = RegistryCredentials{u"intruder"_s, u"x"_s};
    const Outcome refused = pull(image, m_dir->filePath(u"third"_s), intruder);
    QVERIFY(refused.error);
    QCOMPARE(refused.error->code, u"REGISTRY_AUTH_FAILED"_s);

    // A token service that is gone fails the pull as the machinery's fault.
    LocalRegistry orphaned;
    orphaned.setAuth(LocalRegistry::Auth::Token);
    QTcpServer nobody;
    QVERIFY(nobody.listen(QHostAddress::LocalHost, 0));
    orphaned.setTokenRealm(u"http://127.0.0.1:%1/token"_s.arg(nobody.serverPort()));
    nobody.close();
    QVERIFY2(orphaned.start(m_dir->filePath(u"orphaned"_s)), qPrintable(orphaned.failure()));
    const Outcome unavailable = pull(orphaned.host() + u"/test/img:v1"_s, m_dir->filePath(u"fourth"_s));
    QVERIFY(unavailable.error);
    QCOMPARE(unavailable.error->code, u"REGISTRY_AUTH_UNAVAILABLE"_s);
    QCOMPARE(unavailable.error->kind, JobError::Kind::Infra);
}

void TestPullImage::mirrorIsAskedFirst()
{
    // The reference names a registry that is down; its mirror holds the image.
    QTcpServer closed;
    QVERIFY(closed.listen(QHostAddress::LocalHost, 0));
    const QString down = u"127.0.0.1:%1"_s.arg(closed.serverPort());
    closed.close();
    PullOptions options;
    options.mirrors.insert(down, {u"http://127.0.0.1:1"_s, m_registry.url()});
    const int before = m_registry.requestCount("\"GET /v2/test/img/");
    const Outcome outcome = pull(down + u"/test/img:v1"_s, store(), options);
    QVERIFY2(!outcome.error, qPrintable(describe(outcome)));
    QCOMPARE(outcome.image.reference, down + u"/test/img:v1"_s);
    QCOMPARE(outcome.image.layers.size(), 2);
    // The manifest, the config and two layers, from the mirror.
    QCOMPARE(m_registry.requestCount("\"GET /v2/test/img/"), before + 4);

    // Without the mirror, the registry's own failure is what is reported.
    const Outcome direct = pull(down + u"/test/img:v1"_s, m_dir->filePath(u"second"_s));
    QVERIFY(direct.error);
    QCOMPARE(direct.error->code, u"REGISTRY_UNREACHABLE"_s);
}

void TestPullImage::blobAMirrorLacksComesFromTheRegistry()
{
    // A mirror with the image but one layer's content gone, as a cache that lost it.
    LocalRegistry mirror;
    QVERIFY(serveTestImage(mirror, u"mirror"_s, u"test/img:v1"_s));
    const Outcome reference = pull(mirror.host() + u"/test/img:v1"_s, m_dir->filePath(u"reference"_s));
    QVERIFY2(!reference.error, qPrintable(describe(reference)));
    const QString lost = reference.image.layers.at(1).digest;
    QVERIFY(QFile::remove(mirror.blobDataPath(lost)));

    PullOptions options;
    options.mirrors.insert(m_registry.host(), {mirror.url()});
    const QByteArray lostGets = "\"GET /v2/test/img/blobs/" + lost.toLatin1();
    const int before = m_registry.requestCount("\"GET /v2/test/img/");
    const int lostBefore = m_registry.requestCount(lostGets);
    const Outcome outcome = pull(m_registry.host() + u"/test/img:v1"_s, store(), options);
    QVERIFY2(!outcome.error, qPrintable(describe(outcome)));
    QVERIFY(BlobStore(store()).hasBlob(lost));
    // The registry was asked for that blob alone.
    QCOMPARE(m_registry.requestCount("\"GET /v2/test/img/"), before + 1);
    QCOMPARE(m_registry.requestCount(lostGets), lostBefore + 1);
    QCOMPARE(outcome.progressBytes.last(), outcome.bytesTotal);
}

void TestPullImage::followsBlobRedirects()
{
    // Blobs come from another server, as from a registry in front of object storage; the
    // registry wants credentials, the storage server does not.
    LocalRegistry registry;
    registry.setAuth(LocalRegistry::Auth::Basic);
    registry.setUser(u"puller"_s, u"s3cret"_s);
    registry.setRedirectBlobs(true);
    QVERIFY(serveTestImage(registry, u"registry"_s, u"test/img:v1"_s));
    PullOptions options;
    options.credentials = RegistryCredentials{u"puller"_s, u"s3cret"_s};
    const Outcome outcome = pull(registry.host() + u"/test/img:v1"_s, store(), options);
    QVERIFY2(!outcome.error, qPrintable(describe(outcome)));
    QVERIFY(BlobStore(store()).hasBlob(outcome.image.layers.at(1).digest));
    // The config and two layers, each redirected once and fetched from storage.
    QCOMPARE(registry.requestCount("\"GET /v2/test/img/blobs/"), 3);
    QCOMPARE(registry.storageRequestCount("\"GET /docker/registry/v2/blobs/sha256/"), 3);
}

void TestPullImage::concurrentPullsStoreEachBlobOnce()
{
    const QByteArray blobGets = "\"GET /v2/test/big/blobs/";
    const int before = m_registry.requestCount(blobGets);
    PullImageJob first(reference(m_registry.host() + u"/test/big:v1"_s), store());
    PullImageJob second(reference(m_registry.host() + u"/test/big:v1"_s), store());
    first.setAutoDelete(false);
    second.setAutoDelete(false);
    QSignalSpy firstDone(&first, &AsyncJob::finished);
    QSignalSpy secondDone(&second, &AsyncJob::finished);
    first.start();
    second.start();
    QTRY_VERIFY_WITH_TIMEOUT(firstDone.size() == 1 && secondDone.size() == 1, PullLimitMs);
    QVERIFY2(!first.error(), qPrintable(describe(first.error())));
    QVERIFY2(!second.error(), qPrintable(describe(second.error())));
    QCOMPARE(first.result().layers.size(), 1);
    QVERIFY(BlobStore(store()).hasBlob(first.result().layers.first().digest));
    // The config and the layer, fetched by one of the two; the other waited for them.
    QCOMPARE(m_registry.requestCount(blobGets), before + 2);
    QVERIFY(temporaries().isEmpty());
}

void TestPullImage::pullsOfTwoProcessesStoreEachBlobOnce()
{
    const QByteArray blobGets = "\"GET /v2/test/big/blobs/";
    const int before = m_registry.requestCount(blobGets);
    // This program again, as a puller of its own (see main()).
    QProcess first;
    QProcess second;
    for (QProcess *process : {&first, &second}) {
        process->setProcessChannelMode(QProcess::ForwardedErrorChannel);
        process->start(QCoreApplication::applicationFilePath(),
                       {u"--pull"_s, m_registry.host() + u"/test/big:v1"_s, store()});
    }
    for (QProcess *process : {&first, &second}) {
        QVERIFY(process->waitForFinished(PullLimitMs));
        QCOMPARE(process->exitStatus(), QProcess::NormalExit);
        QCOMPARE(process->exitCode(), 0);
    }
    QCOMPARE(m_registry.requestCount(blobGets), before + 2);
    QVERIFY(temporaries().isEmpty());
}

void TestPullImage::cancelLeavesNothingHalfWritten()
{
    PullImageJob job(reference(m_registry.host() + u"/test/big:v1"_s), store());
    job.setAutoDelete(false);
    QSignalSpy finished(&job, &AsyncJob::finished);
    qint64 total = 0;
    // Cancelled once part of the layer is in: a temporary file is being written then.
    bool sawTemporary = false;
    QObject::connect(&job, &PullImageJob::progress, &job, [&](qint64 done, qint64 bytesTotal, int, int) {
        total = bytesTotal;
        if (done > (1 << 20) && done < bytesTotal / 2 && !job.isFinished()) {
            sawTemporary = !temporaries().isEmpty();
            job.cancel();
        }
    });
    job.start();
    QVERIFY(finished.wait(PullLimitMs));
    QVERIFY(job.error());
    QCOMPARE(job.error()->kind, JobError::Kind::Cancelled);
    QVERIFY(sawTemporary);
    QVERIFY(temporaries().isEmpty());
    // What it had left is no obstacle: a new pull brings it all.
    const Outcome again = pull(m_registry.host() + u"/test/big:v1"_s, store());
    QVERIFY2(!again.error, qPrintable(describe(again)));
    QCOMPARE(again.progressBytes.last(), total);
}

void TestPullImage::removesWhatAKilledPullLeft()
{
    const Outcome first = pull(m_registry.host() + u"/test/img:v1"_s, m_dir->filePath(u"reference"_s));
    QVERIFY2(!first.error, qPrintable(describe(first)));
    // What a pull killed while writing the layer leaves: its temporary file, no lock held.
    QVERIFY(QDir().mkpath(store() + u"/tmp"_s));
    const QString stale = store() + u"/tmp/"_s + first.image.layers.at(0).digest.mid(7, 16) + u".aB3xYz"_s;
    QFile left(stale);
    QVERIFY(left.open(QIODevice::WriteOnly) && left.write("half a layer") > 0);
    left.close();
    const Outcome outcome = pull(m_registry.host() + u"/test/img:v1"_s, store());
    QVERIFY2(!outcome.error, qPrintable(describe(outcome)));
    QVERIFY(!QFile::exists(stale));
    QVERIFY(temporaries().isEmpty());
}

void TestPullImage::killedPullLeavesOnlyVerifiedBlobs_data()
{
    QTest::addColumn<qint64>("writtenBytes");
    // The first temporary file is the manifest's, written at once; one of over a MiB, the
    // layer's, being downloaded.
    QTest::newRow("writing the manifest") << qint64(0);
    QTest::newRow("writing a layer") << qint64(1 << 20);
}

void TestPullImage::killedPullLeavesOnlyVerifiedBlobs()
{
    QFETCH(qint64, writtenBytes);
    const auto writing = [this, writtenBytes] {
        const QString directory = store() + u"/tmp"_s;
        const QStringList names = entriesOf(directory);
        return std::any_of(names.begin(), names.end(), [&](const QString &name) {
            return QFileInfo(directory + u'/' + name).size() >= writtenBytes;
        });
    };
    // A puller of its own (see main()), killed while it writes a blob.
    QProcess puller;
    puller.start(QCoreApplication::applicationFilePath(), {u"--pull"_s, m_registry.host() + u"/test/big:v1"_s, store()});
    QVERIFY(puller.waitForStarted());
    QElapsedTimer clock;
    clock.start();
    while (!writing() && puller.state() == QProcess::Running && clock.elapsed() < PullLimitMs)
        QThread::usleep(200);
    QVERIFY2(writing(), "the puller was never seen writing");
    puller.kill();
    QVERIFY(puller.waitForFinished());

    // Whatever is under a digest's name is that content.
    const QString blobs = store() + u"/blobs/sha256"_s;
    for (const QString &name : entriesOf(blobs)) {
        QFile blob(blobs + u'/' + name);
        QVERIFY(blob.open(QIODevice::ReadOnly));
        QCOMPARE(Sha256::of(blob.readAll()), u"sha256:"_s + name);
    }
    const Outcome again = pull(m_registry.host() + u"/test/big:v1"_s, store());
    QVERIFY2(!again.error, qPrintable(describe(again)));
    QVERIFY2(temporaries().isEmpty(), qPrintable(temporaries().join(u' ')));
}

// With `--pull REFERENCE STORE`, one pull and nothing else: a second process for
// pullsOfTwoProcessesStoreEachBlobOnce. Exits 0 when it succeeded.
int main(int argc, char **argv)
{
    QCoreApplication application(argc, argv);
    const QStringList arguments = application.arguments();
    if (arguments.size() == 4 && arguments.at(1) == u"--pull"_s) {
        PullImageJob job(reference(arguments.at(2)), arguments.at(3));
        job.setAutoDelete(false);
        QObject::connect(&job, &AsyncJob::finished, &application, [&job] {
            if (job.error())
                qWarning("%s", qPrintable(describe(job.error())));
            QCoreApplication::exit(job.error() ? 1 : 0);
        });
        job.start();
        return application.exec();
    }
    TestPullImage test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}
#include "tst_pullimage.moc"
