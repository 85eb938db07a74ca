// `sandflow sandbox create`, `ls` and `rm`: the lifecycle API of an OpenSandbox server.
#include "sandboxclient.h"

#include "texttable.h"
#include "units.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>

#include <algorithm>
#include <functional>
#include <limits>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

namespace {

/// Servers refuse a time to live under a minute.
constexpr qint64 MinimumTimeoutSeconds = 60;
/// The largest page servers hand out.
constexpr int MaxPageSize = 200;

int interrupted(const Terminal &terminal, const QString &where)
{
    terminal.err(u"%1: interrupted\n"_s.arg(where));
    return ExitInterrupted;
}

QString metadataText(const QMap<QString, QString> &metadata)
{
    QStringList pairs;
    for (auto it = metadata.cbegin(); it != metadata.cend(); ++it)
        pairs.append(it.key() + u'=' + it.value());
    return pairs.isEmpty() ? u"-"_s : pairs.join(u',');
}

QJsonObject sandboxJson(const SandboxInfo &sandbox)
{
    QJsonObject metadata;
    for (auto it = sandbox.metadata.cbegin(); it != sandbox.metadata.cend(); ++it)
        metadata.insert(it.key(), it.value());
    QJsonObject object{{u"id"_s, sandbox.id},
                       {u"state"_s, sandboxStateName(sandbox.state)},
                       {u"image"_s, sandbox.image},
                       {u"entrypoint"_s, QJsonArray::fromStringList(sandbox.entrypoint)},
                       {u"metadata"_s, metadata},
                       {u"createdAt"_s, sandbox.createdAt.toUTC().toString(Qt::ISODateWithMs)}};
    if (!sandbox.reason.isEmpty())
        object.insert(u"reason"_s, sandbox.reason);
    if (sandbox.expiresAt)
        object.insert(u"expiresAt"_s, sandbox.expiresAt->toUTC().toString(Qt::ISODateWithMs));
    return object;
}

void printTable(const QList<SandboxInfo> &sandboxes, const Terminal &terminal)
{
    QList<QStringList> rows{{u"ID"_s, u"STATE"_s, u"IMAGE"_s, u"CREATED"_s, u"EXPIRES"_s, u"METADATA"_s}};
    for (const SandboxInfo &sandbox : sandboxes) {
        rows.append({sandbox.id, sandboxStateName(sandbox.state), sandbox.image.isEmpty() ? u"-"_s : sandbox.image,
                     formatLocalTime(sandbox.createdAt),
                     sandbox.expiresAt ? formatLocalTime(*sandbox.expiresAt) : u"never"_s,
                     metadataText(sandbox.metadata)});
    }
    terminal.out(formatTable(rows));
}

/// --timeout: `none`, or seconds (a duration such as 30m works too).
std::optional<std::optional<int>> timeoutSeconds(const QString &text)
{
    if (text == u"none"_s)
        return std::optional<int>();
    const std::optional<qint64> milliseconds = parseDuration(text);
    if (!milliseconds || *milliseconds % 1000 != 0 || *milliseconds / 1000 < MinimumTimeoutSeconds
        || *milliseconds / 1000 > std::numeric_limits<int>::max())
        return std::nullopt;
    return std::optional<int>(int(*milliseconds / 1000));
}

} // namespace

int sandboxCreate(const QCommandLineParser &parser, const Terminal &terminal)
{
    const QString where = u"sandflow sandbox create"_s;
    OpenSandboxCreateRequest request;
    request.image = parser.value(u"image"_s);
    if (parser.isSet(u"timeout"_s)) {
        const auto timeout = timeoutSeconds(parser.value(u"timeout"_s));
        if (!timeout)
            return sandboxUsageError(terminal, where, u"--timeout wants a duration of whole seconds, at least %1s "
                                                      u"(such as 10m), or `none`, not `%2`"_s
                                                          .arg(MinimumTimeoutSeconds).arg(parser.value(u"timeout"_s)));
        request.timeoutSeconds = *timeout;
    }
    const auto env = keyValues(parser, u"env"_s, where, terminal);
    const auto metadata = keyValues(parser, u"metadata"_s, where, terminal);
    if (!env || !metadata)
        return ExitUsage;
    request.env = *env;
    request.metadata = *metadata;
    for (const QString &resource : {u"cpu"_s, u"memory"_s}) {
        if (!parser.isSet(resource))
            continue;
        const std::optional<double> quantity = parseQuantity(parser.value(resource));
        if (!quantity || *quantity <= 0)
            return sandboxUsageError(terminal, where, u"--%1 wants a quantity such as %2, not `%3`"_s
                                                          .arg(resource, resource == u"cpu"_s ? u"2 or 500m"_s : u"512Mi"_s,
                                                               parser.value(resource)));
        request.resourceLimits.insert(resource, parser.value(resource));
    }

    OpenSandboxClient client(clientConfig(parser));
    std::unique_ptr<SandboxJob> job(client.createSandbox(request));
    job->setAutoDelete(false);
    const Waited waited = waitFor(job);
    if (!job || (waited.error && waited.error->kind == JobError::Kind::Cancelled))
        return interrupted(terminal, where);
    if (waited.error) {
        terminal.err(errorLine(where, *waited.error, client.config()));
        return ExitFailure;
    }
    // Only the id, so that scripts can write ID=$(sandflow sandbox create).
    terminal.out(job->result().id + u'\n');
    return ExitSuccess;
}

