// Real images on the local runner: OCI layouts and `docker save` archives written by the test,
// unpacked into the store, run by real sandboxes under their writable layers.
#include "imagestore.h"
#include "localregistry.h"
#include "localrunner.h"
#include "localrunnertesting.h"
#include "ocilayoutwriter.h"
#include "opensandboxrunner.h"
#include "serveprocess.h"

#include <QDirIterator>
#include <QtConcurrent/QtConcurrentRun>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace RunnerTesting;
using namespace Sandflow;

class TestLocalImages : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void configIsHonoured();
    void writesStayInTheSandboxesLayer();
    void layersApplyInOrder();
    void aLayerThatEscapesIsRefused();
    void aTamperedBlobIsRefused();
    void linksOnTheWayToMountPointsAreRefused_data();
    void linksOnTheWayToMountPointsAreRefused();
    void dockerArchivesRun();
    void pullNeverFailsClearly();
    void concurrentSandboxesUnpackOnce();
    void endingACreationWhileTheImageUnpacksLeavesNothing_data();
    void endingACreationWhileTheImageUnpacksLeavesNothing();
    void pruneKeepsWhatIsInUse();
    void imagesCommand();
    void throughServe();
    void registryImagesRunAndAreCached();
    void registryCredentials();
    void unreachableRegistry();

private:
    LocalRunner::Options options() const;
    /// A layout under the test's directory holding `spec` as NAME:t; its `oci-layout:` reference.
    QString layout(const QString &name, ImageSpec spec, OciLayoutWriter **writer = nullptr);
    QString storeDirectory() const { return m_state->filePath(u"images"_s); }
    /// The directories of unpacked roots in the store.
    QStringList roots() const;
    /// An OpenSandbox client of `server`.
    static OpenSandboxRunner::Options clientOptions(const ServeProcess &server);
    /// What an SDK asks a server for: `image`, and a main process that outlives the test.
    static SandboxRequest servedSandbox(const QString &image);

    LayerWriter m_base;
    std::unique_ptr<QTemporaryDir> m_state;
    QTemporaryDir m_layouts;
    std::vector<std::unique_ptr<OciLayoutWriter>> m_writers;
};

void TestLocalImages::initTestCase()
{
    QVERIFY(m_layouts.isValid());
    // A base layer with a shell and a few tools from this machine, and users of its own.
    m_base = OciLayoutWriter::hostProgramsLayer({u"/bin/sh"_s, u"/usr/bin/id"_s, u"/usr/bin/cat"_s, u"/usr/bin/ls"_s,
                                                 u"/usr/bin/mkdir"_s, u"/usr/bin/wc"_s, u"/usr/bin/sleep"_s});
    m_base.directory("etc").directory("var").directory("var/lib").directory("home")
        .file("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n")
        .file("etc/group", "root:x:0:\napp:x:1000:\n")
        .file("etc/shadow", "root:*:19000::::::\n", 0600)
        .file("etc/marker", "from the image\n")
        .add({"home/app", AE_IFDIR, 0700, {}, {}, {}, 1000, 1000});
}

void TestLocalImages::init()
{
    m_state = std::make_unique<QTemporaryDir>();
    QVERIFY(m_state->isValid());
}

LocalRunner::Options TestLocalImages::options() const
{
    LocalRunner::Options options;
    options.agentPath = QStringLiteral(SANDFLOW_AGENT_PATH);
    options.stateDirectory = m_state->path();
    return options;
}

QString TestLocalImages::layout(const QString &name, ImageSpec spec, OciLayoutWriter **writer)
{
    spec.layers.prepend(m_base);
    m_writers.push_back(std::make_unique<OciLayoutWriter>(m_layouts.filePath(name)));
    if (!m_writers.back()->add(u"t"_s, spec))
        return {};
    if (writer)
        *writer = m_writers.back().get();
    return u"oci-layout:"_s + m_layouts.filePath(name) + u":t"_s;
}

QStringList TestLocalImages::roots() const
{
    return QDir(storeDirectory() + u"/roots"_s).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
}

OpenSandboxRunner::Options TestLocalImages::clientOptions(const ServeProcess &server)
{
    OpenSandboxRunner::Options options;
    options.server.domain = server.url();
    options.server.apiKey = server.apiKey();
    return options;
}

SandboxRequest TestLocalImages::servedSandbox(const QString &image)
{
    return sandbox([&](SandboxRequest &r) {
        r.image = image;
        r.entrypoint = {u"/bin/sh"_s, u"-c"_s, u"exec sleep 600"_s};
    });
}

