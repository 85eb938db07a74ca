// Image references as Docker normalizes them (its distribution/reference package is the
// reference), and the archive and layout sources of the local runner.
#include "imagereference.h"

#include <QTest>

using namespace Sandflow;
using namespace Qt::StringLiterals;

class TestImageReference : public QObject
{
    Q_OBJECT

private slots:
    void normalizes_data();
    void normalizes();
    void refuses_data();
    void refuses();
    void archivesAndLayouts();
    void loopbackRegistries_data();
    void loopbackRegistries();
};

void TestImageReference::normalizes_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("registry");
    QTest::addColumn<QString>("repository");
    QTest::addColumn<QString>("tag");
    QTest::addColumn<QString>("digest");
    QTest::addColumn<QString>("canonical");
    const QString digest = u"sha256:"_s + QString(64, u'a');
    QTest::newRow("official image") << u"debian:12"_s << u"docker.io"_s << u"library/debian"_s << u"12"_s
                                    << QString() << u"docker.io/library/debian:12"_s;
    QTest::newRow("no tag is latest") << u"python"_s << u"docker.io"_s << u"library/python"_s << u"latest"_s
                                      << QString() << u"docker.io/library/python:latest"_s;
    QTest::newRow("user repository") << u"org/tool:1.2.3-rc_1"_s << u"docker.io"_s << u"org/tool"_s
                                     << u"1.2.3-rc_1"_s << QString() << u"docker.io/org/tool:1.2.3-rc_1"_s;
    QTest::newRow("docker.io spelled out") << u"docker.io/library/debian:12"_s << u"docker.io"_s
                                           << u"library/debian"_s << u"12"_s << QString()
                                           << u"docker.io/library/debian:12"_s;
    QTest::newRow("index.docker.io") << u"index.docker.io/debian"_s << u"docker.io"_s << u"library/debian"_s
                                     << u"latest"_s << QString() << u"docker.io/library/debian:latest"_s;
    QTest::newRow("registry with port") << u"127.0.0.1:5000/team/tool:v1"_s << u"127.0.0.1:5000"_s
                                        << u"team/tool"_s << u"v1"_s << QString()
                                        << u"127.0.0.1:5000/team/tool:v1"_s;
    QTest::newRow("a port is not a tag") << u"localhost:5000/tool"_s << u"localhost:5000"_s << u"tool"_s
                                         << u"latest"_s << QString() << u"localhost:5000/tool:latest"_s;
    QTest::newRow("localhost alone") << u"localhost/tool"_s << u"localhost"_s << u"tool"_s << u"latest"_s
                                     << QString() << u"localhost/tool:latest"_s;
    QTest::newRow("dotted registry") << u"ghcr.io/org/sub/tool"_s << u"ghcr.io"_s << u"org/sub/tool"_s
                                     << u"latest"_s << QString() << u"ghcr.io/org/sub/tool:latest"_s;
    QTest::newRow("digest") << u"debian@"_s + digest << u"docker.io"_s << u"library/debian"_s << QString()
                            << digest << u"docker.io/library/debian@"_s + digest;
    QTest::newRow("tag and digest") << u"reg.example:443/a/b:t@"_s + digest << u"reg.example:443"_s << u"a/b"_s
                                    << u"t"_s << digest << u"reg.example:443/a/b:t@"_s + digest;
    QTest::newRow("ipv6 registry") << u"[::1]:5000/tool:x"_s << u"[::1]:5000"_s << u"tool"_s << u"x"_s
                                   << QString() << u"[::1]:5000/tool:x"_s;
    QTest::newRow("separators") << u"org/a__b.c-d---e_f"_s << u"docker.io"_s << u"org/a__b.c-d---e_f"_s
                                << u"latest"_s << QString() << u"docker.io/org/a__b.c-d---e_f:latest"_s;
}

void TestImageReference::normalizes()
{
    QFETCH(QString, text);
    QString error;
    const std::optional<ImageReference> reference = ImageReference::parse(text, &error);
    QVERIFY2(reference, qPrintable(error));
    QCOMPARE(reference->source, ImageReference::Source::Registry);
    QTEST(reference->registry, "registry");
    QTEST(reference->repository, "repository");
    QTEST(reference->tag, "tag");
    QTEST(reference->digest, "digest");
    QTEST(reference->canonical(), "canonical");
    // What it prints parses back to itself.
    const std::optional<ImageReference> again = ImageReference::parse(reference->canonical(), &error);
    QVERIFY2(again, qPrintable(error));
    QCOMPARE(again->canonical(), reference->canonical());
}