int sandboxList(const QCommandLineParser &parser, const Terminal &terminal)
{
    const QString where = u"sandflow sandbox ls"_s;
    const std::optional<qsizetype> limit = limitValue(parser, where, terminal);
    if (!limit)
        return ExitUsage;
    SandboxFilter filter;
    filter.states = parser.values(u"state"_s);
    const auto metadata = keyValues(parser, u"metadata"_s, where, terminal);
    if (!metadata)
        return ExitUsage;
    filter.metadata = *metadata;
    filter.pageSize = MaxPageSize;

    // Every server asked (this machine's runs and servers too, unless one is named); one
    // that fails is passed over while another answers.
    const QList<LocalServer> servers = candidateServers(parser);
    QList<SandboxInfo> sandboxes;
    QSet<QString> seen;
    std::optional<QString> failure;
    bool answered = false;
    for (const LocalServer &server : servers) {
        OpenSandboxClient client(server.config);
        std::unique_ptr<ResultJob<QList<SandboxInfo>>> job(client.listAllSandboxes(filter));
        job->setAutoDelete(false);
        const Waited waited = waitFor(job);
        if (!job || waited.interrupted)
            return interrupted(terminal, where);
        if (waited.error) {
            failure = errorLine(where, *waited.error, client.config());
            continue;
        }
        answered = true;
        // Two records of one server (serve, and the default address it listens on) list
        // the same sandboxes.
        for (const SandboxInfo &sandbox : job->result()) {
            if (!seen.contains(sandbox.id)) {
                seen.insert(sandbox.id);
                sandboxes.append(sandbox);
            }
        }
    }
    if (!answered) {
        terminal.err(*failure);
        return ExitFailure;
    }
    // Servers list in their own order: newest first here.
    std::stable_sort(sandboxes.begin(), sandboxes.end(),
                     [](const SandboxInfo &a, const SandboxInfo &b) { return a.createdAt > b.createdAt; });
    const qsizetype count = sandboxes.size();
    if (*limit > 0 && count > *limit)
        sandboxes.resize(*limit);

    if (parser.isSet(u"json"_s)) {
        QJsonArray array;
        for (const SandboxInfo &sandbox : std::as_const(sandboxes))
            array.append(sandboxJson(sandbox));
        terminal.out(QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Indented)));
        return ExitSuccess;
    }
    if (sandboxes.isEmpty()) {
        terminal.out(u"No sandboxes.\n"_s);
        return ExitSuccess;
    }
    printTable(sandboxes, terminal);
    terminal.out(moreLine(sandboxes.size(), count));
    return ExitSuccess;
}

namespace {

// Does `act` to each sandbox the arguments name, one after the other, and says `DONE ID` of
// each; the status is 1 when any failed.
int forEachSandbox(const QCommandLineParser &parser, const QString &where, const QString &done,
                   const std::function<AsyncJob *(OpenSandboxClient &, const QString &)> &act,
                   const Terminal &terminal)
{
    int status = ExitSuccess;
    for (const QString &given : parser.positionalArguments()) {
        int failed = ExitSuccess;
        const std::optional<FoundSandbox> found = findSandbox(parser, given, where, terminal, &failed);
        if (failed == ExitInterrupted)
            return ExitInterrupted;
        if (!found) {
            status = ExitFailure;
            continue;
        }
        OpenSandboxClient client(found->server);
        const QString &id = found->id;
        std::unique_ptr<AsyncJob> job(act(client, id));
        job->setAutoDelete(false);
        const Waited waited = waitFor(job);
        if (!job || waited.interrupted)
            return interrupted(terminal, where);
        if (!waited.error) {
            terminal.out(u"%1 %2\n"_s.arg(done, id));
            continue;
        }
        terminal.err(errorLine(where, *waited.error, client.config(), u"sandbox "_s + id));
        status = ExitFailure;
        // Without a server the other ids fail the same way.
        if (waited.error->code == u"UNREACHABLE"_s)
            break;
    }
    return status;
}

} // namespace

int sandboxRemove(const QCommandLineParser &parser, const Terminal &terminal)
{
    return forEachSandbox(parser, u"sandflow sandbox rm"_s, u"removed"_s,
                          [](OpenSandboxClient &client, const QString &id) { return client.deleteSandbox(id); },
                          terminal);
}

int sandboxPause(const QCommandLineParser &parser, const Terminal &terminal)
{
    return forEachSandbox(parser, u"sandflow sandbox pause"_s, u"paused"_s,
                          [](OpenSandboxClient &client, const QString &id) { return client.pauseSandbox(id); },
                          terminal);
}

int sandboxResume(const QCommandLineParser &parser, const Terminal &terminal)
{
    return forEachSandbox(parser, u"sandflow sandbox resume"_s, u"resumed"_s,
                          [](OpenSandboxClient &client, const QString &id) { return client.resumeSandbox(id); },
                          terminal);
}

int sandboxInspect(const QCommandLineParser &parser, const Terminal &terminal)
{
    const QString where = u"sandflow sandbox inspect"_s;
    int exitCode = ExitSuccess;
    const std::optional<FoundSandbox> found = findSandbox(parser, parser.positionalArguments().first(), where, terminal,
                                                          &exitCode);
    if (!found)
        return exitCode;
    OpenSandboxClient client(found->server);
    const QString &id = found->id;
    std::unique_ptr<SandboxJob> job(client.getSandbox(id));
    job->setAutoDelete(false);
    const Waited waited = waitFor(job);
    if (!job || waited.interrupted)
        return interrupted(terminal, where);
    if (waited.error) {
        terminal.err(errorLine(where, *waited.error, client.config(), u"sandbox "_s + id));
        return ExitFailure;
    }
    terminal.out(QString::fromUtf8(QJsonDocument(sandboxJson(job->result())).toJson(QJsonDocument::Indented)));
    return ExitSuccess;
}

} // namespace Sandflow::Cli
