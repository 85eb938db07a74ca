#include "multipartform_p.h"

#include <utility>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t';
}

bool isHexDigit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/// A header value with parameters: `form-data; name="file"; filename=a.txt`.
struct HeaderValue
{
    QByteArray value;                                       ///< lower-cased
    QList<std::pair<QByteArray, QByteArray>> parameters;    ///< names lower-cased, values unquoted

    std::optional<QByteArray> parameter(QByteArrayView name) const
    {
        for (const auto &[key, value] : parameters) {
            if (key == name)
                return value;
        }
        return std::nullopt;
    }
};

std::optional<HeaderValue> parseHeaderValue(QByteArrayView text, QString *error)
{
    HeaderValue header;
    qsizetype i = text.indexOf(';');
    header.value = (i < 0 ? text : text.first(i)).trimmed().toByteArray().toLower();
    if (i < 0)
        return header;
    while (i < text.size()) {
        ++i;   // the ';'
        while (i < text.size() && isSpace(text[i]))
            ++i;
        if (i == text.size())
            break;   // a trailing ';'
        const qsizetype nameStart = i;
        while (i < text.size() && text[i] != '=' && text[i] != ';' && !isSpace(text[i]))
            ++i;
        const QByteArray name = text.sliced(nameStart, i - nameStart).toByteArray().toLower();
        while (i < text.size() && isSpace(text[i]))
            ++i;
        if (name.isEmpty() || i == text.size() || text[i] != '=') {
            *error = u"parameter `%1` has no value"_s.arg(QString::fromUtf8(name));
            return std::nullopt;
        }
        ++i;   // the '='
        while (i < text.size() && isSpace(text[i]))
            ++i;
        QByteArray value;
        if (i < text.size() && text[i] == '"') {
            // A backslash escapes only `"` and `\`, so that `C:\dir\a.txt` (as some browsers
            // send file names) keeps its backslashes, as in Go's reader.
            for (++i; i < text.size() && text[i] != '"'; ++i) {
                if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\'))
                    ++i;
                value += text[i];
            }
            if (i == text.size()) {
                *error = u"the value of parameter `%1` lacks its closing quote"_s.arg(QString::fromUtf8(name));
                return std::nullopt;
            }
            ++i;   // the closing quote
        } else {
            const qsizetype valueStart = i;
            while (i < text.size() && text[i] != ';' && !isSpace(text[i]))
                ++i;
            value = text.sliced(valueStart, i - valueStart).toByteArray();
            if (value.isEmpty()) {
                *error = u"parameter `%1` has no value"_s.arg(QString::fromUtf8(name));
                return std::nullopt;
            }
        }
        while (i < text.size() && isSpace(text[i]))
            ++i;
        if (i < text.size() && text[i] != ';') {
            *error = u"unexpected text after parameter `%1`"_s.arg(QString::fromUtf8(name));
            return std::nullopt;
        }
        header.parameters.append({name, value});
    }
    return header;
}

/// An RFC 5987 value, `UTF-8''na%C3%AFve.txt`; std::nullopt unless it is one in UTF-8 or
/// ASCII.
std::optional<QString> extendedValue(QByteArrayView text)
{
    const qsizetype charsetEnd = text.indexOf('\'');
    const qsizetype languageEnd = charsetEnd < 0 ? -1 : text.indexOf('\'', charsetEnd + 1);
    if (languageEnd < 0)
        return std::nullopt;
    const QByteArray charset = text.first(charsetEnd).toByteArray().toLower();
    if (charset != "utf-8" && charset != "us-ascii")
        return std::nullopt;
    const QByteArrayView encoded = text.sliced(languageEnd + 1);
    QByteArray decoded;
    for (qsizetype i = 0; i < encoded.size(); ++i) {
        if (encoded[i] != '%') {
            decoded += encoded[i];
            continue;
        }
        if (i + 2 >= encoded.size() || !isHexDigit(encoded[i + 1]) || !isHexDigit(encoded[i + 2]))
            return std::nullopt;
        decoded += char(encoded.sliced(i + 1, 2).toByteArray().toInt(nullptr, 16));
        i += 2;
    }
    return QString::fromUtf8(decoded);
}

/// Fills `part` from its header block (the lines between the boundary and the empty line).
bool readHeaders(QByteArrayView block, MultipartPart *part, QString *error)
{
    qsizetype start = 0;
    while (start < block.size()) {
        qsizetype end = block.indexOf("\r\n", start);
        if (end < 0)
            end = block.size();
        const QByteArrayView line = block.sliced(start, end - start);
        start = end + 2;
        if (!line.isEmpty() && isSpace(line.front())) {
            *error = u"folded header lines are not supported"_s;
            return false;
        }
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0) {
            *error = u"header line `%1` has no name and colon"_s.arg(QString::fromUtf8(line.first(qMin<qsizetype>(line.size(), 80))));
            return false;
        }
        const QByteArray name = line.first(colon).trimmed().toByteArray().toLower();
        const QByteArrayView value = line.sliced(colon + 1).trimmed();
        if (name == "content-type") {
            part->contentType = value.toByteArray();
        } else if (name == "content-disposition") {
            QString headerError;
            const std::optional<HeaderValue> disposition = parseHeaderValue(value, &headerError);
            if (!disposition) {
                *error = u"bad Content-Disposition: "_s + headerError;
                return false;
            }
            if (disposition->value == "form-data")
                part->name = QString::fromUtf8(disposition->parameter("name").value_or(QByteArray()));
            std::optional<QString> fileName;
            if (const std::optional<QByteArray> extended = disposition->parameter("filename*"))
                fileName = extendedValue(*extended);
            if (!fileName) {
                if (const std::optional<QByteArray> plain = disposition->parameter("filename"))
                    fileName = QString::fromUtf8(*plain);
            }
            if (fileName && !fileName->isEmpty())
                part->fileName = fileName;
        }
    }
    return true;
}

