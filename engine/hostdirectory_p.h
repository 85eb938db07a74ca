// A directory on the host that a download fills with what a sandbox sends. It is opened
// once; everything below it is made relative to descriptors, one plain name at a time
// (mkdirat, then openat with O_NOFOLLOW), so that no symbolic link in it is ever followed,
// whoever planted it (a sandbox sharing the directory through a volume, say), and no host
// path below it is resolved as a string. Nothing made through it lands outside it.
#pragma once

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

    HostDirectory(HostDirectory &&other) noexcept;
    HostDirectory &operator=(HostDirectory &&other) noexcept;
    HostDirectory(const HostDirectory &) = delete;
    HostDirectory &operator=(const HostDirectory &) = delete;
    ~HostDirectory();

    const QString &path() const { return m_path; }

    /// Makes the directory `names` (plain names, the last one new or a directory already)
    /// below this one; the levels above it must be directories already. False, with the
    /// reason in `error`, when a level is missing, is not a directory or is a link.
    bool makeDirectory(const QStringList &names, QString *error) const;
    /// Creates the regular file `names` below this one, or empties the one there, open for
    /// writing; the levels above it must be directories already. nullptr, with the reason in
    /// `error`, when a level is missing, is not a directory or is a link, or what is there is
    /// not a regular file.
    std::unique_ptr<QFile> createFile(const QStringList &names, QString *error) const;

private:
    HostDirectory(int fd, QString path) : m_fd(fd), m_path(std::move(path)) {}
    /// `names`' host path, for messages only.
    QString hostPath(const QStringList &names) const;

    int m_fd = -1;
    QString m_path;
};

} // namespace Sandflow::Internal
