// Real layer blobs, written here, unpacked onto a real directory: the resulting tree is
// checked exactly, and every hostile entry is refused with nothing written outside the root.
#include "layertree_p.h"
#include "layerunpacker.h"
#include "layerwriter.h"
#include "unpacklayersjob.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>
#include <unistd.h>

#include <optional>

using namespace Sandflow;
using namespace Qt::StringLiterals;

class TestLayerUnpacker : public QObject
{
    Q_OBJECT

private slots:
    void init();

    void treesOfAnyDepthAreRemoved();

    void filesDirectoriesModesAndTimes();
    void ownershipIsKeptAsRoot();
    void symlinksAreWrittenNeverFollowed();
    void hardLinksShareTheirInode();
    void whiteoutsRemoveWhatLowerLayersHad();
    void whiteoutsKeepWhatTheirOwnLayerWrote();
    void opaqueDirectoriesKeepOnlyTheirOwnLayer();
    void laterLayersReplaceDirectoriesAndFiles();
    void absoluteNamesStayBelowTheRoot();
    void fifosAreMade();
    void namesAreBytes();
    void compressedLayers_data();
    void compressedLayers();
    void unreadableBlobs_data();
    void unreadableBlobs();
    void refusals_data();
    void refusals();
    void jobAppliesLayersInOrder();
    void jobReportsRefusals();
    void cancellingStopsBetweenEntries();

private:
    std::optional<LayerUnpackError> apply(const QList<LayerWriter> &layers,
                                          LayerWriter::Compression compression = LayerWriter::Compression::None);
    QString rootPath(const QString &path) const { return m_root + u'/' + path; }
    QByteArray contentOf(const QString &path) const;
    struct stat statusOf(const QString &path) const;
    void verifyNothingOutsideTheRoot() const;

    std::optional<QTemporaryDir> m_dir;
    QString m_root;
    QString m_sentinel;
    LayerUnpackStats m_stats;
};

void TestLayerUnpacker::init()
{
    m_dir.emplace();
    QVERIFY(m_dir->isValid());
    m_root = m_dir->filePath(u"root"_s);
    m_sentinel = m_dir->filePath(u"sentinel"_s);
    QVERIFY(QDir().mkpath(m_root));
    QVERIFY(QDir().mkpath(m_dir->filePath(u"layers"_s)));
    QVERIFY(QDir().mkpath(m_sentinel));
    QFile keep(m_sentinel + u"/keep"_s);
    QVERIFY(keep.open(QIODevice::WriteOnly));
    keep.write("kept");
    m_stats = {};
}

std::optional<LayerUnpackError> TestLayerUnpacker::apply(const QList<LayerWriter> &layers,
                                                         LayerWriter::Compression compression)
{
    QList<ImageLayer> blobs;
    for (qsizetype i = 0; i < layers.size(); ++i) {
        const QString path = m_dir->filePath(u"layers/%1.tar"_s.arg(i));
        if (!layers.at(i).write(path, compression))
            qFatal("cannot write a layer");
        blobs.append({path, u"sha256:layer%1"_s.arg(i)});
    }
    return unpackLayers(blobs, m_root, m_stats);
}

QByteArray TestLayerUnpacker::contentOf(const QString &path) const
{
    QFile file(rootPath(path));
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray("<missing>");
}

struct stat TestLayerUnpacker::statusOf(const QString &path) const
{
    struct stat status = {};
    if (::lstat(QFile::encodeName(rootPath(path)).constData(), &status) != 0)
        status.st_mode = 0;
    return status;
}

// Beside the root are only the layers and the sentinel, which holds only its own file.
void TestLayerUnpacker::verifyNothingOutsideTheRoot() const
{
    QCOMPARE(QDir(m_dir->path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::System | QDir::Hidden),
             QStringList({u"layers"_s, u"root"_s, u"sentinel"_s}));
    QCOMPARE(QDir(m_sentinel).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::System | QDir::Hidden),
             QStringList({u"keep"_s}));
    QFile keep(m_sentinel + u"/keep"_s);
    QVERIFY(keep.open(QIODevice::ReadOnly));
    QCOMPARE(keep.readAll(), QByteArray("kept"));
}

