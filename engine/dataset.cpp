#include "dataset.h"
#include "dataset_p.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QSet>

#include <algorithm>
#include <optional>
#include <utility>

namespace Sandflow {

using namespace Qt::StringLiterals;

namespace {

constexpr auto IdField = "id"_L1;
constexpr auto DirField = "dir"_L1;
constexpr auto ExpectedFormats = "(expected .jsonl, .json, .csv or a directory)"_L1;

/// Where a row or a problem is: the dataset file, or a task.json of a directory dataset.
struct Location
{
    QString file;
    SourcePos pos;
};

bool isJsonSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool isBlank(QByteArrayView text)
{
    return std::all_of(text.begin(), text.end(), isJsonSpace);
}

/// The position `offset` bytes into `text`, where `text` starts at `start` in its file.
SourcePos advance(SourcePos start, QByteArrayView text, qsizetype offset)
{
    const QByteArrayView before = text.first(std::min(offset, text.size()));
    const qsizetype lastBreak = before.lastIndexOf('\n');
    if (lastBreak < 0)
        return {start.line, start.column + int(offset)};
    return {start.line + int(before.count('\n')), int(offset - lastBreak)};
}

/// The index just past the string literal whose opening quote is at `quote`, or the end of
/// `text` when the literal is not closed there.
qsizetype endOfString(QByteArrayView text, qsizetype quote)
{
    for (qsizetype i = quote + 1; i < text.size(); ++i) {
        if (text[i] == '\\')
            ++i;
        else if (text[i] == '"')
            return i + 1;
    }
    return text.size();
}

/// "a string", "the number 1.5", ...: what a JSON value is, for messages.
QString describe(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
        return u"null"_s;
    case QJsonValue::Bool:
        return u"a boolean"_s;
    case QJsonValue::Double:
        return u"the number %1"_s.arg(QString::number(value.toDouble(), 'g', QLocale::FloatingPointShortest));
    case QJsonValue::String:
        return u"a string"_s;
    case QJsonValue::Array:
        return u"an array"_s;
    case QJsonValue::Object:
        return u"an object"_s;
    case QJsonValue::Undefined:
        break;
    }
    return u"nothing"_s;
}

/// The keys of the JSON object `json` in source order, which QJsonObject does not keep.
/// `json` is known to be a valid object.
QStringList topLevelKeys(QByteArrayView json)
{
    QStringList keys;
    int depth = 0;
    bool expectKey = false;
    for (qsizetype i = 0; i < json.size(); ++i) {
        switch (json[i]) {
        case '"': {
            const qsizetype end = endOfString(json, i);
            if (depth == 1 && expectKey) {
                // Let the JSON parser undo escapes in the key.
                const QByteArray literal = '[' + json.sliced(i, end - i).toByteArray() + ']';
                keys.append(QJsonDocument::fromJson(literal).array().first().toString());
            }
            expectKey = false;
            i = end - 1;
            break;
        }
        case '{':
        case '[':
            expectKey = ++depth == 1;
            break;
        case '}':
        case ']':
            --depth;
            break;
        case ',':
            expectKey = depth == 1;
            break;
        default:
            break;
        }
    }
    return keys;
}

QString fieldCount(qsizetype count)
{
    return count == 1 ? u"1 field"_s : u"%1 fields"_s.arg(count);
}

/// Reads a file line by line, without the line breaks (LF or CRLF) and without a UTF-8 byte
/// order mark, so that only one line is in memory at a time.
class LineReader
{
public:
    explicit LineReader(QIODevice &device) : m_device(device) {}

    bool next()
    {
        m_line = m_device.readLine();
        if (m_line.isEmpty()) // the end of the file, or a read error
            return false;
        if (m_line.endsWith('\n'))
            m_line.chop(1);
        if (m_line.endsWith('\r'))
            m_line.chop(1);
        if (++m_number == 1 && m_line.startsWith("\xEF\xBB\xBF"))
            m_line.remove(0, 3);
        return true;
    }

    const QByteArray &line() const { return m_line; }
    int number() const { return m_number; }

private:
    QIODevice &m_device;
    QByteArray m_line;
    int m_number = 0;
};

/// Collects the rows of one load into the dataset: checks their ids, records the field
/// order and reports every problem.
class RowCollector
{
public:
    RowCollector(Internal::DatasetData &data, Diagnostics &diagnostics)
        : m_data(data), m_diagnostics(diagnostics)
    {}

