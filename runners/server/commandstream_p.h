// A running command as execd streams it: init, ping, one event per output line, then
// execution_complete or error, with a ping every 3 s in between so that clients and
// proxies see a live stream.
#pragma once

#include "execdlines_p.h"
#include "runner.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QTimer>

namespace Sandflow::Internal {

class HttpExchange;

class CommandStream final : public QObject
{
public:
    enum class Kind {
        Command,      ///< POST /command: init carries the command id
        Session,      ///< POST /session/{id}/run: init carries the session id
    };

    /// Starts `job` and streams it to `exchange` (its parent). A client that leaves does
    /// not stop the command, as with execd: only an interrupt does.
    CommandStream(HttpExchange *exchange, CommandJob *job, Kind kind, QString sessionId = {});

private:
    void begin(const QString &commandId);
    void output(CommandJob::Stream stream, const QByteArray &data);
    void end();

    HttpExchange *m_exchange;
    QPointer<CommandJob> m_job;
    Kind m_kind;
    QString m_sessionId;
    ExecdLineSplitter m_lines[2];
    QTimer m_ping;
    QElapsedTimer m_clock;
    bool m_begun = false;
};

} // namespace Sandflow::Internal
