// What a listing of a sandbox's directory may make a download do on the host. The listing
// comes from the sandbox (its agent, or a server), so it is hostile input, checked as a
// whole before anything is written: every entry is a path below the source by whole names,
// listed once, no deeper than asked for, and below a directory listed before it.
#pragma once

#include "runner.h"

namespace Sandflow::Internal {

/// The directories and files a download makes below its destination.
struct DownloadTree
{
    struct File
    {
        QString sandboxPath;   ///< where it is read from
        QStringList names;     ///< where it is written, below the destination
        int mode = 0644;       ///< its permission bits, as downloadedMode() keeps them
    };

    QList<QStringList> directories;   ///< parents before their children
    QList<File> files;
};

/// The permission bits a file downloaded from the sandbox gets on the host: its own, but
/// never setuid, setgid or sticky, and 0644 when the sandbox said none (0).
int downloadedMode(int sandboxMode);

/// The tree that `listing` of `source` (absolute and clean), `depth` levels deep, asks for:
/// its directories and regular files; links and other special files are left out. Errors
/// name the first entry that breaks a rule: DOWNLOAD_UNSAFE_PATH for one that is not a path
/// below `source`, DOWNLOAD_BAD_LISTING for one listed twice, deeper than asked for, or not
/// below a directory listed before it.
std::optional<JobError> downloadTreeFromListing(const QString &source, const QList<FileInfo> &listing, int depth,
                                                DownloadTree *tree);

} // namespace Sandflow::Internal
