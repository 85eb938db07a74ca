#include "execdevents_p.h"

#include <QJsonDocument>

namespace Sandflow::Internal {

namespace {

/// execd splits output into lines of at most 16 MiB; an event is a little more.
constexpr qsizetype MaxLineBytes = 64 * 1024 * 1024;

} // namespace

bool ExecdEventReader::add(const QByteArray &bytes, const Handler &handler)
{
    // What was pending has no `\n`: searched again at every piece, a long line would cost
    // time growing with its square, all of it on the event loop.
    const qsizetype searched = m_pending.size();
    m_pending += bytes;
    qsizetype start = 0;
    for (qsizetype newline = m_pending.indexOf('\n', searched); newline >= 0;
         newline = m_pending.indexOf('\n', start)) {
        readLine(QByteArrayView(m_pending).sliced(start, newline - start), handler);
        start = newline + 1;
    }
    m_pending.remove(0, start);
    return m_pending.size() <= MaxLineBytes;
}

void ExecdEventReader::end(const Handler &handler)
{
    readLine(m_pending, handler);
    m_pending.clear();
}

void ExecdEventReader::readLine(QByteArrayView line, const Handler &handler)
{
    line = line.trimmed();
    if (line.isEmpty() || line.startsWith(':') || line.startsWith("event:") || line.startsWith("id:")
        || line.startsWith("retry:"))
        return;
    if (line.startsWith("data:"))
        line = line.sliced(5).trimmed();
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(line.toByteArray(), &error);
    // What does not parse is skipped, as the SDKs do: execd itself appends a bare error
    // body to a stream in one corner case.
    if (error.error == QJsonParseError::NoError && document.isObject())
        handler(document.object());
}

} // namespace Sandflow::Internal
