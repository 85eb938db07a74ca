#include "yamlreader_p.h"

#include "yamlsyntax_p.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QRegularExpression>

#include <cmath>
#include <limits>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

YamlSource::YamlSource(QString fileName, QByteArray text, Diagnostics *diagnostics)
    : m_fileName(std::move(fileName))
    , m_text(std::move(text))
    , m_diagnostics(diagnostics)
{
    m_lineStarts.append(0);
    for (qsizetype i = 0; i < m_text.size(); ++i) {
        if (m_text.at(i) == '\n')
            m_lineStarts.append(int(i + 1));
    }
}

SourcePos YamlSource::position(const YAML::Mark &mark) const
{
    if (mark.is_null())
        return {};
    return {mark.line + 1, mark.column + 1};
}

int YamlSource::blockIndentation(int line) const
{
    // `line` is 0-based; the first non-blank line at or after it sets a block's indentation.
    for (int l = line; l < m_lineStarts.size(); ++l) {
        int i = m_lineStarts.at(l);
        int indent = 0;
        while (i < m_text.size() && m_text.at(i) == ' ') {
            ++i;
            ++indent;
        }
        if (i < m_text.size() && m_text.at(i) != '\n')
            return indent;
    }
    return 0;
}

SourcePos YamlSource::positionInScalar(const YAML::Node &node, int offset) const
{
    const YAML::Mark mark = node.Mark();
    const SourcePos start = position(mark);
    if (mark.is_null() || mark.pos < 0 || mark.pos >= m_text.size())
        return start;
    const std::string &value = node.Scalar();
    const std::string before = value.substr(0, size_t(std::max(offset, 0)));
    const char indicator = m_text.at(mark.pos);
    if (indicator == '|' || indicator == '>') {
        // A block scalar: its content starts on the line after the indicator.
        const int lineInValue = int(std::count(before.begin(), before.end(), '\n'));
        const size_t lastBreak = before.rfind('\n');
        const int column = int(lastBreak == std::string::npos ? before.size() : before.size() - lastBreak - 1);
        const int line = mark.line + 1 + lineInValue;
        return {line + 1, blockIndentation(mark.line + 1) + column + 1};
    }
    if (value.find('\n') != std::string::npos)
        return start;
    const int quote = (indicator == '"' || indicator == '\'') ? 1 : 0;
    return {start.line, start.column + quote + int(QString::fromStdString(before).size())};
}

SourcePos YamlSource::positionOfExpression(const YAML::Node &node, int index) const
{
    const YAML::Mark mark = node.Mark();
    if (mark.is_null() || mark.pos < 0)
        return position(mark);
    qsizetype at = mark.pos;
    for (int i = 0; i <= index; ++i) {
        at = m_text.indexOf("${{", i == 0 ? at : at + 3);
        if (at < 0)
            return position(mark);
    }
    const auto lineIt = std::upper_bound(m_lineStarts.cbegin(), m_lineStarts.cend(), int(at)) - 1;
    const int line = int(lineIt - m_lineStarts.cbegin());
    const QString lineText = QString::fromUtf8(m_text.mid(*lineIt, at - *lineIt));
    return {line + 1, int(lineText.size()) + 1};
}

std::optional<SourcePos> YamlSource::indentationTab(int line) const
{
    for (int l = std::max(line - 2, 0); l < std::min(line, int(m_lineStarts.size())); ++l) {
        for (qsizetype i = m_lineStarts.at(l); i < m_text.size(); ++i) {
            const char c = m_text.at(i);
            if (c == '\t')
                return SourcePos{l + 1, int(i - m_lineStarts.at(l)) + 1};
            if (c != ' ')
                break;
        }
    }
    return std::nullopt;
}

void YamlSource::error(SourcePos pos, const QString &message) const
{
    m_diagnostics->error(m_fileName, pos, message);
}

void YamlSource::error(const YAML::Node &node, const QString &message) const
{
    error(position(node), message);
}

void YamlSource::warning(const YAML::Node &node, const QString &message) const
{
    m_diagnostics->warning(m_fileName, position(node), message);
}

QString describeNode(const YAML::Node &node)
{
    switch (node.Type()) {
    case YAML::NodeType::Map:
        return u"a mapping"_s;
    case YAML::NodeType::Sequence:
        return u"a list"_s;
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
        return u"nothing"_s;
    case YAML::NodeType::Scalar:
        break;
    }
    const QJsonValue value = scalarToJson(node);
    if (value.isBool())
        return u"a boolean"_s;
    if (value.isDouble())
        return u"a number"_s;
    if (value.isNull())
        return u"null"_s;
    return u"a string"_s;
}

std::optional<bool> plainBoolean(const YAML::Node &node)
{
    if (!node.IsScalar() || node.Tag() == "!")
        return std::nullopt;
    const std::string &s = node.Scalar();
    if (s == "true" || s == "True" || s == "TRUE")
        return true;
    if (s == "false" || s == "False" || s == "FALSE")
        return false;
    return std::nullopt;
}

