// Feeds arbitrary bytes, cut into arbitrary pieces, to the OpenSandbox client's reader of
// execd's event stream: what a server, or anything between it and the client, may send.
// However the bytes are cut, the reader must hand out the same events, those the stream's
// lines give by the rules its header states (split on `\n`; skip blank lines, comments and
// the `event:`, `id:` and `retry:` fields; drop a `data:` prefix; keep what reads as a JSON
// object); and no stream this short may trip its cap on the length of a line.
//
// The first input byte chooses the cuts; the rest is the stream.
#include "execdevents_p.h"
#include "fuzzrequire.h"

#include <QJsonDocument>
#include <QList>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {

using Sandflow::Internal::ExecdEventReader;

/// An event the stream holds, and where the line that gives it ends (its `\n`, or the end
/// of the stream for a last line without one).
struct Expected
{
    QJsonObject event;
    qsizetype lineEnd = 0;
};

/// The events of `stream`, read line by line as the header describes, with no reader.
QList<Expected> expectedEvents(const QByteArray &stream)
{
    QList<Expected> events;
    for (qsizetype start = 0; start <= stream.size();) {
        qsizetype end = stream.indexOf('\n', start);
        if (end < 0)
            end = stream.size();
        QByteArray line = stream.sliced(start, end - start).trimmed();
        start = end + 1;
        if (line.isEmpty() || line.startsWith(':') || line.startsWith("event:") || line.startsWith("id:")
            || line.startsWith("retry:"))
            continue;
        if (line.startsWith("data:"))
            line = line.sliced(5).trimmed();
        QJsonParseError error;
        const QJsonDocument document = QJsonDocument::fromJson(line, &error);
        if (error.error == QJsonParseError::NoError && document.isObject())
            events.append({document.object(), end});
    }
    return events;
}

/// The events of `expected` whose lines end before `offset`.
qsizetype eventsBefore(const QList<Expected> &expected, qsizetype offset)
{
    return std::count_if(expected.cbegin(), expected.cend(),
                         [offset](const Expected &e) { return e.lineEnd < offset; });
}

bool sameEvents(const QList<QJsonObject> &events, const QList<Expected> &expected, qsizetype count)
{
    if (events.size() != count)
        return false;
    for (qsizetype i = 0; i < count; ++i) {
        if (events.at(i) != expected.at(i).event)
            return false;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const QByteArray stream(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    const QList<Expected> expected = expectedEvents(stream);

    QList<QJsonObject> atOnce;
    const auto collectAtOnce = [&atOnce](const QJsonObject &event) { atOnce.append(event); };
    ExecdEventReader whole;
    require(whole.add(stream, collectAtOnce));
    whole.end(collectAtOnce);
    require(sameEvents(atOnce, expected, expected.size()));

    // Pieces of 0 to 31 bytes, as a socket may deliver them; the reader hands out each event
    // once its line has ended, not later.
    QList<QJsonObject> inPieces;
    const auto collectInPieces = [&inPieces](const QJsonObject &event) { inPieces.append(event); };
    ExecdEventReader cut;
    std::uint32_t state = data[0];
    for (qsizetype offset = 0; offset < stream.size();) {
        state = state * 1664525u + 1013904223u;
        const qsizetype piece = std::min<qsizetype>(stream.size() - offset, (state >> 24) % 32);
        require(cut.add(stream.sliced(offset, piece), collectInPieces));
        offset += piece;
        require(sameEvents(inPieces, expected, eventsBefore(expected, offset)));
    }
    cut.end(collectInPieces);
    require(sameEvents(inPieces, expected, expected.size()));
    return 0;
}