void TestLayerUnpacker::filesDirectoriesModesAndTimes()
{
    LayerWriter layer;
    layer.directory("etc", 0755)
        .file("etc/hostname", "box\n", 0644)
        .file("usr/bin/tool", "#!/bin/sh\n", 04755)   // no entry for usr/ or usr/bin/
        .file("usr/bin/group-tool", "x", 02711)
        .directory("tmp", 01777)
        .directory("ro", 0555)
        .file("ro/inside", "written before its directory became read-only", 0444)
        .add({"big", AE_IFREG, 0600, QByteArray(300000, 'z'), {}, {}, 0, 0, 1234567890});
    QVERIFY(!apply({layer}));

    QCOMPARE(contentOf(u"etc/hostname"_s), QByteArray("box\n"));
    QCOMPARE(contentOf(u"ro/inside"_s), QByteArray("written before its directory became read-only"));
    QCOMPARE(contentOf(u"big"_s), QByteArray(300000, 'z'));
    QCOMPARE(statusOf(u"etc/hostname"_s).st_mode, mode_t(S_IFREG | 0644));
    QCOMPARE(statusOf(u"usr/bin/tool"_s).st_mode, mode_t(S_IFREG | 04755));
    QCOMPARE(statusOf(u"usr/bin/group-tool"_s).st_mode, mode_t(S_IFREG | 02711));
    QCOMPARE(statusOf(u"tmp"_s).st_mode, mode_t(S_IFDIR | 01777));
    QCOMPARE(statusOf(u"ro"_s).st_mode, mode_t(S_IFDIR | 0555));
    QCOMPARE(statusOf(u"ro/inside"_s).st_mode, mode_t(S_IFREG | 0444));
    // Parents the archive does not list are made as Docker makes them.
    QCOMPARE(statusOf(u"usr"_s).st_mode, mode_t(S_IFDIR | 0755));
    QCOMPARE(statusOf(u"usr/bin"_s).st_mode, mode_t(S_IFDIR | 0755));
    // Times are the entries', directories' too although files were written in them later.
    QCOMPARE(statusOf(u"big"_s).st_mtim.tv_sec, time_t(1234567890));
    QCOMPARE(statusOf(u"etc/hostname"_s).st_mtim.tv_sec, LayerWriter::defaultTime);
    QCOMPARE(statusOf(u"etc"_s).st_mtim.tv_sec, LayerWriter::defaultTime);
    QCOMPARE(statusOf(u"ro"_s).st_mtim.tv_sec, LayerWriter::defaultTime);
    QCOMPARE(m_stats.layers, 1);
    QCOMPARE(m_stats.entries, 8);
    QCOMPARE(m_stats.bytes, qint64(4 + 10 + 1 + 45 + 300000));
}

void TestLayerUnpacker::ownershipIsKeptAsRoot()
{
    if (::geteuid() != 0)
        QSKIP("owners are kept only when unpacking as root");
    LayerWriter layer;
    layer.add({"home/user", AE_IFDIR, 0700, {}, {}, {}, 1000, 1000})
        .add({"home/user/notes", AE_IFREG, 04750, "n", {}, {}, 1000, 50})
        .add({"home/user/link", AE_IFLNK, 0777, {}, "notes", {}, 1000, 1001})
        .add({"srv", AE_IFREG, 0644, "s", {}, {}, 65534, 65534});
    QVERIFY(!apply({layer}));
    QCOMPARE(statusOf(u"home/user"_s).st_uid, uid_t(1000));
    QCOMPARE(statusOf(u"home/user"_s).st_gid, gid_t(1000));
    QCOMPARE(statusOf(u"home/user/notes"_s).st_uid, uid_t(1000));
    QCOMPARE(statusOf(u"home/user/notes"_s).st_gid, gid_t(50));
    // chown comes before chmod, so the setuid bit survives it.
    QCOMPARE(statusOf(u"home/user/notes"_s).st_mode, mode_t(S_IFREG | 04750));
    QCOMPARE(statusOf(u"home/user/link"_s).st_uid, uid_t(1000));
    QCOMPARE(statusOf(u"home/user/link"_s).st_gid, gid_t(1001));
    QCOMPARE(statusOf(u"srv"_s).st_uid, uid_t(65534));
}

