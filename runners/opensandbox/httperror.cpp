#include "httperror_p.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMetaEnum>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// What an error body says: the {code, message} envelope of the lifecycle server and
/// execd, execd's 401 {error}, FastAPI's 422 {detail: [{loc, msg}]}, or plain text.
struct ServerError
{
    QString code;
    QString message;
};

QString detailText(const QJsonValue &detail)
{
    if (detail.isString())
        return detail.toString();
    QStringList parts;
    for (const QJsonValue &item : detail.toArray()) {
        const QJsonObject object = item.toObject();
        QStringList location;
        for (const QJsonValue &step : object.value("loc"_L1).toArray())
            location.append(step.isString() ? step.toString() : QString::number(step.toInteger()));
        const QString message = object.value("msg"_L1).toString();
        parts.append(location.isEmpty() ? message : location.join(u'.') + u": "_s + message);
    }
    return parts.join(u"; "_s);
}

ServerError readServerError(const QByteArray &body)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error == QJsonParseError::NoError && document.isObject()) {
        const QJsonObject object = document.object();
        ServerError error{object.value("code"_L1).toString(), object.value("message"_L1).toString()};
        if (error.message.isEmpty())
            error.message = object.value("error"_L1).toString();
        if (error.message.isEmpty() && object.contains("detail"_L1))
            error.message = detailText(object.value("detail"_L1));
        if (!error.code.isEmpty() || !error.message.isEmpty())
            return error;
    }
    return {QString(), shortened(QString::fromUtf8(body))};
}

JobError::Kind kindForStatus(int status)
{
    if (status == 408)
        return JobError::Kind::Timeout;
    // Too many requests: the request is fine, the server is busy and asks for it later.
    // And a 504 is a gateway that gave up on the server, not a limit of the caller's.
    if (status == 429 || status == 504)
        return JobError::Kind::Infra;
    // The request itself is wrong (bad input, unknown id, wrong key): trying again is
    // pointless. Everything else is the server's or the network's trouble.
    if (status >= 400 && status < 500)
        return JobError::Kind::Invalid;
    return JobError::Kind::Infra;
}

bool neverConnected(QNetworkReply::NetworkError error)
{
    switch (error) {
    case QNetworkReply::ConnectionRefusedError:
    case QNetworkReply::HostNotFoundError:
    case QNetworkReply::ProxyConnectionRefusedError:
    case QNetworkReply::ProxyNotFoundError:
    case QNetworkReply::TemporaryNetworkFailureError:
    case QNetworkReply::NetworkSessionFailedError:
    case QNetworkReply::UnknownNetworkError:
        return true;
    default:
        return false;
    }
}

} // namespace

QJsonObject requestContext(const RequestSpec &spec, const QString &requestId)
{
    return {{ErrorKey::RequestId, requestId},
            {ErrorKey::Method, QString::fromLatin1(spec.method)},
            {ErrorKey::Url, spec.url.toString()},
            {ErrorKey::Api, spec.api == Api::Lifecycle ? u"lifecycle"_s : u"execd"_s}};
}

JobError transportError(const RequestSpec &spec, const QString &requestId, QNetworkReply::NetworkError error,
                        const QString &errorString, bool timedOut, std::chrono::milliseconds timeout)
{
    QJsonObject context = requestContext(spec, requestId);
    context.insert(ErrorKey::NetworkError,
                   QString::fromLatin1(QMetaEnum::fromType<QNetworkReply::NetworkError>().valueToKey(error)));
    if (timedOut) {
        const double seconds = double(timeout.count()) / 1000.0;
        return {JobError::Kind::Timeout, ErrorCode::Timeout,
                u"no answer from %1 within %2 s (request %3)"_s.arg(spec.peer).arg(seconds).arg(requestId), context};
    }
    if (neverConnected(error))
        return {JobError::Kind::Infra, ErrorCode::Unreachable, u"cannot reach %1: %2"_s.arg(spec.peer, errorString),
                context};
    return {JobError::Kind::Infra, ErrorCode::ConnectionFailed,
            u"the connection to %1 failed: %2 (request %3)"_s.arg(spec.peer, errorString, requestId), context};
}

JobError statusError(const RequestSpec &spec, const QString &requestId, int status, const QByteArray &body,
                     const QByteArray &reasonPhrase)
{
    ServerError server = readServerError(body);
    if (server.message.isEmpty())
        server.message = reasonPhrase.isEmpty() ? u"no explanation"_s : QString::fromLatin1(reasonPhrase);
    QJsonObject context = requestContext(spec, requestId);
    context.insert(ErrorKey::Status, status);
    context.insert(ErrorKey::ServerCode, server.code);
    context.insert(ErrorKey::ServerMessage, server.message);
    JobError error{kindForStatus(status), server.code.isEmpty() ? u"HTTP_%1"_s.arg(status) : server.code, {}, context};
    error.message = u"%1 (%2)"_s.arg(server.message, OpenSandboxErrorDetails::of(error).label());
    return error;
}

JobError unexpectedResponse(const RequestSpec &spec, const QString &requestId, int status, const QString &problem)
{
    QJsonObject context = requestContext(spec, requestId);
    context.insert(ErrorKey::Status, status);
    return {JobError::Kind::Infra, ErrorCode::UnexpectedResponse,
            u"unexpected answer from %1: %2 (%3, request %4)"_s.arg(spec.peer, problem).arg(status).arg(requestId),
            context};
}

void noteAttempts(JobError &error, int attempts)
{
    error.context.insert(ErrorKey::Attempts, attempts);
    if (attempts > 1)
        error.message += u" after %1 attempts"_s.arg(attempts);
}

void noteNotRetried(JobError &error, const RequestSpec &spec)
{
    error.message += u"; not tried again, since %1 %2 is not idempotent"_s.arg(QString::fromLatin1(spec.method),
                                                                              spec.url.path());
}

QString shortened(const QString &text, qsizetype limit)
{
    QString line = text.simplified();
    if (line.size() > limit)
        line = line.left(limit - 1) + u'…';
    return line;
}

} // namespace Sandflow::Internal

namespace Sandflow {

using namespace Internal;
using namespace Qt::StringLiterals;

OpenSandboxErrorDetails OpenSandboxErrorDetails::of(const JobError &error)
{
    OpenSandboxErrorDetails details;
    details.status = error.context.value(ErrorKey::Status).toInt();
    details.serverCode = error.context.value(ErrorKey::ServerCode).toString();
    details.serverMessage = error.context.value(ErrorKey::ServerMessage).toString();
    details.requestId = error.context.value(ErrorKey::RequestId).toString();
    details.execd = error.context.value(ErrorKey::Api).toString() == "execd"_L1;
    details.connectionRefused = error.context.value(ErrorKey::NetworkError).toString() == "ConnectionRefusedError"_L1;
    details.attempts = error.context.value(ErrorKey::Attempts).toInt(1);
    return details;
}

QString OpenSandboxErrorDetails::label() const
{
    QStringList parts;
    if (status > 0)
        parts.append(serverCode.isEmpty() ? QString::number(status) : u"%1 %2"_s.arg(status).arg(serverCode));
    if (!requestId.isEmpty())
        parts.append(u"request "_s + requestId);
    return parts.join(u", "_s);
}

} // namespace Sandflow
