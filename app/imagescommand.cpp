// `sandflow images`: the local runner's image store. Pull an image ahead of a run, import one
// from an OCI layout or a `docker save` archive under a name, list, forget and prune.
#include "command.h"
#include "imageoptions.h"
#include "imageimport_p.h"
#include "imagereference.h"
#include "imagestore.h"
#include "localrunner.h"
#include "provideimagejob.h"
#include "texttable.h"

#include <QEventLoop>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QtConcurrent/QtConcurrentRun>

#include <unistd.h>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

namespace {

QString sizeText(qint64 bytes)
{
    return QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}

ImageStore storeOf(const QCommandLineParser &parser)
{
    return ImageStore(ImageStore::directoryIn(stateDirectory(parser)));
}

std::optional<ImageReference> parseReference(const QString &text, const QString &where, const Terminal &terminal)
{
    QString error;
    std::optional<ImageReference> reference = ImageReference::parse(text, &error);
    if (!reference)
        terminal.err(u"sandflow images %1: %2\n"_s.arg(where, error));
    return reference;
}

// Pulled and unpacked, as a run would: the first sandbox of it then starts at once.
int pull(const QCommandLineParser &parser, const Terminal &terminal)
{
    const std::optional<ImageReference> reference = parseReference(parser.positionalArguments().at(0), u"pull"_s, terminal);
    if (!reference)
        return ExitUsage;
    ImageSettings settings{ImageStore::directoryIn(stateDirectory(parser)), PullPolicy::Always, {}};
    if (QString error; !applyRegistryOptions(parser, &settings.pullOptions, &error)) {
        terminal.err(u"sandflow images pull: %1\n"_s.arg(error));
        return ExitUsage;
    }
    ProvideImageJob job(*reference, settings);
    job.setAutoDelete(false);
    const bool live = ::isatty(STDERR_FILENO) != 0;
    int layersSaid = 0;
    QObject::connect(&job, &ProvideImageJob::progress, &job,
                     [&](qint64 bytesDone, qint64 bytesTotal, int layersDone, int layersTotal) {
                         const QString line = u"%1: %2 of %3, %4 of %5 layers"_s.arg(
                             reference->canonical(), sizeText(bytesDone), sizeText(bytesTotal))
                                                  .arg(layersDone).arg(layersTotal);
                         // On a terminal the line is rewritten in place; elsewhere one line a layer.
                         if (live) {
                             terminal.err(u"\r\x1b[K"_s + line);
                         } else if (layersDone > layersSaid) {
                             layersSaid = layersDone;
                             terminal.err(line + u'\n');
                         }
                     });
    QEventLoop loop;
    QObject::connect(&job, &AsyncJob::finished, &loop, &QEventLoop::quit);
    job.start();
    loop.exec();
    if (live)
        terminal.err(u"\r\x1b[K"_s);
    if (job.error()) {
        terminal.err(u"sandflow images pull: %1\n"_s.arg(job.error()->message));
        return ExitFailure;
    }
    terminal.out(u"%1 %2\n"_s.arg(job.result().image.reference, job.result().image.manifestDigest));
    return ExitSuccess;
}

// SOURCE as written: `oci-layout:DIR[:TAG]`, `docker-archive:FILE`, or a bare path (a
// directory is a layout, a file an archive).
std::optional<ImageReference> importSource(const QString &text, const Terminal &terminal)
{
    if (text.startsWith(u"oci-layout:"_s) || text.startsWith(u"docker-archive:"_s))
        return parseReference(text, u"import"_s, terminal);
    const QFileInfo info(text);
    if (!info.exists()) {
        terminal.err(u"sandflow images import: `%1` does not exist\n"_s.arg(text));
        return std::nullopt;
    }
    ImageReference source;
    source.source = info.isDir() ? ImageReference::Source::OciLayout : ImageReference::Source::DockerArchive;
    source.path = info.absoluteFilePath();
    return source;
}

int import(const QCommandLineParser &parser, const Terminal &terminal)
{
    const std::optional<ImageReference> source = importSource(parser.positionalArguments().at(0), terminal);
    const std::optional<ImageReference> name =
        source ? parseReference(parser.positionalArguments().at(1), u"import"_s, terminal) : std::nullopt;
    if (!name)
        return ExitUsage;
    if (name->source != ImageReference::Source::Registry) {
        terminal.err(u"sandflow images import: the name is a reference such as `tools/builder:1`, not `%1`\n"_s
                         .arg(parser.positionalArguments().at(1)));
        return ExitUsage;
    }
    // Hashing every blob of a large image takes a while: on the pool, not the event loop.
    QFutureWatcher<std::pair<std::optional<StoredImage>, QString>> watcher;
    QEventLoop loop;
    QObject::connect(&watcher, &QFutureWatcherBase::finished, &loop, &QEventLoop::quit);
    watcher.setFuture(QtConcurrent::run([store = storeOf(parser), source = *source, name = name->canonical()] {
        QString error;
        bool busy = false;
        // Not while a prune works, which would take the blobs before they are recorded.
        const Internal::UniqueFd hold = store.writeHold(true, &busy, &error);
        std::optional<StoredImage> image = hold.isValid() ? Internal::importImage(store, source, name, &error)
                                                          : std::nullopt;
        return std::make_pair(image, error);
    }));
    loop.exec();
    const auto [image, error] = watcher.result();
    if (!image) {
        terminal.err(u"sandflow images import: %1\n"_s.arg(error));
        return ExitFailure;
    }
    terminal.out(u"%1 %2\n"_s.arg(image->reference, sizeText(image->size())));
    return ExitSuccess;
}

int list(const QCommandLineParser &parser, const Terminal &terminal)
{
    const QList<StoredImage> images = storeOf(parser).images();
    if (parser.isSet(u"json"_s)) {
        QJsonArray array;
        for (const StoredImage &image : images)
            array.append(QJsonObject{{u"reference"_s, image.reference}, {u"manifest"_s, image.manifestDigest},
                                     {u"config"_s, image.config.digest}, {u"size"_s, image.size()},
                                     {u"layers"_s, image.layers.size()},
                                     {u"storedAt"_s, image.storedAt.toString(Qt::ISODate)}});
        terminal.out(QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Indented)));
        return ExitSuccess;
    }
    if (images.isEmpty()) {
        terminal.out(u"No images.\n"_s);
        return ExitSuccess;
    }
    QList<QStringList> rows{{u"REFERENCE"_s, u"ID"_s, u"SIZE"_s, u"STORED"_s}};
    for (const StoredImage &image : images)
        rows.append({image.reference, image.config.digest.mid(7, 12), sizeText(image.size()),
                     formatLocalTime(image.storedAt.toLocalTime())});
    terminal.out(formatTable(rows));
    return ExitSuccess;
}

