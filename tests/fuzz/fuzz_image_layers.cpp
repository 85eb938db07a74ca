// Feeds arbitrary bytes to the layer unpacker as one layer blob (a tar archive, gzip or zstd
// or neither: the unpacker tells by the first bytes) onto an empty root. A layer is hostile
// input through and through: whatever it holds, nothing may appear beside the root, and the
// sentinel file beside it must stay as it was. Errors are fine; escapes and crashes are not.
#include "fuzzrequire.h"
#include "layertree_p.h"
#include "layerunpacker.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <fcntl.h>

#include <cstddef>
#include <cstdint>

using namespace Qt::StringLiterals;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    QTemporaryDir dir;
    require(dir.isValid());
    const QString blob = dir.filePath(u"blob"_s);
    QFile blobFile(blob);
    require(blobFile.open(QIODevice::WriteOnly));
    require(blobFile.write(reinterpret_cast<const char *>(data), qint64(size)) == qint64(size));
    blobFile.close();
    require(QDir(dir.path()).mkpath(u"root"_s) && QDir(dir.path()).mkpath(u"sentinel"_s));
    QFile sentinel(dir.filePath(u"sentinel/keep"_s));
    require(sentinel.open(QIODevice::WriteOnly) && sentinel.write("kept") == 4);
    sentinel.close();

    Sandflow::LayerUnpackStats stats;
    const auto error = Sandflow::unpackLayers({{blob, u"fuzz"_s}}, dir.filePath(u"root"_s), stats);
    require(!error || !error->message.isEmpty());
    require(!error || error->reason != Sandflow::LayerUnpackError::Reason::Cancelled);

    const QDir::Filters everything = QDir::AllEntries | QDir::NoDotAndDotDot | QDir::System | QDir::Hidden;
    require(QDir(dir.path()).entryList(everything) == QStringList({u"blob"_s, u"root"_s, u"sentinel"_s}));
    require(QDir(dir.filePath(u"sentinel"_s)).entryList(everything) == QStringList({u"keep"_s}));
    require(sentinel.open(QIODevice::ReadOnly) && sentinel.readAll() == "kept");

    // The root may hold read-only directories and links anywhere: removed by descriptor.
    const Sandflow::Internal::UniqueFd base(::open(QFile::encodeName(dir.path()).constData(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    require(Sandflow::Internal::removeTree(base.get(), "root") == 0);
    return 0;
}
