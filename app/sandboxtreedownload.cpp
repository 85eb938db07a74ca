// `sandflow sandbox cp -r ID:PATH DIR`: a directory of a sandbox and what it holds onto this
// machine. What the sandbox says is not trusted: every name in its listings must be one
// entry of the directory listed, so that nothing is written outside DEST.
#include "sandboxcopy_p.h"

#include <QDir>
#include <QFileInfo>
#include <QSet>
#include <QTemporaryDir>

#include <climits>
#include <sys/stat.h>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

namespace {

/// A tree no real sandbox holds: the listing stops before it takes all memory.
constexpr qsizetype MaxTreeEntries = 1'000'000;

struct RemoteEntry
{
    QString path;               ///< below the root, `/`-separated, of plain names only
    bool directory = false;
    int mode = 0;
};

/// The name of `entryPath` as an entry of `directory`, which was listed: its last part,
/// when the rest is `directory` and that part is a plain name; nothing otherwise.
std::optional<QString> entryName(const QString &directory, const QString &entryPath)
{
    const qsizetype slash = entryPath.lastIndexOf(u'/');
    if (slash < 0 || entryPath.left(std::max<qsizetype>(slash, 1)) != directory)
        return std::nullopt;
    const QString name = entryPath.mid(slash + 1);
    return isPlainName(name) ? std::optional(name) : std::nullopt;
}

/// Everything below the directory `root` in the sandbox, every directory before what it
/// holds; std::nullopt after reporting a failure, or an entry that is not copied: a link,
/// anything but a file or directory, or an entry the listing of its directory should not
/// hold.
std::optional<QList<RemoteEntry>> listTree(const CopySession &session, const QString &root, int *exitCode)
{
    const auto refuse = [&](const QString &problem) {
        session.terminal.err(u"%1: %2; nothing was copied\n"_s.arg(session.where, problem));
        *exitCode = ExitFailure;
        return std::nullopt;
    };
    QList<RemoteEntry> entries;
    QStringList directories{QString()};
    for (qsizetype next = 0; next < directories.size(); ++next) {
        const QString directory = joinPath(root, directories.at(next));
        std::unique_ptr<ResultJob<QList<FileInfo>>> list(session.client.listDirectory(session.execd, directory, 1));
        if ((*exitCode = runCopyJob(list, session, session.remoteName(directory))) != ExitSuccess)
            return std::nullopt;
        QSet<QString> names;
        for (const FileInfo &entry : list->result()) {
            const std::optional<QString> name = entryName(directory, entry.path);
            if (!name || names.contains(*name)) {
                return refuse(u"the listing of %1 holds `%2`, which is not an entry of it"_s
                                  .arg(session.remoteName(directory), entry.path));
            }
            names.insert(*name);
            const QString path = joinPath(directories.at(next), *name);
            if (entry.type == FileInfo::Type::Symlink)
                return refuse(u"%1 is a symbolic link, and links are not copied"_s.arg(session.remoteName(entry.path)));
            if (entry.type != FileInfo::Type::Directory && entry.type != FileInfo::Type::File)
                return refuse(u"%1 is neither a file nor a directory"_s.arg(session.remoteName(entry.path)));
            // Bounds that no real tree reaches, for a server that lists for ever.
            if (entries.size() == MaxTreeEntries)
                return refuse(u"%1 holds more than %2 entries"_s.arg(session.remoteName(root)).arg(MaxTreeEntries));
            if (QFile::encodeName(path).size() >= PATH_MAX)
                return refuse(u"%1 is too deep a path to write here"_s.arg(session.remoteName(entry.path)));
            if (entry.type == FileInfo::Type::Directory)
                directories.append(path);
            entries.append({path, entry.type == FileInfo::Type::Directory, entry.mode});
        }
    }
    return entries;
}

/// What is at a local path, the path itself and not what a link there points to.
std::optional<mode_t> localType(const QString &path)
{
    struct stat status = {};
    if (::lstat(QFile::encodeName(path).constData(), &status) != 0)
        return std::nullopt;
    return status.st_mode & S_IFMT;
}

/// Writes `entries` below the local directory `base`; messages name paths below
/// `shownBase`, where the copy is meant to be. Directories are writable for their owner
/// until everything in them is there, and get their own mode at the end. An entry that is
/// there already must be what it will be: for a directory a directory, not a link to one,
/// and for a file a file, not a link, which would be written through.
int writeTree(const CopySession &session, const QString &root, const QList<RemoteEntry> &entries, const QString &base,
              const QString &shownBase)
{
    const auto fail = [&](const QString &message) {
        session.terminal.err(u"%1: %2\n"_s.arg(session.where, message));
        return ExitFailure;
    };
    for (const RemoteEntry &entry : entries) {
        const QString local = joinPath(base, entry.path);
        const QString shown = joinPath(shownBase, entry.path);
        const std::optional<mode_t> there = localType(local);
        if (entry.directory) {
            if (!there && ::mkdir(QFile::encodeName(local).constData(), 0700) != 0)
                return fail(u"cannot make the directory %1: %2"_s.arg(shown, qt_error_string(errno)));
            if (there && *there != S_IFDIR)
                return fail(u"%1 exists and is not a directory"_s.arg(shown));
            continue;
        }
        if (there && *there != S_IFREG)
            return fail(u"%1 exists and is not a file"_s.arg(shown));
        if (const int status = downloadFile(session, joinPath(root, entry.path), entry.mode, local))
            return status;
    }
    for (auto entry = entries.crbegin(); entry != entries.crend(); ++entry) {
        if (entry->directory
            && ::chmod(QFile::encodeName(joinPath(base, entry->path)).constData(), mode_t(entry->mode)) != 0) {
            return fail(u"cannot set the mode of %1: %2"_s.arg(joinPath(shownBase, entry->path), qt_error_string(errno)));
        }
    }
    return ExitSuccess;
}

} // namespace

