// Bash sessions as execd runs them: no long-lived shell, but a script per run that restores
// the session's exported variables and directory, runs the command, and reports what the
// command left behind. Only exported variables and the working directory persist.
#pragma once

#include <QByteArray>
#include <QMap>
#include <QString>
#include <QStringList>

namespace Sandflow::Internal {

struct SessionState
{
    QString cwd;                        ///< empty: the sandbox's working directory
    bool createCwd = false;             ///< make `cwd` first (the session was just created)
    QMap<QString, QString> exported;
};

/// The argv that runs `command` in the session (`cwd` overrides its directory for this run
/// and, as in execd, becomes its directory). stdout carries the command's stdout and
/// stderr; stderr carries only the state dump that `applyDump` reads.
QStringList sessionArgv(const SessionState &state, const QString &command, const QString &cwd);

/// Updates `state` from a run's dump; false (and `state` untouched) when the dump is
/// incomplete, e.g. the shell was killed.
bool applySessionDump(const QByteArray &dump, SessionState *state);

} // namespace Sandflow::Internal
