// `sandflow sandbox exec -t/-i`: the command runs over execd's
// PTY route, with a terminal of this window's size (-t) or with pipes, and what comes in
// here goes to it. The local terminal is put in raw mode for -t, so that every key
// (Ctrl-C too) reaches the sandbox, and is restored however the command ends.
#include "sandboxclient.h"

#include "interruptwatcher.h"

#include <QEventLoop>
#include <QSize>
#include <QSocketNotifier>
#include <QTimer>

#include <csignal>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

namespace {

/// Input taken in at most this much at a time, and held back while the sandbox has this
/// much still to take.
constexpr qint64 InputChunkBytes = 64 * 1024;
constexpr qint64 InputBacklogBytes = 1024 * 1024;
/// How often the window's size is looked at. A SIGWINCH handler would need a pipe and
/// process-wide state for what a cheap ioctl tells as well.
constexpr int WindowPollMs = 250;

/// The terminal on `fd` in raw mode while this lives: keys come as they are typed, unechoed.
class RawTerminal
{
public:
    explicit RawTerminal(int fd)
        : m_fd(fd)
    {
        if (::tcgetattr(fd, &m_saved) != 0)
            return;
        termios raw = m_saved;
        ::cfmakeraw(&raw);
        m_active = ::tcsetattr(fd, TCSANOW, &raw) == 0;
    }
    ~RawTerminal()
    {
        if (m_active)
            ::tcsetattr(m_fd, TCSANOW, &m_saved);
    }
    RawTerminal(const RawTerminal &) = delete;
    RawTerminal &operator=(const RawTerminal &) = delete;

private:
    int m_fd;
    termios m_saved{};
    bool m_active = false;
};

QSize windowSize(int fd)
{
    winsize size{};
    if (::ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_col == 0 || size.ws_row == 0)
        return {80, 24};
    return {size.ws_col, size.ws_row};
}

} // namespace

int execInTerminal(OpenSandboxClient &client, const OpenSandboxEndpoint &execd, const QString &id,
                   TerminalRequest request, std::optional<qint64> timeoutMs, const QString &where,
                   const Terminal &terminal)
{
    const bool tty = request.pty;
    const int windowFd = ::isatty(STDOUT_FILENO) ? STDOUT_FILENO : STDIN_FILENO;
    if (tty) {
        const QSize size = windowSize(windowFd);
        request.columns = size.width();
        request.rows = size.height();
        if (!request.env.contains(u"TERM"_s))
            request.env.insert(u"TERM"_s, qEnvironmentVariable("TERM", u"xterm-256color"_s));
    }
    std::unique_ptr<TerminalJob> job(client.openTerminal(execd, request));
    job->setAutoDelete(false);
    QObject::connect(job.get(), &CommandJob::output, job.get(), [&terminal](CommandJob::Stream stream, const QByteArray &data) {
        stream == CommandJob::Stream::Stdout ? terminal.outBytes(data) : terminal.errBytes(data);
    });

    // Input: read as the sandbox takes it, never more than a backlog ahead.
    QSocketNotifier input(STDIN_FILENO, QSocketNotifier::Read);
    input.setEnabled(false);
    QObject::connect(&input, &QSocketNotifier::activated, job.get(), [&] {
        char buffer[InputChunkBytes];
        const ssize_t got = ::read(STDIN_FILENO, buffer, sizeof buffer);
        if (got > 0) {
            job->writeInput(QByteArray(buffer, got));
            if (job->pendingInput() > InputBacklogBytes)
                input.setEnabled(false);
            return;
        }
        if (got < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        input.setEnabled(false);
        job->closeInput();
    });
    QObject::connect(job.get(), &TerminalJob::inputWritten, &input, [&] {
        if (!input.isEnabled() && job->pendingInput() <= InputBacklogBytes && !job->isFinished())
            input.setEnabled(true);
    });
    QObject::connect(job.get(), &CommandJob::started, &input, [&] { input.setEnabled(true); });

    QTimer window;
    QSize lastSize = QSize(request.columns, request.rows);
    if (tty) {
        QObject::connect(&window, &QTimer::timeout, job.get(), [&] {
            const QSize size = windowSize(windowFd);
            if (size != lastSize) {
                lastSize = size;
                job->resize(size.width(), size.height());
            }
        });
        window.start(WindowPollMs);
    }

    QEventLoop loop;
    QObject::connect(job.get(), &AsyncJob::finished, &loop, &QEventLoop::quit);
    bool timedOut = false;
    QTimer deadline;
    deadline.setSingleShot(true);
    if (timeoutMs) {
        QObject::connect(&deadline, &QTimer::timeout, job.get(), [&] {
            timedOut = true;
            job->cancel();
        });
        deadline.start(std::chrono::milliseconds(*timeoutMs));
    }
    // With a terminal, Ctrl-C is a key for the sandbox; this catches SIGTERM, and Ctrl-C
    // with pipes: the first goes to the command, the second ends it.
    InterruptWatcher interrupts;
    bool interrupted = false;
    QObject::connect(&interrupts, &InterruptWatcher::interrupted, job.get(), [&](int count) {
        interrupted = true;
        if (count > 1)
            return job->cancel();
        terminal.err(u"%1: interrupting the command (Ctrl-C again to kill it)\n"_s.arg(where));
        job->sendSignal(SIGINT);
    });
    {
        std::optional<RawTerminal> raw;
        if (tty)
            raw.emplace(STDIN_FILENO);
        job->start();
        if (!job->isFinished())
            loop.exec();
    }
    if (timedOut) {
        terminal.err(u"%1: the command ran out of time after %2 s\n"_s.arg(where).arg(*timeoutMs / 1000.0));
        return ExitFailure;
    }
    if (const std::optional<JobError> &error = job->error()) {
        // A status is a byte here: one a server says beyond it is a failure, not 256 = 0.
        if (error->code == u"COMMAND_FAILED"_s && job->exitCode())
            return *job->exitCode() > 0 && *job->exitCode() < 256 ? *job->exitCode() : int(ExitFailure);
        if (error->kind == JobError::Kind::Cancelled || (interrupted && error->code == u"COMMAND_KILLED"_s))
            return ExitInterrupted;
        terminal.err(error->code.startsWith(u"COMMAND_"_s) ? u"%1: %2\n"_s.arg(where, error->message)
                                                          : errorLine(where, *error, client.config(), u"sandbox "_s + id));
        return ExitFailure;
    }
    return ExitSuccess;
}

} // namespace Sandflow::Cli
