// A program that creates one local sandbox, prints its id and then waits to be killed:
// a runner that crashes, for the tests of `sandflow gc`.
#include "localrunner.h"

#include <QCoreApplication>

#include <cstdio>

using namespace Sandflow;

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (argc != 4) {
        std::fprintf(stderr, "usage: sandboxholder AGENT STATE_DIR RUN_ID\n");
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
    QObject::connect(job, &AsyncJob::finished, &app, [job] {
        std::printf("%s\n", job->error() ? "error" : qPrintable(job->result().id));
        std::fflush(stdout);
    });
    job->start();
    return app.exec();
}
