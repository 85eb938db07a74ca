// A C++ program using Sandflow's OpenSandbox client as an SDK, against any OpenSandbox
// server (`sandflow serve` is one):
//
//   OPEN_SANDBOX_DOMAIN=127.0.0.1:8080 OPEN_SANDBOX_API_KEY=... opensandbox-client FILE [COMMAND]
//
// It creates a sandbox, runs COMMAND in it with the output shown as it arrives, uploads FILE,
// downloads it back and compares, and deletes the sandbox: after a failure too, and on
// Ctrl-C. Exit status: 0 when every step worked, 1 when one failed, 130 after Ctrl-C.
//
// Every client operation is an AsyncJob: made, connected to, started; it reports once, with
// `finished`, and deletes itself afterwards. Nothing here waits: main() runs the event loop,
// and each step starts the next from the previous one's `finished`.
#include "opensandboxclient.h"

#include <QBuffer>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QPointer>
#include <QSocketNotifier>

#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

using namespace Sandflow;
using namespace Qt::StringLiterals;

namespace {

constexpr int ExitFailure = 1;
constexpr int ExitInterrupted = 130;

void print(FILE *stream, const QString &line)
{
    std::fputs(qPrintable(u"opensandbox-client: "_s + line + u'\n'), stream);
    std::fflush(stream);
}

/// The whole session with one sandbox. A QObject only to be the context of the connections,
/// so that none outlives it.
class SandboxSession final : public QObject
{
public:
    SandboxSession(OpenSandboxClient &client, QString image, QString command, QString localFile)
        : m_client(client)
        , m_image(std::move(image))
        , m_command(std::move(command))
        , m_localFile(std::move(localFile))
        , m_pathInSandbox(u"/tmp/"_s + QFileInfo(m_localFile).fileName())
    {
    }

    void start()
    {
        if (m_interrupted)
            return QCoreApplication::exit(m_status);   // Ctrl-C came before anything began
        print(stdout, u"creating a sandbox at %1"_s.arg(m_client.config().serverAddress()));
        // By default the job finishes once the sandbox's execd answers, so commands can run.
        OpenSandboxCreateRequest request;
        request.image = m_image;
        request.metadata = {{u"created-by"_s, u"opensandbox-client-example"_s}};
        step(m_client.createSandbox(request), u"creating the sandbox"_s, [this](OpenSandboxCreateJob *job) {
            m_sandboxId = job->result().id;
            print(stdout, u"sandbox %1 is %2"_s.arg(m_sandboxId, sandboxStateName(job->result().state)));
            // Commands and files go to the sandbox's execd, at the endpoint the server handed
            // out for it (a later program would ask for it with m_client.endpoint(id)).
            m_execd = job->execd();
            runCommand();
        });
    }

    /// Ctrl-C: the first stops the current step (a running command is interrupted on the
    /// server) and deletes the sandbox; a second one quits without waiting for that.
    void interrupt()
    {
        if (m_interrupted) {
            QString line = u"interrupted again: quitting without waiting"_s;
            if (!m_sandboxId.isEmpty())
                line += u"; sandbox %1 stays until its timeout (`sandflow sandbox rm %1` deletes it)"_s.arg(m_sandboxId);
            print(stderr, line);
            return QCoreApplication::exit(ExitInterrupted);
        }
        m_interrupted = true;
        m_status = ExitInterrupted;
        print(stderr, u"interrupted: stopping and deleting the sandbox (Ctrl-C again to quit at once)"_s);
        // The creation is let finish: cancelled while its request is under way, the server
        // may make the sandbox all the same, and nobody would know its id to delete it. The
        // deletion is let finish too. Any other step is cancelled: it finishes with a
        // Cancelled error, and the failure path deletes the sandbox.
        if (m_current && !m_sandboxId.isEmpty() && !m_deleting)
            m_current->cancel();
    }

private:
    /// Starts `job`; when it succeeds, `next(job)` goes on; when it fails, the sandbox is
    /// deleted and the program ends.
    template <typename Job, typename Next>
    void step(Job *job, const QString &what, Next next)
    {
        if (m_interrupted) {
            // Ctrl-C came during a step that was let finish: go no further.
            delete job;
            print(stderr, u"stopped before %1"_s.arg(what));
            return deleteSandbox();
        }
        m_current = job;
        connect(job, &AsyncJob::finished, this, [this, job, what, next] {
            m_current = nullptr;
            if (job->error())
                return fail(what, *job->error());
            next(job);
        });
        job->start();
    }