static std::optional<double> plainNumber(const QString &text)
{
    static const QRegularExpression integer(u"^[-+]?[0-9]+$"_s);
    static const QRegularExpression octal(u"^0o[0-7]+$"_s);
    static const QRegularExpression hex(u"^0x[0-9a-fA-F]+$"_s);
    static const QRegularExpression real(u"^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$"_s);
    bool ok = false;
    if (integer.match(text).hasMatch())
        return text.toDouble(&ok);
    if (octal.match(text).hasMatch())
        return double(text.mid(2).toLongLong(&ok, 8));
    if (hex.match(text).hasMatch())
        return double(text.mid(2).toLongLong(&ok, 16));
    if (real.match(text).hasMatch())
        return text.toDouble(&ok);
    if (text == u".inf"_s || text == u"+.inf"_s || text == u".Inf"_s)
        return std::numeric_limits<double>::infinity();
    if (text == u"-.inf"_s || text == u"-.Inf"_s)
        return -std::numeric_limits<double>::infinity();
    if (text == u".nan"_s || text == u".NaN"_s)
        return std::numeric_limits<double>::quiet_NaN();
    return std::nullopt;
}

QJsonValue scalarToJson(const YAML::Node &node)
{
    if (node.IsNull() || !node.IsDefined())
        return QJsonValue::Null;
    const QString text = QString::fromStdString(node.Scalar());
    if (node.Tag() == "!")
        return text;
    if (text == u"null"_s || text == u"Null"_s || text == u"NULL"_s || text == u"~"_s)
        return QJsonValue::Null;
    if (const auto b = plainBoolean(node))
        return *b;
    if (const auto n = plainNumber(text))
        return *n;
    return text;
}

QJsonValue nodeToJson(const YAML::Node &node, int *budget)
{
    if (--*budget < 0)
        return QJsonValue::Null;
    if (node.IsMap()) {
        QJsonObject object;
        for (auto it = node.begin(); it != node.end() && *budget >= 0; ++it) {
            const QString key = QString::fromStdString(it->first.Scalar());
            if (!object.contains(key))
                object.insert(key, nodeToJson(it->second, budget));
        }
        return object;
    }
    if (node.IsSequence()) {
        QJsonArray array;
        for (auto it = node.begin(); it != node.end() && *budget >= 0; ++it)
            array.append(nodeToJson(*it, budget));
        return array;
    }
    return scalarToJson(node);
}

