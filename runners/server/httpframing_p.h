// Request framing that two HTTP parsers may read differently: the way requests are smuggled
// past a proxy in front of the server (RFC 9112 sections 5.1, 5.2, 6.1 and 6.3). Such a
// request is refused, and its connection closed, before anything of it is served.
#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

#include <optional>

namespace Sandflow::Internal {

/// Why a request's framing cannot be trusted, as the answer to give.
struct FramingProblem
{
    int status = 400;    ///< 400, or 501 for a transfer coding other than chunked
    QString code;        ///< the error body's `code`
    QByteArray message;
};

/// Checks a request's header fields, as the parser split them: one Content-Length of digits
/// only, or a Transfer-Encoding of `chunked` alone, never both; no whitespace in a name.
std::optional<FramingProblem> framingProblem(const QList<QPair<QByteArray, QByteArray>> &fields);

/// The same for a raw head (the request line and the fields, without the blank line), which
/// also shows what a parser hides: lines folded onto the one before.
std::optional<FramingProblem> framingProblem(QByteArrayView head);

} // namespace Sandflow::Internal
