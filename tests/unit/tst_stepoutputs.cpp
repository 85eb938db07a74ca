// What a `run` step appends to $SANDFLOW_OUTPUT, read back as its outputs.
#include "stepoutputs_p.h"

#include <QTest>

using namespace Sandflow::Internal;
using namespace Qt::StringLiterals;

class TestStepOutputs : public QObject
{
    Q_OBJECT

private slots:
    void parses_data();
    void parses();
};

void TestStepOutputs::parses_data()
{
    QTest::addColumn<QByteArray>("file");
    QTest::addColumn<QJsonObject>("outputs");
    QTest::newRow("empty") << QByteArray() << QJsonObject();
    QTest::newRow("one line") << QByteArray("version=1.2.3\n") << QJsonObject{{u"version"_s, u"1.2.3"_s}};
    QTest::newRow("value with =") << QByteArray("query=a=b&c=d\n") << QJsonObject{{u"query"_s, u"a=b&c=d"_s}};
    QTest::newRow("empty value") << QByteArray("note=\n") << QJsonObject{{u"note"_s, u""_s}};
    QTest::newRow("last wins") << QByteArray("a=1\nb=2\na=3\n") << QJsonObject{{u"a"_s, u"3"_s}, {u"b"_s, u"2"_s}};
    QTest::newRow("no final line break") << QByteArray("a=1") << QJsonObject{{u"a"_s, u"1"_s}};
    QTest::newRow("CRLF") << QByteArray("a=1\r\nb=2\r\n") << QJsonObject{{u"a"_s, u"1"_s}, {u"b"_s, u"2"_s}};
    QTest::newRow("heredoc") << QByteArray("notes<<EOF\nfirst line\nsecond line\nEOF\nafter=yes\n")
                             << QJsonObject{{u"notes"_s, u"first line\nsecond line"_s}, {u"after"_s, u"yes"_s}};
    QTest::newRow("heredoc keeps = and blank lines") << QByteArray("x<<END\na=b\n\nEND\n")
                                                     << QJsonObject{{u"x"_s, u"a=b\n"_s}};
    QTest::newRow("unterminated heredoc takes the rest") << QByteArray("x<<END\none\ntwo\n")
                                                         << QJsonObject{{u"x"_s, u"one\ntwo"_s}};
    QTest::newRow("lines without a name are ignored") << QByteArray("=value\njunk\nok=1\n")
                                                      << QJsonObject{{u"ok"_s, u"1"_s}};
}

void TestStepOutputs::parses()
{
    QFETCH(QByteArray, file);
    QFETCH(QJsonObject, outputs);
    QCOMPARE(parseStepOutputs(file), outputs);
}

QTEST_GUILESS_MAIN(TestStepOutputs)
#include "tst_stepoutputs.moc"
