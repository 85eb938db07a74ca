#include "layerunpacker.h"

#include "layerapplier_p.h"

#include <QFile>

#include <archive.h>
#include <archive_entry.h>

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace Sandflow {

using namespace Qt::StringLiterals;
using namespace Sandflow::Internal;
using Reason = LayerUnpackError::Reason;

namespace {

// Entry names come from the layer: they are shown through printable(), so that a name
// cannot rewrite the terminal that shows the message.
LayerUnpackError layerError(const ImageLayer &layer, Reason reason, const QByteArray &entry, const QString &text)
{
    QString message = u"layer %1: "_s.arg(layer.displayName());
    if (!entry.isNull())
        message += u"entry \"%1\": "_s.arg(printable(entry));
    if (reason == Reason::Refused)
        message += u"refused: "_s;
    message += text;
    return {reason, layer.displayName(), entry.isNull() ? QString() : printable(entry), message};
}

struct ArchiveDeleter
{
    void operator()(archive *reader) const { archive_read_free(reader); }
};

} // namespace

std::optional<LayerUnpackError> unpackLayer(const ImageLayer &layer, int rootFd, LayerUnpackStats &stats,
                                            const std::atomic_bool *cancelled)
{
    const UniqueFd blob(::open(QFile::encodeName(layer.path).constData(), O_RDONLY | O_CLOEXEC));
    if (!blob.isValid())
        return layerError(layer, Reason::Failed, {}, u"cannot open the blob: %1"_s.arg(QString::fromLocal8Bit(std::strerror(errno))));

    // Tar only, plain or compressed as OCI layers may be; libarchive tells them by their
    // first bytes.
    const std::unique_ptr<archive, ArchiveDeleter> reader(archive_read_new());
    archive_read_support_format_tar(reader.get());
    archive_read_support_filter_gzip(reader.get());
    archive_read_support_filter_zstd(reader.get());
    if (archive_read_open_fd(reader.get(), blob.get(), 64 * 1024) != ARCHIVE_OK)
        return layerError(layer, Reason::Unreadable, {}, u"not a tar archive: %1"_s.arg(QString::fromUtf8(archive_error_string(reader.get()))));

    LayerApplier applier(rootFd);
    QByteArray previous;
    for (;;) {
        if (cancelled && *cancelled)
            return layerError(layer, Reason::Cancelled, {}, u"cancelled"_s);
        archive_entry *entry = nullptr;
        const int status = archive_read_next_header(reader.get(), &entry);
        if (status == ARCHIVE_EOF)
            break;
        if (status < ARCHIVE_WARN) {
            const QString where = previous.isNull() ? u"at its start"_s : u"after entry \"%1\""_s.arg(printable(previous));
            return layerError(layer, Reason::Unreadable, {}, u"not a readable tar archive %1: %2"_s
                              .arg(where, QString::fromUtf8(archive_error_string(reader.get()))));
        }
        const char *name = entryPathname(entry);
        previous = QByteArray(name ? name : "");
        if (auto failure = applier.apply(reader.get(), entry, stats.bytes))
            return layerError(layer, failure->reason, previous, failure->text);
        ++stats.entries;
    }
    if (auto failure = applier.finish())
        return layerError(layer, failure->reason, failure->entry, failure->text);
    ++stats.layers;
    return std::nullopt;
}

std::optional<LayerUnpackError> unpackLayers(const QList<ImageLayer> &layers, const QString &rootDirectory,
                                             LayerUnpackStats &stats, const std::atomic_bool *cancelled)
{
    const UniqueFd root(::open(QFile::encodeName(rootDirectory).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root.isValid()) {
        return LayerUnpackError{Reason::Failed, {}, {}, u"cannot open the root directory %1: %2"_s
                                .arg(rootDirectory, QString::fromLocal8Bit(std::strerror(errno)))};
    }
    for (const ImageLayer &layer : layers) {
        if (auto error = unpackLayer(layer, root.get(), stats, cancelled))
            return error;
    }
    return std::nullopt;
}

} // namespace Sandflow