    void runCommand()
    {
        print(stdout, u"running `%1`"_s.arg(m_command));
        CommandRequest request;
        request.command = m_command;
        CommandJob *job = m_client.runCommand(m_execd, request);
        // Output comes a line at a time as the command writes it, not at the end.
        connect(job, &CommandJob::output, this, [](CommandJob::Stream stream, const QByteArray &data) {
            FILE *to = stream == CommandJob::Stream::Stdout ? stdout : stderr;
            std::fwrite(data.constData(), 1, size_t(data.size()), to);
            std::fflush(to);
        });
        step(job, u"running the command"_s, [this](CommandJob *) {
            print(stdout, u"the command exited with status 0"_s);
            upload();
        });
    }

    void upload()
    {
        // Read from disk as it is sent: the file need not fit in memory.
        step(m_client.uploadFile(m_execd, m_localFile, m_pathInSandbox, {}), u"uploading %1"_s.arg(m_localFile),
             [this](AsyncJob *) {
                 print(stdout, u"uploaded %1 (%2 bytes) to %3"_s.arg(m_localFile).arg(QFileInfo(m_localFile).size())
                                   .arg(m_pathInSandbox));
                 download();
             });
    }

    void download()
    {
        // Any open QIODevice will do: a QFile to save it, here a buffer to compare it.
        m_downloaded.open(QIODevice::WriteOnly);
        step(m_client.downloadFile(m_execd, m_pathInSandbox, &m_downloaded), u"downloading %1"_s.arg(m_pathInSandbox),
             [this](AsyncJob *) {
                 QFile original(m_localFile);
                 if (!original.open(QIODevice::ReadOnly) || original.readAll() != m_downloaded.data()) {
                     print(stderr, u"%1 came back different from %2"_s.arg(m_pathInSandbox, m_localFile));
                     m_status = ExitFailure;
                     return deleteSandbox();
                 }
                 print(stdout, u"downloaded %1 back: %2 bytes, the same as uploaded"_s.arg(m_pathInSandbox)
                                   .arg(m_downloaded.size()));
                 deleteSandbox();
             });
    }

    void fail(const QString &what, const JobError &error)
    {
        if (m_interrupted && error.kind == JobError::Kind::Cancelled) {
            print(stderr, u"stopped while %1"_s.arg(what));
        } else {
            print(stderr, u"%1 failed: %2"_s.arg(what, error.message));
            explain(error);
            if (!m_interrupted)
                m_status = ExitFailure;
        }
        deleteSandbox();
    }

    /// What to do about a failure, from the HTTP details the client keeps with each error.
    void explain(const JobError &error) const
    {
        const OpenSandboxErrorDetails details = OpenSandboxErrorDetails::of(error);
        if (details.connectionRefused && !details.execd)
            print(stderr, u"nothing listens at %1: start a server (e.g. `sandflow serve`) or point "
                          "OPEN_SANDBOX_DOMAIN at one"_s.arg(m_client.config().serverAddress()));
        else if (details.status == 401 && !details.execd)
            print(stderr, u"the server wants a valid API key in OPEN_SANDBOX_API_KEY"_s);
        else if (details.status >= 500 && !details.requestId.isEmpty())
            print(stderr, u"the server's log has the details under request id %1"_s.arg(details.requestId));
    }

