// A program that creates one local sandbox (and pauses it, with `paused`), prints its id and
// then waits to be killed: a runner that crashes, for the tests of `sandflow gc`.
#include "localrunner.h"

#include <QCoreApplication>

#include <cstdio>

using namespace Sandflow;

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const bool pause = argc == 5 && qstrcmp(argv[4], "paused") == 0;
    if (argc != 4 && !pause) {
        std::fprintf(stderr, "usage: sandboxholder AGENT STATE_DIR RUN_ID [paused]\n");
        return 2;
    }
    LocalRunner::Options options;
    options.agentPath = QString::fromLocal8Bit(argv[1]);
    options.stateDirectory = QString::fromLocal8Bit(argv[2]);
    options.runId = QString::fromLocal8Bit(argv[3]);
    LocalRunner runner(options);
    SandboxRequest request;
    request.memoryBytes = 256 << 20;
    SandboxJob *job = runner.createSandbox(request);
    const auto say = [](const QString &line) {
        std::printf("%s\n", qPrintable(line));
        std::fflush(stdout);
    };
    QObject::connect(job, &AsyncJob::finished, &app, [job, pause, say, &runner] {
        if (job->error() || !pause)
            return say(job->error() ? QStringLiteral("error") : job->result().id);
        AsyncJob *pausing = runner.pauseSandbox(job->result().id);
        QObject::connect(pausing, &AsyncJob::finished, pausing, [pausing, id = job->result().id, say] {
            say(pausing->error() ? QStringLiteral("error") : id);
        });
        pausing->start();
    });
    job->start();
    return app.exec();
}