std::optional<std::pair<SourcePos, QString>> checkNestingLimits(const QByteArray &text)
{
    // Far beyond any real workflow, far below what exhausts the stack.
    constexpr int maxFlowDepth = 256;
    constexpr int maxIndentation = 1024;
    int line = 1;
    int column = 0;
    int depth = 0;
    bool atLineStart = true;
    char quote = 0;
    bool comment = false;
    for (const char c : text) {
        ++column;
        if (c == '\n') {
            ++line;
            column = 0;
            atLineStart = true;
            comment = false;
            continue;
        }
        if (atLineStart && c != ' ' && c != '-') {
            atLineStart = false;
            if (column > maxIndentation)
                return std::pair{SourcePos{line, column}, u"nesting is too deep (indented more than %1 columns)"_s
                                                              .arg(maxIndentation)};
        }
        if (comment)
            continue;
        if (quote) {
            if (c == quote)
                quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '#') {
            comment = true;
        } else if (c == '[' || c == '{') {
            if (++depth > maxFlowDepth)
                return std::pair{SourcePos{line, column}, u"nesting is too deep (more than %1 levels)"_s.arg(maxFlowDepth)};
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return std::nullopt;
}

ParsedYaml parseYaml(const QByteArray &text)
{
    ParsedYaml parsed;
    parsed.root = YAML::Load(text.toStdString());
    // yaml-cpp's LoadAll can loop forever on some malformed input, so the documents are
    // counted by libyaml, which also rejects what yaml-cpp wrongly accepted.
    const YamlStreamCheck stream = checkYamlStream(text);
    parsed.syntaxError = stream.error;
    parsed.documentCount = stream.documentCount;
    parsed.secondDocument = stream.secondDocument;
    return parsed;
}

MappingReader::MappingReader(const YamlSource &source, const YAML::Node &node, QString what, SourcePos owner)
    : m_source(source)
    , m_node(node)
    , m_what(std::move(what))
    , m_owner(owner.line > 0 ? owner : source.position(node))
{
    if (!node.IsMap()) {
        m_source.error(node, u"%1 must be a mapping, not %2"_s.arg(m_what, describeNode(node)));
        return;
    }
    m_valid = true;
    QList<Entry> merged;
    for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node keyNode = it->first;
        if (!keyNode.IsScalar()) {
            m_source.error(keyNode, u"keys of %1 must be strings, not %2"_s.arg(m_what, describeNode(keyNode)));
            continue;
        }
        const QString key = QString::fromStdString(keyNode.Scalar());
        if (key == u"<<"_s && keyNode.Tag() != "!") {
            collectMerged(it->second, 0, &merged);
            continue;
        }
        const auto first = std::find_if(m_entries.cbegin(), m_entries.cend(),
                                        [&](const Entry &e) { return e.key == key; });
        if (first != m_entries.cend()) {
            m_source.error(keyNode, u"duplicate key `%1` (first at line %2)"_s
                                        .arg(key).arg(m_source.position(first->keyNode).line));
            continue;
        }
        m_entries.append({key, keyNode, it->second});
    }
    // Keys written in the mapping itself win over merged ones.
    for (const Entry &entry : std::as_const(merged)) {
        if (!has(entry.key))
            m_entries.append(entry);
    }
}

void MappingReader::collectMerged(const YAML::Node &value, int depth, QList<Entry> *merged) const
{
    // Aliases cannot form cycles in valid YAML, but hostile input is not valid YAML.
    constexpr int maxDepth = 16;
    if (depth > maxDepth) {
        m_source.error(value, u"merge keys (`<<`) nest too deeply"_s);
        return;
    }
    if (value.IsSequence()) {
        for (const YAML::Node &item : value)
            collectMerged(item, depth + 1, merged);
        return;
    }
    if (!value.IsMap()) {
        m_source.error(value, u"`<<` merges a mapping or a list of mappings, not %1"_s.arg(describeNode(value)));
        return;
    }
    QList<Entry> own;
    QList<Entry> nested;
    for (auto it = value.begin(); it != value.end(); ++it) {
        const QString key = QString::fromStdString(it->first.IsScalar() ? it->first.Scalar() : std::string());
        if (key == u"<<"_s && it->first.Tag() != "!")
            collectMerged(it->second, depth + 1, &nested);
        else if (!key.isEmpty())
            own.append({key, it->first, it->second});
    }
    // Earlier merged mappings win over later ones; a mapping's own keys over its merges.
    for (const Entry &entry : own + nested) {
        const bool seen = std::any_of(merged->cbegin(), merged->cend(), [&](const Entry &e) { return e.key == entry.key; });
        if (!seen)
            merged->append(entry);
    }
}

YAML::Node MappingReader::value(const QString &key)
{
    m_known.append(key);
    for (const Entry &entry : std::as_const(m_entries)) {
        if (entry.key == key)
            return entry.value;
    }
    return YAML::Node(YAML::NodeType::Undefined);
}

YAML::Node MappingReader::required(const QString &key)
{
    const YAML::Node node = value(key);
    if (m_valid && !node.IsDefined())
        m_source.error(m_owner, u"%1 is missing required key `%2`"_s.arg(m_what, key));
    return node;
}

bool MappingReader::has(const QString &key) const
{
    return std::any_of(m_entries.cbegin(), m_entries.cend(), [&](const Entry &e) { return e.key == key; });
}

void MappingReader::accept(const QStringList &keys)
{
    m_known.append(keys);
}

SourcePos MappingReader::keyPosition(const QString &key) const
{
    for (const Entry &entry : m_entries) {
        if (entry.key == key)
            return m_source.position(entry.keyNode);
    }
    return m_source.position(m_node);
}

QList<MappingReader::Entry> MappingReader::entries() const
{
    QList<Entry> result;
    for (const Entry &entry : m_entries) {
        if (!entry.key.startsWith(u"x-"_s))
            result.append(entry);
    }
    return result;
}

// Workflows are often written from GitHub Actions ones: for a key of theirs, what to write
// here instead; empty for other keys.
static QString gitHubKeyHint(const QString &key, const YAML::Node &value)
{
    if (key == u"on"_s)
        return u" (not needed: a workflow runs when `sandflow run` runs it)"_s;
    if (key == u"runs-on"_s)
        return u" (GitHub's; say what a job runs in with `sandbox:`, e.g. `sandbox: { image: debian:12 }`)"_s;
    if (key == u"container"_s)
        return u" (GitHub's; give the image as `sandbox: { image: ... }`)"_s;
    if (key == u"timeout-minutes"_s) {
        const QString minutes = value.IsScalar() ? QString::fromStdString(value.Scalar()) : u"5"_s;
        return u" (GitHub's; write `timeout: %1m`)"_s.arg(minutes);
    }
    if (key == u"working-directory"_s)
        return u" (GitHub's; use `cwd:`)"_s;
    if (key == u"permissions"_s || key == u"concurrency"_s || key == u"runs"_s)
        return u" (GitHub's; it has no meaning here)"_s;
    return {};
}

void MappingReader::finish()
{
    for (const Entry &entry : std::as_const(m_entries)) {
        if (entry.key.startsWith(u"x-"_s) || m_known.contains(entry.key))
            continue;
        QString hint = gitHubKeyHint(entry.key, entry.value);
        if (hint.isEmpty())
            hint = didYouMean(entry.key, m_known);
        m_source.error(entry.keyNode, u"unknown key `%1` in %2%3"_s.arg(entry.key, m_what, hint));
    }
}

} // namespace Sandflow::Internal