int downloadTree(const CopySession &session, const QString &source, const FileInfo &info, const QString &destination)
{
    // The directory as the sandbox names it (absolute), so that its listings can be held
    // to it; as given when the sandbox does not say.
    QString root = info.path.startsWith(u'/') ? info.path : source;
    while (root.size() > 1 && root.endsWith(u'/'))
        root.chop(1);
    // Like cp -r: an existing directory gets the tree under its own name.
    QString target = destination;
    const QFileInfo destinationInfo(destination);
    if (destinationInfo.isDir()) {
        QString name = QDir::cleanPath(source).section(u'/', -1);
        if (name.isEmpty() || name == u"."_s)
            name = root.section(u'/', -1);
        if (!isPlainName(name)) {
            session.terminal.err(u"%1: %2 has no name to give its copy in %3; name the copy in DEST\n"_s
                                     .arg(session.where, session.remoteName(source), destination));
            return ExitFailure;
        }
        target = QDir(destination).filePath(name);
    } else if (destinationInfo.exists() || destinationInfo.isSymLink()) {
        session.terminal.err(u"%1: %2 exists and is not a directory\n"_s.arg(session.where, destination));
        return ExitFailure;
    }
    target = QDir::cleanPath(target);
    const std::optional<mode_t> there = localType(target);
    if (there && *there != S_IFDIR) {
        session.terminal.err(u"%1: %2 exists and is not a directory\n"_s.arg(session.where, target));
        return ExitFailure;
    }

    // The whole listing first: an entry that is not copied stops the copy before anything
    // is written.
    int exitCode = ExitSuccess;
    const std::optional<QList<RemoteEntry>> entries = listTree(session, root, &exitCode);
    if (!entries)
        return exitCode;
    // Into a directory that is there already, file by file, as cp does.
    if (there)
        return writeTree(session, root, *entries, target, target);
    // A new directory is put together under another name, and removed again unless all of
    // it arrived: until it takes its name, nothing at DEST claims to be the copy.
    QTemporaryDir partial(partialCopyPath(target, u"XXXXXX"_s));
    if (!partial.isValid()) {
        session.terminal.err(u"%1: cannot make a directory beside %2: %3\n"_s.arg(session.where, target, partial.errorString()));
        return ExitFailure;
    }
    if (const int status = writeTree(session, root, *entries, partial.path(), target))
        return status;
    if (::chmod(QFile::encodeName(partial.path()).constData(), mode_t(info.mode)) != 0
        || ::rename(QFile::encodeName(partial.path()).constData(), QFile::encodeName(target).constData()) != 0) {
        session.terminal.err(u"%1: cannot make %2: %3\n"_s.arg(session.where, target, qt_error_string(errno)));
        return ExitFailure;
    }
    partial.setAutoRemove(false);
    return ExitSuccess;
}

} // namespace Sandflow::Cli