void TestLayerUnpacker::symlinksAreWrittenNeverFollowed()
{
    LayerWriter lower;
    lower.symlink("absolute", m_sentinel.toUtf8() + "/keep")
        .symlink("bin", "usr/bin")
        .symlink("dangling", "../../nowhere");
    LayerWriter upper;
    upper.file("absolute", "replaces the link, not what it points to");
    QVERIFY(!apply({lower, upper}));

    QCOMPARE(QFile::symLinkTarget(rootPath(u"bin"_s)).isEmpty(), false);
    QCOMPARE(QFile(rootPath(u"bin"_s)).symLinkTarget(), QDir(m_root).absoluteFilePath(u"usr/bin"_s));
    char target[256] = {};
    QCOMPARE(::readlink(QFile::encodeName(rootPath(u"dangling"_s)).constData(), target, sizeof target - 1), ssize_t(13));
    QCOMPARE(QByteArray(target), QByteArray("../../nowhere"));
    QVERIFY(S_ISLNK(statusOf(u"dangling"_s).st_mode));
    QCOMPARE(statusOf(u"dangling"_s).st_mtim.tv_sec, LayerWriter::defaultTime);
    QVERIFY(S_ISREG(statusOf(u"absolute"_s).st_mode));
    QCOMPARE(contentOf(u"absolute"_s), QByteArray("replaces the link, not what it points to"));
    verifyNothingOutsideTheRoot();
}

void TestLayerUnpacker::hardLinksShareTheirInode()
{
    LayerWriter lower;
    lower.file("lib/libc.so.6", "elf", 0755).symlink("lib/libc.so", "libc.so.6");
    LayerWriter upper;
    upper.file("a", "shared", 0640)
        .hardLink("b", "a")
        .hardLink("/c", "./a")
        .hardLink("lib/copy", "lib/libc.so.6")   // a lower layer's file
        .hardLink("lib/alias", "lib/libc.so");   // the link itself, not its target
    QVERIFY(!apply({lower, upper}));

    const struct stat a = statusOf(u"a"_s);
    QCOMPARE(statusOf(u"b"_s).st_ino, a.st_ino);
    QCOMPARE(statusOf(u"c"_s).st_ino, a.st_ino);
    QCOMPARE(a.st_nlink, nlink_t(3));
    QCOMPARE(contentOf(u"b"_s), QByteArray("shared"));
    QCOMPARE(statusOf(u"b"_s).st_mode, mode_t(S_IFREG | 0640));
    QCOMPARE(statusOf(u"lib/copy"_s).st_ino, statusOf(u"lib/libc.so.6"_s).st_ino);
    QCOMPARE(statusOf(u"lib/alias"_s).st_ino, statusOf(u"lib/libc.so"_s).st_ino);
    QVERIFY(S_ISLNK(statusOf(u"lib/alias"_s).st_mode));
}

void TestLayerUnpacker::whiteoutsRemoveWhatLowerLayersHad()
{
    LayerWriter lower;
    lower.file("etc/keep", "k").file("etc/gone", "g").file("var/cache/a/b", "tree").file("var/log", "l");
    LayerWriter upper;
    upper.whiteout("etc/gone").whiteout("var/cache").whiteout("never/existed").whiteout("var/log/not-a-dir");
    QVERIFY(!apply({lower, upper}));

    QCOMPARE(QDir(rootPath(u"etc"_s)).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
             QStringList({u"keep"_s}));
    QCOMPARE(QDir(rootPath(u"var"_s)).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
             QStringList({u"log"_s}));
    QVERIFY(!QFileInfo::exists(rootPath(u"never"_s)));
}

void TestLayerUnpacker::whiteoutsKeepWhatTheirOwnLayerWrote()
{
    LayerWriter lower;
    lower.file("conf/old", "lower").file("conf/sub/lower", "lower");
    LayerWriter upper;
    // The whiteout comes after this layer's own entries below the same name.
    upper.file("conf/sub/upper", "upper").file("conf/new", "upper").whiteout("conf");
    QVERIFY(!apply({lower, upper}));

    QCOMPARE(contentOf(u"conf/new"_s), QByteArray("upper"));
    QCOMPARE(contentOf(u"conf/sub/upper"_s), QByteArray("upper"));
    QVERIFY(!QFileInfo::exists(rootPath(u"conf/old"_s)));
    QVERIFY(!QFileInfo::exists(rootPath(u"conf/sub/lower"_s)));
}

