#include "transferjobs_p.h"

#include "execdbodies_p.h"
#include "httperror_p.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// What a sequential source is read in.
constexpr qint64 ReadChunkBytes = 64 * 1024;

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

JobError sourceError(const QString &message, const QString &localPath)
{
    QJsonObject context;
    if (!localPath.isEmpty())
        context.insert(u"localPath"_s, localPath);
    return {JobError::Kind::Invalid, u"LOCAL_FILE_UNREADABLE"_s, message, context};
}

} // namespace

UploadJob::UploadJob(Transport &transport, const OpenSandboxEndpoint &execd, std::unique_ptr<QIODevice> source,
                     QString path, FilePermissions permissions)
    : m_transport(transport)
    , m_execd(execd)
    , m_source(std::move(source))
    , m_path(std::move(path))
    , m_permissions(std::move(permissions))
{
}

UploadJob::~UploadJob()
{
    // A process that is still running signals as it is destroyed; this job is gone by then.
    if (m_source)
        m_source->disconnect(this);
}

std::optional<JobError> UploadJob::openSource()
{
    const auto *file = qobject_cast<const QFile *>(m_source.get());
    const QString localPath = file ? file->fileName() : QString();
    const QString name = file ? localPath : u"the upload's source"_s;
    if (file && QFileInfo(localPath).isDir())
        return sourceError(u"%1 is a directory"_s.arg(localPath), localPath);
    if (!m_source->isOpen() && !m_source->open(QIODevice::ReadOnly))
        return sourceError(u"cannot read %1: %2"_s.arg(name, m_source->errorString()), localPath);
    if (!m_source->isReadable())
        return sourceError(u"cannot read %1: it is open for writing only"_s.arg(name), localPath);
    return std::nullopt;
}

void UploadJob::doStart()
{
    if (std::optional<JobError> error = openSource())
        return finish(std::move(error));
    if (!m_source->isSequential()) {
        // Read as it is sent: a file (unlike a pipe) lets Qt size and replay it without a
        // copy in memory.
        QHttpPart content = filePart();
        content.setBodyDevice(m_source.get());
        QIODevice *source = m_source.release();
        return send(std::move(content), source);
    }
    connect(m_source.get(), &QIODevice::readyRead, this, [this] { collect(false); });
    connect(m_source.get(), &QIODevice::readChannelFinished, this, [this] { collect(true); });
    collect(false);
}

void UploadJob::collect(bool ended)
{
    if (m_call || isFinished())
        return;
    QByteArray chunk(ReadChunkBytes, Qt::Uninitialized);
    for (;;) {
        const qint64 read = m_source->read(chunk.data(), chunk.size());
        if (read <= 0) {
            ended = ended || read < 0;   // -1 is how a sequential device says it has ended
            break;
        }
        m_collected.append(chunk.constData(), read);
    }
    if (!ended)
        return;
    m_source->disconnect(this);
    QHttpPart content = filePart();
    content.setBody(std::exchange(m_collected, {}));
    send(std::move(content));
}

QHttpPart UploadJob::filePart() const
{
    const auto *file = qobject_cast<const QFile *>(m_source.get());
    const QString fileName = QFileInfo(file ? file->fileName() : m_path).fileName();
    return formPart("file", quotedName(fileName), "application/octet-stream");
}

void UploadJob::send(QHttpPart content, QObject *contentOwner)
{
    auto *multipart = new QHttpMultiPart(QHttpMultiPart::FormDataType);
    if (contentOwner)
        contentOwner->setParent(multipart);
    // execd files a part without a file name as a form field, and then finds no metadata.
    QHttpPart metadata = formPart("metadata", "\"metadata\"", "application/json");
    metadata.setBody(QJsonDocument(uploadMetadataJson(m_path, m_permissions)).toJson(QJsonDocument::Compact));
    multipart->append(metadata);
    multipart->append(content);
    m_call = new StreamCall(m_transport, m_transport.execd(m_execd, "POST", u"/files/upload"_s), this);
    m_call->start({}, [this](const HttpResult &answer) { finish(answer.error); }, multipart);
}

