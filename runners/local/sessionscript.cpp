#include "sessionscript_p.h"

#include "shellquote.h"

#include <QRegularExpression>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// Variables that belong to one shell, not to the session (execd skips the prompts too).
bool isShellOwn(const QString &name)
{
    static const QStringList own = {u"PWD"_s, u"OLDPWD"_s, u"SHLVL"_s, u"_"_s, u"PS1"_s, u"PS2"_s,
                                    u"PS3"_s, u"PS4"_s, u"PROMPT_COMMAND"_s};
    return own.contains(name);
}

/// As execd: longer values are not carried over.
constexpr qsizetype MaxValueBytes = 8 * 1024;

} // namespace

QStringList sessionArgv(const SessionState &state, const QString &command, const QString &cwd)
{
    // fd 3 keeps the original stderr for the dump; everything the user's code writes goes
    // to stdout, as execd merges it. The EXIT trap also runs after `exit N` in the command.
    QString script = u"exec 3>&2 2>&1\n"
                     "trap '__sandflow_status=$?; set +eu; { printf \"%s\\0\" \"$PWD\"; "
                     "for __sandflow_name in $(compgen -e); do "
                     "printf \"%s=%s\\0\" \"$__sandflow_name\" \"${!__sandflow_name}\"; done; } >&3; "
                     "exit $__sandflow_status' EXIT\n"_s;
    for (auto it = state.exported.cbegin(); it != state.exported.cend(); ++it)
        script += u"export "_s + it.key() + u'=' + shellQuoted(it.value()) + u'\n';
    const QString directory = cwd.isEmpty() ? state.cwd : cwd;
    if (!directory.isEmpty()) {
        if (state.createCwd && cwd.isEmpty())
            script += u"mkdir -p -- "_s + shellQuoted(directory) + u'\n';
        script += u"cd -- "_s + shellQuoted(directory) + u" || exit 1\n"_s;
    }
    script += command + u'\n';
    return {u"bash"_s, u"--noprofile"_s, u"--norc"_s, u"-c"_s, script};
}

bool applySessionDump(const QByteArray &dump, SessionState *state)
{
    if (!dump.endsWith('\0'))
        return false;
    const QList<QByteArray> fields = dump.chopped(1).split('\0');
    static const QRegularExpression validName(u"^[A-Za-z_][A-Za-z0-9_]*$"_s);
    QMap<QString, QString> exported;
    for (qsizetype i = 1; i < fields.size(); ++i) {
        const qsizetype equals = fields[i].indexOf('=');
        const QString name = QString::fromUtf8(fields[i].left(equals));
        if (equals <= 0 || !validName.match(name).hasMatch() || isShellOwn(name)
            || fields[i].size() - equals - 1 > MaxValueBytes)
            continue;
        exported.insert(name, QString::fromUtf8(fields[i].mid(equals + 1)));
    }
    state->cwd = QString::fromUtf8(fields.first());
    state->createCwd = false;
    state->exported = exported;
    return true;
}

} // namespace Sandflow::Internal
