// Writes real layer blobs for the tests: tar archives, plain, gzip or zstd, with whatever
// names and types a hostile layer could hold, through libarchive's writer.
#pragma once

#include <QByteArray>
#include <QList>
#include <QMetaType>
#include <QString>

#include <archive.h>
#include <archive_entry.h>

#include <sys/sysmacros.h>

#include <memory>

class LayerWriter
{
public:
    enum class Compression { None, Gzip, Zstd };

    static constexpr time_t defaultTime = 1700000000;

    struct Entry
    {
        QByteArray name;
        mode_t type = AE_IFREG;
        int mode = 0644;
        QByteArray content;
        QByteArray symlink;
        QByteArray hardLink;
        int uid = 0;
        int gid = 0;
        time_t mtime = defaultTime;
    };

    LayerWriter &add(const Entry &entry)
    {
        m_entries.append(entry);
        return *this;
    }
    LayerWriter &file(const QByteArray &name, const QByteArray &content, int mode = 0644)
    {
        return add({name, AE_IFREG, mode, content, {}, {}});
    }
    LayerWriter &directory(const QByteArray &name, int mode = 0755) { return add({name, AE_IFDIR, mode, {}, {}, {}}); }
    LayerWriter &symlink(const QByteArray &name, const QByteArray &target)
    {
        return add({name, AE_IFLNK, 0777, {}, target, {}});
    }
    LayerWriter &hardLink(const QByteArray &name, const QByteArray &target)
    {
        return add({name, AE_IFREG, 0644, {}, {}, target});
    }
    LayerWriter &node(const QByteArray &name, mode_t type) { return add({name, type, 0644, {}, {}, {}}); }
    /// `.wh.NAME` beside NAME: hides NAME of the lower layers.
    LayerWriter &whiteout(const QByteArray &name)
    {
        const qsizetype slash = name.lastIndexOf('/');
        return file(name.left(slash + 1) + ".wh." + name.mid(slash + 1), {});
    }

    /// The same layer with `from` replaced by `to` in every name and link target.
    LayerWriter replaced(const QByteArray &from, const QByteArray &to) const
    {
        LayerWriter copy = *this;
        for (Entry &entry : copy.m_entries) {
            entry.name.replace(from, to);
            entry.symlink.replace(from, to);
            entry.hardLink.replace(from, to);
        }
        return copy;
    }

    /// Writes the archive to `path`; false when libarchive fails.
    bool write(const QString &path, Compression compression = Compression::None) const
    {
        const std::unique_ptr<archive, int (*)(archive *)> writer(archive_write_new(), archive_write_free);
        archive_write_set_format_pax_restricted(writer.get());
        if (compression == Compression::Gzip)
            archive_write_add_filter_gzip(writer.get());
        else if (compression == Compression::Zstd)
            archive_write_add_filter_zstd(writer.get());
        if (archive_write_open_filename(writer.get(), path.toLocal8Bit().constData()) != ARCHIVE_OK)
            return false;
        for (const Entry &entry : m_entries) {
            const std::unique_ptr<archive_entry, void (*)(archive_entry *)> header(archive_entry_new(), archive_entry_free);
            // As UTF-8, which pax headers hold, whatever the test's locale.
            archive_entry_update_pathname_utf8(header.get(), entry.name.constData());
            archive_entry_set_filetype(header.get(), entry.type);
            archive_entry_set_perm(header.get(), entry.mode);
            archive_entry_set_uid(header.get(), entry.uid);
            archive_entry_set_gid(header.get(), entry.gid);
            archive_entry_set_mtime(header.get(), entry.mtime, 0);
            if (!entry.symlink.isEmpty())
                archive_entry_update_symlink_utf8(header.get(), entry.symlink.constData());
            if (!entry.hardLink.isEmpty())
                archive_entry_update_hardlink_utf8(header.get(), entry.hardLink.constData());
            if (entry.type == AE_IFCHR || entry.type == AE_IFBLK)
                archive_entry_set_rdev(header.get(), makedev(1, 3));
            archive_entry_set_size(header.get(), entry.content.size());
            if (archive_write_header(writer.get(), header.get()) != ARCHIVE_OK)
                return false;
            if (!entry.content.isEmpty()
                && archive_write_data(writer.get(), entry.content.constData(), size_t(entry.content.size())) != entry.content.size())
                return false;
        }
        return archive_write_close(writer.get()) == ARCHIVE_OK;
    }

private:
    QList<Entry> m_entries;
};

Q_DECLARE_METATYPE(LayerWriter::Compression)
Q_DECLARE_METATYPE(QList<LayerWriter>)