    void deleteSandbox()
    {
        // Nothing to delete when creation failed or was cancelled: the create job removes
        // a sandbox it made but could not finish.
        if (m_sandboxId.isEmpty())
            return QCoreApplication::exit(m_status);
        m_deleting = true;
        AsyncJob *job = m_client.deleteSandbox(m_sandboxId);
        m_current = job;
        connect(job, &AsyncJob::finished, this, [this, job] {
            if (job->error()) {
                print(stderr, u"deleting sandbox %1 failed: %2"_s.arg(m_sandboxId, job->error()->message));
                explain(*job->error());
                print(stderr, u"it is left on the server until its timeout; delete it with "
                              "`sandflow sandbox rm %1`"_s.arg(m_sandboxId));
                m_status = m_interrupted ? ExitInterrupted : ExitFailure;
            } else {
                print(stdout, u"sandbox %1 deleted"_s.arg(m_sandboxId));
            }
            QCoreApplication::exit(m_status);
        });
        job->start();
    }

    OpenSandboxClient &m_client;
    const QString m_image;
    const QString m_command;
    const QString m_localFile;
    const QString m_pathInSandbox;
    QString m_sandboxId;            // set once the sandbox exists
    OpenSandboxEndpoint m_execd;
    QBuffer m_downloaded;
    QPointer<AsyncJob> m_current;   // the step under way, for Ctrl-C
    bool m_deleting = false;
    bool m_interrupted = false;
    int m_status = 0;
};

} // namespace

int main(int argc, char *argv[])
{
    // Ctrl-C and SIGTERM are read from a signalfd by the event loop instead of interrupting
    // whatever runs. They are blocked first, before any thread starts, so that every thread
    // inherits the mask and none of them takes the signal.
    sigset_t interrupts;
    sigemptyset(&interrupts);
    sigaddset(&interrupts, SIGINT);
    sigaddset(&interrupts, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &interrupts, nullptr);
    const int interruptFd = signalfd(-1, &interrupts, SFD_NONBLOCK | SFD_CLOEXEC);

    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(
        u"Creates a sandbox on the OpenSandbox server at $OPEN_SANDBOX_DOMAIN (with the key in "
        "$OPEN_SANDBOX_API_KEY), runs COMMAND in it, uploads FILE and downloads it back, and "
        "deletes the sandbox."_s);
    parser.addHelpOption();
    parser.addOption({u"image"_s, u"The sandbox's container image (default: debian:12)."_s, u"image"_s, u"debian:12"_s});
    parser.addPositionalArgument(u"FILE"_s, u"A local file to upload and download back."_s);
    parser.addPositionalArgument(u"COMMAND"_s, u"A shell command line to run (default: uname -a)."_s, u"[COMMAND]"_s);
    parser.process(app);
    const QStringList arguments = parser.positionalArguments();
    if (arguments.isEmpty() || arguments.size() > 2) {
        print(stderr, u"usage: opensandbox-client [--image IMAGE] FILE [COMMAND]"_s);
        return 2;
    }
    if (!QFileInfo(arguments.at(0)).isFile()) {
        print(stderr, u"%1 is not a file"_s.arg(arguments.at(0)));
        return 2;
    }

    // OPEN_SANDBOX_DOMAIN (default localhost:8080) and OPEN_SANDBOX_API_KEY, as the
    // official SDKs read them. The client must outlive every job it made.
    OpenSandboxClient client(OpenSandboxConfig::fromEnvironment());
    SandboxSession session(client, parser.value(u"image"_s), arguments.value(1, u"uname -a"_s), arguments.at(0));

    QSocketNotifier interruptNotifier(interruptFd, QSocketNotifier::Read);
    QObject::connect(&interruptNotifier, &QSocketNotifier::activated, &session, [&] {
        signalfd_siginfo signal;
        while (::read(interruptFd, &signal, sizeof signal) == sizeof signal)
            session.interrupt();
    });

    // Started from the event loop, so that even a job failing at once finds it running.
    QMetaObject::invokeMethod(&session, [&] { session.start(); }, Qt::QueuedConnection);
    const int status = app.exec();
    ::close(interruptFd);
    return status;
}
