#include "curlreply_p.h"

#include "curlmulti_p.h"
#include "curlnetworkaccessmanager_p.h"

#include <cerrno>
#include <cstring>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

QByteArray verbOf(QNetworkAccessManager::Operation operation, const QNetworkRequest &request)
{
    switch (operation) {
    case QNetworkAccessManager::HeadOperation:
        return "HEAD";
    case QNetworkAccessManager::GetOperation:
        return "GET";
    case QNetworkAccessManager::PutOperation:
        return "PUT";
    case QNetworkAccessManager::PostOperation:
        return "POST";
    case QNetworkAccessManager::DeleteOperation:
        return "DELETE";
    default:
        return request.attribute(QNetworkRequest::CustomVerbAttribute).toByteArray();
    }
}

/// The error Qt's HTTP stack gives a transfer that curl ended with `result`; `osError` is
/// the errno of a failed connect. Each differs from every errorForHttpStatus(), so that a
/// transfer that broke off after its status line still reads as broken off.
QNetworkReply::NetworkError errorForResult(CURLcode result, long osError)
{
    switch (result) {
    case CURLE_COULDNT_CONNECT:
        if (osError == ECONNREFUSED)
            return QNetworkReply::ConnectionRefusedError;
        return osError == ETIMEDOUT ? QNetworkReply::TimeoutError : QNetworkReply::UnknownNetworkError;
    case CURLE_COULDNT_RESOLVE_HOST:
        return QNetworkReply::HostNotFoundError;
    case CURLE_COULDNT_RESOLVE_PROXY:
        return QNetworkReply::ProxyNotFoundError;
    case CURLE_OPERATION_TIMEDOUT:
        return QNetworkReply::TimeoutError;
    case CURLE_SEND_FAIL_REWIND:
        return QNetworkReply::ContentReSendError;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return QNetworkReply::RemoteHostClosedError;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        return QNetworkReply::SslHandshakeFailedError;
    case CURLE_READ_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
        return QNetworkReply::UnknownContentError;
    default:
        return QNetworkReply::ProtocolFailure;
    }
}

/// Repeated headers as one, as Qt's HTTP stack gives them.
QList<QPair<QByteArray, QByteArray>> mergedHeaders(const QList<QPair<QByteArray, QByteArray>> &headers)
{
    QList<QPair<QByteArray, QByteArray>> merged;
    for (const QPair<QByteArray, QByteArray> &header : headers) {
        const QByteArray &name = header.first;
        const auto same = std::find_if(merged.begin(), merged.end(), [&name](const auto &entry) {
            return entry.first.compare(name, Qt::CaseInsensitive) == 0;
        });
        if (same == merged.end())
            merged.append(header);
        else
            same->second += (name.compare("set-cookie", Qt::CaseInsensitive) == 0 ? "\n" : ", ") + header.second;
    }
    return merged;
}

} // namespace

QNetworkReply::NetworkError errorForHttpStatus(int status)
{
    if (status < 400)
        return QNetworkReply::NoError;
    switch (status) {
    case 400:
    case 418:
        return QNetworkReply::ProtocolInvalidOperationError;
    case 401:
        return QNetworkReply::AuthenticationRequiredError;
    case 403:
        return QNetworkReply::ContentAccessDenied;
    case 404:
        return QNetworkReply::ContentNotFoundError;
    case 405:
        return QNetworkReply::ContentOperationNotPermittedError;
    case 407:
        return QNetworkReply::ProxyAuthenticationRequiredError;
    case 409:
        return QNetworkReply::ContentConflictError;
    case 410:
        return QNetworkReply::ContentGoneError;
    case 500:
        return QNetworkReply::InternalServerError;
    case 501:
        return QNetworkReply::OperationNotImplementedError;
    case 503:
        return QNetworkReply::ServiceUnavailableError;
    default:
        return status > 500 ? QNetworkReply::UnknownServerError : QNetworkReply::UnknownContentError;
    }
}

