// execd's error answers: an HTTP status with the body {"code","message"}. The wire format's
// parsers return Parsed<T> (apierror_p.h), the value or such an error, so that a handler
// answers bad input exactly as execd does without deciding it itself.
#pragma once

#include "apierror_p.h"

#include <QJsonObject>
#include <QString>

namespace Sandflow::Internal {

/// The body of an execd error: {"code","message"}. execd omits either field when it is
/// empty, and so does this.
QJsonObject execdErrorJson(const QString &code, const QString &message);

/// An execd error answer: `status` with the body execdErrorJson(code, message). Codes are
/// execd's: INVALID_REQUEST_BODY, MISSING_QUERY, INVALID_FILE, INVALID_FILE_METADATA, ...
ApiError execdError(int status, const QString &code, const QString &message);

/// 400 INVALID_REQUEST_BODY: execd's answer to any malformed request body.
ApiError invalidRequestBody(const QString &message);

} // namespace Sandflow::Internal
