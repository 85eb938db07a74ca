// Loading datasets: every format, the exact rows and fields, and every diagnostic's place.
#include "dataset.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMap>
#include <QTemporaryDir>
#include <QTest>

using namespace Sandflow;
using namespace Qt::StringLiterals;

namespace {

/// Folder name -> task.json text for a directory dataset; a null text writes no task.json.
using Folders = QMap<QString, QByteArray>;

bool writeFile(const QString &path, const QByteArray &content)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
}

bool writeFolders(const QString &root, const Folders &folders)
{
    if (!QDir().mkpath(root) || !writeFile(root + u"/README.md"_s, "not a task\n"))
        return false;
    for (auto it = folders.cbegin(); it != folders.cend(); ++it) {
        const QString folder = root + u'/' + it.key();
        if (!QDir().mkpath(folder) || (!it.value().isNull() && !writeFile(folder + u"/task.json"_s, it.value())))
            return false;
    }
    return true;
}

/// "LINE:COL: message", prefixed with the file relative to the dataset when it is another
/// one (a task.json), so that expectations do not depend on the temporary directory.
QStringList describe(const Diagnostics &diagnostics, const QString &datasetPath)
{
    QStringList described;
    for (const Diagnostic &diagnostic : diagnostics.items()) {
        const QString file = diagnostic.file == datasetPath
                             ? QString() : QDir(datasetPath).relativeFilePath(diagnostic.file) + u':';
        const QString severity = diagnostic.severity == Diagnostic::Severity::Error ? QString() : u"warning: "_s;
        described << u"%1%2:%3: %4%5"_s.arg(file, QString::number(diagnostic.pos.line),
                                            QString::number(diagnostic.pos.column), severity,
                                            diagnostic.message);
    }
    return described;
}

/// Compact JSON, so that a failed comparison prints both sides readably.
QByteArray compact(const QJsonArray &array)
{
    return QJsonDocument(array).toJson(QJsonDocument::Compact);
}

QByteArray rowsOf(const Dataset &dataset)
{
    QJsonArray rows;
    for (qsizetype i = 0; i < dataset.size(); ++i)
        rows.append(dataset.row(i));
    return compact(rows);
}

/// The expected rows as compact JSON; `$ROOT` stands for the dataset's path.
QByteArray expectedRows(QByteArray json, const QString &root)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(json.replace("$ROOT", root.toUtf8()), &error);
    return error.error == QJsonParseError::NoError ? compact(document.array()) : "invalid expectation"_ba;
}

QStringList withRoot(QStringList lines, const QString &root)
{
    return lines.replaceInStrings(u"$ROOT"_s, root);
}

/// The id of row `i` of the generated large datasets.
QString largeId(int i)
{
    return u"task-%1"_s.arg(i, 5, 10, QChar(u'0'));
}

/// The instruction of row `i`, with a comma and quotes for the formats to escape.
QString largeInstruction(int i)
{
    return u"fix \"bug\" #%1, then test"_s.arg(i);
}

/// Rows with the fields id, instruction and image, in that order, as JSON Lines or CSV.
QByteArray largeDataset(const QString &fileName, int rows)
{
    const bool csv = fileName.endsWith(u".csv"_s);
    // CSV escapes a quote by doubling it, JSON with a backslash.
    const QString line = csv ? u"%1,\"%2\",python:3.11\n"_s
                             : u"{\"id\": \"%1\", \"instruction\": \"%2\", \"image\": \"python:3.11\"}\n"_s;
    const QString escapedQuote = csv ? u"\"\""_s : u"\\\""_s;
    QByteArray content = csv ? "id,instruction,image\n"_ba : QByteArray();
    for (int i = 0; i < rows; ++i)
        content += line.arg(largeId(i), largeInstruction(i).replace(u'"', escapedQuote)).toUtf8();
    return content;
}

} // namespace

class TestDataset : public QObject
{
    Q_OBJECT

private slots:
    void loadsFiles_data();
    void loadsFiles();
    void loadsDirectories_data();
    void loadsDirectories();
    void reportsUnusablePaths_data();
    void reportsUnusablePaths();
    void reportsThePathAsGiven();
    void loadsTenThousandRows_data();
    void loadsTenThousandRows();
    void copiesShareRows();
    void defaultIsEmpty();
};

