#include "curlmulti_p.h"

#include "curlreply_p.h"

namespace Sandflow::Internal {

namespace {

/// curl_global_init once per process, before the first handle, as libcurl asks.
void initialiseCurl()
{
    static const CURLcode initialised = curl_global_init(CURL_GLOBAL_DEFAULT);
    Q_UNUSED(initialised);
}

/// A notifier may be dropped from inside its own activated() signal (curl stops watching a
/// socket while acting on it), so it goes quiet now and away later.
void retire(std::unique_ptr<QSocketNotifier> &notifier)
{
    if (!notifier)
        return;
    notifier->setEnabled(false);
    notifier.release()->deleteLater();
}

} // namespace

CurlMulti::CurlMulti()
{
    initialiseCurl();
    m_multi = curl_multi_init();
    curl_multi_setopt(m_multi, CURLMOPT_SOCKETFUNCTION, &CurlMulti::onSocket);
    curl_multi_setopt(m_multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(m_multi, CURLMOPT_TIMERFUNCTION, &CurlMulti::onTimer);
    curl_multi_setopt(m_multi, CURLMOPT_TIMERDATA, this);
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] { act(CURL_SOCKET_TIMEOUT, 0); });
}

CurlMulti::~CurlMulti()
{
    // Replies still running lose their transfer; they must not touch the multi after this.
    for (auto it = m_replies.begin(); it != m_replies.end(); ++it) {
        curl_multi_remove_handle(m_multi, it.key());
        if (CurlReply *reply = it.value())
            reply->orphan();
    }
    m_replies.clear();
    // Qt's notifiers guard against being deleted while they signal, should a slot end the
    // owner of this multi.
    m_sockets.clear();
    curl_multi_cleanup(m_multi);
}

void CurlMulti::add(CurlReply *reply, CURL *easy)
{
    if (curl_multi_add_handle(m_multi, easy) == CURLM_OK) {
        m_replies.insert(easy, reply);
        return;
    }
    // No transfer (out of memory, no handle): the reply still ends, from the event loop.
    reply->transferDone(CURLE_FAILED_INIT);
    touch(reply);
    QMetaObject::invokeMethod(this, &CurlMulti::deliverTouched, Qt::QueuedConnection);
}

void CurlMulti::remove(CurlReply *reply, CURL *easy)
{
    if (m_replies.remove(easy) > 0)
        curl_multi_remove_handle(m_multi, easy);
    m_touched.removeAll(reply);
}

void CurlMulti::touch(CurlReply *reply)
{
    if (!m_touched.contains(reply))
        m_touched.append(reply);
}

int CurlMulti::onSocket(CURL *, curl_socket_t socket, int what, void *self, void *)
{
    static_cast<CurlMulti *>(self)->watch(socket, what);
    return 0;
}

int CurlMulti::onTimer(CURLM *, long timeoutMs, void *self)
{
    // Only arms the timer: curl may not be called back from inside its own callbacks.
    QTimer &timer = static_cast<CurlMulti *>(self)->m_timer;
    if (timeoutMs < 0)
        timer.stop();
    else
        timer.start(int(timeoutMs));
    return 0;
}

void CurlMulti::watch(curl_socket_t socket, int what)
{
    if (what == CURL_POLL_REMOVE) {
        if (const auto found = m_sockets.find(socket); found != m_sockets.end()) {
            retire(found->second.read);
            retire(found->second.write);
            m_sockets.erase(found);
        }
        return;
    }
    SocketWatch &watch = m_sockets[socket];
    const auto notifier = [this, socket](QSocketNotifier::Type type, int events) {
        auto made = std::make_unique<QSocketNotifier>(qintptr(socket), type);
        connect(made.get(), &QSocketNotifier::activated, this, [this, socket, events] { act(socket, events); });
        return made;
    };
    const bool reading = what == CURL_POLL_IN || what == CURL_POLL_INOUT;
    const bool writing = what == CURL_POLL_OUT || what == CURL_POLL_INOUT;
    if (reading && !watch.read)
        watch.read = notifier(QSocketNotifier::Read, CURL_CSELECT_IN);
    if (writing && !watch.write)
        watch.write = notifier(QSocketNotifier::Write, CURL_CSELECT_OUT);
    if (watch.read)
        watch.read->setEnabled(reading);
    if (watch.write)
        watch.write->setEnabled(writing);
}

void CurlMulti::act(curl_socket_t socket, int events)
{
    int running = 0;
    curl_multi_socket_action(m_multi, socket, events, &running);
    collectFinished();
    deliverTouched();
}

void CurlMulti::collectFinished()
{
    int queued = 0;
    while (CURLMsg *message = curl_multi_info_read(m_multi, &queued)) {
        if (message->msg != CURLMSG_DONE)
            continue;
        CURL *easy = message->easy_handle;
        const CURLcode result = message->data.result;
        const QPointer<CurlReply> reply = m_replies.take(easy);
        curl_multi_remove_handle(m_multi, easy);
        if (reply) {
            reply->transferDone(result);
            touch(reply);
        }
    }
}

void CurlMulti::deliverTouched()
{
    // Signals go out only here, with curl idle: a slot may start, abort or delete any
    // reply, or even the manager that owns this multi.
    const QPointer<CurlMulti> alive(this);
    while (alive && !m_touched.isEmpty()) {
        const QPointer<CurlReply> reply = m_touched.takeFirst();
        if (reply)
            reply->deliver();
    }
}

} // namespace Sandflow::Internal
