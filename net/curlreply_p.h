// One HTTP exchange run by libcurl, presented as the QNetworkReply that Qt's own stack would
// give: status and headers as attributes, the body as a sequential device, the same error
// codes, readyRead() then finished(). Made by CurlNetworkAccessManager.
#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPointer>
#include <QTimer>

#include <curl/curl.h>

#include <deque>

namespace Sandflow::Internal {

class CurlMulti;

/// The error Qt's HTTP stack gives an answer of HTTP `status`: NoError below 400, then
/// ContentNotFoundError for 404 and the like. A reply with another error broke off.
QNetworkReply::NetworkError errorForHttpStatus(int status);

class CurlReply final : public QNetworkReply
{
public:
    /// Starts sending `request` with `body` (may be null; not owned, it must outlive the
    /// reply, as with QNetworkAccessManager). Nothing is signalled before the event loop runs.
    CurlReply(CurlMulti &multi, QNetworkAccessManager::Operation operation, const QNetworkRequest &request,
              QIODevice *body, QObject *parent);
    ~CurlReply() override;

    void abort() override;
    void close() override;
    qint64 bytesAvailable() const override;
    bool isSequential() const override { return true; }

    /// Called by CurlMulti when curl has ended the transfer.
    void transferDone(CURLcode result);
    /// Called by CurlMulti with curl idle: emits what changed since the last call.
    void deliver();
    /// The multi is going away: the transfer is over, unannounced.
    void orphan();

protected:
    qint64 readData(char *data, qint64 maxSize) override;
    qint64 writeData(const char *data, qint64 size) override;

private:
    static size_t onHeader(char *data, size_t size, size_t count, void *self);
    static size_t onWrite(char *data, size_t size, size_t count, void *self);
    static size_t onRead(char *data, size_t size, size_t count, void *self);
    static int onSeek(void *self, curl_off_t offset, int origin);

    void configure(QNetworkAccessManager::Operation operation, const QNetworkRequest &request);
    void headerLine(QByteArray line);
    QString failureText(CURLcode result, long osError) const;
    void silenceCheck();
    void stop();
    /// Ends the reply with `error` (NoError for a whole answer) and says so.
    void finish(NetworkError error, const QString &message);

    QPointer<CurlMulti> m_multi;
    CURL *m_easy = nullptr;
    curl_slist *m_requestHeaders = nullptr;
    QIODevice *m_body = nullptr;
    qint64 m_bodyStart = 0;
    bool m_bodyPaused = false;

    int m_status = 0;
    QByteArray m_reason;
    QList<QPair<QByteArray, QByteArray>> m_headers;
    bool m_headersComplete = false;
    bool m_headersAnnounced = false;

    /// What curl handed over and nobody has read yet, as it came: a piece per write (16 KiB
    /// at most), kept apart rather than appended to one growing array, whose every
    /// reallocation would copy it all into newly mapped memory.
    std::deque<QByteArray> m_pieces;
    qsizetype m_pieceOffset = 0;   ///< read from the front piece
    qint64 m_buffered = 0;
    bool m_received = false;

    bool m_done = false;
    CURLcode m_result = CURLE_OK;
    char m_errorText[CURL_ERROR_SIZE] = {};

    /// QNetworkRequest::transferTimeout(): the longest silence allowed.
    int m_silenceLimitMs = 0;
    QElapsedTimer m_sinceActivity;
    QTimer m_silence;
};

} // namespace Sandflow::Internal
