// A directory on the host that a download fills with what a sandbox sends. It is opened
// once; everything below it is made relative to descriptors, one plain name at a time
// (openbeneath_p.h, then openat with O_NOFOLLOW), so that no symbolic link in it is followed,
// whoever planted it (a sandbox sharing the directory through a volume, say), and no host
// path below it is resolved as a string. Nothing made through it lands outside it.
#pragma once

#include "uniquefd_p.h"

#include <QFile>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

namespace Sandflow::Internal {

/// A name that stays in the directory it is used in: not empty, not `.` or `..`, and
/// without `/` or NUL (which would end it early on its way to the kernel).
bool isPlainName(QStringView name);

class HostDirectory
{
public:
    /// Opens the directory `path`, making it and its missing parents first. The path is the
    /// user's: it is followed as they named it, links included. std::nullopt, with the reason
    /// in `error`, when it cannot be made or opened.
    static std::optional<HostDirectory> open(const QString &path, QString *error);

    const QString &path() const { return m_path; }

    /// Makes the directory `names` (plain names) below this one, and the levels above it that
    /// are missing; what is there already must be a directory. False, with the reason in
    /// `error`, when a level is a link or not a directory.
    bool makeDirectory(const QStringList &names, QString *error) const;
    /// Creates the regular file `names` below this one, or empties the one there, open for
    /// writing, making the levels above it that are missing. A new file gets `mode`'s
    /// permission bits less the umask (as `cp` gives them; setuid, setgid and sticky bits are
    /// never set); one there already keeps its own. nullptr, with the reason in `error`, when
    /// a level is a link or not a directory, or what is there is not a regular file.
    std::unique_ptr<QFile> createFile(const QStringList &names, int mode, QString *error) const;

private:
    HostDirectory(UniqueFd fd, QString path) : m_fd(std::move(fd)), m_path(std::move(path)) {}
    /// `names`' host path, for messages only.
    QString hostPath(const QStringList &names) const;
    /// The directory `names` below this one (openbeneath_p.h), made where missing; invalid,
    /// with the reason in `error`, when the names are not plain or the walk fails.
    UniqueFd openDirectory(const QStringList &names, QString *error) const;

    UniqueFd m_fd;
    QString m_path;
};

} // namespace Sandflow::Internal