    Location at(SourcePos pos) const { return {m_data.path, pos}; }
    qsizetype rowCount() const { return m_data.rows.size(); }

    void error(const Location &where, const QString &message)
    {
        m_diagnostics.error(where.file, where.pos, message);
    }

    /// Parses the text of one row, which starts at `where`, and adds it.
    void addJson(const QByteArray &json, const Location &where)
    {
        const std::optional<QJsonObject> row = parseObject(json, where);
        if (row && add(*row, where))
            noteFieldsOf(*row, json);
    }

    std::optional<QJsonObject> parseObject(const QByteArray &json, const Location &where);
    /// Adds `row` when it has a valid id that no earlier row has; integer ids become strings.
    bool add(QJsonObject row, const Location &where);
    /// Appends the names not seen yet to the dataset's fields, in this order.
    void noteFields(const QStringList &names);
    /// Notes the fields of `row` in the order of `json`, its source text.
    void noteFieldsOf(const QJsonObject &row, QByteArrayView json);

private:
    std::optional<QString> idOf(const QJsonValue &value, const Location &where);
    QString placeOf(const Location &first, const Location &where) const;

    Internal::DatasetData &m_data;
    Diagnostics &m_diagnostics;
    QHash<QString, Location> m_firstById;
    QSet<QString> m_knownFields;
};

std::optional<QJsonObject> RowCollector::parseObject(const QByteArray &json, const Location &where)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (document.isObject())
        return document.object();
    if (document.isArray()) {
        error(where, u"row must be a JSON object, not an array"_s);
        return {};
    }
    // QJsonDocument rejects a lone scalar; inside an array it tells "not an object" from
    // "not JSON at all".
    const QJsonArray wrapped = QJsonDocument::fromJson('[' + json + ']').array();
    if (wrapped.size() == 1) {
        error(where, u"row must be a JSON object, not %1"_s.arg(describe(wrapped.first())));
        return {};
    }
    error({where.file, advance(where.pos, json, parseError.offset)},
          u"invalid JSON: %1"_s.arg(parseError.errorString()));
    return {};
}

bool RowCollector::add(QJsonObject row, const Location &where)
{
    const std::optional<QString> id = idOf(row.value(IdField), where);
    if (!id)
        return false;
    const auto first = m_firstById.constFind(*id);
    if (first != m_firstById.cend()) {
        error(where, u"duplicate task id `%1` (first %2)"_s.arg(*id, placeOf(first.value(), where)));
        return false;
    }
    m_firstById.insert(*id, where);
    if (!row.value(IdField).isString())
        row.insert(IdField, *id);
    m_data.rows.append(row);
    return true;
}

std::optional<QString> RowCollector::idOf(const QJsonValue &value, const Location &where)
{
    if (value.isString() && !value.toString().isEmpty())
        return value.toString();
    if (value.isUndefined() || value.isString()) {
        error(where, u"row has no `id`"_s);
        return {};
    }
    const qint64 integer = value.toInteger();
    if (value.isDouble() && double(integer) == value.toDouble())
        return QString::number(integer);
    error(where, u"`id` must be a string or an integer, not %1"_s.arg(describe(value)));
    return {};
}

/// Where the first row with an id was, as seen from the row that repeats it.
QString RowCollector::placeOf(const Location &first, const Location &where) const
{
    if (first.file == where.file)
        return u"at line %1"_s.arg(first.pos.line);
    return u"in `%1`"_s.arg(first.file);
}

void RowCollector::noteFields(const QStringList &names)
{
    for (const QString &name : names) {
        if (!m_knownFields.contains(name)) {
            m_knownFields.insert(name);
            m_data.fields.append(name);
        }
    }
}

void RowCollector::noteFieldsOf(const QJsonObject &row, QByteArrayView json)
{
    // Rows of a dataset mostly share their fields; only scan the text for new ones.
    for (auto it = row.begin(); it != row.end(); ++it) {
        if (!m_knownFields.contains(it.key())) {
            noteFields(topLevelKeys(json));
            return;
        }
    }
}

/// Splits a JSON array, fed line by line, into the text of its elements, so that each one is
/// parsed on its own and every problem points at its line in the file.
class ArraySplitter
{
public:
    struct Element
    {
        QByteArray json;
        SourcePos pos;
    };
    struct Problem
    {
        SourcePos pos;
        QString message;
    };

