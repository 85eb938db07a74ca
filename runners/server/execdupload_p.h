// POST /files/upload as execd reads it: a multipart form of `metadata` parts (JSON, each a
// file part itself) and `file` parts, the i-th metadata describing the i-th file. The Python
// SDK sends every pair in one request (metadata, file, metadata, file, ...); the JS SDK one
// pair per request. Both give the metadata part `filename="metadata"`.
#pragma once

#include "execderror_p.h"
#include "runner.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

namespace Sandflow::Internal {

/// One file to write.
struct UploadItem
{
    QString path;                   ///< where to write it, from its metadata
    FilePermissions permissions;    ///< mode 0 and empty owner/group: leave as is
    qsizetype offset = 0;           ///< where its content starts in the request body
    qsizetype length = 0;           ///< its size in bytes
};

/// The files of an upload request (`contentType` is its Content-Type header value), in the
/// order of their parts. Errors, all 400:
/// - INVALID_FILE: the body is not a readable multipart form; a `file` part without a
///   filename (it is then a plain value, not a file); the numbers of metadata and file
///   parts differ;
/// - INVALID_FILE_METADATA "metadata file is missing": no `metadata` part, or one without a
///   filename (execd's reader files it as a plain value, not a file);
/// - INVALID_FILE_METADATA: a metadata part that is not a JSON object {path, owner?, group?,
///   mode?}, has an empty path, or a mode that is not octal digits. A null owner or group is
///   empty; mode 0 leaves the mode alone.
/// Parts with other names are ignored.
Parsed<QList<UploadItem>> parseUpload(QByteArrayView contentType, const QByteArray &body);

} // namespace Sandflow::Internal
