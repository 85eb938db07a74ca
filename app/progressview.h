// The run on a terminal: a live view of every job, redrawn in place about ten times a
// second. Fanned-out jobs take one line with counts; a failed step stays pinned below the
// jobs with its last lines. Step output is not shown (it is in the step logs); warnings are
// printed above the view.
#pragma once

#include "runevent.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QObject>
#include <QSize>
#include <QStringList>
#include <QTimer>

#include <functional>

class QIODevice;

namespace Sandflow::Cli {

class ProgressView final : public QObject, public RunEventSink
{
    Q_OBJECT

public:
    static constexpr int PinnedLines = 5;
    /// Running instances of a fanned-out job shown under its counts.
    static constexpr int ShownRunningInstances = 4;

    /// Draws on `terminal`, which should be opened unbuffered so that a frame is one write;
    /// the size is read from `terminalFd` (-1: 80x24).
    explicit ProgressView(QIODevice *terminal, int terminalFd = -1, QObject *parent = nullptr);
    /// Shows the cursor again if close() was not called.
    ~ProgressView() override;

    void handle(const RunEvent &event) override;
    /// Stops redrawing, draws the last frame and shows the cursor.
    void close() override;

    /// One frame: at most `height` lines of at most `width` columns, the last one
    /// `+N more` when lines were cut; lines joined by `\n`, without a final one. What
    /// steps print is shown without its escape sequences and control characters.
    QString render(int width, int height, const QDateTime &now) const;
    /// Draws the current frame over the previous one, unless it did not change; nothing on
    /// a terminal less than two rows high.
    void redraw();
    /// Where the time comes from (the system clock by default).
    void setClock(std::function<QDateTime()> clock) { m_clock = std::move(clock); }

    /// The size of the terminal on `fd`, 80x24 when it cannot be read.
    static QSize terminalSize(int fd);

private:
    struct Instance
    {
        QString name;
        QString outcome;          ///< empty while running
        QDateTime startedAt;
        qint64 durationMs = 0;
        QString step;             ///< the running step
        QString stepName;
        QDateTime stepStartedAt;
        int attempt = 0;
        QString lastLine;         ///< the running step's latest output line
    };
    struct Group
    {
        QString jobId;
        qsizetype total = 0;      ///< instances the run will start, when known
        QList<Instance> instances;
    };
    struct Failure
    {
        QString job;
        QString step;
        QString stepName;
        QString outcome;
        qint64 durationMs = 0;
        QString error;
        QStringList lastLines;
    };

    Group &groupOf(const QString &jobId);
    Instance &instanceOf(const RunEvent &event);
    QString groupLine(const Group &group) const;
    QString instanceLine(const Instance &instance, const QDateTime &now) const;
    void write(const QString &above);

    QIODevice *m_terminal;
    int m_fd;
    std::function<QDateTime()> m_clock;
    QTimer m_timer;
    QString m_workflow;
    QString m_runId;
    QDateTime m_startedAt;
    QString m_outcome;
    qint64 m_durationMs = 0;
    QList<Group> m_groups;
    QHash<QString, QStringList> m_lastLines;   ///< by job and step, while the step runs
    QList<Failure> m_failures;
    QStringList m_frame;   ///< the lines drawn last, none before the first frame
    bool m_cursorHidden = false;
    bool m_closed = false;
};

} // namespace Sandflow::Cli