void TestLocalImages::configIsHonoured()
{
    ImageSpec spec;
    spec.env = {u"GREETING=hello"_s, u"PATH=/usr/bin:/bin"_s, u"OVERRIDDEN=image"_s};
    spec.workingDir = u"/srv/app"_s;   // not in the image: made, as Docker does
    spec.user = u"app"_s;
    // The entrypoint, then the command as its arguments.
    spec.entrypoint = {u"sh"_s, u"-c"_s};
    spec.cmd = {u"id -u > /tmp/started-as"_s};
    const QString image = layout(u"config"_s, spec);
    QVERIFY(!image.isEmpty());
    LocalRunner runner(options());
    const QString id = create(&runner, sandbox([&](SandboxRequest &r) {
        r.image = image;
        r.env.insert(u"OVERRIDDEN"_s, u"request"_s);
    }));
    QVERIFY(!id.isEmpty());
    QCOMPARE(shellOutput(&runner, id, u"id -un; pwd; echo $GREETING $OVERRIDDEN $PATH; cat /etc/marker"_s),
             QByteArray("app\n/srv/app\nhello request /usr/bin:/bin\nfrom the image\n"));
    // The image's command ran as the sandbox started, as its user.
    QTRY_COMPARE(shellOutput(&runner, id, u"cat /tmp/started-as 2>/dev/null"_s), QByteArray("1000\n"));
    // A step that names a user is that user; the image's root is the sandbox's root.
    std::unique_ptr<CommandJob> asRoot(runner.runCommand(id, command(u"id -u; cat /etc/shadow"_s, [](CommandRequest &c) {
        c.uid = 0;
    })));
    QCOMPARE(collect(asRoot.get()).out, QByteArray("0\nroot:*:19000::::::\n"));
    // An image whose user does not exist cannot start.
    ImageSpec unknown;
    unknown.user = u"nobody-here"_s;
    const QString unknownImage = layout(u"unknown-user"_s, unknown);
    std::optional<JobError> error = errorOf(runner.createSandbox(sandbox([&](SandboxRequest &r) { r.image = unknownImage; })));
    QVERIFY(error);
    QCOMPARE(error->code, u"IMAGE_USER_UNKNOWN"_s);
    QVERIFY2(error->message.contains(u"nobody-here"_s), qPrintable(error->message));
    // Nor one whose user is beyond the sandbox's ids.
    ImageSpec beyond;
    beyond.user = u"70000:70000"_s;
    const QString beyondImage = layout(u"beyond-user"_s, beyond);
    error = errorOf(runner.createSandbox(sandbox([&](SandboxRequest &r) { r.image = beyondImage; })));
    QVERIFY(error);
    QCOMPARE(error->code, u"IMAGE_USER_UNKNOWN"_s);
    QVERIFY2(error->message.contains(u"beyond the 65536 ids"_s), qPrintable(error->message));
}

void TestLocalImages::writesStayInTheSandboxesLayer()
{
    const QString image = layout(u"writes"_s, {});
    LocalRunner runner(options());
    const QString first = create(&runner, sandbox([&](SandboxRequest &r) { r.image = image; }));
    QVERIFY(!first.isEmpty());
    // What a package manager does: state under /var, programs under /usr, a changed config.
    QCOMPARE(shellOutput(&runner, first, u"mkdir -p /var/lib/dpkg && echo installed > /var/lib/dpkg/status && "
                                         u"echo tool > /usr/bin/newtool && echo changed > /etc/marker && "
                                         u"mkdir /root/.cache && cat /var/lib/dpkg/status /usr/bin/newtool /etc/marker && "
                                         u"ls -d /var /root /home /run /opt /srv /mnt /tmp /workspace | wc -l"_s),
             QByteArray("installed\ntool\nchanged\n9\n"));
    // What holds images' and sandboxes' files (setuid programs among them, with their owners)
    // is no one's on the host but the runner's.
    const QFileDevice::Permissions ownerOnly = QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner;
    for (const QString &directory : {storeDirectory(), storeDirectory() + u"/roots"_s, m_state->filePath(u"layers"_s)}) {
        QVERIFY2((QFileInfo(directory).permissions() & ~(ownerOnly | QFile::ReadUser | QFile::WriteUser | QFile::ExeUser))
                     == QFileDevice::Permissions(),
                 qPrintable(directory));
    }
    // The image's root in the store is as it was; the next sandbox starts from it.
    const QStringList unpacked = roots();
    QCOMPARE(unpacked.size(), 1);
    const QString root = storeDirectory() + u"/roots/"_s + unpacked.first();
    QCOMPARE(OciLayoutWriter::readAll(root + u"/etc/marker"_s), QByteArray("from the image\n"));
    QVERIFY(!QFile::exists(root + u"/usr/bin/newtool"_s));
    const QString second = create(&runner, sandbox([&](SandboxRequest &r) { r.image = image; }));
    QCOMPARE(shellOutput(&runner, second, u"cat /etc/marker; test -e /usr/bin/newtool || echo no-tool; "
                                          u"test -e /var/lib/dpkg/status || echo no-status"_s),
             QByteArray("from the image\nno-tool\nno-status\n"));
    // The first sandbox's writes are in its layer, which goes with it.
    const QString layer = m_state->filePath(u"layers/"_s + first);
    QCOMPARE(OciLayoutWriter::readAll(layer + u"/upper/usr/bin/newtool"_s), QByteArray("tool\n"));
    QVERIFY(!errorOf(runner.deleteSandbox(first)));
    QTRY_VERIFY(!QFileInfo::exists(layer));
}

