// Reading yaml-cpp nodes into the workflow model with exact positions and complete error
// reports. yaml-cpp 0.7 accepts duplicate keys silently and inserts on non-const lookup,
// so mappings are only ever read through MappingReader, which iterates const nodes.
#pragma once

#include "diagnostics.h"
#include "expression.h"

#include <QByteArray>
#include <QJsonValue>
#include <QList>
#include <QString>
#include <QStringList>

#include <yaml-cpp/yaml.h>

#include <optional>

namespace Sandflow::Internal {

/// The file being read: its name for messages, its text for exact positions, and the
/// diagnostics every reader reports into.
class YamlSource
{
public:
    YamlSource(QString fileName, QByteArray text, Diagnostics *diagnostics);

    const QString &fileName() const { return m_fileName; }
    Diagnostics *diagnostics() const { return m_diagnostics; }

    SourcePos position(const YAML::Mark &mark) const;
    SourcePos position(const YAML::Node &node) const { return position(node.Mark()); }
    /// The position of character `offset` of a scalar's value in the file, for errors
    /// inside expressions. Exact for single-line plain and quoted scalars and for block
    /// scalars; the scalar's start otherwise.
    SourcePos positionInScalar(const YAML::Node &node, int offset) const;
    /// The source position of the `index`-th `${{` of a scalar in the file.
    SourcePos positionOfExpression(const YAML::Node &node, int index) const;

    /// A tab in the indentation of `line` or the line before it (1-based): YAML forbids
    /// them, and yaml-cpp's message for it does not say so.
    std::optional<SourcePos> indentationTab(int line) const;

    void error(SourcePos pos, const QString &message) const;
    void error(const YAML::Node &node, const QString &message) const;
    void warning(const YAML::Node &node, const QString &message) const;

private:
    int blockIndentation(int line) const;

    QString m_fileName;
    QByteArray m_text;
    QList<int> m_lineStarts;
    Diagnostics *m_diagnostics;
};

/// Rejects input that would exhaust yaml-cpp 0.7, which recurses once per nesting level
/// and has no limit of its own: the problem's position and message, or nothing.
std::optional<std::pair<SourcePos, QString>> checkNestingLimits(const QByteArray &text);

/// Parses the first YAML document with yaml-cpp (which throws YAML::Exception for the
/// syntax errors it sees), then checks the whole stream with libyaml: the first error
/// yaml-cpp missed, and how many documents there are (up to that error).
struct ParsedYaml
{
    YAML::Node root;
    std::optional<std::pair<SourcePos, QString>> syntaxError;
    int documentCount = 0;
    SourcePos secondDocument;
};
ParsedYaml parseYaml(const QByteArray &text);

/// What kind of value a node holds, in words for messages ("a mapping", "a string").
QString describeNode(const YAML::Node &node);

/// A plain or quoted scalar as JSON, resolved by the YAML 1.2 core schema: quoted scalars
/// are always strings; plain ones may be null, booleans, integers or floats.
QJsonValue scalarToJson(const YAML::Node &node);
/// Any node as JSON (mappings become objects, sequences arrays). Aliases are expanded, so
/// `budget` caps the nodes visited (a "billion laughs" document expands exponentially);
/// when it runs out the result is incomplete and *budget is negative.
QJsonValue nodeToJson(const YAML::Node &node, int *budget);

/// True for a plain scalar reading as a YAML 1.2 boolean, with its value.
std::optional<bool> plainBoolean(const YAML::Node &node);

/// One mapping read key by key. Every key asked for is remembered; finish() reports the
/// rest as unknown (with a "did you mean" hint), except `x-` extension keys. Duplicate
/// keys are reported when the reader is made.
class MappingReader
{
public:
    /// `what` names the mapping in messages, e.g. "step", "job `build`". Missing keys are
    /// reported at `owner` (the key that holds the mapping) when given, else at the mapping.
    MappingReader(const YamlSource &source, const YAML::Node &node, QString what, SourcePos owner = {});

    bool isValid() const { return m_valid; }
    const YAML::Node &node() const { return m_node; }
    const QString &what() const { return m_what; }

    /// The value of `key`, or an undefined node when absent. Marks the key as known.
    YAML::Node value(const QString &key);
    /// Like value(), but reports "missing required key" when absent (at the mapping).
    YAML::Node required(const QString &key);
    bool has(const QString &key) const;
    /// Marks keys as known without reading them (read elsewhere).
    void accept(const QStringList &keys);

    /// The position of `key` itself (for messages about the key), or of the mapping.
    SourcePos keyPosition(const QString &key) const;

    /// Every key with its value, in file order, first occurrences only, without `x-` keys.
    struct Entry
    {
        QString key;
        YAML::Node keyNode;
        YAML::Node value;
    };
    QList<Entry> entries() const;

    /// Reports unknown keys. Call once after every value() of the mapping.
    void finish();

private:
    /// YAML merge keys (`<<: *anchor`), which yaml-cpp 0.7 does not resolve.
    void collectMerged(const YAML::Node &value, int depth, QList<Entry> *merged) const;

    const YamlSource &m_source;
    YAML::Node m_node;
    QString m_what;
    QList<Entry> m_entries;
    QStringList m_known;
    SourcePos m_owner;
    bool m_valid = false;
};

} // namespace Sandflow::Internal
