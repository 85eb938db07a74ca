// The frames of execd's PTY WebSocket (GET /pty/{id}/ws), as upstream's execd writes and
// reads them, with no socket and no runner.
//
// Server to client: binary frames start with a channel byte (0x01 stdout, 0x02 stderr,
// 0x03 replay followed by the big-endian 64-bit offset of its first byte); text frames are
// JSON objects ending in a newline: connected, exit, pong, error.
// Client to server: binary 0x00 then stdin bytes; text JSON: stdin (data as text), resize
// (cols, rows), signal (a name such as SIGINT), ping, and Sandflow's eof (end of input).
#pragma once

#include <QByteArray>
#include <QString>

#include <optional>

namespace Sandflow::Internal {

/// Live output chunks are at most this long, as upstream sends them.
inline constexpr qsizetype PtyChunkBytes = 32 * 1024;

enum class PtyChannel : char { Stdin = 0x00, Stdout = 0x01, Stderr = 0x02, Replay = 0x03 };

/// A binary frame of `channel` with `data`.
QByteArray ptyOutputFrame(PtyChannel channel, QByteArrayView data);
/// The replay frame: retained output from byte `offset` of the session's output.
QByteArray ptyReplayFrame(quint64 offset, QByteArrayView data);
/// {"type":"connected","session_id","mode":"pty"|"pipe"} and a newline.
QByteArray ptyConnectedFrame(const QString &sessionId, bool pty);
/// {"type":"exit","exit_code"} and a newline; -1 for a process a signal ended.
QByteArray ptyExitFrame(int exitCode);
/// {"type":"pong"} and a newline.
QByteArray ptyPongFrame();
/// {"type":"error","error","code"} and a newline.
QByteArray ptyErrorFrame(const QString &code, const QString &message);

/// What a client frame asks for.
struct PtyClientFrame
{
    enum class Kind {
        Ignored,    ///< upstream drops it silently: broken JSON, a wrong type, an empty binary frame
        Input,      ///< `data` for stdin
        EndOfInput, ///< Sandflow's addition: close stdin (upstream has no way to)
        Resize,     ///< `columns` x `rows`, both above 0
        Signal,     ///< `signal`, a number
        Ping,
        Unknown,    ///< a JSON frame of a type nobody knows: answered INVALID_FRAME
    };
    Kind kind = Kind::Ignored;
    QByteArray data;
    int columns = 0;
    int rows = 0;
    int signal = 0;
    QString type;   ///< of an Unknown frame
};

PtyClientFrame parsePtyBinaryFrame(const QByteArray &frame);
PtyClientFrame parsePtyTextFrame(const QString &frame);

} // namespace Sandflow::Internal