void TestLocalImages::layersApplyInOrder()
{
    ImageSpec spec;
    LayerWriter first;
    first.directory("opt/old").file("opt/old/a", "a").file("opt/old/b", "b").file("etc/gone", "x");
    LayerWriter second;
    second.whiteout("etc/gone").directory("opt/old").file("opt/old/.wh..wh..opq", {}).file("opt/old/c", "c");
    spec.layers = {first, second};
    const QString image = layout(u"layers"_s, spec);
    LocalRunner runner(options());
    const QString id = create(&runner, sandbox([&](SandboxRequest &r) { r.image = image; }));
    QCOMPARE(shellOutput(&runner, id, u"ls /opt/old; test -e /etc/gone || echo gone"_s), QByteArray("c\ngone\n"));
}

void TestLocalImages::aLayerThatEscapesIsRefused()
{
    ImageSpec spec;
    spec.layers = {LayerWriter().file("../../escaped-by-a-layer", "x")};
    const QString image = layout(u"escape"_s, spec);
    LocalRunner runner(options());
    const std::optional<JobError> error = errorOf(runner.createSandbox(sandbox([&](SandboxRequest &r) { r.image = image; })));
    QVERIFY(error);
    QCOMPARE(error->code, u"LAYER_REFUSED"_s);
    QCOMPARE(error->kind, JobError::Kind::Invalid);
    QVERIFY2(error->message.contains(u"escaped-by-a-layer"_s), qPrintable(error->message));
    QVERIFY(runner.sandboxes().isEmpty());
    QVERIFY(roots().isEmpty());
    QVERIFY(QDir(storeDirectory() + u"/tmp"_s).isEmpty());
    QDirIterator written(m_state->path(), {u"escaped-by-a-layer"_s}, QDir::Files, QDirIterator::Subdirectories);
    QVERIFY(!written.hasNext());
    QVERIFY(!QFile::exists(QFileInfo(m_state->path()).path() + u"/escaped-by-a-layer"_s));
}

// bubblewrap makes its mount points before it switches root, following links, the host's
// root reachable as /oldroot: an image must not be able to point them at the host.
void TestLocalImages::linksOnTheWayToMountPointsAreRefused_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<ImageSpec>("spec");
    // A host directory that exists: bubblewrap would make things in it.
    const QByteArray target = "/oldroot" + QFile::encodeName(m_layouts.filePath(u"escaped"_s));
    ImageSpec tmp;
    tmp.layers = {LayerWriter().symlink("tmp", target)};
    QTest::newRow("/tmp a link") << u"tmp-link"_s << tmp;
    ImageSpec agent;
    agent.layers = {LayerWriter().symlink(".sandflow", target)};
    QTest::newRow("the agent's place a link") << u"agent-link"_s << agent;
    ImageSpec var;
    var.layers = {LayerWriter().symlink("var", "../.." + target)};
    QTest::newRow("/var a relative link") << u"var-link"_s << var;
    ImageSpec workingDir;
    workingDir.workingDir = u"/../.."_s + QString::fromUtf8(target);
    QTest::newRow("WorkingDir climbing out") << u"workdir-climbs"_s << workingDir;
    ImageSpec workingDirLink;
    workingDirLink.layers = {LayerWriter().symlink("app", target)};
    workingDirLink.workingDir = u"/app/src"_s;
    QTest::newRow("WorkingDir through a link") << u"workdir-link"_s << workingDirLink;
}

