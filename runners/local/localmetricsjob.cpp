// LocalRunner: live figures of a sandbox from its cgroups.
#include "localrunner.h"

#include "localerrors_p.h"
#include "localsandbox_p.h"

#include <QElapsedTimer>
#include <QFile>
#include <QPointer>
#include <QThread>
#include <QTimer>

namespace Sandflow {

using namespace Qt::StringLiterals;

namespace {

/// CPU use is a rate, so it takes two readings this far apart.
constexpr int SampleIntervalMs = 250;

double bytesToMiB(qint64 bytes)
{
    return double(bytes) / (1024.0 * 1024.0);
}

qint64 machineMemoryBytes()
{
    QFile meminfo(u"/proc/meminfo"_s);
    if (!meminfo.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : meminfo.readAll().split('\n')) {
        if (line.startsWith("MemTotal:"))
            return line.mid(9).trimmed().split(' ').first().toLongLong() * 1024;
    }
    return 0;
}

class MetricsJob final : public ResultJob<SandboxMetrics>
{
public:
    MetricsJob(LocalRunner *runner, QString id) : m_runner(runner), m_id(std::move(id)) {}

protected:
    void doStart() override
    {
        m_sandbox = m_runner->find(m_id);
        if (!m_sandbox) {
            finish(Internal::sandboxNotFound(m_id));
            return;
        }
        const Internal::SandboxCgroup *cgroup = m_sandbox->cgroup();
        const std::optional<qint64> usage = cgroup ? cgroup->cpuUsageNs() : std::nullopt;
        if (!usage) {
            finish(JobError{JobError::Kind::Invalid, u"NOT_SUPPORTED"_s,
                            u"metrics need the sandbox's cgroups, which are not available here"_s, {{u"id"_s, m_id}}});
            return;
        }
        m_firstUsageNs = *usage;
        m_clock.start();
        QTimer::singleShot(SampleIntervalMs, this, &MetricsJob::sampleAgain);
    }

private:
    void sampleAgain()
    {
        const Internal::SandboxCgroup *cgroup = m_sandbox ? m_sandbox->cgroup() : nullptr;
        const std::optional<qint64> usage = cgroup ? cgroup->cpuUsageNs() : std::nullopt;
        if (!usage) {
            finish(Internal::sandboxLost(m_id, u"it ended while being measured"_s));
            return;
        }
        const Internal::SandboxCgroup::Limits &limits = cgroup->limits();
        m_result.cpuCount = limits.cpus.value_or(double(QThread::idealThreadCount()));
        const double elapsedNs = double(std::max<qint64>(m_clock.nsecsElapsed(), 1));
        m_result.cpuUsedPercent = 100.0 * double(*usage - m_firstUsageNs) / elapsedNs / m_result.cpuCount;
        m_result.memoryTotalMiB = bytesToMiB(limits.memoryBytes.value_or(machineMemoryBytes()));
        m_result.memoryUsedMiB = bytesToMiB(cgroup->memoryUsageBytes().value_or(0));
        m_result.timestamp = QDateTime::currentDateTimeUtc();
        finish();
    }

    LocalRunner *m_runner;
    QString m_id;
    QPointer<Internal::LocalSandbox> m_sandbox;
    qint64 m_firstUsageNs = 0;
    QElapsedTimer m_clock;
};

} // namespace

ResultJob<SandboxMetrics> *LocalRunner::metrics(const QString &sandboxId)
{
    return new MetricsJob(this, sandboxId);
}

} // namespace Sandflow
