// Datasets that fan a job out, one instance per row (batch agent evaluations).
#pragma once

#include "diagnostics.h"

#include <QJsonObject>
#include <QList>
#include <QSharedDataPointer>
#include <QString>
#include <QStringList>

namespace Sandflow {

namespace Internal { class DatasetData; }

/// Rows of a dataset file or directory, loaded once and shared by every job instance that
/// refers to them: an instance keeps a row index, never a copy of the rows.
///
/// Formats, chosen by the path:
/// - `*.jsonl` / `*.ndjson`: one JSON object per line, blank lines ignored;
/// - `*.json`: a JSON array of objects;
/// - `*.csv`: RFC 4180, a header row names the fields, every value is a string;
/// - a directory: one row per subfolder (sorted by name), with `id` the folder name and
///   `dir` its absolute path, plus the fields of a `task.json` inside it when present.
/// Every row needs a string (or integer) `id`, unique in the dataset.
class Dataset
{
public:
    enum class Format { JsonLines, JsonArray, Csv, Directory };

    Dataset();
    ~Dataset();
    Dataset(const Dataset &);
    Dataset &operator=(const Dataset &);

    /// Loads `path` (absolute). Problems are reported as errors located in the dataset file
    /// (line and column of the row) into `diagnostics`; rows with problems are skipped, so
    /// all problems of a file are reported at once.
    static Dataset load(const QString &path, Diagnostics *diagnostics);

    QString path() const;
    Format format() const;
    qsizetype size() const;
    QJsonObject row(qsizetype index) const;
    QString id(qsizetype index) const;
    /// The union of the rows' field names, in order of first appearance.
    QStringList fields() const;
    /// Whether this and `other` hold their rows in the same memory, as every copy of one
    /// loaded dataset does (after QList::isSharedWith).
    bool isSharedWith(const Dataset &other) const;

private:
    QSharedDataPointer<Internal::DatasetData> d;
};

} // namespace Sandflow
