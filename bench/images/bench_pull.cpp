// One pull with PullImageJob, timed: the Sandflow side of pull-bench.
//
//   bench_pull REFERENCE STORE_DIRECTORY
//
// Prints "pulled BYTES bytes in SECONDS s" and exits 0, or prints the error and exits 1.
#include "pullimagejob.h"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <cstdio>

using namespace Sandflow;

int main(int argc, char **argv)
{
    QCoreApplication application(argc, argv);
    const QStringList arguments = application.arguments();
    if (arguments.size() != 3) {
        std::fprintf(stderr, "usage: bench_pull REFERENCE STORE_DIRECTORY\n");
        return 2;
    }
    QString error;
    const std::optional<ImageReference> reference = ImageReference::parse(arguments.at(1), &error);
    if (!reference) {
        std::fprintf(stderr, "bench_pull: %s\n", qPrintable(error));
        return 2;
    }
    PullImageJob job(*reference, arguments.at(2));
    job.setAutoDelete(false);
    qint64 bytes = 0;
    QObject::connect(&job, &PullImageJob::progress, [&bytes](qint64 done, qint64, int, int) { bytes = done; });
    QElapsedTimer clock;
    QObject::connect(&job, &AsyncJob::finished, &application, [&] {
        if (job.error()) {
            std::fprintf(stderr, "bench_pull: %s\n", qPrintable(job.error()->message));
            QCoreApplication::exit(1);
            return;
        }
        std::printf("pulled %lld bytes in %.3f s\n", static_cast<long long>(bytes), double(clock.nsecsElapsed()) / 1e9);
        QCoreApplication::exit(0);
    });
    clock.start();
    job.start();
    return application.exec();
}