void UploadJob::doCancel()
{
    if (m_call)
        m_call->abort();
    finish(cancelledError());
}

ReadFileJob::ReadFileJob(Transport &transport, const OpenSandboxEndpoint &execd, QString path, qint64 offset,
                         qint64 length, QIODevice *destination)
    : m_transport(transport)
    , m_execd(execd)
    , m_path(std::move(path))
    , m_offset(offset)
    , m_length(length)
    , m_destination(destination)
{
}

void ReadFileJob::doStart()
{
    if (m_offset < 0 || m_length < -1)
        return finish(JobError{JobError::Kind::Invalid, u"INVALID_RANGE"_s,
                               u"cannot read %1 bytes from offset %2 of %3"_s.arg(m_length).arg(m_offset).arg(m_path),
                               {{u"path"_s, m_path}, {u"offset"_s, m_offset}, {u"length"_s, m_length}}});
    if (m_destination && !m_destination->isWritable())
        return finish(JobError{JobError::Kind::Invalid, u"DESTINATION_NOT_WRITABLE"_s,
                               u"the download's destination is not open for writing"_s, {{u"path"_s, m_path}}});
    if (m_length == 0)
        return finish();
    RequestSpec spec = m_transport.execd(m_execd, "GET", u"/files/download"_s, {{u"path"_s, m_path}});
    if (ranged()) {
        const QByteArray last = m_length < 0 ? QByteArray() : QByteArray::number(m_offset + m_length - 1);
        spec.headers.append({QByteArray("Range"), "bytes=" + QByteArray::number(m_offset) + '-' + last});
    }
    m_call = new StreamCall(m_transport, std::move(spec), this);
    m_call->start([this](const QByteArray &bytes) { received(bytes); },
                  [this](const HttpResult &answer) { ended(answer); });
}

std::optional<JobError> ReadFileJob::rangeIgnored() const
{
    if (!ranged() || m_call->status() != 200)
        return std::nullopt;
    return unexpectedResponse(m_call->spec(), m_call->requestId(), m_call->status(),
                              u"the whole file came instead of the range asked for"_s);
}

void ReadFileJob::received(const QByteArray &bytes)
{
    // The status is known from the first piece on; ended() checks an empty answer.
    if (m_received == 0) {
        if (std::optional<JobError> error = rangeIgnored())
            return fail(std::move(*error));
    }
    // A range is the bytes asked for and no more: `sandflow serve` passes them on as a body
    // whose length it has announced.
    if (m_length >= 0 && bytes.size() > m_length - m_received)
        return fail(unexpectedResponse(m_call->spec(), m_call->requestId(), m_call->status(),
                                       u"more than the %1 bytes asked for came"_s.arg(m_length)));
    if (m_destination && m_destination->write(bytes) != bytes.size())
        return fail(JobError{JobError::Kind::Infra, u"DESTINATION_WRITE_FAILED"_s,
                             u"cannot write the download of %1: %2"_s.arg(m_path, m_destination->errorString()),
                             {{u"path"_s, m_path}, {u"written"_s, m_received}}});
    m_received += bytes.size();
    emit data(bytes);
}

void ReadFileJob::ended(const HttpResult &answer)
{
    if (answer.error)
        return finish(answer.error);
    if (std::optional<JobError> error = rangeIgnored())
        return finish(std::move(error));
    const qint64 expected = m_call->contentLength();
    if (expected >= 0 && m_received != expected)
        return finish(unexpectedResponse(m_call->spec(), answer.requestId, answer.status,
                                         u"the file ended after %1 of %2 bytes"_s.arg(m_received).arg(expected)));
    finish();
}

void ReadFileJob::fail(JobError error)
{
    m_call->abort();
    finish(std::move(error));
}

void ReadFileJob::doCancel()
{
    if (m_call)
        m_call->abort();
    finish(cancelledError());
}

} // namespace Sandflow::Internal
