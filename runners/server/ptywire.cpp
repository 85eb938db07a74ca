#include "ptywire_p.h"

#include "runner.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QtEndian>

#include <cmath>

using namespace Qt::StringLiterals;

namespace Sandflow::Internal {

namespace {

/// Go's json.Encoder: compact, then a newline.
QByteArray textFrame(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact) + '\n';
}

/// A whole number in a JSON value, as Go decodes one into an int: anything else makes the
/// frame fail to decode.
std::optional<int> wholeNumber(const QJsonValue &value)
{
    if (value.isUndefined() || value.isNull())
        return 0;
    if (!value.isDouble())
        return std::nullopt;
    const double number = value.toDouble();
    // The range first: converting a number beyond it is undefined.
    if (!(number >= -2147483648.0 && number <= 2147483647.0) || number != std::trunc(number))
        return std::nullopt;
    return int(number);
}

} // namespace

QByteArray ptyOutputFrame(PtyChannel channel, QByteArrayView data)
{
    QByteArray frame;
    frame.reserve(data.size() + 1);
    frame.append(char(channel));
    frame.append(data);
    return frame;
}

QByteArray ptyReplayFrame(quint64 offset, QByteArrayView data)
{
    QByteArray frame(9, '\0');
    frame[0] = char(PtyChannel::Replay);
    qToBigEndian(offset, frame.data() + 1);
    frame.append(data);
    return frame;
}

QByteArray ptyConnectedFrame(const QString &sessionId, bool pty)
{
    return textFrame({{u"type"_s, u"connected"_s}, {u"session_id"_s, sessionId}, {u"mode"_s, pty ? u"pty"_s : u"pipe"_s}});
}

QByteArray ptyExitFrame(int exitCode)
{
    return textFrame({{u"type"_s, u"exit"_s}, {u"exit_code"_s, exitCode}});
}

QByteArray ptyPongFrame()
{
    return textFrame({{u"type"_s, u"pong"_s}});
}

QByteArray ptyErrorFrame(const QString &code, const QString &message)
{
    return textFrame({{u"type"_s, u"error"_s}, {u"error"_s, message}, {u"code"_s, code}});
}

PtyClientFrame parsePtyBinaryFrame(const QByteArray &frame)
{
    PtyClientFrame parsed;
    if (frame.isEmpty() || frame.at(0) != char(PtyChannel::Stdin))
        return parsed;
    parsed.kind = PtyClientFrame::Kind::Input;
    parsed.data = frame.mid(1);
    return parsed;
}

PtyClientFrame parsePtyTextFrame(const QString &frame)
{
    PtyClientFrame parsed;
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(frame.toUtf8(), &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return parsed;
    const QJsonObject object = document.object();
    // Go decodes the whole frame into one struct: a field of the wrong type fails it all.
    for (const char *key : {"type", "data", "signal"}) {
        const QJsonValue value = object.value(QLatin1StringView(key));
        if (!value.isUndefined() && !value.isNull() && !value.isString())
            return parsed;
    }
    const std::optional<int> columns = wholeNumber(object.value(u"cols"_s));
    const std::optional<int> rows = wholeNumber(object.value(u"rows"_s));
    if (!columns || !rows)
        return parsed;
    const QString type = object.value(u"type"_s).toString();
    if (type == u"stdin"_s) {
        parsed.kind = PtyClientFrame::Kind::Input;
        parsed.data = object.value(u"data"_s).toString().toUtf8();
    } else if (type == u"eof"_s) {
        parsed.kind = PtyClientFrame::Kind::EndOfInput;
    } else if (type == u"resize"_s) {
        // Upstream applies only a size with both sides above 0.
        if (*columns > 0 && *rows > 0) {
            parsed.kind = PtyClientFrame::Kind::Resize;
            parsed.columns = *columns;
            parsed.rows = *rows;
        }
    } else if (type == u"signal"_s) {
        if (const int number = terminalSignalNamed(object.value(u"signal"_s).toString())) {
            parsed.kind = PtyClientFrame::Kind::Signal;
            parsed.signal = number;
        }
    } else if (type == u"ping"_s) {
        parsed.kind = PtyClientFrame::Kind::Ping;
    } else {
        parsed.kind = PtyClientFrame::Kind::Unknown;
        parsed.type = type;
    }
    return parsed;
}

} // namespace Sandflow::Internal
