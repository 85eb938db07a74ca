#include "transferjobs_p.h"

#include "httperror_p.h"
#include "wirejson_p.h"

#include <QFile>
#include <QFileInfo>
#include <QHttpMultiPart>
#include <QJsonDocument>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// `name` as a quoted-string parameter value: quotes, backslashes and line breaks, which
/// would end it early, become `_`. execd takes the path from the metadata part anyway.
QByteArray quotedName(const QString &name)
{
    QByteArray bytes = name.toUtf8();
    for (char &c : bytes) {
        if (c == '"' || c == '\\' || c == '\r' || c == '\n')
            c = '_';
    }
    return '"' + bytes + '"';
}

QHttpPart formPart(const QByteArray &name, const QByteArray &fileName, const QByteArray &contentType)
{
    QHttpPart part;
    part.setRawHeader("Content-Disposition", "form-data; name=\"" + name + "\"; filename=" + fileName);
    part.setRawHeader("Content-Type", contentType);
    return part;
}

JobError localFileError(const QString &code, const QString &message, const QString &path)
{
    return {JobError::Kind::Invalid, code, message, {{u"localPath"_s, path}}};
}

} // namespace

UploadJob::UploadJob(Transport &transport, const OpenSandboxEndpoint &execd, QString localPath, QString path,
                     FilePermissions permissions)
    : m_transport(transport)
    , m_execd(execd)
    , m_localPath(std::move(localPath))
    , m_path(std::move(path))
    , m_permissions(std::move(permissions))
{
}

void UploadJob::doStart()
{
    auto multipart = std::make_unique<QHttpMultiPart>(QHttpMultiPart::FormDataType);
    auto *file = new QFile(m_localPath, multipart.get());
    if (QFileInfo(m_localPath).isDir())
        return finish(localFileError(u"LOCAL_FILE_UNREADABLE"_s, u"%1 is a directory"_s.arg(m_localPath), m_localPath));
    if (!file->open(QIODevice::ReadOnly))
        return finish(localFileError(u"LOCAL_FILE_UNREADABLE"_s, u"cannot read %1: %2"_s.arg(m_localPath, file->errorString()),
                                     m_localPath));
    // execd files a part without a file name as a form field, and then finds no metadata.
    QHttpPart metadata = formPart("metadata", "\"metadata\"", "application/json");
    metadata.setBody(QJsonDocument(uploadMetadataJson(m_path, m_permissions)).toJson(QJsonDocument::Compact));
    multipart->append(metadata);
    QHttpPart content = formPart("file", quotedName(QFileInfo(m_localPath).fileName()), "application/octet-stream");
    // Read from disk as it is sent: a file (unlike a pipe) lets Qt size and replay it
    // without a copy in memory.
    content.setBodyDevice(file);
    multipart->append(content);

    m_call = new StreamCall(m_transport, m_transport.execd(m_execd, "POST", u"/files/upload"_s), this);
    m_call->start({}, [this](const HttpResult &answer) { finish(answer.error); }, multipart.release());
}

void UploadJob::doCancel()
{
    if (m_call)
        m_call->abort();
    finish(cancelledError());
}

DownloadJob::DownloadJob(Transport &transport, const OpenSandboxEndpoint &execd, QString path, QIODevice *destination)
    : m_transport(transport)
    , m_execd(execd)
    , m_path(std::move(path))
    , m_destination(destination)
{
}

void DownloadJob::doStart()
{
    if (!m_destination || !m_destination->isWritable())
        return finish(JobError{JobError::Kind::Invalid, u"DESTINATION_NOT_WRITABLE"_s,
                               u"the download's destination is not open for writing"_s, {{u"path"_s, m_path}}});
    m_call = new StreamCall(m_transport, m_transport.execd(m_execd, "GET", u"/files/download"_s, {{u"path"_s, m_path}}),
                            this);
    m_call->start([this](const QByteArray &bytes) { write(bytes); },
                  [this](const HttpResult &answer) { ended(answer); });
}

void DownloadJob::write(const QByteArray &bytes)
{
    const qint64 written = m_destination->write(bytes);
    if (written == bytes.size()) {
        m_written += written;
        return;
    }
    m_call->abort();
    finish(JobError{JobError::Kind::Infra, u"DESTINATION_WRITE_FAILED"_s,
                    u"cannot write the download of %1: %2"_s.arg(m_path, m_destination->errorString()),
                    {{u"path"_s, m_path}, {u"written"_s, m_written}}});
}

void DownloadJob::ended(const HttpResult &answer)
{
    if (answer.error)
        return finish(answer.error);
    const qint64 expected = m_call->contentLength();
    if (expected >= 0 && m_written != expected)
        return finish(unexpectedResponse(m_call->spec(), answer.requestId, answer.status,
                                         u"the file ended after %1 of %2 bytes"_s.arg(m_written).arg(expected)));
    finish();
}

void DownloadJob::doCancel()
{
    if (m_call)
        m_call->abort();
    finish(cancelledError());
}

} // namespace Sandflow::Internal