void TestLocalImages::linksOnTheWayToMountPointsAreRefused()
{
    QFETCH(QString, name);
    QFETCH(ImageSpec, spec);
    QVERIFY(QDir().mkpath(m_layouts.filePath(u"escaped"_s)));
    const QString image = layout(name, spec);
    LocalRunner runner(options());
    const std::optional<JobError> error = errorOf(runner.createSandbox(sandbox([&](SandboxRequest &r) { r.image = image; })));
    QVERIFY2(QDir(m_layouts.filePath(u"escaped"_s)).isEmpty(),
             qPrintable(QDir(m_layouts.filePath(u"escaped"_s)).entryList(QDir::AllEntries | QDir::NoDotAndDotDot).join(u' ')));
    QVERIFY(error);
    QCOMPARE(error->code, u"ROOTFS_UNSAFE"_s);
    QCOMPARE(error->kind, JobError::Kind::Invalid);
    QVERIFY2(error->message.contains(image.section(u':', 0, -2).mid(11)) || error->message.contains(u"oci-layout:"_s),
             qPrintable(error->message));
    QVERIFY(runner.sandboxes().isEmpty());
    QTRY_VERIFY(QDir(m_state->filePath(u"layers"_s)).isEmpty());
}

void TestLocalImages::aTamperedBlobIsRefused()
{
    ImageSpec spec;
    spec.layers = {LayerWriter().file("etc/extra", "extra")};
    OciLayoutWriter *writer = nullptr;
    const QString image = layout(u"tampered"_s, spec, &writer);
    QFile blob(writer->blobPath(writer->lastLayerDigest()));
    QVERIFY(blob.open(QIODevice::ReadWrite));
    QByteArray data = blob.readAll();
    data[data.size() / 2] = char(data[data.size() / 2] ^ 0x55);
    QVERIFY(blob.seek(0) && blob.write(data) == data.size());
    blob.close();
    LocalRunner runner(options());
    const std::optional<JobError> error = errorOf(runner.createSandbox(sandbox([&](SandboxRequest &r) { r.image = image; })));
    QVERIFY(error);
    QCOMPARE(error->code, u"IMAGE_IMPORT_FAILED"_s);
    QCOMPARE(error->kind, JobError::Kind::Infra);
    QVERIFY2(error->message.contains(writer->lastLayerDigest()) && error->message.contains(u"does not match"_s),
             qPrintable(error->message));
    QVERIFY(!ImageStore(storeDirectory()).blobs().hasBlob(writer->lastLayerDigest()));
    QVERIFY(QDir(storeDirectory() + u"/tmp"_s).isEmpty());
}

void TestLocalImages::dockerArchivesRun()
{
    if (QStandardPaths::findExecutable(u"skopeo"_s).isEmpty())
        QSKIP("skopeo (Debian package skopeo) is needed to write a docker save archive");
    ImageSpec spec;
    spec.env = {u"FROM_ARCHIVE=yes"_s};
    spec.layers = {LayerWriter().file("etc/archived", "archived\n")};
    const QString source = layout(u"for-archive"_s, spec);
    const QString archive = m_layouts.filePath(u"saved.tar"_s);
    QProcess skopeo;
    skopeo.start(u"skopeo"_s, {u"copy"_s, u"--quiet"_s, u"oci:"_s + source.mid(11),
                              u"docker-archive:"_s + archive + u":saved/image:1"_s});
    QVERIFY(skopeo.waitForFinished(120000));
    QVERIFY2(skopeo.exitCode() == 0, skopeo.readAllStandardError().constData());
    LocalRunner runner(options());
    const QString id = create(&runner, sandbox([&](SandboxRequest &r) { r.image = u"docker-archive:"_s + archive; }));
    QVERIFY(!id.isEmpty());
    QCOMPARE(shellOutput(&runner, id, u"cat /etc/archived; echo $FROM_ARCHIVE"_s), QByteArray("archived\nyes\n"));
    // A tar that is no `docker save` output, its documents however many and large: refused by
    // name, each document read alone (an archive's size bounds nothing held in memory).
    LayerWriter notAnImage;
    for (int i = 0; i < 8; ++i)
        notAnImage.file(QByteArray("blobs/large-") + QByteArray::number(i) + ".json", QByteArray(3 << 20, '{'));
    const QString other = m_layouts.filePath(u"not-an-image.tar"_s);
    QVERIFY(notAnImage.write(other));
    const std::optional<JobError> error =
        errorOf(runner.createSandbox(sandbox([&](SandboxRequest &r) { r.image = u"docker-archive:"_s + other; })));
    QVERIFY(error);
    QCOMPARE(error->code, u"IMAGE_IMPORT_FAILED"_s);
    QVERIFY2(error->message.contains(u"it has no manifest.json"_s), qPrintable(error->message));
}