void TestImageReference::refuses_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("message");
    QTest::newRow("empty") << QString() << u"the image reference is empty"_s;
    QTest::newRow("capitals") << u"Debian:12"_s << u"repository `library/Debian` must be lowercase"_s;
    QTest::newRow("bad tag") << u"debian:-12"_s << u"`-12` is not a valid tag"_s;
    QTest::newRow("empty tag") << u"debian:"_s << u"`` is not a valid tag"_s;
    QTest::newRow("short digest") << u"debian@sha256:abc"_s << u"`sha256:abc` is not a digest"_s;
    QTest::newRow("capital digest") << u"debian@sha256:"_s + QString(64, u'A') << u"is not a digest"_s;
    QTest::newRow("trailing slash") << u"reg.io/tool/"_s << u"`` in `tool/` is not a repository name"_s;
    QTest::newRow("double slash") << u"org//tool"_s << u"`` in `org//tool` is not a repository name"_s;
    QTest::newRow("leading separator") << u"org/-tool"_s << u"`-tool` in `org/-tool` is not a repository name"_s;
    QTest::newRow("registry alone") << u"reg.io/"_s << u"`reg.io/` names no repository"_s;
    QTest::newRow("a dot makes a host") << u"a.b_c/tool"_s << u"`a.b_c` is not a registry's host name"_s;
    QTest::newRow("bad host") << u"bad_host.io:5000/tool"_s << u"`bad_host.io:5000` is not a registry's host name"_s;
    QTest::newRow("too long") << u"org/"_s + QString(300, u'a') << u"longer than 255 characters"_s;
    QTest::newRow("archive without path") << u"docker-archive:"_s << u"`docker-archive:` needs a path after it"_s;
    QTest::newRow("layout with bad tag") << u"oci-layout:/images/x:.bad"_s << u"`.bad` is not a valid tag"_s;
}

void TestImageReference::refuses()
{
    QFETCH(QString, text);
    QFETCH(QString, message);
    QString error;
    QVERIFY(!ImageReference::parse(text, &error));
    QVERIFY2(error.contains(message), qPrintable(error));
}

void TestImageReference::archivesAndLayouts()
{
    QString error;
    const std::optional<ImageReference> archive = ImageReference::parse(u"docker-archive:/tmp/a:b/img.tar"_s, &error);
    QVERIFY2(archive, qPrintable(error));
    QCOMPARE(archive->source, ImageReference::Source::DockerArchive);
    QCOMPARE(archive->path, u"/tmp/a:b/img.tar"_s);
    QCOMPARE(archive->canonical(), u"docker-archive:/tmp/a:b/img.tar"_s);

    const std::optional<ImageReference> tagged = ImageReference::parse(u"oci-layout:./images/tool:v2"_s, &error);
    QVERIFY2(tagged, qPrintable(error));
    QCOMPARE(tagged->source, ImageReference::Source::OciLayout);
    QCOMPARE(tagged->path, u"./images/tool"_s);
    QCOMPARE(tagged->tag, u"v2"_s);
    QCOMPARE(tagged->canonical(), u"oci-layout:./images/tool:v2"_s);

    // A colon before the last slash belongs to the path.
    const std::optional<ImageReference> untagged = ImageReference::parse(u"oci-layout:/mnt/c:d/layout"_s, &error);
    QVERIFY2(untagged, qPrintable(error));
    QCOMPARE(untagged->path, u"/mnt/c:d/layout"_s);
    QCOMPARE(untagged->tag, QString());
}

void TestImageReference::loopbackRegistries_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("loopback");
    QTest::newRow("127.0.0.1") << u"127.0.0.1:5000/x"_s << true;
    QTest::newRow("127.1.2.3") << u"127.1.2.3/x"_s << true;
    QTest::newRow("localhost") << u"localhost:5000/x"_s << true;
    QTest::newRow("::1") << u"[::1]:5000/x"_s << true;
    QTest::newRow("Docker Hub") << u"debian"_s << false;
    QTest::newRow("a name that starts like one") << u"127.0.0.1.example.com/x"_s << false;
    QTest::newRow("another address") << u"10.0.0.1:5000/x"_s << false;
}

void TestImageReference::loopbackRegistries()
{
    QFETCH(QString, text);
    QString error;
    const std::optional<ImageReference> reference = ImageReference::parse(text, &error);
    QVERIFY2(reference, qPrintable(error));
    QTEST(reference->isLoopbackRegistry(), "loopback");
    QCOMPARE(reference->apiHost(), reference->registry == u"docker.io"_s ? u"registry-1.docker.io"_s
                                                                          : reference->registry);
}

QTEST_GUILESS_MAIN(TestImageReference)
#include "tst_imagereference.moc"
