// Sandbox ids as people type them: the whole id, or enough of its start to be unique, as
// with git's commit ids. Ids are long; a prefix is what one copies from `sandbox ls`.
#include "sandboxclient.h"

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

std::optional<QString> resolveSandboxId(OpenSandboxClient &client, const QString &given, const QString &where,
                                        const Terminal &terminal, int *exitCode)
{
    std::unique_ptr<SandboxJob> get(client.getSandbox(given));
    get->setAutoDelete(false);
    Waited waited = waitFor(get);
    if (!get || waited.interrupted) {
        *exitCode = ExitInterrupted;
        return std::nullopt;
    }
    if (!waited.error)
        return given;
    const JobError notFound = *waited.error;
    if (OpenSandboxErrorDetails::of(notFound).status != 404 || given.isEmpty()) {
        terminal.err(errorLine(where, notFound, client.config(), u"sandbox "_s + given));
        *exitCode = ExitFailure;
        return std::nullopt;
    }

    std::unique_ptr<ResultJob<QList<SandboxInfo>>> list(client.listAllSandboxes(SandboxFilter{}));
    list->setAutoDelete(false);
    waited = waitFor(list);
    if (!list || waited.interrupted) {
        *exitCode = ExitInterrupted;
        return std::nullopt;
    }
    QStringList matches;
    if (!waited.error) {
        for (const SandboxInfo &sandbox : list->result()) {
            if (sandbox.id.startsWith(given))
                matches.append(sandbox.id);
        }
    }
    if (matches.size() == 1)
        return matches.first();
    *exitCode = ExitFailure;
    if (matches.isEmpty()) {
        terminal.err(errorLine(where, notFound, client.config(), u"sandbox "_s + given));
        return std::nullopt;
    }
    matches.sort();
    terminal.err(u"%1: `%2` is the start of %3 sandboxes' ids (%4); give more of it\n"_s
                     .arg(where, given).arg(matches.size()).arg(matches.join(u", "_s)));
    return std::nullopt;
}

} // namespace Sandflow::Cli