void TestLocalImages::pullNeverFailsClearly()
{
    LocalRunner::Options never = options();
    never.pull = PullPolicy::Never;
    LocalRunner runner(never);
    const std::optional<JobError> error =
        errorOf(runner.createSandbox(sandbox([](SandboxRequest &r) { r.image = u"127.0.0.1:9/absent/image:1"_s; })));
    QVERIFY(error);
    QCOMPARE(error->code, u"IMAGE_NOT_PRESENT"_s);
    QCOMPARE(error->kind, JobError::Kind::Infra);
    QVERIFY2(error->message.contains(u"127.0.0.1:9/absent/image:1"_s), qPrintable(error->message));
    QVERIFY(runner.sandboxes().isEmpty());
}

void TestLocalImages::concurrentSandboxesUnpackOnce()
{
    const QString image = layout(u"concurrent"_s, {});
    LocalRunner runner(options());
    std::vector<OwnedJob<SandboxJob>> jobs;
    for (int i = 0; i < 4; ++i) {
        jobs.emplace_back(runner.createSandbox(sandbox([&](SandboxRequest &r) { r.image = image; })));
        jobs.back()->setAutoDelete(false);
        jobs.back()->start();
    }
    for (const auto &job : jobs) {
        QTRY_VERIFY_WITH_TIMEOUT(job->isFinished(), DefaultTimeoutMs);
        QVERIFY2(!job->error(), job->error() ? qPrintable(job->error()->message) : "");
        QCOMPARE(shellOutput(&runner, job->result().id, u"cat /etc/marker"_s), QByteArray("from the image\n"));
    }
    QCOMPARE(roots().size(), 1);
    QVERIFY(QDir(storeDirectory() + u"/tmp"_s).isEmpty());
}

void TestLocalImages::endingACreationWhileTheImageUnpacksLeavesNothing_data()
{
    QTest::addColumn<bool>("byDeletion");
    QTest::newRow("the creation cancelled") << false;
    QTest::newRow("the sandbox deleted") << true;
}

// Cancelled, or its sandbox deleted, while the image is being unpacked: the unpack stops, and
// nothing of the sandbox or of the half-made root is left.
void TestLocalImages::endingACreationWhileTheImageUnpacksLeavesNothing()
{
    QFETCH(bool, byDeletion);
    ImageSpec spec;
    LayerWriter big;
    for (int i = 0; i < 6; ++i)   // zeros: a small blob that takes a while to write out
        big.file(QByteArray("big-") + QByteArray::number(i), QByteArray(64 << 20, '\0'));
    spec.layers = {big};
    const QString image = layout(byDeletion ? u"big-deleted"_s : u"big-cancelled"_s, spec);
    LocalRunner runner(options());
    OwnedJob<SandboxJob> creation(runner.createSandbox(sandbox([&](SandboxRequest &r) { r.image = image; })));
    creation->setAutoDelete(false);
    creation->start();
    const QDir temporary(storeDirectory() + u"/tmp"_s);
    QTRY_VERIFY_WITH_TIMEOUT(!temporary.entryList({u"root-*"_s}, QDir::Dirs).isEmpty(), DefaultTimeoutMs);
    QCOMPARE(runner.sandboxes().size(), 1);
    if (byDeletion)
        QVERIFY(!errorOf(runner.deleteSandbox(runner.sandboxes().first().id)));
    else
        creation->cancel();
    QTRY_VERIFY_WITH_TIMEOUT(creation->isFinished(), DefaultTimeoutMs);
    QVERIFY(creation->error());
    QCOMPARE(creation->error()->code, byDeletion ? u"SANDBOX_CREATE_FAILED"_s : u"CANCELLED"_s);
    QVERIFY(runner.sandboxes().isEmpty());
    QVERIFY(roots().isEmpty());
    QTRY_VERIFY(temporary.entryList(QDir::AllEntries | QDir::NoDotAndDotDot).isEmpty());
    QTRY_VERIFY(QDir(m_state->filePath(u"layers"_s)).entryList(QDir::AllEntries | QDir::NoDotAndDotDot).isEmpty());
}

