// `sandflow sandbox cp`: a file, or with -r a directory and what it holds, into or out of a
// sandbox. Files are streamed between the disk and the network, never whole in memory.
#include "sandboxcopy_p.h"

#include <QDir>
#include <QFileInfo>
#include <QSaveFile>

#include <sys/stat.h>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

namespace {

/// `ID:PATH`, a path in a sandbox. Something with a `/` before its first `:` is a local
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

/// `path` without the `/`s that end it, unless it is `/`; `.` (the working directory) for
/// an empty one.
QString withoutTrailingSlashes(QString path)
{
    while (path.size() > 1 && path.endsWith(u'/'))
        path.chop(1);
    return path.isEmpty() ? u"."_s : path;
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

/// Finds sandbox `*id` (on this machine's runs and servers too, unless a server is named),
/// which becomes the whole id when it was the start of one, and its execd endpoint;
/// std::nullopt once the failure is reported (and `exitCode` set).
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

int failure(const Terminal &terminal, const QString &message)
{
    terminal.err(message + u'\n');
    return ExitFailure;
}

int upload(const QString &localPath, SandboxPath target, bool recursive, const QCommandLineParser &parser,
           const QString &where, const Terminal &terminal)
{
    const QFileInfo local(localPath);
    if (!local.exists())
        return failure(terminal, u"%1: %2: no such file"_s.arg(where, localPath));
    // A tree is read whole before anything is sent: a link in it stops the copy at once.
    std::optional<LocalTree> tree;
    if (local.isDir()) {
        if (!recursive)
            return failure(terminal, u"%1: %2 is a directory; add -r to copy directories"_s.arg(where, localPath));
        tree = scanLocalTree(localPath, where, terminal);
        if (!tree)
            return ExitFailure;
    } else if (!local.isFile()) {
        return failure(terminal, u"%1: %2 is neither a file nor a directory"_s.arg(where, localPath));
    }

    int exitCode = ExitSuccess;
    const std::optional<Reached> reached = reach(parser, &target.id, where, terminal, &exitCode);
    if (!reached)
        return exitCode;
    OpenSandboxClient &client = *reached->client;
    const OpenSandboxEndpoint *execd = &reached->execd;
    const CopySession session{client, *execd, target.id, where, terminal};
    if (tree)
        return uploadTree(session, *tree, target.path);
    // Like cp: a directory as the target gets the file under its own name.
    if (target.path.isEmpty() || target.path.endsWith(u'/'))
        target.path += local.fileName();
    FilePermissions permissions;
    permissions.mode = permissionBits(localPath);
    std::unique_ptr<AsyncJob> job(client.uploadFile(*execd, localPath, target.path, permissions));
    return runCopyJob(job, session, session.remoteName(target.path));
}

int download(SandboxPath source, QString localPath, bool recursive, const QCommandLineParser &parser,
             const QString &where, const Terminal &terminal)
{
    const bool namesDirectory = source.path.isEmpty() || source.path.endsWith(u'/');
    if (namesDirectory && !recursive)
        return sandboxUsageError(terminal, where, u"`%1:%2` names no file"_s.arg(source.id, source.path));

    int exitCode = ExitSuccess;
    const std::optional<Reached> reached = reach(parser, &source.id, where, terminal, &exitCode);
    if (!reached)
        return exitCode;
    OpenSandboxClient &client = *reached->client;
    const OpenSandboxEndpoint *execd = &reached->execd;
    const CopySession session{client, *execd, source.id, where, terminal};
    // What it is first: a directory wants -r, and a file keeps its permission bits.
    std::unique_ptr<ResultJob<QList<FileInfo>>> info(client.fileInfo(*execd, {withoutTrailingSlashes(source.path)}));
    if (const int status = runCopyJob(info, session, session.remoteName(source.path)))
        return status;
    const FileInfo file = info->result().value(0);
    if (file.type == FileInfo::Type::Directory) {
        if (!recursive) {
            return failure(terminal, u"%1: %2 is a directory; add -r to copy directories"_s
                                         .arg(where, session.remoteName(source.path)));
        }
        return downloadTree(session, source.path, file, localPath);
    }
    if (namesDirectory)
        return failure(terminal, u"%1: %2 is not a directory"_s.arg(where, session.remoteName(source.path)));
    if (QFileInfo(localPath).isDir())
        localPath = QDir(localPath).filePath(baseName(source.path));
    // A link's own bits say nothing of the file it leads to, which is what comes.
    return downloadFile(session, source.path, file.type == FileInfo::Type::Symlink ? -1 : file.mode, localPath);
}

} // namespace

QString joinPath(const QString &directory, const QString &name)
{
    if (directory.isEmpty() || name.isEmpty())
        return directory + name;
    return directory.endsWith(u'/') ? directory + name : directory + u'/' + name;
}

bool isPlainName(const QString &name)
{
    return !name.isEmpty() && name != u"."_s && name != u".."_s && !name.contains(u'/') && !name.contains(QChar(0));
}

QString partialCopyPath(const QString &path, const QString &unique)
{
    const qsizetype slash = path.lastIndexOf(u'/');
    return path.left(slash + 1) + u'.' + path.mid(slash + 1) + u".sandflow-partial-"_s + unique;
}

int downloadFile(const CopySession &session, const QString &path, int mode, const QString &localPath)
{
    QSaveFile file(localPath);
    if (!file.open(QIODevice::WriteOnly))
        return failure(session.terminal, u"%1: cannot write %2: %3"_s.arg(session.where, localPath, file.errorString()));
    std::unique_ptr<AsyncJob> job(session.client.downloadFile(session.execd, path, &file));
    if (const int status = runCopyJob(job, session, session.remoteName(path)))
        return status;
    // The file in the sandbox's permission bits, as an upload keeps the local file's.
    if (mode >= 0 && ::fchmod(file.handle(), mode_t(mode)) != 0)
        return failure(session.terminal, u"%1: cannot write %2: %3"_s.arg(session.where, localPath, qt_error_string(errno)));
    if (!file.commit())
        return failure(session.terminal, u"%1: cannot write %2: %3"_s.arg(session.where, localPath, file.errorString()));
    return ExitSuccess;
}

int sandboxCopy(const QCommandLineParser &parser, const Terminal &terminal)
{
    const QString where = u"sandflow sandbox cp"_s;
    const QString source = parser.positionalArguments().at(0);
    const QString destination = parser.positionalArguments().at(1);
    const bool recursive = parser.isSet(u"recursive"_s);
    const std::optional<SandboxPath> remoteSource = sandboxPath(source);
    const std::optional<SandboxPath> remoteDestination = sandboxPath(destination);
    if (remoteSource.has_value() == remoteDestination.has_value())
        return sandboxUsageError(terminal, where, u"one of SRC and DEST must be ID:PATH in a sandbox, the other a local path"_s);
    if (remoteDestination)
        return upload(source, *remoteDestination, recursive, parser, where, terminal);
    return download(*remoteSource, destination, recursive, parser, where, terminal);
}

} // namespace Sandflow::Cli