    /// Returns false at a problem in the array's own syntax, after which the rest is unusable.
    bool feed(QByteArrayView line, int number);
    /// Ends the input; returns false when the array was not closed.
    bool finish();
    QList<Element> takeElements() { return std::exchange(m_elements, {}); }
    const Problem &problem() const { return m_problem; }

private:
    enum class State { BeforeArray, FirstElement, NextElement, InElement, AfterArray };

    bool step(char c, SourcePos pos);
    qsizetype scanElement(QByteArrayView line, qsizetype from);
    qsizetype elementEnd(QByteArrayView line, qsizetype from);
    bool fail(SourcePos pos, const QString &message);

    State m_state = State::BeforeArray;
    Element m_element;
    int m_depth = 0;
    QList<Element> m_elements;
    SourcePos m_end;
    Problem m_problem;
};

bool ArraySplitter::feed(QByteArrayView line, int number)
{
    m_end = {number, int(line.size()) + 1};
    // An element that goes on keeps its lines where they are in the file; the break comes
    // before each further line, not after each line, so that none follows the file's last
    // and a problem at the element's end is placed on a line the file has.
    if (m_state == State::InElement)
        m_element.json.append('\n');
    qsizetype i = 0;
    while (i < line.size()) {
        if (m_state == State::InElement) {
            i = scanElement(line, i);
            continue;
        }
        if (!isJsonSpace(line[i]) && !step(line[i], {number, int(i) + 1}))
            return false;
        if (m_state != State::InElement) // else this character starts the element
            ++i;
    }
    return true;
}

/// Handles a non-space character between elements.
bool ArraySplitter::step(char c, SourcePos pos)
{
    switch (m_state) {
    case State::BeforeArray:
        if (c != '[')
            return fail(pos, u"expected a JSON array of objects"_s);
        m_state = State::FirstElement;
        return true;
    case State::FirstElement:
        if (c == ']') {
            m_state = State::AfterArray;
            return true;
        }
        break;
    case State::NextElement:
        if (c == ']' || c == ',')
            return fail(pos, u"expected a row after `,`"_s);
        break;
    case State::AfterArray:
        return fail(pos, u"unexpected text after the array"_s);
    case State::InElement:
        break;
    }
    m_state = State::InElement;
    m_element = {{}, pos};
    m_depth = 0;
    return true;
}

/// Adds the element's part of `line` from `from`; returns where scanning goes on.
qsizetype ArraySplitter::scanElement(QByteArrayView line, qsizetype from)
{
    const qsizetype end = elementEnd(line, from);
    m_element.json.append(line.sliced(from, end - from));
    if (end == line.size())
        return end;
    m_elements.append(std::exchange(m_element, {}));
    m_state = line[end] == ']' ? State::AfterArray : State::NextElement;
    return end + 1;
}

/// The index of the `,` or `]` that ends the current element, or the end of `line`. Only
/// nesting and strings matter here; the JSON parser judges the element's text later.
qsizetype ArraySplitter::elementEnd(QByteArrayView line, qsizetype from)
{
    for (qsizetype i = from; i < line.size(); ++i) {
        switch (line[i]) {
        case '"':
            i = endOfString(line, i) - 1;
            break;
        case '{':
        case '[':
            ++m_depth;
            break;
        case ']':
            if (m_depth == 0)
                return i;
            --m_depth;
            break;
        case '}':
            m_depth = std::max(m_depth - 1, 0); // a stray `}` must not hide the next `,`
            break;
        case ',':
            if (m_depth == 0)
                return i;
            break;
        default:
            break;
        }
    }
    return line.size();
}

bool ArraySplitter::finish()
{
    if (m_state == State::InElement) // let the parser say what is wrong with it
        m_elements.append(std::exchange(m_element, {}));
    if (m_state == State::AfterArray || m_state == State::BeforeArray)
        return true;
    return fail(m_end, u"the array is not closed: `]` is missing"_s);
}

bool ArraySplitter::fail(SourcePos pos, const QString &message)
{
    m_problem = {pos, message};
    return false;
}

/// Reads the records of an RFC 4180 file; a record spans several lines when a quoted field
/// holds line breaks. Like most readers it is lenient where the RFC is strict: a quote
/// inside an unquoted field and text after a closing quote are taken literally.
class CsvReader
{
public:
    struct Record
    {
        QStringList fields;
        int line = 0;
        bool unterminated = false;
    };

    explicit CsvReader(QIODevice &device) : m_lines(device) {}

    /// The next record, skipping blank lines; false at the end of the file.
    bool next(Record &record);

private:
    enum class State { FieldStart, Unquoted, Quoted, QuoteInQuoted };

    void step(char c);
    void endField();