void TestLocalImages::pruneKeepsWhatIsInUse()
{
    const QString image = layout(u"prune"_s, {});
    LocalRunner runner(options());
    const QString id = create(&runner, sandbox([&](SandboxRequest &r) { r.image = image; }));
    QVERIFY(!id.isEmpty());
    const ImageStore store(storeDirectory());
    const QList<StoredImage> images = store.images();
    QCOMPARE(images.size(), 1);
    QVERIFY(store.remove(images.first().reference));
    // A pull or an import under way holds prune off until it has recorded what it stored.
    bool busy = false;
    QString error;
    Internal::UniqueFd writing = store.writeHold(false, &busy, &error);
    QVERIFY2(writing.isValid(), qPrintable(error));
    QFuture<ImagePruneStats> pruning = QtConcurrent::run([&store] { return store.prune(); });
    QTest::qWait(200);
    QVERIFY(!pruning.isFinished());
    writing = Internal::UniqueFd();
    QTRY_VERIFY(pruning.isFinished());
    // Forgotten, but a sandbox still runs in it: the blobs go, the root stays.
    ImagePruneStats stats = pruning.result();
    QCOMPARE(stats.roots, 0);
    QVERIFY(stats.blobs > 0);
    QCOMPARE(roots().size(), 1);
    QCOMPARE(shellOutput(&runner, id, u"cat /etc/marker"_s), QByteArray("from the image\n"));
    QVERIFY(!errorOf(runner.deleteSandbox(id)));
    QTRY_VERIFY((store.prune(), roots().isEmpty()));
}

void TestLocalImages::imagesCommand()
{
    ImageSpec spec;
    spec.env = {u"IMPORTED=yes"_s};
    const QString source = layout(u"import"_s, spec);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(u"SANDFLOW_HOST_IMAGES"_s);
    env.insert(u"SANDFLOW_STATE_DIR"_s, m_state->path());
    const auto sandflow = [&](const QStringList &arguments, QByteArray *out = nullptr) {
        QProcess process;
        process.setProcessEnvironment(env);
        process.setWorkingDirectory(m_layouts.path());
        process.start(QStringLiteral(SANDFLOW_BINARY), arguments);
        process.waitForFinished(120000);
        if (out)
            *out = process.readAllStandardOutput();
        const QByteArray err = process.readAllStandardError();
        if (process.exitCode() != 0)
            qWarning("sandflow %s: %s", qPrintable(arguments.join(u' ')), err.constData());
        return process.exitCode();
    };
    QByteArray out;
    QCOMPARE(sandflow({u"images"_s, u"import"_s, source, u"tools/imported:1"_s}, &out), 0);
    QVERIFY2(out.startsWith("docker.io/tools/imported:1 "), out.constData());
    QCOMPARE(sandflow({u"images"_s, u"ls"_s, u"--json"_s}, &out), 0);
    const QJsonArray listed = QJsonDocument::fromJson(out).array();
    QCOMPARE(listed.size(), 1);
    QCOMPARE(listed.first()[u"reference"_s].toString(), u"docker.io/tools/imported:1"_s);
    // A workflow names it as it would any image; the run finds it in the store.
    QFile workflow(m_layouts.filePath(u"imported.yaml"_s));
    QVERIFY(workflow.open(QIODevice::WriteOnly));
    workflow.write("version: 1\nname: imported\njobs:\n  use:\n    sandbox:\n      image: tools/imported:1\n"
                   "    steps:\n      - run: test \"$IMPORTED\" = yes && cat /etc/marker\n");
    workflow.close();
    QCOMPARE(sandflow({u"run"_s, u"--pull"_s, u"never"_s, workflow.fileName()}, &out), 0);
    QVERIFY2(out.contains("from the image"), out.constData());
    QCOMPARE(sandflow({u"images"_s, u"rm"_s, u"tools/imported:1"_s}, &out), 0);
    QCOMPARE(sandflow({u"images"_s, u"rm"_s, u"tools/imported:1"_s}), 1);
    QCOMPARE(sandflow({u"images"_s, u"prune"_s}, &out), 0);
    QVERIFY2(out.contains("1 unpacked root(s) removed"), out.constData());
    QVERIFY(roots().isEmpty());
    QVERIFY(QDir(storeDirectory() + u"/blobs/sha256"_s).isEmpty());
    // Forgotten and pruned, the image is no more; `--host-image` runs its sandboxes on the
    // host's tree instead, said once.
    QCOMPARE(sandflow({u"run"_s, u"--pull"_s, u"never"_s, workflow.fileName()}, &out), 1);
    QVERIFY2(out.contains("image docker.io/tools/imported:1: not in the image store"), out.constData());
    QFile hostWorkflow(m_layouts.filePath(u"host.yaml"_s));
    QVERIFY(hostWorkflow.open(QIODevice::WriteOnly));
    hostWorkflow.write("version: 1\nname: host\njobs:\n  use:\n    sandbox:\n      image: tools/imported:1\n"
                       "    steps:\n      - run: test -e /etc/debian_version && echo host-tree\n");
    hostWorkflow.close();
    QCOMPARE(sandflow({u"run"_s, u"--pull"_s, u"never"_s, u"--host-image"_s, u"tools/*"_s, hostWorkflow.fileName()}, &out), 0);
    QVERIFY2(out.contains("host-tree"), out.constData());
    QCOMPARE(sandflow({u"images"_s, u"import"_s, m_layouts.filePath(u"missing"_s), u"x:1"_s}), 2);
    QCOMPARE(sandflow({u"run"_s, u"--pull"_s, u"sometimes"_s, workflow.fileName()}), 2);
}