void TestDataset::loadsFiles_data()
{
    QTest::addColumn<QString>("fileName");
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<Dataset::Format>("format");
    QTest::addColumn<QByteArray>("rows");
    QTest::addColumn<QStringList>("fields");
    QTest::addColumn<QStringList>("diagnostics");

    const auto jsonl = Dataset::Format::JsonLines;
    const auto json = Dataset::Format::JsonArray;
    const auto csv = Dataset::Format::Csv;
    const QStringList none;
    const QStringList noRows{u"0:0: dataset has no rows"_s};

    // JSON Lines
    QTest::newRow("jsonl rows") << u"tasks.jsonl"_s
        << R"({"id": "a", "instruction": "fix it", "image": "python:3.11"}
{"image": "node:20", "id": "b", "extra": [1, {"k": null}]}
)"_ba << jsonl << R"([{"id": "a", "instruction": "fix it", "image": "python:3.11"},
                     {"id": "b", "image": "node:20", "extra": [1, {"k": null}]}])"_ba
        << QStringList{u"id"_s, u"instruction"_s, u"image"_s, u"extra"_s} << none;
    QTest::newRow("jsonl with BOM, CRLF, blank lines, no final newline") << u"tasks.jsonl"_s
        << "\xEF\xBB\xBF{\"id\": \"a\"}\r\n\r\n  \t \r\n{\"id\": \"b\"}"_ba << jsonl
        << R"([{"id": "a"}, {"id": "b"}])"_ba << QStringList{u"id"_s} << none;
    QTest::newRow("ndjson, any case") << u"tasks.NDJSON"_s << "{\"id\": \"a\"}\n"_ba << jsonl
        << R"([{"id": "a"}])"_ba << QStringList{u"id"_s} << none;
    QTest::newRow("jsonl integer ids become strings") << u"tasks.jsonl"_s
        << "{\"id\": 7}\n{\"id\": -3}\n{\"id\": 12345678901234567}\n{\"id\": 2.0}\n"_ba << jsonl
        << R"([{"id": "7"}, {"id": "-3"}, {"id": "12345678901234567"}, {"id": "2"}])"_ba
        << QStringList{u"id"_s} << none;
    QTest::newRow("jsonl invalid JSON") << u"tasks.jsonl"_s
        << "{\"id\": \"a\"}\n{\"id\": \"b\", \"x\": }\n  {\"id\": \"c\"\n{\"id\": tru}\n{\"id\": \"d\"} x\n"_ba
        << jsonl << R"([{"id": "a"}])"_ba << QStringList{u"id"_s}
        << QStringList{u"2:19: invalid JSON: object is missing after a comma"_s,
                       u"3:13: invalid JSON: unterminated string"_s,
                       u"4:9: invalid JSON: illegal value"_s,
                       u"5:13: invalid JSON: garbage at the end of the document"_s};
    QTest::newRow("jsonl rows that are not objects") << u"tasks.jsonl"_s
        << "[1, 2]\n42\n\"text\"\nnull\ntrue\n1, 2\n"_ba << jsonl << "[]"_ba << none
        << QStringList{u"1:1: row must be a JSON object, not an array"_s,
                       u"2:1: row must be a JSON object, not the number 42"_s,
                       u"3:1: row must be a JSON object, not a string"_s,
                       u"4:1: row must be a JSON object, not null"_s,
                       u"5:1: row must be a JSON object, not a boolean"_s,
                       u"6:2: invalid JSON: illegal value"_s};
    QTest::newRow("jsonl id problems") << u"tasks.jsonl"_s
        << R"({"name": "x"}
{"id": ""}
{"id": true}
{"id": 1.5}
{"id": null}
{"id": {"a": 1}}
{"id": "ok"}
)"_ba << jsonl << R"([{"id": "ok"}])"_ba << QStringList{u"id"_s}
        << QStringList{u"1:1: row has no `id`"_s, u"2:1: row has no `id`"_s,
                       u"3:1: `id` must be a string or an integer, not a boolean"_s,
                       u"4:1: `id` must be a string or an integer, not the number 1.5"_s,
                       u"5:1: `id` must be a string or an integer, not null"_s,
                       u"6:1: `id` must be a string or an integer, not an object"_s};
    QTest::newRow("jsonl duplicate ids") << u"tasks.jsonl"_s
        << "{\"id\": \"a\"}\n{\"id\": \"b\"}\n\n{\"id\": \"a\", \"x\": 1}\n{\"id\": 7}\n{\"id\": \"7\"}\n"_ba
        << jsonl << R"([{"id": "a"}, {"id": "b"}, {"id": "7"}])"_ba << QStringList{u"id"_s}
        << QStringList{u"4:1: duplicate task id `a` (first at line 1)"_s,
                       u"6:1: duplicate task id `7` (first at line 5)"_s};
    QTest::newRow("jsonl empty file") << u"tasks.jsonl"_s << QByteArray() << jsonl << "[]"_ba << none << noRows;
    QTest::newRow("jsonl blank lines only") << u"tasks.jsonl"_s << "\n  \n\r\n"_ba << jsonl << "[]"_ba << none
                                            << noRows;

    // JSON array
    QTest::newRow("json array over lines") << u"tasks.json"_s << R"([
  {"id": "a", "n": 1},
  {"id": "b",
   "n": 2, "tags": ["x", "y"]}, {"id": "c"}
]
)"_ba << json << R"([{"id": "a", "n": 1}, {"id": "b", "n": 2, "tags": ["x", "y"]}, {"id": "c"}])"_ba
        << QStringList{u"id"_s, u"n"_s, u"tags"_s} << none;
    QTest::newRow("json strings with brackets, commas and escapes") << u"tasks.json"_s
        << R"([{"id": "a,]", "q": "say \"hi\", ok]", "k\"ey": 1}, {"id": "b"}])"_ba << json
        << R"([{"id": "a,]", "q": "say \"hi\", ok]", "k\"ey": 1}, {"id": "b"}])"_ba
        << QStringList{u"id"_s, u"q"_s, u"k\"ey"_s} << none;
    QTest::newRow("json with BOM and CRLF") << u"tasks.json"_s << "\xEF\xBB\xBF[\r\n{\"id\": \"a\"}\r\n]\r\n"_ba
        << json << R"([{"id": "a"}])"_ba << QStringList{u"id"_s} << none;
    QTest::newRow("json element problems") << u"tasks.json"_s << R"([
  {"id": "a"},
  42,
  {"name": "no id"},
  {"id": "a"}, [1],
  {"id": "d",

   "x": }
]
)"_ba << json << R"([{"id": "a"}])"_ba << QStringList{u"id"_s}
        << QStringList{u"3:3: row must be a JSON object, not the number 42"_s,
                       u"4:3: row has no `id`"_s,
                       u"5:3: duplicate task id `a` (first at line 2)"_s,
                       u"5:16: row must be a JSON object, not an array"_s,
                       u"8:10: invalid JSON: object is missing after a comma"_s};
    QTest::newRow("json empty array") << u"tasks.json"_s << "  [ ]  \n"_ba << json << "[]"_ba << none << noRows;
    QTest::newRow("json empty file") << u"tasks.json"_s << "\n"_ba << json << "[]"_ba << none << noRows;
    QTest::newRow("json not an array") << u"tasks.json"_s << "\n  {\"id\": \"a\"}\n"_ba << json << "[]"_ba
        << none << QStringList{u"2:3: expected a JSON array of objects"_s};
    QTest::newRow("json trailing comma") << u"tasks.json"_s << "[{\"id\":\"a\"},]"_ba << json
        << R"([{"id": "a"}])"_ba << QStringList{u"id"_s} << QStringList{u"1:13: expected a row after `,`"_s};
    QTest::newRow("json array not closed") << u"tasks.json"_s << "[{\"id\":\"a\"},\n{\"id\":\"b\"}\n"_ba << json
        << R"([{"id": "a"}, {"id": "b"}])"_ba << QStringList{u"id"_s}
        << QStringList{u"2:11: the array is not closed: `]` is missing"_s};
    // An element still open at the end of the file is placed on the file's last line, not
    // on a line after it (a last line without a line break, found by fuzzing).
    QTest::newRow("json element not closed at the end of the file") << u"tasks.json"_s
        << "[{\"id\": \"a\"},\n{\"id\": \"b\""_ba << json << R"([{"id": "a"}])"_ba << QStringList{u"id"_s}
        << QStringList{u"2:11: invalid JSON: unterminated string"_s,
                       u"2:11: the array is not closed: `]` is missing"_s};
    QTest::newRow("json text after the array") << u"tasks.json"_s << "[{\"id\":\"a\"}]\n x\n"_ba << json
        << R"([{"id": "a"}])"_ba << QStringList{u"id"_s} << QStringList{u"2:2: unexpected text after the array"_s};

    // CSV
    QTest::newRow("csv rows") << u"tasks.csv"_s << "id,instruction,image\n1,fix it,python\n2,other,node\n"_ba
        << csv << R"([{"id": "1", "instruction": "fix it", "image": "python"},
                      {"id": "2", "instruction": "other", "image": "node"}])"_ba
        << QStringList{u"id"_s, u"instruction"_s, u"image"_s} << none;
    QTest::newRow("csv quoting") << u"tasks.csv"_s
        << "id,text\na,\"has, comma\"\nb,\"say \"\"hi\"\"\"\nc,\"two\n\nlines\"\nd,\"\"\ne,\n\"f\",na\xC3\xAFve \xE2\x9C\x93\n"_ba
        << csv << R"([{"id": "a", "text": "has, comma"}, {"id": "b", "text": "say \"hi\""},
                      {"id": "c", "text": "two\n\nlines"}, {"id": "d", "text": ""}, {"id": "e", "text": ""},
                      {"id": "f", "text": "naïve ✓"}])"_ba
        << QStringList{u"id"_s, u"text"_s} << none;
    QTest::newRow("csv with BOM, CRLF and blank lines") << u"tasks.csv"_s
        << "\xEF\xBB\xBFid,text\r\n\r\nf,\"x\r\ny\"\r\n\r\ng,z"_ba << csv
        << R"([{"id": "f", "text": "x\ny"}, {"id": "g", "text": "z"}])"_ba << QStringList{u"id"_s, u"text"_s}
        << none;
    QTest::newRow("csv quotes inside fields are literal") << u"tasks.csv"_s << "id,x\na,ab\"c\nb,\"q\"r\n"_ba << csv
        << R"([{"id": "a", "x": "ab\"c"}, {"id": "b", "x": "qr"}])"_ba << QStringList{u"id"_s, u"x"_s} << none;
    QTest::newRow("csv field counts") << u"tasks.csv"_s << "id,a,b\n1,x\n2,\"x\ny\",y,z\n3,x,y\n4\n"_ba << csv
        << R"([{"id": "3", "a": "x", "b": "y"}])"_ba << QStringList{u"id"_s, u"a"_s, u"b"_s}
        << QStringList{u"2:1: row has 2 fields, but the header has 3 fields"_s,
                       u"3:1: row has 4 fields, but the header has 3 fields"_s,
                       u"6:1: row has 1 field, but the header has 3 fields"_s};
    QTest::newRow("csv without id column") << u"tasks.csv"_s << "name,x\na,1\nb\nc,2\n"_ba << csv << "[]"_ba
        << none << QStringList{u"1:1: the header has no `id` column"_s,
                               u"3:1: row has 1 field, but the header has 2 fields"_s};
    QTest::newRow("csv id problems") << u"tasks.csv"_s << "id,x\na,1\n,2\na,3\n"_ba << csv
        << R"([{"id": "a", "x": "1"}])"_ba << QStringList{u"id"_s, u"x"_s}
        << QStringList{u"3:1: row has no `id`"_s, u"4:1: duplicate task id `a` (first at line 2)"_s};
    QTest::newRow("csv duplicate column") << u"tasks.csv"_s << "id,x,x\na,1,2\n"_ba << csv
        << R"([{"id": "a", "x": "2"}])"_ba << QStringList{u"id"_s, u"x"_s}
        << QStringList{u"1:1: duplicate column `x`"_s};
    QTest::newRow("csv quote not closed") << u"tasks.csv"_s << "id,x\na,1\nb,\"open\nc,2\n"_ba << csv
        << R"([{"id": "a", "x": "1"}])"_ba << QStringList{u"id"_s, u"x"_s}
        << QStringList{u"3:1: quoted field is not closed"_s};
    QTest::newRow("csv header only") << u"tasks.csv"_s << "id,x\n"_ba << csv << "[]"_ba << none << noRows;
    QTest::newRow("csv empty file") << u"tasks.csv"_s << QByteArray() << csv << "[]"_ba << none << noRows;
}