void TestLayerUnpacker::opaqueDirectoriesKeepOnlyTheirOwnLayer()
{
    LayerWriter lower;
    lower.file("app/old", "lower").file("app/lib/old", "lower").file("other/stays", "lower");
    LayerWriter upper;
    upper.directory("app", 0750)
        .file("app/before", "upper")
        .file("app/lib/before", "upper")
        .file("app/.wh..wh..opq", {})
        .file("app/after", "upper");
    QVERIFY(!apply({lower, upper}));

    QCOMPARE(QDir(rootPath(u"app"_s)).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
             QStringList({u"after"_s, u"before"_s, u"lib"_s}));
    QCOMPARE(QDir(rootPath(u"app/lib"_s)).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
             QStringList({u"before"_s}));
    QCOMPARE(statusOf(u"app"_s).st_mode, mode_t(S_IFDIR | 0750));
    QCOMPARE(contentOf(u"other/stays"_s), QByteArray("lower"));
}

void TestLayerUnpacker::laterLayersReplaceDirectoriesAndFiles()
{
    LayerWriter lower;
    lower.file("was-dir/a/b", "deep").file("was-file", "file").symlink("was-link", "/etc");
    LayerWriter upper;
    upper.file("was-dir", "now a file")
        .directory("was-file", 0700)
        .file("was-file/inside", "now a directory", 0600)
        .directory("was-link", 0711);
    const auto error = apply({lower, upper});
    QVERIFY2(!error, qPrintable(error ? error->message : QString()));

    QVERIFY(S_ISREG(statusOf(u"was-dir"_s).st_mode));
    QCOMPARE(contentOf(u"was-dir"_s), QByteArray("now a file"));
    QCOMPARE(statusOf(u"was-file"_s).st_mode, mode_t(S_IFDIR | 0700));
    QCOMPARE(contentOf(u"was-file/inside"_s), QByteArray("now a directory"));
    QVERIFY(!QFileInfo::exists(rootPath(u"was-dir/a"_s)));
    QCOMPARE(statusOf(u"was-link"_s).st_mode, mode_t(S_IFDIR | 0711));
}

void TestLayerUnpacker::absoluteNamesStayBelowTheRoot()
{
    LayerWriter layer;
    layer.file("/etc/x", "below the root").file("//./srv//y", "here too");
    QVERIFY(!apply({layer}));
    QCOMPARE(contentOf(u"etc/x"_s), QByteArray("below the root"));
    QCOMPARE(contentOf(u"srv/y"_s), QByteArray("here too"));
    verifyNothingOutsideTheRoot();
}

void TestLayerUnpacker::fifosAreMade()
{
    LayerWriter layer;
    layer.add({"run/initctl", AE_IFIFO, 0600, {}, {}, {}});
    QVERIFY(!apply({layer}));
    QCOMPARE(statusOf(u"run/initctl"_s).st_mode, mode_t(S_IFIFO | 0600));
}

// Pax headers hold names in UTF-8: they are used whatever the locale, never refused.
void TestLayerUnpacker::namesAreBytes()
{
    LayerWriter layer;
    layer.file("caf\xc3\xa9/\xe2\x98\x83", "snow").symlink("\xc3\xa9t\xc3\xa9", "caf\xc3\xa9").hardLink("h", "caf\xc3\xa9/\xe2\x98\x83");
    const auto error = apply({layer});
    QVERIFY2(!error, qPrintable(error ? error->message : QString()));
    QFile file(QFile::decodeName(QFile::encodeName(m_root) + "/caf\xc3\xa9/\xe2\x98\x83"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), QByteArray("snow"));
    struct stat status;
    QCOMPARE(::lstat(QFile::encodeName(m_root) + "/\xc3\xa9t\xc3\xa9", &status), 0);
    QVERIFY(S_ISLNK(status.st_mode));
    QCOMPARE(statusOf(u"h"_s).st_nlink, nlink_t(2));
}

void TestLayerUnpacker::compressedLayers_data()
{
    QTest::addColumn<LayerWriter::Compression>("compression");
    QTest::newRow("tar") << LayerWriter::Compression::None;
    QTest::newRow("gzip") << LayerWriter::Compression::Gzip;
    QTest::newRow("zstd") << LayerWriter::Compression::Zstd;
}