// What an OpenSandbox client asks for (`image.uri`) is what its sandbox runs in.
void TestLocalImages::throughServe()
{
    ImageSpec spec;
    spec.env = {u"SERVED=yes"_s};
    spec.layers = {LayerWriter().file("etc/served", "from the served image\n")};
    const QString image = layout(u"served"_s, spec);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(u"SANDFLOW_HOST_IMAGES"_s);
    ServeProcess server;
    QVERIFY2(server.start(QStringLiteral(SANDFLOW_BINARY), m_state->path(), u"images-key"_s, {}, env),
             qPrintable(server.failure()));
    OpenSandboxRunner client(clientOptions(server));
    const QString id = create(&client, servedSandbox(image));
    QVERIFY(!id.isEmpty());
    QCOMPARE(shellOutput(&client, id, u"cat /etc/served; echo $SERVED"_s), QByteArray("from the served image\nyes\n"));
    QVERIFY(!errorOf(client.deleteSandbox(id)));
    // An image that cannot be had fails the creation, and the message says which and why.
    const std::optional<JobError> error =
        errorOf(client.createSandbox(servedSandbox(u"oci-layout:"_s + m_layouts.filePath(u"nowhere"_s) + u":t"_s)));
    QVERIFY(error);
    QVERIFY2(error->message.contains(u"nowhere"_s), qPrintable(error->message));
    QVERIFY(server.stop());
}

// The whole way, as a user goes: a workflow naming an image of a registry runs in it, locally
// and through serve; the second run finds it in the store and fetches no blob.
void TestLocalImages::registryImagesRunAndAreCached()
{
    if (const QString missing = LocalRegistry::missingTools(); !missing.isEmpty())
        QSKIP(qPrintable(missing));
    LocalRegistry registry;
    QVERIFY2(registry.start(m_layouts.filePath(u"registry"_s)), qPrintable(registry.failure()));
    ImageSpec spec;
    spec.env = {u"PULLED=yes"_s};
    spec.layers = {LayerWriter().file("etc/pulled", "from the registry\n")};
    const QString layoutReference = layout(u"pushed"_s, spec);
    QVERIFY2(registry.push(u"oci:"_s + layoutReference.mid(11), u"test/img:t"_s), qPrintable(registry.failure()));
    const QString image = registry.host() + u"/test/img:t"_s;

    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(u"SANDFLOW_HOST_IMAGES"_s);
    env.insert(u"SANDFLOW_STATE_DIR"_s, m_state->path());
    QFile workflow(m_layouts.filePath(u"pulled.yaml"_s));
    QVERIFY(workflow.open(QIODevice::WriteOnly));
    workflow.write(u"version: 1\nname: pulled\njobs:\n  use:\n    sandbox:\n      image: %1\n"
                   u"    steps:\n      - run: cat /etc/pulled && echo $PULLED\n"_s.arg(image).toUtf8());
    workflow.close();
    const auto run = [&](QByteArray *out) {
        QProcess process;
        process.setProcessEnvironment(env);
        process.setWorkingDirectory(m_layouts.path());
        process.start(QStringLiteral(SANDFLOW_BINARY), {u"run"_s, workflow.fileName()});
        process.waitForFinished(120000);
        *out = process.readAllStandardOutput() + process.readAllStandardError();
        return process.exitCode();
    };
    const QByteArray blobGets = "GET /v2/test/img/blobs/";
    QByteArray out;
    QCOMPARE(run(&out), 0);
    QVERIFY2(out.contains("from the registry\n") && out.contains("yes\n"), out.constData());
    const int fetched = registry.requestCount(blobGets);
    QCOMPARE(fetched, 3);   // the config and the two layers...
    QCOMPARE(run(&out), 0);
    QVERIFY2(out.contains("from the registry\n"), out.constData());
    QCOMPARE(registry.requestCount(blobGets), fetched);   // ...once

    // `images pull` fetches again (to see the tag's latest) what is not stored yet, and says so
    // line by line where stderr is no terminal.
    QProcess pull;
    pull.setProcessEnvironment(env);
    pull.start(QStringLiteral(SANDFLOW_BINARY), {u"images"_s, u"pull"_s, image});
    QVERIFY(pull.waitForFinished(120000));
    QCOMPARE(pull.exitCode(), 0);
    QVERIFY(pull.readAllStandardOutput().startsWith((registry.host() + u"/test/img:t sha256:"_s).toUtf8()));
    const QByteArray progress = pull.readAllStandardError();
    QVERIFY2(progress.contains("2 of 2 layers\n") && !progress.contains('\r'), progress.constData());
    QCOMPARE(registry.requestCount(blobGets), fetched);
    pull.start(QStringLiteral(SANDFLOW_BINARY), {u"images"_s, u"pull"_s, registry.host() + u"/test/img:absent"_s});
    QVERIFY(pull.waitForFinished(120000));
    QCOMPARE(pull.exitCode(), 1);
    const QByteArray refusal = pull.readAllStandardError();
    QVERIFY2(refusal.contains("test/img:absent") && refusal.contains(registry.host().toUtf8()), refusal.constData());

    ServeProcess server;
    QVERIFY2(server.start(QStringLiteral(SANDFLOW_BINARY), m_state->path(), u"images-key"_s, {}, env),
             qPrintable(server.failure()));
    OpenSandboxRunner client(clientOptions(server));
    const QString id = create(&client, servedSandbox(image));
    QVERIFY(!id.isEmpty());
    QCOMPARE(shellOutput(&client, id, u"cat /etc/pulled"_s), QByteArray("from the registry\n"));
    QVERIFY(!errorOf(client.deleteSandbox(id)));
    QVERIFY(server.stop());
}

