// `sandflow sandbox cp`: one file into or out of a sandbox, streamed between the disk and
// the network, never whole in memory.
#include "sandboxclient.h"

#include <QDir>
#include <QFileInfo>
#include <QSaveFile>

#include <sys/stat.h>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

namespace {

/// `ID:PATH`, a file in a sandbox. Something with a `/` before its first `:` is a local
/// path (`./a:b`), which is how to name a local file whose name has a colon.
struct SandboxPath
{
    QString id;
    QString path;
};

std::optional<SandboxPath> sandboxPath(const QString &argument)
{
    const qsizetype colon = argument.indexOf(u':');
    if (colon <= 0 || argument.left(colon).contains(u'/'))
        return std::nullopt;
    return SandboxPath{argument.left(colon), argument.mid(colon + 1)};
}

QString baseName(const QString &path)
{
    return path.mid(path.lastIndexOf(u'/') + 1);
}

/// The permission bits of a local file, so that an uploaded script stays executable.
int permissionBits(const QString &path)
{
    struct stat status = {};
    if (::stat(QFile::encodeName(path).constData(), &status) != 0)
        return 0644;
    return int(status.st_mode & 0777);
}

/// A sandbox's server and its execd endpoint.
struct Reached
{
    std::unique_ptr<OpenSandboxClient> client;
    OpenSandboxEndpoint execd;
};

/// Finds sandbox `*id` (writing back its whole id) and its execd endpoint; std::nullopt
/// once the failure is reported (and `exitCode` set).
std::optional<Reached> reach(const QCommandLineParser &parser, QString *id, const QString &where,
                             const Terminal &terminal, int *exitCode)
{
    const std::optional<FoundSandbox> found = findSandbox(parser, *id, where, terminal, exitCode);
    if (!found)
        return std::nullopt;
    *id = found->id;
    auto client = std::make_unique<OpenSandboxClient>(found->server);
    std::unique_ptr<ResultJob<OpenSandboxEndpoint>> job(client->endpoint(*id, ExecdPort));
    job->setAutoDelete(false);
    const Waited waited = waitFor(job);
    if (!job || waited.interrupted) {
        *exitCode = ExitInterrupted;
        return std::nullopt;
    }
    if (waited.error) {
        terminal.err(errorLine(where, *waited.error, client->config(), u"sandbox "_s + *id));
        *exitCode = ExitFailure;
        return std::nullopt;
    }
    const OpenSandboxEndpoint execd = job->result();
    return Reached{std::move(client), execd};
}

/// Runs a transfer job; the exit status, with the failure reported.
int transfer(std::unique_ptr<AsyncJob> job, const OpenSandboxConfig &config, const QString &where, const QString &id,
             const Terminal &terminal)
{
    job->setAutoDelete(false);
    const Waited waited = waitFor(job);
    if (!job || waited.interrupted)
        return ExitInterrupted;
    if (waited.error) {
        terminal.err(errorLine(where, *waited.error, config, u"sandbox "_s + id));
        return ExitFailure;
    }
    return ExitSuccess;
}

int upload(const QString &localPath, SandboxPath target, const QCommandLineParser &parser, const QString &where,
           const Terminal &terminal)
{
    const QFileInfo local(localPath);
    if (!local.exists()) {
        terminal.err(u"%1: %2: no such file\n"_s.arg(where, localPath));
        return ExitFailure;
    }
    if (!local.isFile()) {
        terminal.err(u"%1: %2 is not a file (copying directories is not supported)\n"_s.arg(where, localPath));
        return ExitFailure;
    }
    // Like cp: a directory as the target gets the file under its own name.
    if (target.path.isEmpty() || target.path.endsWith(u'/'))
        target.path += local.fileName();

    int exitCode = ExitSuccess;
    const std::optional<Reached> reached = reach(parser, &target.id, where, terminal, &exitCode);
    if (!reached)
        return exitCode;
    OpenSandboxClient &client = *reached->client;
    const OpenSandboxEndpoint &execd = reached->execd;
    FilePermissions permissions;
    permissions.mode = permissionBits(localPath);
    return transfer(std::unique_ptr<AsyncJob>(client.uploadFile(execd, localPath, target.path, permissions)),
                    client.config(), where, target.id, terminal);
}

int download(SandboxPath source, QString localPath, const QCommandLineParser &parser, const QString &where,
             const Terminal &terminal)
{
    if (source.path.isEmpty() || source.path.endsWith(u'/'))
        return sandboxUsageError(terminal, where, u"`%1:%2` names no file"_s.arg(source.id, source.path));
    if (QFileInfo(localPath).isDir())
        localPath = QDir(localPath).filePath(baseName(source.path));

    int exitCode = ExitSuccess;
    const std::optional<Reached> reached = reach(parser, &source.id, where, terminal, &exitCode);
    if (!reached)
        return exitCode;
    OpenSandboxClient &client = *reached->client;
    const OpenSandboxEndpoint &execd = reached->execd;
    // Written beside the target and renamed over it at the end: a failed download leaves
    // no half file, and an existing one stays as it was.
    QSaveFile file(localPath);
    if (!file.open(QIODevice::WriteOnly)) {
        terminal.err(u"%1: cannot write %2: %3\n"_s.arg(where, localPath, file.errorString()));
        return ExitFailure;
    }
    const int status = transfer(std::unique_ptr<AsyncJob>(client.downloadFile(execd, source.path, &file)),
                                client.config(), where, source.id, terminal);
    if (status != ExitSuccess)
        return status;
    if (!file.commit()) {
        terminal.err(u"%1: cannot write %2: %3\n"_s.arg(where, localPath, file.errorString()));
        return ExitFailure;
    }
    return ExitSuccess;
}

} // namespace

int sandboxCopy(const QCommandLineParser &parser, const Terminal &terminal)
{
    const QString where = u"sandflow sandbox cp"_s;
    const QString source = parser.positionalArguments().at(0);
    const QString destination = parser.positionalArguments().at(1);
    const std::optional<SandboxPath> remoteSource = sandboxPath(source);
    const std::optional<SandboxPath> remoteDestination = sandboxPath(destination);
    if (remoteSource.has_value() == remoteDestination.has_value())
        return sandboxUsageError(terminal, where, u"one of SRC and DEST must be ID:PATH in a sandbox, the other a local path"_s);
    if (remoteDestination)
        return upload(source, *remoteDestination, parser, where, terminal);
    return download(*remoteSource, destination, parser, where, terminal);
}

} // namespace Sandflow::Cli
