// Problems found in user input, reported as FILE:LINE:COL: error: MESSAGE.
#pragma once

#include <QList>
#include <QString>

namespace Sandflow {

/// A 1-based position in a source file; line 0 means "the whole file".
struct SourcePos
{
    int line = 0;
    int column = 0;

    friend bool operator==(const SourcePos &, const SourcePos &) = default;
};

/// One problem in a file the user gave us (a workflow, a dataset, a referenced path).
struct Diagnostic
{
    enum class Severity { Error, Warning };

    Severity severity = Severity::Error;
    QString file;
    SourcePos pos;
    QString message;

    /// `FILE:LINE:COL: error: MESSAGE`, the format editors and CI annotators parse.
    QString toString() const;
};

/// Collects every problem of a load so that all of them are reported, not just the first.
/// Kept in the order found; sort() orders them by file and position for display.
class Diagnostics
{
public:
    void error(const QString &file, SourcePos pos, const QString &message);
    /// Something valid that is most likely not what the author meant.
    void warning(const QString &file, SourcePos pos, const QString &message);
    void add(const Diagnostic &diagnostic);

    bool hasErrors() const;
    int errorCount() const;
    const QList<Diagnostic> &items() const { return m_items; }
    bool isEmpty() const { return m_items.isEmpty(); }

    /// Stable sort by file, line and column; duplicates (same place, same text) are dropped.
    void sort();

private:
    QList<Diagnostic> m_items;
};

/// The closest candidate to `word` by edit distance, or an empty string when none is close
/// enough to be a likely typo. Used for "did you mean ...?" hints.
QString closestMatch(const QString &word, const QStringList &candidates);

/// " (did you mean `x`?)" when a close candidate exists, else an empty string.
QString didYouMean(const QString &word, const QStringList &candidates);

} // namespace Sandflow
