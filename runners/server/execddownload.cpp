#include "execddownload_p.h"

#include <limits>
#include <optional>

namespace Sandflow::Internal {

namespace {

/// A non-negative decimal number made of digits only, that fits a qint64.
std::optional<qint64> number(QByteArrayView text)
{
    if (text.isEmpty())
        return std::nullopt;
    qint64 value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9' || value > (std::numeric_limits<qint64>::max() - (c - '0')) / 10)
            return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return value;
}

/// RFC 5987's attr-char: what an ext-value may carry without percent-encoding.
bool isAttrChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || QByteArrayView("!#$&+-.^_`|~").contains(c);
}

} // namespace

ByteRange parseRange(QByteArrayView header, qint64 size)
{
    using Kind = ByteRange::Kind;
    header = header.trimmed();
    if (header.isEmpty())
        return {Kind::Whole, 0, size};
    if (!header.startsWith("bytes="))
        return {Kind::Malformed};
    // The first range of the list; empty elements (`bytes=, 0-1`) do not count.
    QByteArrayView list = header.sliced(6);
    QByteArrayView range;
    while (range.isEmpty() && !list.isEmpty()) {
        const qsizetype comma = list.indexOf(',');
        range = (comma < 0 ? list : list.first(comma)).trimmed();
        list = comma < 0 ? QByteArrayView() : list.sliced(comma + 1);
    }
    const qsizetype dash = range.indexOf('-');
    if (dash < 0)
        return {Kind::Malformed};
    const QByteArrayView first = range.first(dash).trimmed();
    const QByteArrayView last = range.sliced(dash + 1).trimmed();
    if (first.isEmpty()) {
        const std::optional<qint64> suffix = number(last);
        if (!suffix)
            return {Kind::Malformed};
        if (*suffix == 0 || size == 0)
            return {Kind::Unsatisfiable};
        const qint64 length = qMin(*suffix, size);
        return {Kind::Partial, size - length, length};
    }
    const std::optional<qint64> start = number(first);
    const std::optional<qint64> end = last.isEmpty() ? std::optional<qint64>(size - 1) : number(last);
    if (!start || !end || (!last.isEmpty() && *end < *start))
        return {Kind::Malformed};
    if (*start >= size)
        return {Kind::Unsatisfiable};
    return {Kind::Partial, *start, qMin(*end, size - 1) - *start + 1};
}

QByteArray contentRange(qint64 offset, qint64 length, qint64 size)
{
    return "bytes " + QByteArray::number(offset) + '-' + QByteArray::number(offset + length - 1) + '/'
        + QByteArray::number(size);
}

QByteArray unsatisfiedContentRange(qint64 size)
{
    return "bytes */" + QByteArray::number(size);
}

QByteArray contentDispositionAttachment(const QString &fileName)
{
    const QByteArray utf8 = fileName.toUtf8();
    QByteArray fallback;
    bool plain = true;
    for (const char c : utf8) {
        const uchar byte = uchar(c);
        if (byte >= 0x80 || byte < 0x20 || byte == 0x7F)
            plain = false;
        if ((byte & 0xC0) == 0x80)
            continue;   // the rest of a character already replaced
        if (byte >= 0x80 || byte < 0x20 || byte == 0x7F)
            fallback += '_';
        else if (c == '"' || c == '\\')
            fallback += QByteArray("\\") + c;
        else
            fallback += c;
    }
    QByteArray value = "attachment; filename=\"" + fallback + '"';
    if (plain)
        return value;
    value += "; filename*=UTF-8''";
    for (const char c : utf8) {
        if (isAttrChar(c))
            value += c;
        else
            value += '%' + QByteArray::number(uchar(c), 16).rightJustified(2, '0').toUpper();
    }
    return value;
}

} // namespace Sandflow::Internal