// Blobs are named .tar whatever they hold: the first bytes tell.
void TestLayerUnpacker::compressedLayers()
{
    QFETCH(LayerWriter::Compression, compression);
    LayerWriter lower;
    lower.file("data/one", QByteArray(100000, 'a')).file("data/two", "2");
    LayerWriter upper;
    upper.whiteout("data/two").file("data/three", "3");
    QVERIFY(!apply({lower, upper}, compression));
    QCOMPARE(contentOf(u"data/one"_s), QByteArray(100000, 'a'));
    QCOMPARE(contentOf(u"data/three"_s), QByteArray("3"));
    QVERIFY(!QFileInfo::exists(rootPath(u"data/two"_s)));
}

void TestLayerUnpacker::unreadableBlobs_data()
{
    QTest::addColumn<QByteArray>("blob");
    QTest::newRow("text") << QByteArray("this is no archive at all, not even a compressed one\n");
    QByteArray truncated;
    {
        LayerWriter layer;
        layer.file("file", QByteArray(20000, 'x'));
        const QString path = QDir::temp().filePath(u"sandflow-truncated-layer.tar.gz"_s);
        QVERIFY(layer.write(path, LayerWriter::Compression::Gzip));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        truncated = file.readAll().left(40);
        file.remove();
    }
    QTest::newRow("truncated gzip") << truncated;
}

void TestLayerUnpacker::unreadableBlobs()
{
    QFETCH(QByteArray, blob);
    const QString path = m_dir->filePath(u"layers/blob"_s);
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(blob);
    file.close();
    const std::optional<LayerUnpackError> error = unpackLayers({{path, u"sha256:abcd"_s}}, m_root, m_stats);
    QVERIFY(error);
    QCOMPARE(error->reason, LayerUnpackError::Reason::Unreadable);
    QVERIFY2(error->message.startsWith(u"layer sha256:abcd: "_s), qPrintable(error->message));
    QCOMPARE(m_stats.layers, 0);
}

void TestLayerUnpacker::refusals_data()
{
    QTest::addColumn<QList<LayerWriter>>("layers");
    QTest::addColumn<QString>("message");
    QTest::newRow("write through a link to /")
        << QList<LayerWriter>{LayerWriter().symlink("evil", "/").file("evil/SENTINEL/x", "escaped")}
        << u"layer sha256:layer0: entry \"evil/SENTINEL/x\": refused: its path goes through the symbolic link \"evil\""_s;
    QTest::newRow("write through a link to the sentinel")
        << QList<LayerWriter>{LayerWriter().symlink("evil", "ABSOLUTE").file("evil/x", "escaped")}
        << u"layer sha256:layer0: entry \"evil/x\": refused: its path goes through the symbolic link \"evil\""_s;
    QTest::newRow("write through a lower layer's link")
        << QList<LayerWriter>{LayerWriter().symlink("a/evil", "ABSOLUTE"), LayerWriter().file("a/evil/x", "escaped")}
        << u"layer sha256:layer1: entry \"a/evil/x\": refused: its path goes through the symbolic link \"a/evil\""_s;
    QTest::newRow("relative link")
        << QList<LayerWriter>{LayerWriter().symlink("up", "../sentinel").file("up/x", "escaped")}
        << u"layer sha256:layer0: entry \"up/x\": refused: its path goes through the symbolic link \"up\""_s;
    QTest::newRow("dot dot")
        << QList<LayerWriter>{LayerWriter().file("../sentinel/x", "escaped")}
        << u"layer sha256:layer0: entry \"../sentinel/x\": refused: it climbs out of the root with \"..\""_s;
    QTest::newRow("dot dot inside")
        << QList<LayerWriter>{LayerWriter().file("a/b/../../../sentinel/x", "escaped")}
        << u"layer sha256:layer0: entry \"a/b/../../../sentinel/x\": refused: it climbs out of the root with \"..\""_s;
    QTest::newRow("hard link climbing out")
        << QList<LayerWriter>{LayerWriter().hardLink("h", "../sentinel/keep")}
        << u"layer sha256:layer0: entry \"h\": refused: its link target \"../sentinel/keep\" climbs out of the root with \"..\""_s;
    QTest::newRow("hard link through a link")
        << QList<LayerWriter>{LayerWriter().symlink("evil", "ABSOLUTE").hardLink("h", "evil/keep")}
        << u"layer sha256:layer0: entry \"h\": refused: its link target's path goes through the symbolic link \"evil\""_s;
    QTest::newRow("hard link to nothing")
        << QList<LayerWriter>{LayerWriter().hardLink("h", "missing")}
        << u"layer sha256:layer0: entry \"h\": refused: its link target \"missing\" is not in the root"_s;
    QTest::newRow("hard link to a directory")
        << QList<LayerWriter>{LayerWriter().directory("d").hardLink("h", "d")}
        << u"layer sha256:layer0: entry \"h\": refused: its link target \"d\" is a directory"_s;
    QTest::newRow("character device")
        << QList<LayerWriter>{LayerWriter().node("dev/mem", AE_IFCHR)}
        << u"layer sha256:layer0: entry \"dev/mem\": refused: it is a character device, and layers may hold no device nodes"_s;
    QTest::newRow("block device")
        << QList<LayerWriter>{LayerWriter().node("dev/sda", AE_IFBLK)}
        << u"layer sha256:layer0: entry \"dev/sda\": refused: it is a block device, and layers may hold no device nodes"_s;
    QTest::newRow("whiteout through a link")
        << QList<LayerWriter>{LayerWriter().symlink("evil", "ABSOLUTE"), LayerWriter().whiteout("evil/keep")}
        << u"layer sha256:layer1: entry \"evil/.wh.keep\": refused: its path goes through the symbolic link \"evil\""_s;
    QTest::newRow("opaque directory through a link")
        << QList<LayerWriter>{LayerWriter().symlink("evil", "ABSOLUTE"), LayerWriter().file("evil/.wh..wh..opq", {})}
        << u"layer sha256:layer1: entry \"evil/.wh..wh..opq\": refused: its path goes through the symbolic link \"evil\""_s;
    QTest::newRow("whiteout of the parent")
        << QList<LayerWriter>{LayerWriter().file(".wh...", {})}
        << u"layer sha256:layer0: entry \".wh...\": refused: a whiteout must name a file"_s;
    QTest::newRow("entry below a whiteout")
        << QList<LayerWriter>{LayerWriter().file(".wh.x/y", "y")}
        << u"layer sha256:layer0: entry \".wh.x/y\": refused: its path goes through the whiteout \".wh.x\""_s;
    QTest::newRow("root replaced")
        << QList<LayerWriter>{LayerWriter().file(".", "a file")}
        << u"layer sha256:layer0: entry \".\": refused: it would replace the root with something else than a directory"_s;
}

