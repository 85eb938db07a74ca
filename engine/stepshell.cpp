#include "stepshell_p.h"

#include "shellquote.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

// GitHub Actions' named shells: the script stops at the first command that fails, and under
// bash also at a pipeline whose any command fails. They take the script as their `-c`
// argument rather than as a file: the same commands run, with no file to write first.
const QString Bash = u"bash --noprofile --norc -eo pipefail -c "_s;
const QString Sh = u"sh -e -c "_s;

} // namespace

QString stepShellCommand(const QString &shell, const QString &script)
{
    // `exec`: the step's shell replaces the runner's, so its exit status is the step's and
    // no idle shell stays behind for every step.
    if (shell == u"bash"_s)
        return u"exec "_s + Bash + shellQuoted(script);
    if (shell == u"sh"_s)
        return u"exec "_s + Sh + shellQuoted(script);
    if (shell.isEmpty()) {
        // No `shell`: bash where the sandbox has one, else sh, as GitHub Actions chooses.
        // The script is written once, as the positional parameter: a variable could clash
        // with one the step exports.
        return u"set -- "_s + shellQuoted(script) + u"\ncommand -v bash >/dev/null 2>&1 && exec "_s + Bash
            + u"\"$1\"\nexec "_s + Sh + u"\"$1\""_s;
    }
    if (shell.contains(u"{0}"_s))
        return u"f=$(mktemp) && printf '%s' "_s + shellQuoted(script) + u" > \"$f\" && "_s
            + QString(shell).replace(u"{0}"_s, u"\"$f\""_s);
    return {};
}

} // namespace Sandflow::Internal
