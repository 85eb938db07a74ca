// Expansion of strategy.matrix, checked against GitHub Actions' documented semantics.
#include "matrix.h"

#include <QJsonDocument>
#include <QTest>

using namespace Sandflow;
using namespace Qt::StringLiterals;

namespace {

/// A matrix written as JSON. Axes are a list of one-key objects because a JSON object would
/// lose their order: {"axes": [{"os": [...]}, {"py": [...]}], "include": [...], "exclude": [...]}.
MatrixSpec specFromJson(const QByteArray &json)
{
    const QJsonObject object = QJsonDocument::fromJson(json).object();
    MatrixSpec spec;
    for (const QJsonValue &axis : object.value("axes"_L1).toArray()) {
        const QJsonObject single = axis.toObject();
        spec.axes.append({single.begin().key(), single.begin().value().toArray()});
    }
    for (const QJsonValue &entry : object.value("include"_L1).toArray())
        spec.include.append(entry.toObject());
    for (const QJsonValue &entry : object.value("exclude"_L1).toArray())
        spec.exclude.append(entry.toObject());
    return spec;
}

/// Compact JSON, so that a failed comparison prints both sides readably.
QByteArray compact(const QJsonArray &array)
{
    return QJsonDocument(array).toJson(QJsonDocument::Compact);
}

QByteArray compact(const QList<QJsonObject> &combinations)
{
    QJsonArray array;
    for (const QJsonObject &combination : combinations)
        array.append(combination);
    return compact(array);
}

bool isValidJson(const QByteArray &json)
{
    QJsonParseError error;
    QJsonDocument::fromJson(json, &error);
    return error.error == QJsonParseError::NoError;
}

const QByteArray githubExample = R"({
    "axes": [{"fruit": ["apple", "pear"]}, {"animal": ["cat", "dog"]}],
    "include": [
        {"color": "green"},
        {"color": "pink", "animal": "cat"},
        {"fruit": "apple", "shape": "circle"},
        {"fruit": "banana"},
        {"fruit": "banana", "animal": "cat"}
    ]
})"_ba;

} // namespace

class TestMatrix : public QObject
{
    Q_OBJECT

private slots:
    void expandMatrix_data();
    void expandMatrix();
    void matrixKeys_data();
    void matrixKeys();
    void isEmpty();
};

