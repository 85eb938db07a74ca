// How execd cuts a foreground command's output into `stdout` and `stderr` events: one event
// per line, whatever the chunks the output arrived in. Clients and the e2e suites count the
// events (`echo Hello` is exactly one event with text "Hello"), so this must be exact.
#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <functional>

namespace Sandflow::Internal {

/// Splits one stream into lines as execd does:
/// - a line ends at `\n` or at `\r`, and `\r\n` is a single break, also when the `\r` ends
///   one chunk and the `\n` starts the next;
/// - a line is emitted without its terminator, as soon as its terminator arrives;
/// - an empty line is emitted as "\n" (an event with an empty text would lose its `text`);
/// - flush() emits what is left after the last break, when the stream ends.
/// Lines longer than `maxLineLength` bytes are emitted in pieces of at most that size, cut
/// before a UTF-8 sequence, so that a command printing without newlines cannot fill the
/// server's memory; execd reads session output in lines of up to 16 MiB, hence the default.
/// The pieces depend only on the bytes, never on how they were chunked. Use one splitter
/// per stream.
class ExecdLineSplitter
{
public:
    using LineSink = std::function<void(const QByteArray &line)>;

    static constexpr qsizetype DefaultMaxLineLength = 16 * 1024 * 1024;

    explicit ExecdLineSplitter(qsizetype maxLineLength = DefaultMaxLineLength);

    /// Passes each line that `chunk` completes to `sink`, and keeps the rest for later.
    void add(QByteArrayView chunk, const LineSink &sink);
    /// Passes the final partial line, if any, to `sink`; the splitter is then empty.
    void flush(const LineSink &sink);

private:
    void emitLine(QByteArray line, const LineSink &sink) const;
    qsizetype pieceLength(QByteArrayView line) const;

    QByteArray m_partial;
    qsizetype m_maxLineLength;
    bool m_afterCarriageReturn = false;   // a `\n` next is the rest of a `\r\n`
};

} // namespace Sandflow::Internal
