// What `sandflow sandbox cp` shares between copying one file and copying a directory tree:
// the sandbox it talks to, running each call with Ctrl-C and failures handled alike, and
// paths in the sandbox.
#pragma once

#include "sandboxclient.h"

namespace Sandflow::Cli {

/// The sandbox a copy talks to, and where its messages go.
struct CopySession
{
    OpenSandboxClient &client;
    OpenSandboxEndpoint execd;
    QString sandboxId;
    QString where;              ///< `sandflow sandbox cp`, the start of every message
    const Terminal &terminal;

    /// `ID:PATH`, as messages name a path in the sandbox.
    QString remoteName(const QString &path) const { return sandboxId + u':' + path; }
};

/// Runs `job` (a call of the session's client) to its end: ExitSuccess; ExitInterrupted
/// after Ctrl-C; ExitFailure after reporting `WHERE: SUBJECT: MESSAGE`.
template <typename Job>
int runCopyJob(std::unique_ptr<Job> &job, const CopySession &session, const QString &subject)
{
    job->setAutoDelete(false);
    const Waited waited = waitFor(job);
    if (!job || waited.interrupted)
        return ExitInterrupted;
    if (waited.error) {
        session.terminal.err(QStringLiteral("%1: %2: %3\n").arg(session.where, subject, waited.error->message));
        return ExitFailure;
    }
    return ExitSuccess;
}

/// `directory/name`; the one alone when the other is empty.
QString joinPath(const QString &directory, const QString &name);
/// `name` can name an entry of a directory: not empty, `.` or `..`, without `/` or NUL.
bool isPlainName(const QString &name);
/// Where a copy of a whole directory is put together before it takes its name: beside
/// `path`, hidden, and named for what it is.
QString partialCopyPath(const QString &path, const QString &unique);

/// A local directory and what it holds, as `cp -r` copies it.
struct LocalTree
{
    struct Entry
    {
        QString path;           ///< below the root, `/`-separated
        bool directory = false;
        int mode = 0;           ///< permission bits
    };

    QString root;               ///< as given
    int rootMode = 0;
    QList<Entry> entries;       ///< every directory before what it holds
};

/// The tree below `root`, which is a directory; std::nullopt after reporting an entry that
/// cannot be read or copied: a symbolic link or anything but a file or directory.
std::optional<LocalTree> scanLocalTree(const QString &root, const QString &where, const Terminal &terminal);

/// `cp -r` of `tree` to `target` in the sandbox: to TARGET when it does not exist, else
/// into TARGET/NAME. The exit status, with any failure reported.
int uploadTree(const CopySession &session, const LocalTree &tree, const QString &target);

/// `cp -r` of the sandbox directory `source` (as given; `info` is what the sandbox said of
/// it) to `destination`: to DEST when it does not exist, else into DEST/NAME. The exit
/// status, with any failure reported.
int downloadTree(const CopySession &session, const QString &source, const FileInfo &info, const QString &destination);

/// Downloads the sandbox file `path` to `localPath` with permission bits `mode` (-1: those
/// of a new file here). It is written beside `localPath` and renamed over it at the end: a
/// failed download leaves no partial file, and an existing one stays as it was. The exit
/// status, with any failure reported.
int downloadFile(const CopySession &session, const QString &path, int mode, const QString &localPath);

} // namespace Sandflow::Cli