void TestLocalImages::registryCredentials()
{
    if (const QString missing = LocalRegistry::missingTools(); !missing.isEmpty())
        QSKIP(qPrintable(missing));
    LocalRegistry registry;
    registry.setAuth(LocalRegistry::Auth::Basic);
    registry.setUser(u"puller"_s, u"s3cret"_s);
    QVERIFY2(registry.start(m_layouts.filePath(u"private-registry"_s)), qPrintable(registry.failure()));
    const QString layoutReference = layout(u"private"_s, {});
    QVERIFY2(registry.push(u"oci:"_s + layoutReference.mid(11), u"team/private:1"_s), qPrintable(registry.failure()));
    const QString image = registry.host() + u"/team/private:1"_s;
    LocalRunner runner(options());
    const auto attempt = [&](const QString &user, const QString &password) {
        return errorOf(runner.createSandbox(sandbox([&](SandboxRequest &r) {
            r.image = image;
            r.imageUsername = user;
            r.imagePassword = password;
        })));
    };
    std::optional<JobError> error = attempt({}, {});
    QVERIFY(error);
    QCOMPARE(error->code, u"REGISTRY_AUTH_REQUIRED"_s);
    QCOMPARE(error->kind, JobError::Kind::Infra);
    QVERIFY2(error->message.contains(image) && error->message.contains(registry.host()), qPrintable(error->message));
    error = attempt(u"puller"_s, u"wrong"_s);
    QVERIFY(error);
    QCOMPARE(error->code, u"REGISTRY_AUTH_FAILED"_s);
    QVERIFY(!attempt(u"puller"_s, u"s3cret"_s));
}

void TestLocalImages::unreachableRegistry()
{
    QTcpServer closed;   // a port of ours that no one answers on once closed
    QVERIFY(closed.listen(QHostAddress::LocalHost));
    const quint16 port = closed.serverPort();
    closed.close();
    const QString image = u"127.0.0.1:%1/nobody/home:1"_s.arg(port);
    LocalRunner runner(options());
    const std::optional<JobError> error = errorOf(runner.createSandbox(sandbox([&](SandboxRequest &r) { r.image = image; })));
    QVERIFY(error);
    QCOMPARE(error->code, u"REGISTRY_UNREACHABLE"_s);
    QCOMPARE(error->kind, JobError::Kind::Infra);
    QVERIFY2(error->message.contains(image), qPrintable(error->message));
    QVERIFY(runner.sandboxes().isEmpty());
    QVERIFY(QDir(m_state->filePath(u"layers"_s)).isEmpty());
}

QTEST_GUILESS_MAIN(TestLocalImages)
#include "tst_localimages.moc"
