#include "sandboxclient.h"

#include "interruptwatcher.h"
#include "terminaltext_p.h"

#include <QEventLoop>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

OpenSandboxConfig clientConfig(const QCommandLineParser &parser, OpenSandboxConfig base)
{
    OpenSandboxConfig config = std::move(base);
    if (parser.isSet(u"server"_s))
        config.domain = parser.value(u"server"_s);
    if (parser.isSet(u"api-key"_s))
        config.apiKey = parser.value(u"api-key"_s);
    return config;
}

Waited waitForJob(AsyncJob &job)
{
    Q_ASSERT(!job.autoDelete());
    Waited waited;
    QEventLoop loop;
    QObject::connect(&job, &AsyncJob::finished, &loop, &QEventLoop::quit);
    InterruptWatcher interrupts;
    QObject::connect(&interrupts, &InterruptWatcher::interrupted, &loop, [&](int count) {
        waited.interrupted = true;
        if (count == 1)
            return job.cancel();
        loop.quit();
    });
    if (!job.isStarted())
        job.start();
    if (!job.isFinished())
        loop.exec();
    if (job.isFinished())
        waited.error = job.error();
    return waited;
}

namespace {

QString composedErrorLine(const QString &where, const JobError &error, const OpenSandboxConfig &config,
                          const QString &subject);

} // namespace

QString errorLine(const QString &where, const JobError &error, const OpenSandboxConfig &config, const QString &subject)
{
    // Messages carry what a server wrote: its escape sequences are not for this terminal.
    return Internal::terminalText(composedErrorLine(where, error, config, subject));
}

namespace {

QString composedErrorLine(const QString &where, const JobError &error, const OpenSandboxConfig &config,
                          const QString &subject)
{
    const OpenSandboxErrorDetails details = OpenSandboxErrorDetails::of(error);
    if (error.code == u"UNREACHABLE"_s && !details.execd) {
        // Not this subcommand's fault: say it for the whole group.
        QString line = u"sandflow sandbox: %1"_s.arg(error.message);
        if (details.connectionRefused)
            line += u" (start one with 'sandflow serve')"_s;
        return line + u'\n';
    }
    if (details.status == 401 && !details.execd) {
        const QString problem = config.apiKey.isEmpty() ? u"the server wants an API key"_s
                                                        : u"the server refused the API key"_s;
        return u"%1: %2 (%3); pass the right key with --api-key or $OPEN_SANDBOX_API_KEY\n"_s.arg(where, problem,
                                                                                                 details.label());
    }
    if (details.status == 404 && !details.execd && !subject.isEmpty())
        return u"%1: %2 not found (%3)\n"_s.arg(where, subject, details.label());
    return u"%1: %2\n"_s.arg(where, error.message);
}

} // namespace

std::optional<QMap<QString, QString>> keyValues(const QCommandLineParser &parser, const QString &option,
                                                const QString &where, const Terminal &terminal)
{
    QMap<QString, QString> pairs;
    for (const QString &pair : parser.values(option)) {
        const qsizetype equals = pair.indexOf(u'=');
        if (equals <= 0) {
            sandboxUsageError(terminal, where, u"--%1 wants KEY=VALUE, not `%2`"_s.arg(option, pair));
            return std::nullopt;
        }
        pairs.insert(pair.left(equals), pair.mid(equals + 1));
    }
    return pairs;
}

int sandboxUsageError(const Terminal &terminal, const QString &where, const QString &message)
{
    terminal.err(u"%1: %2\nRun '%1 --help' for usage.\n"_s.arg(where, message));
    return ExitUsage;
}

} // namespace Sandflow::Cli
