// What a benchmark reads of processes from /proc: a process tree's PSS, process by process,
// and waiting until a tree runs a given program.
#pragma once

#include <QElapsedTimer>
#include <QFile>
#include <QList>
#include <QString>
#include <QThread>

#include <algorithm>

namespace Bench {

using namespace Qt::StringLiterals;

inline qint64 pssKb(qint64 pid)
{
    QFile rollup(u"/proc/%1/smaps_rollup"_s.arg(pid));
    if (!rollup.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : rollup.readAll().split('\n')) {
        if (line.startsWith("Pss:"))
            return line.mid(4).trimmed().split(' ').first().toLongLong();
    }
    return 0;
}

/// `root` and its descendants: a sandbox's are bwrap and the agent, the sandbox's pid 1.
inline QList<qint64> processTree(qint64 root)
{
    QList<qint64> pids = {root};
    for (int i = 0; i < pids.size(); ++i) {
        QFile children(u"/proc/%1/task/%1/children"_s.arg(pids.at(i)));
        if (children.open(QIODevice::ReadOnly)) {
            for (const QByteArray &child : children.readAll().split(' ')) {
                if (!child.trimmed().isEmpty())
                    pids.append(child.trimmed().toLongLong());
            }
        }
    }
    return pids;
}

inline QByteArray processName(qint64 pid)
{
    QFile comm(u"/proc/%1/comm"_s.arg(pid));
    return comm.open(QIODevice::ReadOnly) ? comm.readAll().trimmed() : QByteArray();
}

/// PSS summed over a process tree, and each process's part, e.g. "bwrap 316 kB, agent 1132 kB".
struct TreePss
{
    qint64 totalKb = 0;
    QString parts;
};

inline TreePss treePss(qint64 root)
{
    TreePss tree;
    for (qint64 pid : processTree(root)) {
        const qint64 pss = pssKb(pid);
        tree.totalKb += pss;
        tree.parts += u"%1%2 %3 kB"_s.arg(tree.parts.isEmpty() ? u""_s : u", "_s, QString::fromUtf8(processName(pid)))
                          .arg(pss);
    }
    return tree;
}

/// Waits until `root`'s tree runs a process named `name`: a bare bwrap is idle only once
/// its command has replaced the setup. Polling is fine in a benchmark's driver.
inline bool waitForProcess(qint64 root, const QByteArray &name)
{
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < 10'000) {
        const QList<qint64> pids = processTree(root);
        if (std::any_of(pids.begin(), pids.end(), [&name](qint64 pid) { return processName(pid) == name; }))
            return true;
        QThread::msleep(10);
    }
    return false;
}

} // namespace Bench
