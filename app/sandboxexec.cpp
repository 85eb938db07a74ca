// `sandflow sandbox exec`: a command in a sandbox, its output streamed to this terminal as
// it comes, its exit status as ours. Ctrl-C interrupts it on the server, since execd lets
// a command whose client left run on.
#include "sandboxclient.h"

#include "interruptwatcher.h"
#include "shellquote.h"
#include "units.h"

#include <QEventLoop>

#include <unistd.h>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

namespace {

/// One word is a shell command line as typed (`'echo a; exit 3'`); several are a program
/// and its arguments, quoted so that each reaches it as one argument.
QString commandLine(const QStringList &words)
{
    if (words.size() == 1)
        return words.first();
    QStringList quoted;
    for (const QString &word : words)
        quoted.append(shellQuoted(word));
    return quoted.join(u' ');
}

/// The outcome of a command job that ran: our exit status, and what to say about it.
int commandStatus(const CommandJob &job, const QString &where, const OpenSandboxConfig &config, const QString &id,
                  const Terminal &terminal)
{
    const std::optional<JobError> &error = job.error();
    if (!error)
        return ExitSuccess;
    // The command's own failure speaks through its status and its stderr.
    if (error->code == u"COMMAND_FAILED"_s && job.exitCode())
        return *job.exitCode();
    if (error->code.startsWith(u"COMMAND_"_s))
        terminal.err(u"%1: %2\n"_s.arg(where, error->message));
    else
        terminal.err(errorLine(where, *error, config, u"sandbox "_s + id));
    return ExitFailure;
}

} // namespace

int sandboxExec(const QCommandLineParser &parser, const Terminal &terminal)
{
    const QString where = u"sandflow sandbox exec"_s;
    const QStringList positional = parser.positionalArguments();
    const QString given = positional.first();
    const bool tty = parser.isSet(u"tty"_s);
    if (tty && !::isatty(STDIN_FILENO))
        return sandboxUsageError(terminal, where, u"-t wants a terminal on stdin; -i forwards piped input"_s);
    if (positional.size() < 2 && !tty)
        return sandboxUsageError(terminal, where, u"a COMMAND is needed after the id (with -t, none runs a shell)"_s);
    // Input goes to the command over execd's PTY route with -t or -i only: programs that
    // start this one often leave a pipe on its stdin that never ends, and their commands
    // would then wait for input nobody sends.
    const bool forwardInput = tty || parser.isSet(u"interactive"_s);
    CommandRequest request;
    request.command = commandLine(positional.mid(1));
    const auto env = keyValues(parser, u"env"_s, where, terminal);
    if (!env)
        return ExitUsage;
    request.env = *env;
    request.cwd = parser.value(u"cwd"_s);
    if (parser.isSet(u"timeout"_s)) {
        const std::optional<qint64> timeout = parseDuration(parser.value(u"timeout"_s));
        if (!timeout || *timeout <= 0)
            return sandboxUsageError(terminal, where, u"--timeout wants a duration such as 30s or 5m, not `%1`"_s
                                                          .arg(parser.value(u"timeout"_s)));
        request.timeoutMs = *timeout;
    }

    int exitCode = ExitSuccess;
    const std::optional<FoundSandbox> found = findSandbox(parser, given, where, terminal, &exitCode);
    if (!found)
        return exitCode;
    OpenSandboxClient client(found->server);
    const QString &id = found->id;
    std::unique_ptr<ResultJob<OpenSandboxEndpoint>> endpointJob(client.endpoint(id, ExecdPort));
    endpointJob->setAutoDelete(false);
    const Waited resolved = waitFor(endpointJob);
    if (!endpointJob || resolved.interrupted)
        return ExitInterrupted;
    if (resolved.error) {
        terminal.err(errorLine(where, *resolved.error, client.config(), u"sandbox "_s + id));
        return ExitFailure;
    }
    const OpenSandboxEndpoint execd = endpointJob->result();
    if (forwardInput) {
        TerminalRequest terminalRequest;
        terminalRequest.pty = tty;
        if (positional.size() > 1)
            terminalRequest.argv = positional.size() == 2 ? QStringList{u"sh"_s, u"-c"_s, positional.at(1)} : positional.mid(1);
        terminalRequest.cwd = request.cwd;
        terminalRequest.env = request.env;
        return execInTerminal(client, execd, id, terminalRequest, request.timeoutMs, where, terminal);
    }

    std::unique_ptr<CommandJob> job(client.runCommand(execd, request));
    job->setAutoDelete(false);
    QObject::connect(job.get(), &CommandJob::output, job.get(), [&terminal](CommandJob::Stream stream, const QByteArray &data) {
        stream == CommandJob::Stream::Stdout ? terminal.outBytes(data) : terminal.errBytes(data);
    });
    std::unique_ptr<AsyncJob> interruptJob;
    const auto interrupt = [&] {
        interruptJob.reset(client.interruptCommand(execd, job->commandId()));
        interruptJob->setAutoDelete(false);
        QObject::connect(interruptJob.get(), &AsyncJob::finished, interruptJob.get(), [&](AsyncJob *done) {
            // A command that ended meanwhile cannot be interrupted; that is no news.
            if (done->error() && !job->isFinished())
                terminal.err(u"%1: cannot interrupt the command: %2\n"_s.arg(where, done->error()->message));
        });
        interruptJob->start();
    };

    QEventLoop loop;
    QObject::connect(job.get(), &AsyncJob::finished, &loop, &QEventLoop::quit);
    bool interrupted = false;
    QObject::connect(job.get(), &CommandJob::started, &loop, [&] {
        if (interrupted)
            interrupt();   // Ctrl-C came before the command had an id
    });
    InterruptWatcher interrupts;
    QObject::connect(&interrupts, &InterruptWatcher::interrupted, &loop, [&](int count) {
        if (count > 1)
            return loop.quit();
        interrupted = true;
        terminal.err(u"%1: interrupting the command (Ctrl-C again to stop waiting for it)\n"_s.arg(where));
        if (!job->commandId().isEmpty())
            interrupt();
    });
    job->start();
    loop.exec();
    if (!job->isFinished()) {
        (void)job.release();   // a second Ctrl-C: the program ends, the job with it
        if (interruptJob && !interruptJob->isFinished())
            (void)interruptJob.release();
        return ExitInterrupted;
    }
    // The interrupt's answer may still be on its way, and the client must outlive it.
    if (interruptJob && !interruptJob->isFinished()) {
        waitFor(interruptJob);
        if (!interruptJob)
            return ExitInterrupted;
    }
    if (interrupted)
        return ExitInterrupted;
    return commandStatus(*job, where, client.config(), id, terminal);
}

} // namespace Sandflow::Cli