    LineReader m_lines;
    State m_state = State::FieldStart;
    QByteArray m_field;
    QStringList m_fields;
};

bool CsvReader::next(Record &record)
{
    do {
        if (!m_lines.next())
            return false;
    } while (m_lines.line().isEmpty());
    record = {{}, m_lines.number(), false};
    m_state = State::FieldStart;
    for (;;) {
        for (const char c : m_lines.line())
            step(c);
        if (m_state != State::Quoted)
            break;
        if (!m_lines.next()) {
            record.unterminated = true;
            break;
        }
        m_field += '\n'; // whatever line break the file uses
    }
    endField();
    record.fields = std::exchange(m_fields, {});
    return true;
}

void CsvReader::step(char c)
{
    switch (m_state) {
    case State::FieldStart:
    case State::Unquoted:
        if (c == ',')
            endField();
        else if (c == '"' && m_state == State::FieldStart)
            m_state = State::Quoted;
        else {
            m_field += c;
            m_state = State::Unquoted;
        }
        break;
    case State::Quoted:
        if (c == '"')
            m_state = State::QuoteInQuoted;
        else
            m_field += c;
        break;
    case State::QuoteInQuoted:
        if (c == ',') {
            endField();
        } else {
            m_field += c; // `""` is an escaped quote
            m_state = c == '"' ? State::Quoted : State::Unquoted;
        }
        break;
    }
}

void CsvReader::endField()
{
    m_fields.append(QString::fromUtf8(m_field));
    m_field.resize(0); // unlike clear(), keeps the buffer for the next field
    m_state = State::FieldStart;
}

void collectJsonLines(QIODevice &file, RowCollector &collector)
{
    LineReader lines(file);
    while (lines.next()) {
        if (!isBlank(lines.line()))
            collector.addJson(lines.line(), collector.at({lines.number(), 1}));
    }
}

void collectJsonArray(QIODevice &file, RowCollector &collector)
{
    LineReader lines(file);
    ArraySplitter splitter;
    const auto addElements = [&] {
        for (const ArraySplitter::Element &element : splitter.takeElements())
            collector.addJson(element.json, collector.at(element.pos));
    };
    bool valid = true;
    while (valid && lines.next()) {
        valid = splitter.feed(lines.line(), lines.number());
        addElements();
    }
    if (valid) {
        valid = splitter.finish();
        addElements();
    }
    if (!valid)
        collector.error(collector.at(splitter.problem().pos), splitter.problem().message);
}

/// Whether `record` has the shape of a row; `columns` is the header's size, or -1 for the
/// header itself.
bool checkRecord(const CsvReader::Record &record, qsizetype columns, RowCollector &collector)
{
    const Location where = collector.at({record.line, 1});
    if (record.unterminated) {
        collector.error(where, u"quoted field is not closed"_s);
        return false;
    }
    if (columns >= 0 && record.fields.size() != columns) {
        collector.error(where, u"row has %1, but the header has %2"_s.arg(fieldCount(record.fields.size()),
                                                                          fieldCount(columns)));
        return false;
    }
    return true;
}

/// Checks the names of the header; returns whether there is an `id` column.
bool checkHeader(const CsvReader::Record &header, RowCollector &collector)
{
    const Location where = collector.at({header.line, 1});
    for (qsizetype i = 0; i < header.fields.size(); ++i) {
        if (header.fields.indexOf(header.fields.at(i)) < i)
            collector.error(where, u"duplicate column `%1`"_s.arg(header.fields.at(i)));
    }
    if (header.fields.contains(IdField))
        return true;
    collector.error(where, u"the header has no `id` column"_s);
    return false;
}

void collectCsv(QIODevice &file, RowCollector &collector)
{
    CsvReader reader(file);
    CsvReader::Record header;
    if (!reader.next(header) || !checkRecord(header, -1, collector))
        return;
    const bool hasIds = checkHeader(header, collector);
    CsvReader::Record record;
    while (reader.next(record)) {
        // Without ids no row can be added, but the rows' shape is still worth checking.
        if (!checkRecord(record, header.fields.size(), collector) || !hasIds)
            continue;
        QJsonObject row;
        for (qsizetype i = 0; i < record.fields.size(); ++i)
            row.insert(header.fields.at(i), record.fields.at(i));
        if (collector.add(row, collector.at({record.line, 1})))
            collector.noteFields(header.fields);
    }
}

