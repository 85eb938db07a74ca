// `sandflow sandbox cp -r DIR ID:PATH`: a local directory and what it holds into a sandbox.
#include "sandboxcopy_p.h"

#include <QDir>
#include <QFileInfo>
#include <QRandomGenerator>

#include <sys/stat.h>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

namespace {

/// What is at a path in a sandbox: nothing, or `info`.
struct RemoteStat
{
    bool exists = false;
    FileInfo info;
};

/// std::nullopt after reporting a failure other than the path not being there.
std::optional<RemoteStat> statRemote(const CopySession &session, const QString &path, int *exitCode)
{
    std::unique_ptr<ResultJob<QList<FileInfo>>> job(session.client.fileInfo(session.execd, {path}));
    job->setAutoDelete(false);
    const Waited waited = waitFor(job);
    if (!job || waited.interrupted) {
        *exitCode = ExitInterrupted;
        return std::nullopt;
    }
    if (!waited.error)
        return RemoteStat{true, job->result().value(0)};
    if (isFileNotFound(*waited.error) || OpenSandboxErrorDetails::of(*waited.error).status == 404)
        return RemoteStat{};
    session.terminal.err(u"%1: %2: %3\n"_s.arg(session.where, session.remoteName(path), waited.error->message));
    *exitCode = ExitFailure;
    return std::nullopt;
}

FilePermissions withMode(int mode)
{
    FilePermissions permissions;
    permissions.mode = mode;
    return permissions;
}

/// Sends the tree to `root` in the sandbox; messages name paths below `shownRoot`, where
/// the copy is meant to be. Directories are made writable for their owner until everything
/// in them is there, and get their own mode at the end; the root only when `setRootMode`,
/// since an existing directory keeps its own.
int sendTree(const CopySession &session, const LocalTree &tree, const QString &root, const QString &shownRoot,
             bool setRootMode)
{
    std::unique_ptr<AsyncJob> makeRoot(session.client.makeDirectory(session.execd, root, withMode(tree.rootMode | 0700)));
    if (const int status = runCopyJob(makeRoot, session, session.remoteName(shownRoot)))
        return status;
    for (const LocalTree::Entry &entry : tree.entries) {
        const QString remote = joinPath(root, entry.path);
        std::unique_ptr<AsyncJob> job(entry.directory
            ? session.client.makeDirectory(session.execd, remote, withMode(entry.mode | 0700))
            : session.client.uploadFile(session.execd, joinPath(tree.root, entry.path), remote, withMode(entry.mode)));
        if (const int status = runCopyJob(job, session, session.remoteName(joinPath(shownRoot, entry.path))))
            return status;
    }
    // Deepest first: a directory that its owner may not write to is closed last.
    QList<const LocalTree::Entry *> closing;
    for (auto entry = tree.entries.crbegin(); entry != tree.entries.crend(); ++entry) {
        if (entry->directory && (entry->mode & 0700) != 0700)
            closing.append(&*entry);
    }
    const LocalTree::Entry rootEntry{QString(), true, tree.rootMode};
    if (setRootMode && (tree.rootMode & 0700) != 0700)
        closing.append(&rootEntry);
    for (const LocalTree::Entry *entry : std::as_const(closing)) {
        std::unique_ptr<AsyncJob> job(
            session.client.setPermissions(session.execd, joinPath(root, entry->path), withMode(entry->mode)));
        if (const int status = runCopyJob(job, session, session.remoteName(joinPath(shownRoot, entry->path))))
            return status;
    }
    return ExitSuccess;
}

/// Sends the tree to `destination`, which does not exist: it is put together under
/// another name and takes its own at the end, so that until then nothing there claims to
/// be the copy; a copy that fails or is interrupted is removed again.
int sendNewDirectory(const CopySession &session, const LocalTree &tree, const QString &destination)
{
    const QString unique = u"%1"_s.arg(QRandomGenerator::system()->generate(), 8, 16, QChar(u'0'));
    const QString partial = partialCopyPath(destination, unique);
    int status = sendTree(session, tree, partial, destination, true);
    if (status == ExitSuccess) {
        std::unique_ptr<AsyncJob> move(session.client.moveFile(session.execd, partial, destination));
        status = runCopyJob(move, session, session.remoteName(destination));
    }
    if (status != ExitSuccess) {
        std::unique_ptr<AsyncJob> remove(session.client.removeDirectory(session.execd, partial));
        if (runCopyJob(remove, session, session.remoteName(partial)) != ExitSuccess)
            session.terminal.err(u"%1: the partial copy %2 is left\n"_s.arg(session.where, session.remoteName(partial)));
    }
    return status;
}

} // namespace