int remove(const QCommandLineParser &parser, const Terminal &terminal)
{
    const ImageStore store = storeOf(parser);
    int status = ExitSuccess;
    for (const QString &text : parser.positionalArguments()) {
        const std::optional<ImageReference> reference = parseReference(text, u"rm"_s, terminal);
        if (!reference)
            return ExitUsage;
        if (store.remove(reference->canonical())) {
            terminal.out(u"removed %1\n"_s.arg(reference->canonical()));
        } else {
            terminal.err(u"sandflow images rm: the store has no image %1\n"_s.arg(reference->canonical()));
            status = ExitFailure;
        }
    }
    return status;
}

int prune(const QCommandLineParser &parser, const Terminal &terminal)
{
    const ImagePruneStats stats = storeOf(parser).prune();
    terminal.out(u"%1 blob(s) and %2 unpacked root(s) removed, %3 freed\n"_s.arg(stats.blobs).arg(stats.roots)
                     .arg(sizeText(stats.bytes)));
    return ExitSuccess;
}

QList<ExitStatus> plainStatuses(const QString &failure = {})
{
    QList<ExitStatus> statuses{exitStatus(ExitSuccess, u"Done"_s), exitStatus(ExitUsage, u"A wrong option or reference"_s)};
    if (!failure.isEmpty())
        statuses.insert(1, exitStatus(ExitFailure, failure));
    return statuses;
}

} // namespace

CommandGroup imagesGroup()
{
    return {u"images"_s,
            u"Manage the local runner's images"_s,
            u"The local runner keeps the images its sandboxes run in under its state directory: each blob\n"
            u"once, shared by every run, and each image unpacked once. Runs pull what they miss; these\n"
            u"commands pull ahead, import images from files, and free the space."_s,
            {stateDirOption()},
            {{u"pull"_s, u"IMAGE"_s, u"Pull an image and unpack it"_s,
              u"Pulls IMAGE (e.g. debian:12, 127.0.0.1:5000/team/tool:1) from its registry into the store, and\n"
              u"unpacks it, so that the first sandbox of it starts at once. Pulls show progress on a terminal."_s,
              registryOptions(), 1, 1, pull, plainStatuses(u"The image could not be pulled"_s)},
             {u"import"_s, u"SOURCE NAME"_s, u"Store an OCI layout or a docker save archive under a name"_s,
              u"Copies the image of SOURCE (oci-layout:DIR[:TAG], docker-archive:FILE, or a directory or file)\n"
              u"into the store under NAME, which workflows then use as their `image`."_s,
              {}, 2, 2, import, plainStatuses(u"The source could not be read or is no valid image"_s)},
             {u"ls"_s, {}, u"List the stored images"_s, u"Lists the references the store holds."_s,
              {QCommandLineOption(u"json"_s, u"Print JSON"_s)}, 0, 0, list, plainStatuses()},
             {u"rm"_s, u"IMAGE..."_s, u"Forget images"_s,
              u"Forgets the references; `prune` then frees what no other reference uses."_s,
              {}, 1, -1, remove, plainStatuses(u"The store has no such image"_s)},
             {u"prune"_s, {}, u"Free what no image uses"_s,
              u"Removes blobs and unpacked roots no reference names (a root stays while a sandbox uses it),\n"
              u"and what interrupted pulls left."_s,
              {}, 0, 0, prune, plainStatuses()}}};
}

} // namespace Sandflow::Cli
