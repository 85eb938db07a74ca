// Local sandboxes of an image against the peers, measured in the same run:
//   1. one at a time: create until ready, run `echo`, delete, from an image already in the
//      store under its name (as a pull or `sandflow images import` leaves it), against a bare
//      bwrap start of the same unpacked root running the same `echo`, and against
//      `podman run --rm` of the same image (imported from the same layer);
//   2. what an idle sandbox of the image costs, its writable layer included: PSS of its
//      processes (bwrap and the agent), against a bare bwrap over the same root running
//      `sleep infinity`.
// The sides take turns over several rounds (rounds.h). Exits non-zero, without figures, when
// any sandbox, command or start failed; podman's side is left out, with the reason, where
// podman is not installed. Prints figures; not a test.
#include "imageimport_p.h"
#include "imagestore.h"
#include "localrunner.h"
#include "localsandbox_p.h"
#include "ocilayoutwriter.h"
#include "processmemory.h"
#include "rounds.h"
#include "runnercycles.h"
#include "sandboxlayout_p.h"

#include <QCoreApplication>
#include <QDir>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <cstdio>

using namespace Sandflow;
using namespace Qt::StringLiterals;

namespace {

constexpr int Runs = 20;
constexpr char PodmanImage[] = "localhost/sandflow-bench:1";
// Where the sandboxes find the image: in the store, under the name it was imported as.
constexpr char StoredName[] = "sandflow-bench/image:1";
const QString Echo = u"echo hello"_s;

// podman as peer-tools.md says it runs here: runc, and limits within the hard ones.
QStringList podmanRun(const QStringList &command)
{
    return QStringList{u"run"_s, u"--rm"_s, u"--runtime"_s, u"runc"_s, u"--ulimit"_s, u"nofile=1024:1024"_s,
                       u"--ulimit"_s, u"nproc=1024:1024"_s, u"--network"_s, u"none"_s, QString::fromLatin1(PodmanImage)}
           + command;
}

/// Runs `program` to its end; the error, when it failed.
QString runToEnd(const QString &program, const QStringList &arguments)
{
    QProcess process;
    process.start(program, arguments);
    if (!process.waitForFinished(120'000) || process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0)
        return program + u": "_s + QString::fromUtf8(process.readAllStandardError()).trimmed();
    return {};
}

/// The bare side: the unpacked root as `/`, read-only, fresh namespaces, no agent.
QStringList bareArguments(const QString &root, const QStringList &command)
{
    return QStringList{u"--unshare-all"_s, u"--die-with-parent"_s, u"--ro-bind"_s, root, u"/"_s,
                       u"--proc"_s,       u"/proc"_s,             u"--dev"_s,     u"/dev"_s, u"--"_s}
           + command;
}

double timedMs(const std::function<void()> &work)
{
    QElapsedTimer clock;
    clock.start();
    work();
    return double(clock.nsecsElapsed()) / 1e6;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QTemporaryDir scratch;
    Bench::Errors errors;
    // The image: a shell and coreutils from this machine, one layer, as an OCI layout and as
    // the tar podman imports.
    LayerWriter layer = OciLayoutWriter::hostProgramsLayer({u"/bin/sh"_s, u"/bin/echo"_s, u"/bin/sleep"_s,
                                                            u"/bin/true"_s, u"/bin/ls"_s, u"/bin/cat"_s});
    // Mount points, as every image has them: the bare side binds the root read-only.
    layer.directory("proc").directory("dev").directory("tmp", 01777);
    OciLayoutWriter layout(scratch.filePath(u"layout"_s));
    if (!layout.add(u"1"_s, {{layer}, {}, {}, {}, {}, {}}) || !layer.write(scratch.filePath(u"rootfs.tar"_s))) {
        std::fprintf(stderr, "bench_images: cannot write the image\n");
        return 1;
    }
    LocalRunner::Options options;
    options.agentPath = QStringLiteral(SANDFLOW_AGENT_PATH);
    options.stateDirectory = scratch.filePath(u"state"_s);
    // The image is stored, under its name, before the first sandbox: nothing is ever pulled.
    options.pull = PullPolicy::Never;
    QString error;
    ImageReference source;
    source.source = ImageReference::Source::OciLayout;
    source.path = layout.directory();
    source.tag = u"1"_s;
    const std::optional<ImageReference> name = ImageReference::parse(QString::fromLatin1(StoredName), &error);
    if (!name
        || !Internal::importImage(ImageStore(ImageStore::directoryIn(options.stateDirectory)), source, name->canonical(), &error)) {
        std::fprintf(stderr, "bench_images: cannot store the image: %s\n", qPrintable(error));
        return 1;
    }
    LocalRunner runner(options);
    SandboxRequest request;
    request.image = QString::fromLatin1(StoredName);
    const auto sandboxCycle = [&] {
        return timedMs([&] {
            Bench::runConcurrently(1, 1, [&](std::function<void()> done) {
                Bench::sandboxCycle(&runner, Echo, errors, done, request);
            });
        });
    };
    // The first cycle unpacks the image: what follows measures one ready to use.
    sandboxCycle();
    const QStringList roots = QDir(options.stateDirectory + u"/images/roots"_s).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    if (errors.report("bench_images") || roots.size() != 1)
        return 1;
    const QString root = options.stateDirectory + u"/images/roots/"_s + roots.first();
    const QString bwrap = Internal::bwrapProgram();
    const auto bareCycle = [&] {
        return timedMs([&] {
            if (const QString error = runToEnd(bwrap, bareArguments(root, {u"/bin/sh"_s, u"-c"_s, Echo})); !error.isEmpty())
                errors.add(error);
        });
    };
    const Bench::Rounds againstBare = Bench::alternate(Runs, bareCycle, sandboxCycle);

    const QString podman = QStandardPaths::findExecutable(u"podman"_s);
    QString podmanMissing = podman.isEmpty() ? u"podman is not installed (Debian package podman)"_s : QString();
    if (podmanMissing.isEmpty())
        podmanMissing = runToEnd(podman, {u"import"_s, scratch.filePath(u"rootfs.tar"_s), QString::fromLatin1(PodmanImage)});
    Bench::Rounds againstPodman;
    if (podmanMissing.isEmpty()) {
        const auto podmanCycle = [&] {
            return timedMs([&] {
                if (const QString error = runToEnd(podman, podmanRun({u"/bin/sh"_s, u"-c"_s, Echo})); !error.isEmpty())
                    errors.add(error);
            });
        };
        againstPodman = Bench::alternate(Runs / 2, podmanCycle, sandboxCycle);
        runToEnd(podman, {u"rmi"_s, QString::fromLatin1(PodmanImage)});
    }

    // One idle sandbox of the image and one idle bare bwrap over its root, up at once.
    const QString id = Bench::createAndWait(&runner, request, errors);
    if (errors.report("bench_images"))
        return 1;
    QProcess idleBare;
    idleBare.start(bwrap, bareArguments(root, {u"/bin/sleep"_s, u"infinity"_s}));
    if (!idleBare.waitForStarted() || !Bench::waitForProcess(idleBare.processId(), "sleep")) {
        std::fprintf(stderr, "bench_images: the bare bwrap running `sleep infinity` did not start: %s\n",
                     idleBare.readAllStandardError().constData());
        return 1;
    }
    const Bench::TreePss idleSandbox = Bench::treePss(runner.find(id)->agent().processId());
    const Bench::TreePss idleBaseline = Bench::treePss(idleBare.processId());
    idleBare.kill();
    idleBare.waitForFinished();
    Bench::waitFor(runner.deleteSandbox(id));
    if (errors.report("bench_images"))
        return 1;

    std::printf("bench_images: the sides of each figure in alternating order, after one untimed run of each; medians\n");
    std::printf("one at a time, an image already stored and unpacked, %d runs of each\n", Runs);
    Bench::printComparison(againstBare, "ms", "baseline, bare bwrap over the same root, `echo`:",
                           "sandbox create-to-ready + echo + delete:");
    if (podmanMissing.isEmpty()) {
        std::printf("against podman, %d runs of each\n", Runs / 2);
        Bench::printComparison(againstPodman, "ms", "baseline, podman run --rm of the same image, `echo`:",
                               "sandbox create-to-ready + echo + delete:");
    } else {
        std::printf("against podman: left out: %s\n", qPrintable(podmanMissing));
    }
    std::printf("idle, PSS summed over the process tree\n");
    std::printf("  baseline, bare bwrap over the root running `sleep infinity`: %9lld kB   (%s)\n", idleBaseline.totalKb,
                qPrintable(idleBaseline.parts));
    std::printf("  idle sandbox of the image, writable layer included:         %9lld kB   (%s)\n", idleSandbox.totalKb,
                qPrintable(idleSandbox.parts));
    return 0;
}