void TestMatrix::expandMatrix_data()
{
    QTest::addColumn<QByteArray>("matrix");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("github docs example") << githubExample << R"([
        {"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
        {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
        {"fruit": "pear", "animal": "cat", "color": "pink"},
        {"fruit": "pear", "animal": "dog", "color": "green"},
        {"fruit": "banana"},
        {"fruit": "banana", "animal": "cat"}])"_ba;
    QTest::newRow("empty matrix") << "{}"_ba << "[]"_ba;
    QTest::newRow("single axis") << R"({"axes": [{"os": ["linux"]}]})"_ba << R"([{"os": "linux"}])"_ba;
    QTest::newRow("first axis varies slowest") << R"({
        "axes": [{"a": [1, 2]}, {"b": ["x"]}, {"c": [true, false]}]})"_ba << R"([
        {"a": 1, "b": "x", "c": true}, {"a": 1, "b": "x", "c": false},
        {"a": 2, "b": "x", "c": true}, {"a": 2, "b": "x", "c": false}])"_ba;
    QTest::newRow("empty axis gives no product") << R"({
        "axes": [{"os": ["linux", "mac"]}, {"py": []}], "include": [{"os": "linux"}]})"_ba
                                                  << R"([{"os": "linux"}])"_ba;
    QTest::newRow("exclude matches partially") << R"({
        "axes": [{"os": ["linux", "windows"]}, {"py": ["3.10", "3.11"]}],
        "exclude": [{"os": "windows"}]})"_ba << R"([
        {"os": "linux", "py": "3.10"}, {"os": "linux", "py": "3.11"}])"_ba;
    QTest::newRow("exclude needs every key") << R"({
        "axes": [{"os": ["linux", "windows"]}, {"py": ["3.10", "3.11"]}],
        "exclude": [{"os": "windows", "py": "3.10"}]})"_ba << R"([
        {"os": "linux", "py": "3.10"}, {"os": "linux", "py": "3.11"}, {"os": "windows", "py": "3.11"}])"_ba;
    QTest::newRow("exclude of unknown keys and values removes nothing") << R"({
        "axes": [{"os": ["linux", "mac"]}], "exclude": [{"os": "beos"}, {"arch": "arm"}]})"_ba
        << R"([{"os": "linux"}, {"os": "mac"}])"_ba;
    QTest::newRow("design doc: exclude, then include") << R"({
        "axes": [{"py": ["3.10", "3.11"]}],
        "include": [{"py": "3.12", "experimental": true}],
        "exclude": [{"py": "3.10"}]})"_ba << R"([
        {"py": "3.11"}, {"py": "3.12", "experimental": true}])"_ba;
    QTest::newRow("include that fits only excluded combinations is appended") << R"({
        "axes": [{"os": ["linux", "windows"]}],
        "include": [{"os": "windows", "shell": "pwsh"}],
        "exclude": [{"os": "windows"}]})"_ba << R"([
        {"os": "linux"}, {"os": "windows", "shell": "pwsh"}])"_ba;
    QTest::newRow("everything excluded: includes stand alone") << R"({
        "axes": [{"os": ["linux", "mac"]}],
        "include": [{"color": "green"}],
        "exclude": [{"os": "linux"}, {"os": "mac"}]})"_ba << R"([{"color": "green"}])"_ba;
    QTest::newRow("include of new keys extends every combination") << R"({
        "axes": [{"os": ["linux", "mac"]}], "include": [{"experimental": false}]})"_ba << R"([
        {"os": "linux", "experimental": false}, {"os": "mac", "experimental": false}])"_ba;
    QTest::newRow("include overwrites added values, never original ones") << R"({
        "axes": [{"os": ["linux", "mac"]}],
        "include": [{"color": "green"}, {"os": "linux", "color": "red"}, {"os": "bsd", "color": "blue"}]})"_ba
        << R"([{"os": "linux", "color": "red"}, {"os": "mac", "color": "green"},
               {"os": "bsd", "color": "blue"}])"_ba;
    QTest::newRow("no axes: every include is its own combination") << R"({
        "include": [{"os": "linux"}, {"os": "linux", "py": 3}, {"py": 3}]})"_ba << R"([
        {"os": "linux"}, {"os": "linux", "py": 3}, {"py": 3}])"_ba;
    QTest::newRow("values compare deeply") << R"({
        "axes": [{"cfg": [{"os": "linux", "arch": ["x64", "arm"]}, {"os": "mac"}]}],
        "include": [{"cfg": {"os": "linux", "arch": ["x64", "arm"]}, "big": true},
                    {"cfg": {"os": "linux", "arch": ["x64"]}, "partial": true}],
        "exclude": [{"cfg": {"os": "mac"}}]})"_ba << R"([
        {"cfg": {"os": "linux", "arch": ["x64", "arm"]}, "big": true},
        {"cfg": {"os": "linux", "arch": ["x64"]}, "partial": true}])"_ba;
    QTest::newRow("a number is not the string of it") << R"({
        "axes": [{"py": [3, "3"]}], "include": [{"py": "3", "string": true}]})"_ba << R"([
        {"py": 3}, {"py": "3", "string": true}])"_ba;
}

void TestMatrix::expandMatrix()
{
    QFETCH(QByteArray, matrix);
    QFETCH(QByteArray, expected);
    QVERIFY(isValidJson(matrix));
    QVERIFY(isValidJson(expected));

    QCOMPARE(compact(Sandflow::expandMatrix(specFromJson(matrix))),
             compact(QJsonDocument::fromJson(expected).array()));
}

void TestMatrix::matrixKeys_data()
{
    QTest::addColumn<QByteArray>("matrix");
    QTest::addColumn<QStringList>("expected");

    QTest::newRow("github docs example") << githubExample
                                         << QStringList{u"fruit"_s, u"animal"_s, u"color"_s, u"shape"_s};
    QTest::newRow("empty matrix") << "{}"_ba << QStringList{};
    QTest::newRow("axes in file order") << R"({"axes": [{"py": [3]}, {"os": ["linux"]}]})"_ba
                                        << QStringList{u"py"_s, u"os"_s};
    QTest::newRow("no axes: keys of the includes") << R"({
        "include": [{"os": "linux"}, {"py": 3, "arch": "x64"}, {"os": "mac"}]})"_ba
        << QStringList{u"os"_s, u"arch"_s, u"py"_s};
    QTest::newRow("exclude adds no keys") << R"({
        "axes": [{"os": ["linux"]}], "exclude": [{"arch": "arm"}]})"_ba << QStringList{u"os"_s};
}

void TestMatrix::matrixKeys()
{
    QFETCH(QByteArray, matrix);
    QFETCH(QStringList, expected);
    QVERIFY(isValidJson(matrix));

    QCOMPARE(Sandflow::matrixKeys(specFromJson(matrix)), expected);
}

void TestMatrix::isEmpty()
{
    QVERIFY(MatrixSpec().isEmpty());
    QVERIFY(specFromJson(R"({"exclude": [{"os": "linux"}]})"_ba).isEmpty());
    QVERIFY(!specFromJson(R"({"include": [{"os": "linux"}]})"_ba).isEmpty());
    QVERIFY(!specFromJson(R"({"axes": [{"os": ["linux"]}]})"_ba).isEmpty());
}

QTEST_APPLESS_MAIN(TestMatrix)

#include "tst_matrix.moc"
