// libcurl's multi interface driven by the Qt event loop of the thread that owns it: curl
// says which sockets to watch and when to wake it, socket notifiers and one timer do it.
// Every transfer runs in this thread, so a request costs no cross-thread events, which is
// where Qt's own HTTP stack spends most of its CPU on small requests.
#pragma once

#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QSocketNotifier>
#include <QTimer>

#include <curl/curl.h>

#include <memory>
#include <unordered_map>

namespace Sandflow::Internal {

class CurlReply;

class CurlMulti final : public QObject
{
public:
    CurlMulti();
    ~CurlMulti() override;

    /// Starts the transfer of `reply`'s easy handle; it reports through the reply until
    /// remove().
    void add(CurlReply *reply, CURL *easy);
    /// Stops the transfer; safe at any time outside curl's callbacks.
    void remove(CurlReply *reply, CURL *easy);
    /// Has `reply` hand out what it received once curl returns control (see CurlReply::deliver).
    void touch(CurlReply *reply);

private:
    struct SocketWatch
    {
        std::unique_ptr<QSocketNotifier> read;
        std::unique_ptr<QSocketNotifier> write;
    };

    static int onSocket(CURL *easy, curl_socket_t socket, int what, void *self, void *socketData);
    static int onTimer(CURLM *multi, long timeoutMs, void *self);
    void watch(curl_socket_t socket, int what);
    /// Lets curl act on `socket` (or on its timers), then reports what it did.
    void act(curl_socket_t socket, int events);
    void collectFinished();
    void deliverTouched();

    CURLM *m_multi = nullptr;
    QTimer m_timer;
    std::unordered_map<curl_socket_t, SocketWatch> m_sockets;
    QHash<CURL *, QPointer<CurlReply>> m_replies;
    QList<QPointer<CurlReply>> m_touched;
};

} // namespace Sandflow::Internal
