// Reading execd's event stream (POST /command and friends) the way both SDKs do. execd
// writes each event as a bare JSON object followed by a blank line, other servers write
// proper SSE `data:` lines: split on `\n`, skip empty lines, comments (`:`) and the
// `event:`, `id:` and `retry:` fields, drop a `data:` prefix, and read each line as JSON.
#pragma once

#include <QByteArray>
#include <QJsonObject>

#include <functional>

namespace Sandflow::Internal {

class ExecdEventReader
{
public:
    using Handler = std::function<void(const QJsonObject &event)>;

    /// Reads `bytes`, which may end mid-line, and calls `handler` for each whole event.
    /// Returns false when a line grows past any sensible event size.
    bool add(const QByteArray &bytes, const Handler &handler);
    /// The stream has ended: reads a last line that had no `\n`.
    void end(const Handler &handler);

private:
    static void readLine(QByteArrayView line, const Handler &handler);

    QByteArray m_pending;
};

} // namespace Sandflow::Internal