/// A boundary line found in the body.
struct Delimiter
{
    qsizetype start = 0;   ///< where the content before it ends (at its CRLF, if it has one)
    qsizetype end = 0;     ///< after its line
    bool last = false;     ///< the closing boundary
};

/// The boundary line whose `--boundary` starts at `at`, if it is one: followed by `--`, or
/// by optional spaces and CRLF.
std::optional<Delimiter> delimiterAt(QByteArrayView body, qsizetype at, QByteArrayView dashBoundary)
{
    if (!body.sliced(at).startsWith(dashBoundary))
        return std::nullopt;
    qsizetype i = at + dashBoundary.size();
    if (body.sliced(i).startsWith("--"))
        return Delimiter{at, i + 2, true};
    while (i < body.size() && isSpace(body[i]))
        ++i;
    if (body.sliced(i).startsWith("\r\n"))
        return Delimiter{at, i + 2, false};
    return std::nullopt;
}

/// The first boundary line from `from`: right at `from` (the start of the body, or of an
/// empty part's content, as Go's reader allows), else after a CRLF.
std::optional<Delimiter> findDelimiter(QByteArrayView body, qsizetype from, QByteArrayView dashBoundary)
{
    if (std::optional<Delimiter> delimiter = delimiterAt(body, from, dashBoundary))
        return delimiter;
    const QByteArray needle = "\r\n" + dashBoundary.toByteArray();
    for (qsizetype at = body.indexOf(needle, from); at >= 0; at = body.indexOf(needle, at + 1)) {
        if (std::optional<Delimiter> delimiter = delimiterAt(body, at + 2, dashBoundary)) {
            delimiter->start = at;
            return delimiter;
        }
    }
    return std::nullopt;
}

} // namespace

std::optional<QByteArray> multipartBoundary(QByteArrayView contentType, QString *error)
{
    const std::optional<HeaderValue> header = parseHeaderValue(contentType, error);
    if (!header) {
        *error = u"bad Content-Type: "_s + *error;
        return std::nullopt;
    }
    if (header->value != "multipart/form-data") {
        *error = u"the Content-Type is `%1`, not multipart/form-data"_s.arg(QString::fromUtf8(header->value));
        return std::nullopt;
    }
    const QByteArray boundary = header->parameter("boundary").value_or(QByteArray());
    if (boundary.isEmpty()) {
        *error = u"the Content-Type has no boundary"_s;
        return std::nullopt;
    }
    return boundary;
}

MultipartForm parseMultipartForm(QByteArrayView contentType, const QByteArray &body)
{
    MultipartForm form;
    const std::optional<QByteArray> boundary = multipartBoundary(contentType, &form.error);
    if (!boundary)
        return form;
    const QByteArray dashBoundary = "--" + *boundary;
    const std::optional<Delimiter> first = findDelimiter(body, 0, dashBoundary);
    if (!first) {
        form.error = u"the body has no boundary line `%1`"_s.arg(QString::fromUtf8(dashBoundary));
        return form;
    }
    bool last = first->last;
    qsizetype cursor = first->end;
    while (!last) {
        MultipartPart part;
        const QString where = u"part %1: "_s.arg(form.parts.size() + 1);
        qsizetype contentStart = cursor + 2;
        if (!body.sliced(cursor).startsWith("\r\n")) {
            const qsizetype headersEnd = body.indexOf("\r\n\r\n", cursor);
            if (headersEnd < 0) {
                form.error = where + u"its headers do not end with an empty line"_s;
                return form;
            }
            if (!readHeaders(QByteArrayView(body).sliced(cursor, headersEnd - cursor), &part, &form.error)) {
                form.error.prepend(where);
                return form;
            }
            contentStart = headersEnd + 4;
        }
        const std::optional<Delimiter> next = findDelimiter(body, contentStart, dashBoundary);
        if (!next) {
            form.error = where + u"the body ends before its closing boundary `%1--`"_s.arg(QString::fromUtf8(dashBoundary));
            return form;
        }
        part.offset = contentStart;
        part.length = next->start - contentStart;
        form.parts.append(part);
        last = next->last;
        cursor = next->end;
    }
    return form;
}

} // namespace Sandflow::Internal