void TestDataset::loadsFiles()
{
    QFETCH(QString, fileName);
    QFETCH(QByteArray, content);
    QFETCH(Dataset::Format, format);
    QFETCH(QByteArray, rows);
    QFETCH(QStringList, fields);
    QFETCH(QStringList, diagnostics);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(fileName);
    QVERIFY(writeFile(path, content));

    Diagnostics found;
    const Dataset dataset = Dataset::load(path, &found);

    QCOMPARE(describe(found, path), diagnostics);
    QCOMPARE(rowsOf(dataset), expectedRows(rows, path));
    QCOMPARE(dataset.fields(), fields);
    QVERIFY(dataset.format() == format);
    QCOMPARE(dataset.path(), path);
}

void TestDataset::loadsDirectories_data()
{
    QTest::addColumn<Folders>("folders");
    QTest::addColumn<QByteArray>("rows");
    QTest::addColumn<QStringList>("fields");
    QTest::addColumn<QStringList>("diagnostics");

    QTest::newRow("folders by name, task.json optional")
        << Folders{{u"b"_s, R"({"instruction": "fix", "image": "py"})"_ba},
                   {u"a"_s, QByteArray()},
                   {u"c10"_s, "{\"n\": 1,\n \"id\": 10}"_ba},
                   {u"c2"_s, QByteArray()},
                   {u".hidden"_s, QByteArray()}}
        << R"([{"id": "a", "dir": "$ROOT/a"},
              {"id": "b", "dir": "$ROOT/b", "instruction": "fix", "image": "py"},
              {"id": "10", "dir": "$ROOT/c10", "n": 1},
              {"id": "c2", "dir": "$ROOT/c2"}])"_ba
        << QStringList{u"id"_s, u"dir"_s, u"instruction"_s, u"image"_s, u"n"_s} << QStringList();
    QTest::newRow("task.json problems")
        << Folders{{u"a"_s, R"({"id": "x", "dir": "/elsewhere"})"_ba},
                   {u"b"_s, "{\"id\": \"b\",\n  \"x\": }"_ba},
                   {u"c"_s, "[1]"_ba},
                   {u"d"_s, R"({"id": "e"})"_ba},
                   {u"e"_s, QByteArray()},
                   {u"f"_s, R"({"id": true})"_ba},
                   {u"g"_s, R"({"id": "g", "k": 1})"_ba}}
        << R"([{"id": "e", "dir": "$ROOT/d"}, {"id": "g", "dir": "$ROOT/g", "k": 1}])"_ba
        << QStringList{u"id"_s, u"dir"_s, u"k"_s}
        << QStringList{u"a/task.json:0:0: task.json may not set `dir`: it is the task folder's absolute path"_s,
                       u"b/task.json:2:9: invalid JSON: object is missing after a comma"_s,
                       u"c/task.json:1:1: row must be a JSON object, not an array"_s,
                       u"e:0:0: duplicate task id `e` (first in `$ROOT/d/task.json`)"_s,
                       u"f/task.json:0:0: `id` must be a string or an integer, not a boolean"_s};
    QTest::newRow("no folders") << Folders{} << "[]"_ba << QStringList()
                                << QStringList{u"0:0: dataset has no rows"_s};
}

