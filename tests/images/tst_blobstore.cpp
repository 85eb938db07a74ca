// The store's blobs: hashed as they are written, in place only when digest and size are the
// ones asked for, and nothing left behind by a write that failed or was given up.
#include "blobstore_p.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace Sandflow::Internal;
using namespace Qt::StringLiterals;

namespace {

QString digestOf(const QByteArray &data)
{
    return u"sha256:"_s + QString::fromLatin1(QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex());
}

} // namespace

class TestBlobStore : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void storesAVerifiedBlob();
    void refusesAWrongDigest();
    void refusesTooManyOrTooFewBytes();
    void leavesNothingWhenGivenUp();
    void refusesDigestsThatAreNotNames();
    void twoWritersOfOneBlob();

private:
    /// What is left in the store's temporary directory.
    QStringList temporaries() const
    {
        return QDir(m_dir->filePath(u"store/tmp"_s)).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden);
    }

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<BlobStore> m_store;
};

void TestBlobStore::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_store = std::make_unique<BlobStore>(m_dir->filePath(u"store"_s));
}

void TestBlobStore::storesAVerifiedBlob()
{
    const QByteArray data = QByteArray("layer ").repeated(10'000);
    const QString digest = digestOf(data);
    QVERIFY(!m_store->hasBlob(digest));
    QString error;
    std::unique_ptr<BlobStore::Writer> writer = m_store->write(digest, data.size(), &error);
    QVERIFY2(writer, qPrintable(error));
    QVERIFY2(writer->append(QByteArrayView(data).first(7), &error), qPrintable(error));
    QVERIFY2(writer->append(QByteArrayView(data).sliced(7), &error), qPrintable(error));
    QCOMPARE(writer->written(), data.size());
    QVERIFY2(writer->commit(&error), qPrintable(error));
    writer.reset();
    QVERIFY(m_store->hasBlob(digest));
    QFile stored(m_store->blobPath(digest));
    QVERIFY(stored.open(QIODevice::ReadOnly));
    QCOMPARE(stored.readAll(), data);
    QCOMPARE(m_store->blobPath(digest), m_dir->filePath(u"store/blobs/sha256/"_s) + digest.mid(7));
    QVERIFY(temporaries().isEmpty());
    // The store is its owner's alone.
    QCOMPARE(QFile::permissions(m_store->directory()) & (QFile::ReadGroup | QFile::ReadOther), QFile::Permissions());
}

void TestBlobStore::refusesAWrongDigest()
{
    const QByteArray data("what the server sent");
    const QString claimed = digestOf("what the manifest promised");
    QString error;
    std::unique_ptr<BlobStore::Writer> writer = m_store->write(claimed, data.size(), &error);
    QVERIFY2(writer, qPrintable(error));
    QVERIFY2(writer->append(data, &error), qPrintable(error));
    QVERIFY(!writer->commit(&error));
    QCOMPARE(error, u"the blob's content does not match its digest: expected %1, got %2"_s.arg(claimed, digestOf(data)));
    QVERIFY(!m_store->hasBlob(claimed));
    QVERIFY(temporaries().isEmpty());
}

void TestBlobStore::refusesTooManyOrTooFewBytes()
{
    const QByteArray data("0123456789");
    QString error;
    std::unique_ptr<BlobStore::Writer> longer = m_store->write(digestOf(data), 5, &error);
    QVERIFY2(longer, qPrintable(error));
    QVERIFY(longer->append(QByteArrayView(data).first(5), &error));
    QVERIFY(!longer->append(QByteArrayView(data).sliced(5), &error));
    QVERIFY2(error.contains(u"longer than the 5 bytes its manifest says"_s), qPrintable(error));
    QVERIFY(temporaries().isEmpty());   // given up at once, not at commit
    QVERIFY(!longer->commit(&error));

    std::unique_ptr<BlobStore::Writer> shorter = m_store->write(digestOf(data), 10, &error);
    QVERIFY2(shorter, qPrintable(error));
    QVERIFY(shorter->append(QByteArrayView(data).first(4), &error));
    QVERIFY(!shorter->commit(&error));
    QCOMPARE(error, u"the blob %1 ended after 4 of its 10 bytes"_s.arg(digestOf(data)));
    QVERIFY(!m_store->hasBlob(digestOf(data)));
    QVERIFY(temporaries().isEmpty());
}

void TestBlobStore::leavesNothingWhenGivenUp()
{
    const QByteArray data("cut short");
    QString error;
    std::unique_ptr<BlobStore::Writer> writer = m_store->write(digestOf(data), data.size(), &error);
    QVERIFY2(writer, qPrintable(error));
    QVERIFY(writer->append(QByteArrayView(data).first(3), &error));
    QCOMPARE(temporaries().size(), 1);
    writer.reset();
    QVERIFY(temporaries().isEmpty());
    QVERIFY(!m_store->hasBlob(digestOf(data)));
}

void TestBlobStore::refusesDigestsThatAreNotNames()
{
    QString error;
    for (const QString &digest : {u"sha256:../../../etc/passwd"_s, u"sha256:"_s + QString(64, u'A'), u"md5:abc"_s,
                                  QString()}) {
        error.clear();
        QVERIFY2(!m_store->write(digest, 1, &error), qPrintable(digest));
        QVERIFY2(error.contains(u"is not a sha256 digest"_s), qPrintable(error));
        QVERIFY(!m_store->hasBlob(digest));
    }
    QVERIFY(!QDir(m_dir->filePath(u"store"_s)).exists());
}

void TestBlobStore::twoWritersOfOneBlob()
{
    // Two pulls of one image at once each fetch the blob; the store keeps one, whole.
    const QByteArray data("shared base layer");
    QString error;
    std::unique_ptr<BlobStore::Writer> first = m_store->write(digestOf(data), data.size(), &error);
    std::unique_ptr<BlobStore::Writer> second = m_store->write(digestOf(data), data.size(), &error);
    QVERIFY(first && second);
    QVERIFY(first->append(data, &error) && second->append(data, &error));
    QVERIFY2(second->commit(&error), qPrintable(error));
    QVERIFY2(first->commit(&error), qPrintable(error));
    QFile stored(m_store->blobPath(digestOf(data)));
    QVERIFY(stored.open(QIODevice::ReadOnly));
    QCOMPARE(stored.readAll(), data);
    QVERIFY(temporaries().isEmpty());
}

QTEST_GUILESS_MAIN(TestBlobStore)
#include "tst_blobstore.moc"
