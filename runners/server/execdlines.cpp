#include "execdlines_p.h"

#include <utility>

namespace Sandflow::Internal {

ExecdLineSplitter::ExecdLineSplitter(qsizetype maxLineLength)
    : m_maxLineLength(qMax<qsizetype>(maxLineLength, 4))   // room for any UTF-8 sequence
{
}

void ExecdLineSplitter::add(QByteArrayView chunk, const LineSink &sink)
{
    qsizetype start = 0;
    if (m_afterCarriageReturn && !chunk.isEmpty()) {
        m_afterCarriageReturn = false;
        if (chunk.front() == '\n')
            start = 1;
    }
    for (qsizetype i = start; i < chunk.size(); ++i) {
        const char c = chunk[i];
        if (c != '\n' && c != '\r')
            continue;
        m_partial += chunk.sliced(start, i - start);
        emitLine(std::exchange(m_partial, {}), sink);
        if (c == '\r') {
            if (i + 1 == chunk.size())
                m_afterCarriageReturn = true;
            else if (chunk[i + 1] == '\n')
                ++i;
        }
        start = i + 1;
    }
    m_partial += chunk.sliced(start);
    // Emits the full pieces of an overlong line now; the cuts are the ones emitLine would
    // make, so they do not depend on chunking.
    while (m_partial.size() > m_maxLineLength) {
        const qsizetype length = pieceLength(m_partial);
        sink(m_partial.first(length));
        m_partial.remove(0, length);
    }
}

void ExecdLineSplitter::flush(const LineSink &sink)
{
    m_afterCarriageReturn = false;
    if (!m_partial.isEmpty())
        emitLine(std::exchange(m_partial, {}), sink);
}

void ExecdLineSplitter::emitLine(QByteArray line, const LineSink &sink) const
{
    if (line.isEmpty()) {
        sink(QByteArrayLiteral("\n"));
        return;
    }
    while (line.size() > m_maxLineLength) {
        const qsizetype length = pieceLength(line);
        sink(line.first(length));
        line.remove(0, length);
    }
    sink(line);
}

qsizetype ExecdLineSplitter::pieceLength(QByteArrayView line) const
{
    // Back off over UTF-8 continuation bytes (10xxxxxx) so a character stays whole.
    qsizetype length = m_maxLineLength;
    for (int i = 0; i < 3 && (uchar(line[length]) & 0xC0) == 0x80; ++i)
        --length;
    return (uchar(line[length]) & 0xC0) == 0x80 ? m_maxLineLength : length;
}

} // namespace Sandflow::Internal
