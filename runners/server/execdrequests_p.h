// Request bodies and query strings of execd's routes, read as execd reads them: unknown
// fields are ignored, `null` counts as absent, and a field of the wrong type, a bad value
// or broken JSON is 400 INVALID_REQUEST_BODY with a message that names the field.
#pragma once

#include "execderror_p.h"
#include "runner.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>
#include <QStringList>

namespace Sandflow::Internal {

/// POST /command {command, cwd?, envs?, timeout?, uid?, gid?, background?}:
/// - `command` is required and not empty;
/// - `timeout` in milliseconds; absent or 0: no limit; negative: 400;
/// - `uid` and `gid` are non-negative; `gid` without `uid` is 400;
/// - `envs` is an object of strings.
/// `background` goes to CommandRequest::background.
Parsed<CommandRequest> parseCommandBody(const QByteArray &body);

/// POST /session {cwd?}: the session's directory (empty: the sandbox's). An empty body is
/// allowed.
Parsed<QString> parseSessionBody(const QByteArray &body);

/// What a PTY session runs, from POST /pty.
struct PtyRequest
{
    QString cwd;                    ///< empty: the sandbox's working directory
    QString command;                ///< empty: an interactive shell
    QMap<QString, QString> env;     ///< Sandflow's addition (`envs`, as /command has): e.g. TERM
};

/// POST /pty {cwd?, command?, envs?}: an empty body is allowed. Upstream reads `cwd` and
/// `command` only; `envs` is ignored there.
Parsed<PtyRequest> parsePtyBody(const QByteArray &body);

/// execd's timeout of a session run that asks for none: 24 hours.
constexpr qint64 SessionRunDefaultTimeoutMs = 24 * 60 * 60 * 1000;

/// POST /session/{id}/run {command, cwd?, timeout?}: `command` required, `timeout` in
/// milliseconds; absent or 0 gives SessionRunDefaultTimeoutMs, negative is 400.
Parsed<CommandRequest> parseSessionRunBody(const QByteArray &body);

/// One path of a permissions body, with what to apply to it.
struct PathPermissions
{
    QString path;
    FilePermissions permissions;
};

/// POST /files/permissions and POST /directories: {"<path>": {owner?, group?, mode}}.
/// `mode` is octal digits (755), 0 or absent to leave the mode alone; a digit 8 or 9 is
/// 400. owner and group may be null or absent (empty). Paths come in sorted order; an
/// empty path is 400.
Parsed<QList<PathPermissions>> parsePermissionsBody(const QByteArray &body);

/// One move of POST /files/mv.
struct FileMove
{
    QString source;
    QString destination;

    friend bool operator==(const FileMove &, const FileMove &) = default;
};

/// POST /files/mv [{src, dest}, ...]: both required and not empty, in the order given.
Parsed<QList<FileMove>> parseMoveBody(const QByteArray &body);

/// One file of POST /files/replace.
struct FileReplacement
{
    QString path;
    QString before;     ///< `old`: never empty
    QString after;      ///< `new`: may be empty (the occurrences are removed)

    friend bool operator==(const FileReplacement &, const FileReplacement &) = default;
};

/// POST /files/replace {"<path>": {old, new}}: an empty or absent `old` is 400. Paths come
/// in sorted order.
Parsed<QList<FileReplacement>> parseReplaceBody(const QByteArray &body);

/// The values of `name` in a URL's query, given as sent (percent-encoded, as
/// `url.query(QUrl::FullyEncoded)` keeps it; QUrlQuery would leave `+` and `%2B` alike
/// undecoded). Decoded as HTML forms encode them, which is how execd reads queries and how
/// the Python SDK sends paths: `+` is a space, `%2B` a plus sign. Pairs with a broken
/// escape are skipped.
QStringList queryValues(QByteArrayView encodedQuery, QByteArrayView name);

/// The `path` values of GET /files/info, DELETE /files and DELETE /directories (repeatable):
/// none, or only empty ones, is 400 MISSING_QUERY. Empty values are dropped (an empty path
/// would mean execd's working directory).
Parsed<QStringList> parsePathQuery(QByteArrayView encodedQuery);

} // namespace Sandflow::Internal