// The data's ABSOLUTE and SENTINEL stand for the sentinel's path, known only once init() ran.
void TestLayerUnpacker::refusals()
{
    QFETCH(QList<LayerWriter>, layers);
    QFETCH(QString, message);
    const QByteArray absolute = m_sentinel.toUtf8();
    const QByteArray relativeToSlash = absolute.mid(1);
    QList<LayerWriter> resolved;
    for (const LayerWriter &layer : layers)
        resolved.append(layer.replaced("ABSOLUTE", absolute).replaced("SENTINEL", relativeToSlash));
    message.replace(u"SENTINEL"_s, QString::fromUtf8(relativeToSlash));

    const std::optional<LayerUnpackError> error = apply(resolved);
    QVERIFY(error);
    QCOMPARE(error->message, message);
    QCOMPARE(error->reason, LayerUnpackError::Reason::Refused);
    QVERIFY(error->message.contains(u"entry \"%1\""_s.arg(error->entry)));
    verifyNothingOutsideTheRoot();
}

void TestLayerUnpacker::jobAppliesLayersInOrder()
{
    QList<ImageLayer> blobs;
    const QList<LayerWriter> layers = {LayerWriter().file("etc/os-release", "base").file("etc/motd", "hi"),
                                       LayerWriter().file("etc/os-release", "app").whiteout("etc/motd")};
    for (qsizetype i = 0; i < layers.size(); ++i) {
        const QString path = m_dir->filePath(u"layers/%1"_s.arg(i));
        QVERIFY(layers.at(i).write(path, LayerWriter::Compression::Gzip));
        blobs.append({path, {}});
    }
    UnpackLayersJob job(blobs, m_root);
    job.setAutoDelete(false);
    QSignalSpy finished(&job, &AsyncJob::finished);
    job.start();
    QVERIFY(!job.isFinished());   // the work is never done within start()
    QVERIFY(finished.wait(30000));
    QCOMPARE(finished.size(), 1);
    QVERIFY2(!job.error(), qPrintable(job.error() ? job.error()->message : QString()));
    QCOMPARE(job.result().layers, 2);
    QCOMPARE(job.result().entries, 4);
    QCOMPARE(contentOf(u"etc/os-release"_s), QByteArray("app"));
    QVERIFY(!QFileInfo::exists(rootPath(u"etc/motd"_s)));
}

