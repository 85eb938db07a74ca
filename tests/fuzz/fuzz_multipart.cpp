// Feeds arbitrary bodies to `sandflow serve`'s multipart/form-data parser, what any client of
// an upload route may send. The first line of the input is the Content-Type value (seeds say
// `multipart/form-data; boundary=...`), the rest is the body, so mutations reach both the
// header's parameters and every state of the body's parser.
//
// A form that parses must be what the parser promises: parts in order and inside the body,
// each content followed by a boundary line (at the start of a line) and holding none, and a
// file name only when it is not empty. A form that does not parse says why.
#include "multipartform_p.h"
#include "fuzzrequire.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {

using Sandflow::Internal::MultipartForm;
using Sandflow::Internal::MultipartPart;

bool isSpace(char c)
{
    return c == ' ' || c == '\t';
}

/// Whether a boundary line starts at `at`, by the rule the header states: `--boundary`
/// followed by `--`, or by optional spaces and CRLF.
bool delimiterAt(const QByteArray &body, qsizetype at, const QByteArray &dashBoundary)
{
    if (at < 0 || !QByteArrayView(body).sliced(at).startsWith(dashBoundary))
        return false;
    qsizetype i = at + dashBoundary.size();
    if (QByteArrayView(body).sliced(i).startsWith("--"))
        return true;
    while (i < body.size() && isSpace(body[i]))
        ++i;
    return QByteArrayView(body).sliced(i).startsWith("\r\n");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    const qsizetype lineEnd = input.indexOf('\n');
    if (lineEnd < 0)
        return 0;
    QByteArrayView contentType = QByteArrayView(input).first(lineEnd);
    if (contentType.endsWith('\r'))
        contentType.chop(1);
    const QByteArray body = input.sliced(lineEnd + 1);

    const MultipartForm form = Sandflow::Internal::parseMultipartForm(contentType, body);
    QString boundaryError;
    const std::optional<QByteArray> boundary = Sandflow::Internal::multipartBoundary(contentType, &boundaryError);
    require(boundary.has_value() == boundaryError.isEmpty());
    if (!form.ok()) {
        require(!form.error.isEmpty());
        return 0;
    }
    require(boundary.has_value() && !boundary->isEmpty());
    const QByteArray dashBoundary = "--" + *boundary;
    const QByteArray lineBoundary = "\r\n" + dashBoundary;

    qsizetype previousEnd = 0;
    for (const MultipartPart &part : form.parts) {
        require(part.offset >= previousEnd && part.length >= 0 && part.offset + part.length <= body.size());
        require(!part.fileName || !part.fileName->isEmpty());
        // Each content ends where a boundary line starts: right there (an empty content at
        // the start of a line), else after the CRLF that ends the content.
        const qsizetype end = part.offset + part.length;
        const bool emptyBeforeBoundary = part.length == 0 && delimiterAt(body, end, dashBoundary)
                                         && (end == 0 || QByteArrayView(body).first(end).endsWith("\r\n"));
        require(emptyBeforeBoundary
                || (QByteArrayView(body).sliced(end).startsWith(lineBoundary) && delimiterAt(body, end + 2, dashBoundary)));
        // ... and holds no boundary line of its own.
        const QByteArrayView content = QByteArrayView(body).sliced(part.offset, part.length);
        for (qsizetype at = content.indexOf(lineBoundary); at >= 0; at = content.indexOf(lineBoundary, at + 1))
            require(!delimiterAt(body, part.offset + at + 2, dashBoundary));
        require(!delimiterAt(body, part.offset, dashBoundary) || part.length == 0);
        // Touch every byte, so that a wrong offset is an out-of-bounds read.
        require(content.toByteArray().size() == part.length);
        previousEnd = end;
    }
    return 0;
}