void TestDataset::loadsDirectories()
{
    QFETCH(Folders, folders);
    QFETCH(QByteArray, rows);
    QFETCH(QStringList, fields);
    QFETCH(QStringList, diagnostics);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString root = dir.filePath(u"tasks"_s);
    QVERIFY(writeFolders(root, folders));

    Diagnostics found;
    const Dataset dataset = Dataset::load(root, &found);

    QCOMPARE(describe(found, root), withRoot(diagnostics, root));
    QCOMPARE(rowsOf(dataset), expectedRows(rows, root));
    QCOMPARE(dataset.fields(), fields);
    QVERIFY(dataset.format() == Dataset::Format::Directory);
}

void TestDataset::reportsUnusablePaths_data()
{
    QTest::addColumn<QString>("fileName");
    QTest::addColumn<bool>("create");
    QTest::addColumn<QString>("diagnostic");

    QTest::newRow("missing file") << u"missing.jsonl"_s << false
                                  << u"0:0: cannot read dataset: No such file or directory"_s;
    QTest::newRow("missing directory") << u"missing"_s << false
                                       << u"0:0: cannot read dataset: No such file or directory"_s;
    QTest::newRow("unknown extension") << u"tasks.xyz"_s << true
        << u"0:0: unknown dataset format `.xyz` (expected .jsonl, .json, .csv or a directory)"_s;
    QTest::newRow("no extension") << u"tasks"_s << true
        << u"0:0: dataset file has no extension (expected .jsonl, .json, .csv or a directory)"_s;
}