void TestLayerUnpacker::jobReportsRefusals()
{
    const QString path = m_dir->filePath(u"layers/hostile"_s);
    QVERIFY(LayerWriter().file("ok", "ok").node("dev/kmsg", AE_IFCHR).write(path, LayerWriter::Compression::Zstd));
    UnpackLayersJob job({{path, u"sha256:0123"_s}}, m_root);
    job.setAutoDelete(false);
    QSignalSpy finished(&job, &AsyncJob::finished);
    job.start();
    QVERIFY(finished.wait(30000));
    QVERIFY(job.error());
    QCOMPARE(job.error()->code, u"LAYER_REFUSED"_s);
    QCOMPARE(job.error()->kind, JobError::Kind::Invalid);
    QCOMPARE(job.error()->context.value(u"layer"_s).toString(), u"sha256:0123"_s);
    QCOMPARE(job.error()->context.value(u"entry"_s).toString(), u"dev/kmsg"_s);
    QVERIFY(job.error()->message.startsWith(u"layer sha256:0123: entry \"dev/kmsg\": refused: "_s));
    verifyNothingOutsideTheRoot();
}

void TestLayerUnpacker::cancellingStopsBetweenEntries()
{
    const QString path = m_dir->filePath(u"layers/0"_s);
    QVERIFY(LayerWriter().file("a", "a").file("b", "b").write(path));
    const std::atomic_bool cancelled = true;
    const std::optional<LayerUnpackError> error = unpackLayers({{path, {}}}, m_root, m_stats, &cancelled);
    QVERIFY(error);
    QCOMPARE(error->reason, LayerUnpackError::Reason::Cancelled);
    QCOMPARE(m_stats.entries, 0);
    QVERIFY(QDir(m_root).isEmpty());

    UnpackLayersJob job({{path, {}}}, m_root);
    job.setAutoDelete(false);
    QSignalSpy finished(&job, &AsyncJob::finished);
    job.start();
    job.cancel();
    QVERIFY(finished.wait(30000));
    QCOMPARE(finished.size(), 1);
    QVERIFY(job.error());
    QCOMPARE(job.error()->kind, JobError::Kind::Cancelled);
    QVERIFY(QDir(m_root).isEmpty());
}

// What a sandbox leaves in its layer is removed with the same code: a tree nested deeper than
// there are descriptors to hold each level goes all the same, and a link in it is removed,
// never followed.
void TestLayerUnpacker::treesOfAnyDepthAreRemoved()
{
    QTemporaryDir outside;
    QVERIFY(outside.isValid());
    QFile kept(outside.filePath(u"kept"_s));
    QVERIFY(kept.open(QIODevice::WriteOnly));
    kept.close();
    QTemporaryDir parent;
    QVERIFY(parent.isValid());
    const Sandflow::Internal::UniqueFd parentFd(::open(QFile::encodeName(parent.path()).constData(),
                                                       O_PATH | O_DIRECTORY | O_CLOEXEC));
    int level = ::openat(parentFd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    constexpr int depth = 30000;   // past the descriptors a process gets (1024 or 20000 are usual)
    for (int i = 0; i < depth; ++i) {
        const QByteArray name = i == 0 ? QByteArray("tree") : QByteArray("d");
        QVERIFY(::mkdirat(level, name.constData(), 0700) == 0);
        const int below = ::openat(level, name.constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (i % 5000 == 4999) {   // read-only levels and links out, here and there
            QVERIFY(::symlinkat(QFile::encodeName(outside.path()).constData(), below, "out") == 0);
            QVERIFY(::fchmod(below, 0500) == 0);
        }
        ::close(level);
        level = below;
    }
    ::close(level);
    QCOMPARE(Sandflow::Internal::removeTree(parentFd.get(), "tree"), 0);
    QVERIFY(QDir(parent.path()).isEmpty());
    QVERIFY(QFile::exists(outside.filePath(u"kept"_s)));
}

QTEST_GUILESS_MAIN(TestLayerUnpacker)
#include "tst_layerunpacker.moc"
