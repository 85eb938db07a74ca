// execd's PTY sessions (POST /pty, GET and DELETE /pty/{id}, WebSocket /pty/{id}/ws) over a
// runner's terminals, as upstream's execd keeps them: a session is made empty; its process
// starts with the first WebSocket and keeps running when the client leaves; its output is
// retained (the last MiB) for the next client; a process that ended starts again with the
// next WebSocket; only DELETE (or the sandbox's deletion) removes a session.
#pragma once

#include "execdrequests_p.h"
#include "ptywire_p.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QSize>
#include <QTimer>

#include <memory>

class QWebSocket;

namespace Sandflow {
class Runner;
class TerminalJob;
}

namespace Sandflow::Internal {

class PtySession final : public QObject
{
    Q_OBJECT

public:
    /// Output kept, at the least, for clients that attach later.
    static constexpr qsizetype RetainedBytes = 1024 * 1024;

    PtySession(Runner *runner, QString sandboxId, QString id, PtyRequest request, QObject *parent);
    ~PtySession() override;

    const QString &id() const { return m_id; }
    const QString &sandboxId() const { return m_sandboxId; }
    bool isRunning() const { return m_job != nullptr; }
    /// Bytes of output the session's processes have written, all told.
    qint64 outputOffset() const { return m_total; }
    bool isAttached() const { return m_socket != nullptr; }

    /// How a client attaches: from its WebSocket's query.
    struct Attachment
    {
        bool pty = true;            ///< `pty=0`: pipes
        qint64 since = 0;           ///< the output from this byte on
        QSize window{80, 24};       ///< Sandflow's `cols` and `rows`: the terminal's size at start
    };

    /// Takes `socket`: a client attached before is closed (4001 TAKEN_OVER); the process
    /// starts if it is not running (with a PTY of `window`'s size unless `pty` is false); the
    /// client gets the retained output from byte `since`, `connected`, then the output as it
    /// comes.
    void attach(QWebSocket *socket, const Attachment &attachment);
    /// Kills the process; an attached client gets its exit and the close.
    void end();

signals:
    /// The sandbox is gone: its sessions can go too.
    void sandboxGone(const QString &sandboxId);

private:
    void start(bool pty, QSize window);
    void keep(PtyChannel channel, const QByteArray &data);
    void sendLive(PtyChannel channel, const QByteArray &data);
    void processEnded();
    void received(const PtyClientFrame &frame);
    void detach(int closeCode, const QString &reason);
    /// Drops a client that does not keep up, or whose process does not read what it sends.
    void cut();

    Runner *m_runner;
    QString m_sandboxId;
    QString m_id;
    PtyRequest m_request;
    QPointer<TerminalJob> m_job;
    bool m_pty = true;
    QByteArray m_retained;      ///< at least the last RetainedBytes of output, at most twice that
    qint64 m_total = 0;
    std::unique_ptr<QWebSocket> m_socket;
    QTimer m_keepAlive;
    QElapsedTimer m_sinceHeard;
};

/// The PTY sessions of every sandbox a server serves.
class PtySessions final : public QObject
{
    Q_OBJECT

public:
    /// Sessions one sandbox may hold: each keeps up to a MiB of output.
    static constexpr qsizetype MaxPerSandbox = 32;

    explicit PtySessions(Runner *runner, QObject *parent = nullptr);

    /// A new session of `sandboxId`, whose existence the caller checked; nullptr when the
    /// sandbox holds MaxPerSandbox already.
    PtySession *create(const QString &sandboxId, PtyRequest request);
    PtySession *find(const QString &sandboxId, const QString &id) const;
    /// Ends and removes a session; false when there is none.
    bool remove(const QString &sandboxId, const QString &id);
    /// Ends and removes every session of a sandbox.
    void removeAll(const QString &sandboxId);

private:
    /// Removes the sessions of sandboxes that are gone.
    void sweep();

    Runner *m_runner;
    QTimer m_sweep;
    /// By sandbox, then by session id.
    QHash<QString, QHash<QString, PtySession *>> m_sessions;
};

} // namespace Sandflow::Internal