void TestDataset::reportsUnusablePaths()
{
    QFETCH(QString, fileName);
    QFETCH(bool, create);
    QFETCH(QString, diagnostic);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(fileName);
    QVERIFY(!create || writeFile(path, "{\"id\": \"a\"}\n"));

    Diagnostics found;
    const Dataset dataset = Dataset::load(path, &found);

    QCOMPARE(describe(found, path), QStringList{diagnostic});
    QCOMPARE(dataset.size(), 0);
    QCOMPARE(dataset.path(), path);
}

void TestDataset::reportsThePathAsGiven()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QVERIFY(QDir(dir.path()).mkdir(u"sub"_s));
    QVERIFY(writeFile(dir.filePath(u"tasks.jsonl"_s), "{\"id\": \"a\"}\n{\"id\": \"a\"}\n"));
    const QString path = dir.path() + u"/sub/../tasks.jsonl"_s;

    Diagnostics found;
    const Dataset dataset = Dataset::load(path, &found);

    QCOMPARE(found.items().size(), 1);
    QCOMPARE(found.items().first().file, path);
    QCOMPARE(found.items().first().toString(), path + u":2:1: error: duplicate task id `a` (first at line 1)"_s);
    QCOMPARE(dataset.path(), path);
}

void TestDataset::loadsTenThousandRows_data()
{
    QTest::addColumn<QString>("fileName");
    QTest::newRow("jsonl") << u"tasks.jsonl"_s;
    QTest::newRow("csv") << u"tasks.csv"_s;
}

