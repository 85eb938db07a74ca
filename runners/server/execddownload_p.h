// GET /files/download as execd answers it: a Range header serves the first range only
// (206 with Content-Range), a malformed one is 416 {"code":"UNKNOWN"}, and one that starts
// past the end is 416 as well; the file is sent as an attachment named after its base name.
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

namespace Sandflow::Internal {

/// What a Range header asks of a file.
struct ByteRange
{
    enum class Kind {
        Whole,            ///< no Range header: 200 with the whole file
        Partial,          ///< 206 with `length` bytes from `offset`
        Malformed,        ///< 416 {"code":"UNKNOWN"}
        Unsatisfiable,    ///< 416: the range starts at or past the end of the file
    };

    Kind kind = Kind::Whole;
    qint64 offset = 0;    ///< Whole: 0
    qint64 length = 0;    ///< Whole: the file's size

    friend bool operator==(const ByteRange &, const ByteRange &) = default;
};

/// Reads a Range header value for a file of `size` bytes. Only `bytes=` ranges are known,
/// and only the first of a list is served (execd ignores the others):
/// - `bytes=a-b`: from a to b inclusive, b clamped to the last byte; a > b is malformed;
/// - `bytes=a-`: from a to the end;
/// - `bytes=-n`: the last n bytes (the whole file when n >= size); `-0` is unsatisfiable.
/// Spaces around the range and its numbers are allowed; anything else (another unit,
/// signs, a missing number) is Malformed. A start at or past `size` is Unsatisfiable.
/// An empty header is Whole.
ByteRange parseRange(QByteArrayView header, qint64 size);

/// The Content-Range of a 206: `bytes a-b/size`.
QByteArray contentRange(qint64 offset, qint64 length, qint64 size);
/// The Content-Range of a 416: `bytes */size`.
QByteArray unsatisfiedContentRange(qint64 size);

/// The Content-Disposition of a download named `fileName` (a base name):
/// `attachment; filename="a.txt"`, with `"` and `\` escaped. A name with non-ASCII or
/// control characters gets an ASCII fallback (each such character as `_`) and the exact
/// name in RFC 5987 form: `attachment; filename="_.txt"; filename*=UTF-8''%C3%A9.txt`.
QByteArray contentDispositionAttachment(const QString &fileName);

} // namespace Sandflow::Internal
