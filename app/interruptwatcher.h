// Ctrl-C (SIGINT) and SIGTERM as Qt signals: the handler only writes to a pipe, and the
// event loop reads it, so a run is cancelled from ordinary code.
#pragma once

#include <QObject>
#include <QSocketNotifier>

#include <memory>

namespace Sandflow::Cli {

class InterruptWatcher final : public QObject
{
    Q_OBJECT

public:
    /// Installs the handlers; the previous ones come back when the watcher is destroyed.
    /// One watcher at a time.
    explicit InterruptWatcher(QObject *parent = nullptr);
    ~InterruptWatcher() override;

signals:
    /// `count` is 1 for the first interrupt, 2 for the second, and so on.
    void interrupted(int count);

private:
    std::unique_ptr<QSocketNotifier> m_notifier;
    int m_count = 0;
};

} // namespace Sandflow::Cli