void TestDataset::loadsTenThousandRows()
{
    QFETCH(QString, fileName);
    constexpr int rowCount = 10'000;
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(fileName);
    QVERIFY(writeFile(path, largeDataset(fileName, rowCount)));

    Diagnostics found;
    const Dataset dataset = Dataset::load(path, &found);

    QCOMPARE(describe(found, path), QStringList());
    QCOMPARE(dataset.size(), rowCount);
    QCOMPARE(dataset.fields(), (QStringList{u"id"_s, u"instruction"_s, u"image"_s}));
    for (int i = 0; i < rowCount; ++i) {
        const QString id = largeId(i);
        QCOMPARE(dataset.id(i), id);
        QCOMPARE(dataset.row(i), (QJsonObject{{u"id"_s, id}, {u"instruction"_s, largeInstruction(i)},
                                              {u"image"_s, u"python:3.11"_s}}));
    }
}

void TestDataset::copiesShareRows()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(u"tasks.jsonl"_s);
    QVERIFY(writeFile(path, "{\"id\": 1, \"x\": true}\n{\"id\": \"b\"}\n"));
    Diagnostics found;
    const Dataset loaded = Dataset::load(path, &found);
    QVERIFY(found.isEmpty());

    Dataset copy;
    copy = loaded;
    const Dataset constructed(copy);

    // Equal values alone would not tell shared rows from copied ones; the same memory does.
    QVERIFY(copy.isSharedWith(loaded));
    QVERIFY(constructed.isSharedWith(loaded));
    QVERIFY(!Dataset::load(path, &found).isSharedWith(loaded));   // loaded again: rows of its own

    for (const Dataset &dataset : {copy, constructed}) {
        QCOMPARE(dataset.size(), 2);
        QCOMPARE(dataset.id(0), u"1"_s);
        QCOMPARE(dataset.id(1), u"b"_s);
        QCOMPARE(dataset.row(0), (QJsonObject{{u"id"_s, u"1"_s}, {u"x"_s, true}}));
        QCOMPARE(dataset.fields(), (QStringList{u"id"_s, u"x"_s}));
        QCOMPARE(dataset.path(), path);
    }
}

void TestDataset::defaultIsEmpty()
{
    const Dataset dataset;
    QCOMPARE(dataset.size(), 0);
    QCOMPARE(dataset.row(0), QJsonObject());
    QCOMPARE(dataset.id(0), QString());
    QCOMPARE(dataset.fields(), QStringList());
    QCOMPARE(dataset.path(), QString());
}

QTEST_GUILESS_MAIN(TestDataset)

#include "tst_dataset.moc"
