#include "httpframing_p.h"

using namespace Qt::StringLiterals;

namespace Sandflow::Internal {

namespace {

FramingProblem badFraming(const QByteArray &message)
{
    return {400, u"AMBIGUOUS_FRAMING"_s, message};
}

bool allDigits(QByteArrayView text)
{
    return !text.isEmpty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

} // namespace

std::optional<FramingProblem> framingProblem(const QList<QPair<QByteArray, QByteArray>> &fields)
{
    int lengths = 0;
    QList<QByteArray> codings;
    for (const auto &[name, value] : fields) {
        if (name.isEmpty() || name.contains(' ') || name.contains('\t'))
            return badFraming("A header name holds whitespace: '" + name.left(64) + "'.");
        const QByteArray lower = name.toLower();
        if (lower == "content-length") {
            if (++lengths > 1)
                return badFraming("The request has more than one Content-Length.");
            if (!allDigits(value.trimmed()))
                return badFraming("Content-Length is not a number of bytes: '" + value.left(64) + "'.");
        } else if (lower == "transfer-encoding") {
            for (const QByteArray &coding : value.split(','))
                codings.append(coding.trimmed().toLower());
        }
    }
    if (codings.isEmpty())
        return std::nullopt;
    if (lengths > 0)
        return badFraming("The request has both Content-Length and Transfer-Encoding.");
    if (codings != QList<QByteArray>{"chunked"})
        return FramingProblem{501, u"UNSUPPORTED_TRANSFER_CODING"_s,
                              "The server understands the transfer coding chunked alone, not '" + codings.join(", ") + "'."};
    return std::nullopt;
}

std::optional<FramingProblem> framingProblem(QByteArrayView head)
{
    QList<QPair<QByteArray, QByteArray>> fields;
    const QList<QByteArray> lines = head.toByteArray().split('\n');
    for (qsizetype i = 1; i < lines.size(); ++i) {   // after the request line
        QByteArray line = lines.at(i);
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.isEmpty())
            continue;
        if (line.startsWith(' ') || line.startsWith('\t'))
            return badFraming("A header line is folded onto the one before it.");
        const qsizetype colon = line.indexOf(':');
        if (colon < 0)
            return badFraming("A header line has no colon.");
        fields.append({line.left(colon), line.mid(colon + 1)});
    }
    return framingProblem(fields);
}

} // namespace Sandflow::Internal
