// A multipart/form-data parser (RFC 7578 over RFC 2046) for bodies held in memory: it finds
// the parts and where their contents are, and copies no content, so that an upload handler
// streams each file straight from the request body.
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

#include <optional>

namespace Sandflow::Internal {

/// One part of a form.
struct MultipartPart
{
    /// The `name` of its `Content-Disposition: form-data`; empty when it has none.
    QString name;
    /// Its `filename` (`filename*=UTF-8''...` wins when both are there); std::nullopt when
    /// it has none. An empty filename counts as none, as in Go's form reader (execd's): such
    /// a part is a plain form value, not a file.
    std::optional<QString> fileName;
    /// Its Content-Type header as sent; empty when it has none.
    QByteArray contentType;
    qsizetype offset = 0;   ///< where its content starts in the body
    qsizetype length = 0;   ///< the content's size in bytes

    friend bool operator==(const MultipartPart &, const MultipartPart &) = default;
};

/// The parts of a form, or why it could not be read.
struct MultipartForm
{
    QList<MultipartPart> parts;
    QString error;          ///< empty when the form was read

    bool ok() const { return error.isEmpty(); }
};

/// The boundary of a `multipart/form-data; boundary=...` Content-Type value (quoted or not);
/// std::nullopt with `error` set when the value is another type or has no usable boundary.
std::optional<QByteArray> multipartBoundary(QByteArrayView contentType, QString *error);

/// The parts of `body`, sent with the Content-Type header value `contentType`:
/// - lines end with CRLF; a preamble before the first boundary and an epilogue after the
///   closing one are skipped;
/// - a boundary counts only at the start of a line (the body's, or after CRLF) and when
///   followed by `--` (the end) or by optional spaces and CRLF: `--x` anywhere else, or
///   `--xy` for the boundary `x`, is content;
/// - header names are case-insensitive; folded header lines are an error;
/// - a part's content ends at the CRLF that precedes the next boundary.
/// Errors say what is wrong and where (a missing closing boundary, a header line without
/// a colon, ...).
MultipartForm parseMultipartForm(QByteArrayView contentType, const QByteArray &body);

} // namespace Sandflow::Internal