CurlReply::CurlReply(CurlMulti &multi, QNetworkAccessManager::Operation operation, const QNetworkRequest &request,
                     QIODevice *body, QObject *parent)
    : QNetworkReply(parent)
    , m_multi(&multi)
    , m_body(body)
{
    setRequest(request);
    setUrl(request.url());
    setOperation(operation);
    QIODevice::open(QIODevice::ReadOnly | QIODevice::Unbuffered);
    configure(operation, request);
    m_silenceLimitMs = request.transferTimeout();
    if (m_silenceLimitMs > 0) {
        m_silence.setSingleShot(true);
        connect(&m_silence, &QTimer::timeout, this, &CurlReply::silenceCheck);
        m_silence.start(m_silenceLimitMs);
    }
    m_sinceActivity.start();
    multi.add(this, m_easy);
}

CurlReply::~CurlReply()
{
    stop();
    curl_easy_cleanup(m_easy);
    curl_slist_free_all(m_requestHeaders);
}

void CurlReply::configure(QNetworkAccessManager::Operation operation, const QNetworkRequest &request)
{
    m_easy = curl_easy_init();
    curl_easy_setopt(m_easy, CURLOPT_URL, request.url().toEncoded().constData());
    curl_easy_setopt(m_easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(m_easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(m_easy, CURLOPT_ERRORBUFFER, m_errorText);
    // No proxy, as Qt's stack has by default, whatever the environment says.
    curl_easy_setopt(m_easy, CURLOPT_PROXY, "");
    curl_easy_setopt(m_easy, CURLOPT_HEADERFUNCTION, &CurlReply::onHeader);
    curl_easy_setopt(m_easy, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(m_easy, CURLOPT_WRITEFUNCTION, &CurlReply::onWrite);
    curl_easy_setopt(m_easy, CURLOPT_WRITEDATA, this);

    for (const QByteArray &name : request.rawHeaderList()) {
        // The length is the body's, given below.
        if (name.compare("content-length", Qt::CaseInsensitive) == 0)
            continue;
        const QByteArray value = request.rawHeader(name);
        // "Name;" is how curl is told to send a header with an empty value.
        const QByteArray line = value.isEmpty() ? name + ';' : name + ": " + value;
        m_requestHeaders = curl_slist_append(m_requestHeaders, line.constData());
    }
    // curl would otherwise ask large bodies to wait for "100 Continue", a round trip that
    // Qt's stack never makes.
    m_requestHeaders = curl_slist_append(m_requestHeaders, "Expect:");
    curl_easy_setopt(m_easy, CURLOPT_HTTPHEADER, m_requestHeaders);

    // curl sends a request again, unasked, only when a kept-alive connection closes under
    // it before any answer; a new connection is never sent on twice.
    if (request.attribute(SendOnceAttribute).toBool())
        curl_easy_setopt(m_easy, CURLOPT_FRESH_CONNECT, 1L);

    const QByteArray verb = verbOf(operation, request);
    if (m_body) {
        m_bodyStart = m_body->pos();
        const QVariant declared = request.header(QNetworkRequest::ContentLengthHeader);
        const qint64 length = declared.isValid() ? declared.toLongLong()
                              : m_body->isSequential() ? -1
                                                       : m_body->size() - m_bodyStart;
        curl_easy_setopt(m_easy, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(m_easy, CURLOPT_READFUNCTION, &CurlReply::onRead);
        curl_easy_setopt(m_easy, CURLOPT_READDATA, this);
        curl_easy_setopt(m_easy, CURLOPT_SEEKFUNCTION, &CurlReply::onSeek);
        curl_easy_setopt(m_easy, CURLOPT_SEEKDATA, this);
        // Unknown: sent chunked.
        if (length >= 0)
            curl_easy_setopt(m_easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(length));
        curl_easy_setopt(m_easy, CURLOPT_CUSTOMREQUEST, verb.constData());
        // A sequential body that has nothing yet is waited for (see onRead) until it has
        // more or ends.
        const auto resume = [this] {
            if (std::exchange(m_bodyPaused, false) && m_multi)
                curl_easy_pause(m_easy, CURLPAUSE_CONT);
        };
        connect(m_body, &QIODevice::readyRead, this, resume);
        connect(m_body, &QIODevice::readChannelFinished, this, resume);
    } else if (verb == "HEAD") {
        curl_easy_setopt(m_easy, CURLOPT_NOBODY, 1L);
    } else if (verb == "POST" || verb == "PUT" || verb == "PATCH") {
        // An empty body still says so with "Content-Length: 0".
        curl_easy_setopt(m_easy, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(m_easy, CURLOPT_POSTFIELDSIZE, 0L);
        curl_easy_setopt(m_easy, CURLOPT_CUSTOMREQUEST, verb.constData());
    } else if (verb != "GET") {
        curl_easy_setopt(m_easy, CURLOPT_CUSTOMREQUEST, verb.constData());
    }
}

size_t CurlReply::onHeader(char *data, size_t size, size_t count, void *self)
{
    static_cast<CurlReply *>(self)->headerLine(QByteArray(data, qsizetype(size * count)));
    return size * count;
}

void CurlReply::headerLine(QByteArray line)
{
    m_sinceActivity.restart();
    if (m_headersComplete)
        return;   // trailers
    line = line.trimmed();
    if (line.startsWith("HTTP/")) {
        // A new answer, after an interim one (1xx) or a resend.
        const QList<QByteArray> parts = line.split(' ');
        m_status = parts.value(1).toInt();
        const qsizetype reasonAt = line.indexOf(' ', line.indexOf(' ') + 1);
        m_reason = reasonAt < 0 ? QByteArray() : line.mid(reasonAt + 1);
        m_headers.clear();
    } else if (line.isEmpty()) {
        if (m_status >= 200) {
            m_headersComplete = true;
            m_multi->touch(this);
        }
    } else if (const qsizetype colon = line.indexOf(':'); colon > 0) {
        m_headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
    }
}

size_t CurlReply::onWrite(char *data, size_t size, size_t count, void *self)
{
    auto *reply = static_cast<CurlReply *>(self);
    reply->m_pieces.emplace_back(data, qsizetype(size * count));
    reply->m_buffered += qint64(size * count);
    reply->m_received = true;
    reply->m_sinceActivity.restart();
    reply->m_multi->touch(reply);
    return size * count;
}

size_t CurlReply::onRead(char *data, size_t size, size_t count, void *self)
{
    auto *reply = static_cast<CurlReply *>(self);
    reply->m_sinceActivity.restart();
    const qint64 read = reply->m_body->read(data, qint64(size * count));
    if (read < 0)
        return CURL_READFUNC_ABORT;
    if (read == 0 && reply->m_body->isSequential() && !reply->m_body->atEnd()) {
        reply->m_bodyPaused = true;
        return CURL_READFUNC_PAUSE;
    }
    return size_t(read);
}

int CurlReply::onSeek(void *self, curl_off_t offset, int origin)
{
    // curl rewinds to send the body again on a fresh connection; a body that reads once
    // cannot, and the reply ends with ContentReSendError.
    auto *reply = static_cast<CurlReply *>(self);
    QIODevice *body = reply->m_body;
    if (origin != SEEK_SET || body->isSequential())
        return CURL_SEEKFUNC_CANTSEEK;
    const qint64 position = reply->m_bodyStart + offset;
    // Some devices rewind only through reset(), as Qt's stack does it: a multipart body
    // keeps its own place in its parts, which seek() leaves where it was.
    const bool rewound = position == 0 ? body->reset() : body->seek(position);
    return rewound ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
}

qint64 CurlReply::bytesAvailable() const
{
    return m_buffered + QNetworkReply::bytesAvailable();
}

qint64 CurlReply::readData(char *data, qint64 maxSize)
{
    if (m_buffered == 0)
        return isFinished() ? -1 : 0;
    qint64 count = 0;
    while (count < maxSize && !m_pieces.empty()) {
        const QByteArray &piece = m_pieces.front();
        const qint64 taken = std::min<qint64>(maxSize - count, piece.size() - m_pieceOffset);
        std::memcpy(data + count, piece.constData() + m_pieceOffset, size_t(taken));
        count += taken;
        m_pieceOffset += taken;
        if (m_pieceOffset == piece.size()) {
            m_pieces.pop_front();
            m_pieceOffset = 0;
        }
    }
    m_buffered -= count;
    return count;
}

qint64 CurlReply::writeData(const char *, qint64)
{
    return -1;
}

void CurlReply::deliver()
{
    if (isFinished())
        return;
    const QPointer<CurlReply> alive(this);
    if (m_headersComplete && !m_headersAnnounced) {
        m_headersAnnounced = true;
        setAttribute(QNetworkRequest::HttpStatusCodeAttribute, m_status);
        setAttribute(QNetworkRequest::HttpReasonPhraseAttribute, m_reason);
        for (const auto &[name, value] : mergedHeaders(m_headers))
            setRawHeader(name, value);
        emit metaDataChanged();
    }
    if (alive && m_received && !isFinished()) {
        m_received = false;
        emit readyRead();
    }
    if (!alive || !m_done || isFinished())
        return;
    if (m_result != CURLE_OK) {
        long osError = 0;
        curl_easy_getinfo(m_easy, CURLINFO_OS_ERRNO, &osError);
        return finish(errorForResult(m_result, osError), failureText(m_result, osError));
    }
    if (m_status >= 400)
        return finish(errorForHttpStatus(m_status), u"Error transferring %1 - server replied: %2"_s.arg(
                                                    url().toString(), QString::fromLatin1(m_reason)));
    finish(NoError, {});
}

QString CurlReply::failureText(CURLcode result, long osError) const
{
    // Short words where the system's say it all, as Qt's stack puts them; curl's own
    // sentence where it knows more ("transfer closed with 10 bytes remaining to read").
    if (result == CURLE_COULDNT_CONNECT && osError != 0)
        return qt_error_string(int(osError));
    if (result == CURLE_GOT_NOTHING)
        return u"Connection closed"_s;
    return m_errorText[0] ? QString::fromLocal8Bit(m_errorText) : QString::fromLatin1(curl_easy_strerror(result));
}

void CurlReply::transferDone(CURLcode result)
{
    m_done = true;
    m_result = result;
    m_silence.stop();
}

void CurlReply::orphan()
{
    m_multi = nullptr;
}

void CurlReply::silenceCheck()
{
    const qint64 silentMs = m_sinceActivity.elapsed();
    if (silentMs < m_silenceLimitMs)
        return m_silence.start(int(m_silenceLimitMs - silentMs));
    stop();
    finish(TimeoutError, u"Nothing received for %1 ms"_s.arg(m_silenceLimitMs));
}

void CurlReply::stop()
{
    m_silence.stop();
    if (m_multi)
        m_multi->remove(this, m_easy);
    m_multi = nullptr;
}

void CurlReply::abort()
{
    if (isFinished())
        return;
    stop();
    QNetworkReply::close();
    finish(OperationCanceledError, u"Operation canceled"_s);
}

void CurlReply::close()
{
    if (!isFinished())
        return abort();
    QNetworkReply::close();
}

void CurlReply::finish(NetworkError error, const QString &message)
{
    const QPointer<CurlReply> alive(this);
    m_done = true;
    if (error != NoError)
        setError(error, message);
    setFinished(true);
    if (error != NoError)
        emit errorOccurred(error);
    if (alive)
        emit finished();
}

} // namespace Sandflow::Internal