/// One row of a directory dataset: a subfolder, described by the task.json in it if any.
void collectTaskFolder(const QDir &root, const QString &name, RowCollector &collector)
{
    const QString taskFile = root.filePath(name + u"/task.json"_s);
    Location where{root.filePath(name), {}};
    QByteArray json;
    QJsonObject row;
    if (QFileInfo::exists(taskFile)) {
        where.file = taskFile;
        QFile file(taskFile);
        if (!file.open(QIODevice::ReadOnly)) {
            collector.error(where, u"cannot read task: %1"_s.arg(file.errorString()));
            return;
        }
        json = file.readAll();
        const std::optional<QJsonObject> parsed = collector.parseObject(json, {taskFile, {1, 1}});
        if (!parsed)
            return;
        if (parsed->contains(DirField)) {
            collector.error(where, u"task.json may not set `dir`: it is the task folder's absolute path"_s);
            return;
        }
        row = *parsed;
    }
    if (!row.contains(IdField))
        row.insert(IdField, name);
    row.insert(DirField, QDir::cleanPath(root.absoluteFilePath(name)));
    if (collector.add(row, where)) {
        collector.noteFields({IdField, DirField});
        collector.noteFieldsOf(row, json);
    }
}

void collectDirectory(const QString &path, RowCollector &collector)
{
    const QDir root(path);
    for (const QString &name : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
        collectTaskFolder(root, name, collector);
}

std::optional<Dataset::Format> fileFormat(const QString &suffix)
{
    const QString lower = suffix.toLower();
    if (lower == "jsonl"_L1 || lower == "ndjson"_L1)
        return Dataset::Format::JsonLines;
    if (lower == "json"_L1)
        return Dataset::Format::JsonArray;
    if (lower == "csv"_L1)
        return Dataset::Format::Csv;
    return {};
}

/// Reads the rows at `path`; returns the format, or nothing when `path` cannot be read as a
/// dataset at all.
std::optional<Dataset::Format> collectRows(const QString &path, RowCollector &collector)
{
    const QFileInfo info(path);
    if (info.isDir()) {
        collectDirectory(path, collector);
        return Dataset::Format::Directory;
    }
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        collector.error(collector.at({}), u"cannot read dataset: %1"_s.arg(file.errorString()));
        return {};
    }
    const std::optional<Dataset::Format> format = fileFormat(info.suffix());
    if (!format) {
        collector.error(collector.at({}), info.suffix().isEmpty()
                        ? u"dataset file has no extension %1"_s.arg(ExpectedFormats)
                        : u"unknown dataset format `.%1` %2"_s.arg(info.suffix(), ExpectedFormats));
        return {};
    }
    switch (*format) {
    case Dataset::Format::JsonLines:
        collectJsonLines(file, collector);
        break;
    case Dataset::Format::JsonArray:
        collectJsonArray(file, collector);
        break;
    case Dataset::Format::Csv:
        collectCsv(file, collector);
        break;
    case Dataset::Format::Directory:
        break;
    }
    return format;
}

} // namespace

Dataset::Dataset() : d(new Internal::DatasetData) {}
Dataset::~Dataset() = default;
Dataset::Dataset(const Dataset &) = default;
Dataset &Dataset::operator=(const Dataset &) = default;

Dataset Dataset::load(const QString &path, Diagnostics *diagnostics)
{
    Diagnostics unreported; // a caller without diagnostics still gets the valid rows
    Diagnostics &sink = diagnostics ? *diagnostics : unreported;
    const int errorsBefore = sink.errorCount();
    Dataset dataset;
    dataset.d->path = path;
    RowCollector collector(*dataset.d, sink);
    if (const std::optional<Format> format = collectRows(path, collector))
        dataset.d->format = *format;
    // Rows skipped for their problems already have errors; this is for a truly empty file.
    if (collector.rowCount() == 0 && sink.errorCount() == errorsBefore)
        sink.error(path, {}, u"dataset has no rows"_s);
    return dataset;
}

QString Dataset::path() const
{
    return d->path;
}

Dataset::Format Dataset::format() const
{
    return d->format;
}

qsizetype Dataset::size() const
{
    return d->rows.size();
}

QJsonObject Dataset::row(qsizetype index) const
{
    return d->rows.value(index);
}

QString Dataset::id(qsizetype index) const
{
    return row(index).value(IdField).toString();
}

QStringList Dataset::fields() const
{
    return d->fields;
}

bool Dataset::isSharedWith(const Dataset &other) const
{
    return d->rows.isSharedWith(other.d->rows);
}

} // namespace Sandflow
