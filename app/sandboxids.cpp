// Sandbox ids as people type them: the whole id, or enough of its start to be unique, as
// with git's commit ids. Ids are long; a prefix is what one copies from `sandbox ls`.
//
// Without a server named (--server, $OPEN_SANDBOX_DOMAIN), a sandbox is looked for on this
// machine's local servers first (runs and `sandflow serve`, controlendpoints.h), then on
// the default server.
#include "sandboxclient.h"

#include "controlendpoints.h"
#include "localrunner.h"

#include <algorithm>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

namespace {

/// What one server says about `given`.
struct Lookup
{
    std::optional<QString> exact;    ///< it has a sandbox with that whole id
    QStringList prefixed;            ///< else the ids that start with it
    std::optional<JobError> error;   ///< the server failed (a 404 for the whole id is no failure)
    std::optional<JobError> notFound;   ///< its 404 for the whole id
    bool interrupted = false;
};

Lookup lookUp(OpenSandboxClient &client, const QString &given)
{
    Lookup lookup;
    std::unique_ptr<SandboxJob> get(client.getSandbox(given));
    get->setAutoDelete(false);
    Waited waited = waitFor(get);
    if (!get || waited.interrupted) {
        lookup.interrupted = true;
        return lookup;
    }
    if (!waited.error) {
        lookup.exact = given;
        return lookup;
    }
    if (OpenSandboxErrorDetails::of(*waited.error).status != 404 || given.isEmpty()) {
        lookup.error = waited.error;
        return lookup;
    }
    lookup.notFound = waited.error;
    std::unique_ptr<ResultJob<QList<SandboxInfo>>> list(client.listAllSandboxes(SandboxFilter{}));
    list->setAutoDelete(false);
    waited = waitFor(list);
    if (!list || waited.interrupted) {
        lookup.interrupted = true;
        return lookup;
    }
    if (!waited.error) {
        for (const SandboxInfo &sandbox : list->result()) {
            if (sandbox.id.startsWith(given))
                lookup.prefixed.append(sandbox.id);
        }
    }
    return lookup;
}

void reportAmbiguous(const QString &given, QStringList matches, const QString &where, const Terminal &terminal,
                     int *exitCode)
{
    matches.sort();
    terminal.err(u"%1: `%2` is the start of %3 sandboxes' ids (%4); give more of it\n"_s
                     .arg(where, given).arg(matches.size()).arg(matches.join(u", "_s)));
    *exitCode = ExitFailure;
}

/// The sandbox `given` names on `client`'s server: itself when the server knows that id,
/// else the one sandbox whose id starts with it. Nothing, after saying why, when none or
/// several match or the server failed; `*exitCode` is then the status to exit with.
std::optional<QString> resolveSandboxId(OpenSandboxClient &client, const QString &given, const QString &where,
                                        const Terminal &terminal, int *exitCode)
{
    const Lookup lookup = lookUp(client, given);
    if (lookup.interrupted) {
        *exitCode = ExitInterrupted;
        return std::nullopt;
    }
    if (lookup.exact)
        return lookup.exact;
    if (lookup.prefixed.size() == 1)
        return lookup.prefixed.first();
    if (lookup.prefixed.size() > 1) {
        reportAmbiguous(given, lookup.prefixed, where, terminal, exitCode);
        return std::nullopt;
    }
    terminal.err(errorLine(where, lookup.error ? *lookup.error : *lookup.notFound, client.config(), u"sandbox "_s + given));
    *exitCode = ExitFailure;
    return std::nullopt;
}

} // namespace

bool serverNamed(const QCommandLineParser &parser)
{
    return parser.isSet(u"server"_s) || !qEnvironmentVariable("OPEN_SANDBOX_DOMAIN").trimmed().isEmpty();
}

QList<LocalServer> candidateServers(const QCommandLineParser &parser)
{
    const OpenSandboxConfig named = clientConfig(parser);
    if (serverNamed(parser))
        return {{named, {}}};
    QList<LocalServer> servers;
    for (const ControlEndpoint &endpoint : liveControlEndpoints(LocalRunner::defaultStateDirectory())) {
        OpenSandboxConfig config = named;
        config.domain = endpoint.url;
        config.apiKey = endpoint.apiKey;
        servers.append({config, endpoint.owner});
    }
    servers.append({named, {}});
    return servers;
}

std::optional<FoundSandbox> findSandbox(const QCommandLineParser &parser, const QString &given, const QString &where,
                                        const Terminal &terminal, int *exitCode)
{
    const QList<LocalServer> servers = candidateServers(parser);
    if (servers.size() == 1) {
        OpenSandboxClient client(servers.first().config);
        const std::optional<QString> id = resolveSandboxId(client, given, where, terminal, exitCode);
        if (!id)
            return std::nullopt;
        return FoundSandbox{servers.first().config, *id};
    }
    // Several servers: a whole id wins wherever it is; a prefix must be unique over all.
    // A server that fails (a run ending just now, no default server) is passed over.
    QList<FoundSandbox> prefixed;
    for (const LocalServer &server : servers) {
        OpenSandboxClient client(server.config);
        const Lookup lookup = lookUp(client, given);
        if (lookup.interrupted) {
            *exitCode = ExitInterrupted;
            return std::nullopt;
        }
        if (lookup.exact)
            return FoundSandbox{server.config, *lookup.exact};
        for (const QString &id : lookup.prefixed) {
            // Two records of one server (serve, and the default address it listens on)
            // name the same sandboxes.
            const bool seen = std::any_of(prefixed.cbegin(), prefixed.cend(),
                                          [&](const FoundSandbox &found) { return found.id == id; });
            if (!seen)
                prefixed.append({server.config, id});
        }
    }
    if (prefixed.size() == 1)
        return prefixed.first();
    if (prefixed.size() > 1) {
        QStringList ids;
        for (const FoundSandbox &found : prefixed)
            ids.append(found.id);
        reportAmbiguous(given, ids, where, terminal, exitCode);
        return std::nullopt;
    }
    terminal.err(u"%1: sandbox %2 not found, neither in this machine's runs and servers nor at %3\n"_s
                     .arg(where, given, servers.last().config.serverAddress()));
    *exitCode = ExitFailure;
    return std::nullopt;
}

} // namespace Sandflow::Cli
