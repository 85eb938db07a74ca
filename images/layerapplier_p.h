// Applies the entries of one layer, one at a time, onto the root: what each entry type makes,
// what whiteouts and opaque directories remove, and the directory modes and times set last.
#pragma once

#include "layertree_p.h"
#include "layerunpacker.h"

#include <QByteArrayList>
#include <QHash>
#include <QSet>

#include <sys/types.h>

struct archive;
struct archive_entry;

namespace Sandflow::Internal {

/// Why an entry was not applied: `text` says why, without the layer and entry names.
struct EntryFailure
{
    LayerUnpackError::Reason reason = LayerUnpackError::Reason::Failed;
    QString text;
    QByteArray entry;   ///< set when another entry than the current one is concerned
};

/// The entry's name as the archive holds it: a pax header's UTF-8 name is not converted to the
/// locale's charset (which fails in the C locale), other headers' bytes are taken as they are.
const char *entryPathname(archive_entry *entry);

class LayerApplier
{
public:
    /// `root` stays open as long as the applier.
    explicit LayerApplier(int root);

    /// Applies the entry `archive` has just read, with its data; adds the bytes written.
    std::optional<EntryFailure> apply(archive *archive, archive_entry *entry, qint64 &bytes);
    /// Gives the layer's directories their modes, owners and times, deepest first: only now,
    /// so that a read-only directory still got its files.
    std::optional<EntryFailure> finish();

private:
    struct DirectoryMetadata
    {
        mode_t mode = 0755;
        std::optional<uid_t> uid;
        std::optional<gid_t> gid;
        std::optional<timespec> mtime;   ///< std::nullopt: left as the writes left it
    };

    std::optional<EntryFailure> applyWhiteout(const QByteArrayList &components);
    std::optional<EntryFailure> applyOpaque(const QByteArrayList &directory);
    std::optional<EntryFailure> removeLower(int directory, const QByteArray &path, const QByteArray &name);
    std::optional<EntryFailure> openParent(const QByteArrayList &components, UniqueFd &parent);
    std::optional<EntryFailure> clearPlace(int parent, const QByteArray &name, const QByteArray &path,
                                           bool keepDirectory, bool *isDirectory = nullptr);
    std::optional<EntryFailure> writeFile(archive *archive, archive_entry *entry, int parent,
                                          const QByteArray &name, const QByteArray &path, qint64 &bytes);
    std::optional<EntryFailure> makeDirectory(archive_entry *entry, const QByteArrayList &components);
    std::optional<EntryFailure> makeSymlink(archive_entry *entry, int parent, const QByteArray &name,
                                            const QByteArray &path);
    std::optional<EntryFailure> makeFifo(archive_entry *entry, int parent, const QByteArray &name,
                                         const QByteArray &path);
    std::optional<EntryFailure> makeHardLink(archive_entry *entry, int parent, const QByteArray &name,
                                             const QByteArray &path);
    std::optional<EntryFailure> setMetadata(int fd, archive_entry *entry, const QByteArray &path);
    void markWritten(const QByteArrayList &components);

    int m_root;
    bool m_chown;   // as root: the entries' owners are kept
    // Every path this layer wrote, and their parents: what its whiteouts must not remove.
    QSet<QByteArray> m_written;
    QHash<QByteArray, DirectoryMetadata> m_directories;
};

} // namespace Sandflow::Internal