std::optional<LocalTree> scanLocalTree(const QString &root, const QString &where, const Terminal &terminal)
{
    const auto refuse = [&](const QString &problem) {
        terminal.err(u"%1: %2; nothing was copied\n"_s.arg(where, problem));
        return std::nullopt;
    };
    LocalTree tree;
    tree.root = root;
    struct stat status = {};
    if (::stat(QFile::encodeName(root).constData(), &status) != 0)
        return refuse(u"cannot read %1: %2"_s.arg(root, qt_error_string(errno)));
    tree.rootMode = int(status.st_mode & 0777);
    // Breadth first: every directory comes before what it holds.
    QStringList directories{QString()};
    for (qsizetype next = 0; next < directories.size(); ++next) {
        const QString directory = joinPath(root, directories.at(next));
        const QDir dir(directory);
        if (!dir.isReadable())
            return refuse(u"cannot read the directory %1"_s.arg(directory));
        const QStringList names = dir.entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                                                QDir::Name);
        for (const QString &name : names) {
            const QString local = joinPath(directory, name);
            if (::lstat(QFile::encodeName(local).constData(), &status) != 0)
                return refuse(u"cannot read %1: %2"_s.arg(local, qt_error_string(errno)));
            const QString path = joinPath(directories.at(next), name);
            if (S_ISDIR(status.st_mode))
                directories.append(path);
            else if (S_ISLNK(status.st_mode))
                return refuse(u"%1 is a symbolic link, and links are not copied"_s.arg(local));
            else if (!S_ISREG(status.st_mode))
                return refuse(u"%1 is neither a file nor a directory"_s.arg(local));
            tree.entries.append({path, S_ISDIR(status.st_mode), int(status.st_mode & 0777)});
        }
    }
    return tree;
}

int uploadTree(const CopySession &session, const LocalTree &tree, const QString &target)
{
    QString destination = target;
    while (destination.size() > 1 && destination.endsWith(u'/'))
        destination.chop(1);
    int exitCode = ExitSuccess;
    const std::optional<RemoteStat> there = statRemote(session, destination.isEmpty() ? u"."_s : destination, &exitCode);
    if (!there)
        return exitCode;
    if (!there->exists)
        return sendNewDirectory(session, tree, destination);
    if (there->info.type != FileInfo::Type::Directory) {
        session.terminal.err(u"%1: %2 exists and is not a directory\n"_s.arg(session.where, session.remoteName(target)));
        return ExitFailure;
    }
    // Like cp -r: an existing directory gets the tree under its own name.
    const QString name = QFileInfo(QDir::cleanPath(QFileInfo(tree.root).absoluteFilePath())).fileName();
    if (!isPlainName(name)) {
        session.terminal.err(u"%1: %2 has no name to give its copy in %3; name the copy in DEST\n"_s
                                 .arg(session.where, tree.root, session.remoteName(target)));
        return ExitFailure;
    }
    destination = joinPath(destination, name);
    const std::optional<RemoteStat> existing = statRemote(session, destination, &exitCode);
    if (!existing)
        return exitCode;
    if (!existing->exists)
        return sendNewDirectory(session, tree, destination);
    if (existing->info.type != FileInfo::Type::Directory) {
        session.terminal.err(u"%1: %2 exists and is not a directory\n"_s.arg(session.where, session.remoteName(destination)));
        return ExitFailure;
    }
    // Into a directory that is there already, file by file, as cp does.
    return sendTree(session, tree, destination, destination, false);
}

} // namespace Sandflow::Cli
