// `sandflow run FILE`: runs a workflow on the local runner or an OpenSandbox server and
// reports it as it goes.
#include "command.h"
#include "egressoptions.h"
#include "imageoptions.h"
#include "interruptwatcher.h"
#include "localcontrol.h"
#include "localrunner.h"
#include "maxsandboxes.h"
#include "opensandboxrunner.h"
#include "serversettings.h"
#include "units.h"
#include "runoutput.h"
#include "sandboxclient.h"
#include "workflow.h"
#include "workflowinput.h"
#include "workflowrun.h"

#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTimer>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

namespace {

QString newRunId()
{
    return QDateTime::currentDateTimeUtc().toString(u"yyyyMMdd-HHmmss"_s) + u'-'
        + QString::number(QRandomGenerator::global()->bounded(0x10000), 16).rightJustified(4, u'0');
}

/// The OpenSandbox server to run on: the environment's (OPEN_SANDBOX_DOMAIN and
/// OPEN_SANDBOX_API_KEY), overridden by the workflow's `server`, overridden by the options.
std::optional<OpenSandboxConfig> serverConfig(const QCommandLineParser &parser, const Workflow &workflow,
                                              const RunOptions &options, const Terminal &terminal)
{
    QString error;
    const std::optional<ServerSettings> settings =
        resolveServerSettings(workflow, options.secrets, options.runId, options.runDirectory, &error);
    if (!settings) {
        terminal.err(error + u'\n');
        return std::nullopt;
    }
    OpenSandboxConfig config = OpenSandboxConfig::fromEnvironment();
    if (!settings->url.isEmpty())
        config.domain = settings->url;
    if (!settings->apiKey.isEmpty())
        config.apiKey = settings->apiKey;
    config.useServerProxy = settings->useServerProxy.value_or(config.useServerProxy);
    config = clientConfig(parser, std::move(config));
    if (parser.isSet(u"server-proxy"_s))
        config.useServerProxy = true;
    return config;
}

/// `text` as one shell word: as it is when nothing in it is special, else in single quotes.
QString shellWord(const QString &text)
{
    static const QRegularExpression plain(u"^[A-Za-z0-9_./,:@%+=-]+$"_s);
    if (plain.match(text).hasMatch())
        return text;
    QString quoted = text;
    return u'\'' + quoted.replace(u"'"_s, u"'\\''"_s) + u'\'';
}

/// The host paths a run lets host volumes mount on the local runner: the workflow's own
/// directory tree, where its relative host paths lead, and each `--allow-host-path`.
QStringList allowedHostPaths(const QCommandLineParser &parser, const Workflow &workflow)
{
    QStringList paths = {QDir::cleanPath(QFileInfo(workflow.baseDirectory).absoluteFilePath())};
    for (const QString &path : parser.values(u"allow-host-path"_s))
        paths.append(QDir::cleanPath(QFileInfo(path).absoluteFilePath()));
    return paths;
}

std::unique_ptr<Runner> makeRunner(const QCommandLineParser &parser, const Workflow &workflow,
                                   const RunOptions &options, const Terminal &terminal)
{
    if (workflow.runner == u"opensandbox"_s) {
        if (parser.isSet(u"allow-host-path"_s))
            terminal.err(u"sandflow run: --allow-host-path applies to the local runner only; an OpenSandbox server "
                         u"decides which host paths it allows\n"_s);
        const std::optional<OpenSandboxConfig> config = serverConfig(parser, workflow, options, terminal);
        if (!config)
            return nullptr;
        OpenSandboxRunner::Options runnerOptions;
        runnerOptions.server = *config;
        runnerOptions.labels.insert(OpenSandboxRunner::RunIdLabel, options.runId);
        return std::make_unique<OpenSandboxRunner>(runnerOptions);
    }
    LocalRunner::Options runnerOptions;
    runnerOptions.agentPath = QCoreApplication::applicationDirPath() + u"/sandflow-agent"_s;
    runnerOptions.stateDirectory = LocalRunner::defaultStateDirectory();
    runnerOptions.runId = options.runId;
    runnerOptions.allowedHostPaths = allowedHostPaths(parser, workflow);
    runnerOptions.hostPathAdvice = [](const QString &path) {
        return u"allow it with `sandflow run --allow-host-path %1` (the workflow's directory is allowed "
               u"without it)"_s.arg(shellWord(path));
    };
    QString error;
    if (!applyImageOptions(parser, &runnerOptions, &error) || !applyEgressOptions(parser, &runnerOptions, &error)) {
        terminal.err(u"sandflow run: %1\n"_s.arg(error));
        return nullptr;
    }
    return std::make_unique<LocalRunner>(runnerOptions);
}

/// Deletions under way are waited for, a little, as the process is about to end: a local
/// sandbox torn down with its runner would leave its processes to whoever adopts orphans, and
/// a request not sent would leave a remote one until its lease ends. Ctrl-C stops the wait.
void awaitDeletions(Runner &runner, const InterruptWatcher &interrupts)
{
    if (!runner.isDeleting())
        return;
    QEventLoop loop;
    QObject::connect(&runner, &Runner::deletionsSettled, &loop, &QEventLoop::quit);
    QObject::connect(&interrupts, &InterruptWatcher::interrupted, &loop, &QEventLoop::quit);
    QTimer::singleShot(std::chrono::seconds(10), &loop, &QEventLoop::quit);
    loop.exec();
}

// With --json, programs read stdout: the workflow's problems go there too, one JSON object
// per line as events are, besides the text on stderr.
void printJsonDiagnostics(const Diagnostics &diagnostics, const Terminal &terminal)
{
    for (const Diagnostic &diagnostic : diagnostics.items()) {
        QJsonObject object{{u"type"_s, u"diagnostic"_s},
                           {u"severity"_s, diagnostic.severity == Diagnostic::Severity::Error ? u"error"_s : u"warning"_s},
                           {u"file"_s, diagnostic.file},
                           {u"text"_s, diagnostic.message}};
        if (diagnostic.pos.line > 0) {
            object.insert(u"line"_s, diagnostic.pos.line);
            object.insert(u"column"_s, std::max(diagnostic.pos.column, 1));
        }
        terminal.out(QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact)) + u'\n');
    }
}

// A run directory that holds a run already would mix two runs' logs and reports.
bool holdsARun(const QString &directory)
{
    const QDir dir(directory);
    return dir.exists(u"events.jsonl"_s) || dir.exists(u"summary.json"_s);
}

int run(const QCommandLineParser &parser, const Terminal &terminal)
{
    const CommandLoader loader(parser, terminal);
    if (!loader.isValid())
        return ExitUsage;
    const LoadResult loaded = loader.load(parser.positionalArguments().first());
    if (parser.isSet(u"json"_s))
        printJsonDiagnostics(loaded.diagnostics, terminal);
    if (!loaded.ok())
        return ExitUsage;
    const Workflow &workflow = *loaded.workflow;

    RunOptions options;
    options.runId = newRunId();
    options.keepSandboxes = parser.isSet(u"keep"_s);
    options.maxSandboxes = defaultMaxSandboxesHere();
    if (parser.isSet(u"max-sandboxes"_s)) {
        bool ok = false;
        options.maxSandboxes = parser.value(u"max-sandboxes"_s).toInt(&ok);
        if (!ok || options.maxSandboxes < 1) {
            terminal.err(u"sandflow run: --max-sandboxes wants a whole number of at least 1, not `%1`\n"_s
                             .arg(parser.value(u"max-sandboxes"_s)));
            return ExitUsage;
        }
    }
    if (parser.isSet(u"timeout"_s)) {
        options.timeoutMs = parseDuration(parser.value(u"timeout"_s));
        if (!options.timeoutMs || *options.timeoutMs <= 0) {
            terminal.err(u"sandflow run: --timeout wants a duration such as 30m, not `%1`\n"_s
                             .arg(parser.value(u"timeout"_s)));
            return ExitUsage;
        }
    }
    // As GitHub Actions: a secret that is not set reads as "", with a warning, unless the
    // workflow says it is required; then nothing starts, and each missing one is named.
    const auto isSet = [](const Secret &secret) { return qEnvironmentVariableIsSet(secret.name.toLocal8Bit().constData()); };
    bool missingRequired = false;
    for (const Secret &secret : workflow.secrets) {
        if (secret.required && !isSet(secret)) {
            terminal.err(Diagnostic{Diagnostic::Severity::Error, workflow.file, secret.pos,
                                    u"secret `%1` is required, and not set in the environment"_s.arg(secret.name)}
                             .toString()
                         + u'\n');
            missingRequired = true;
        }
    }
    if (missingRequired)
        return ExitUsage;
    for (const Secret &secret : workflow.secrets) {
        if (!isSet(secret))
            terminal.err(Diagnostic{Diagnostic::Severity::Warning, workflow.file, secret.pos,
                                    u"secret `%1` is not set in the environment: it reads as \"\""_s.arg(secret.name)}
                             .toString()
                         + u'\n');
        options.secrets.insert(secret.name, qEnvironmentVariable(secret.name.toLocal8Bit().constData()));
    }
    options.runDirectory = QDir(parser.isSet(u"run-dir"_s) ? parser.value(u"run-dir"_s)
                                                            : u".sandflow/runs/"_s + options.runId)
                               .absolutePath();
    if (holdsARun(options.runDirectory)) {
        terminal.err(u"sandflow run: %1 holds a run already; give --run-dir a new directory\n"_s
                         .arg(options.runDirectory));
        return ExitUsage;
    }
    if (!QDir().mkpath(options.runDirectory)) {
        terminal.err(u"sandflow run: cannot create the run directory %1\n"_s.arg(options.runDirectory));
        return ExitUsage;
    }

    const std::unique_ptr<Runner> runnerHolder = makeRunner(parser, workflow, options, terminal);
    if (!runnerHolder)
        return ExitUsage;
    Runner &runner = *runnerHolder;
    // Local sandboxes can be reached from another terminal while the run lasts (and while
    // --keep holds them): `sandflow sandbox exec ID -- bash`.
    std::unique_ptr<RunControl> control;
    if (workflow.runner != u"opensandbox"_s) {
        QString error;
        control = RunControl::start(&runner, LocalRunner::defaultStateDirectory(), options.runId, &error);
        if (!control)
            terminal.err(u"sandflow run: warning: `sandflow sandbox` cannot reach this run's sandboxes: %1\n"_s.arg(error));
    }

    RunOutput::Options outputOptions;
    outputOptions.json = parser.isSet(u"json"_s);
    if (parser.isSet(u"log-limit"_s)) {
        const std::optional<double> bytes = parseQuantity(parser.value(u"log-limit"_s));
        if (!bytes || *bytes < 1) {
            terminal.err(u"sandflow run: --log-limit wants a size such as 10Mi, not `%1`\n"_s
                             .arg(parser.value(u"log-limit"_s)));
            return ExitUsage;
        }
        outputOptions.logLimitBytes = qint64(*bytes);
    }
    if (parser.isSet(u"junit"_s))
        outputOptions.junitPath = QFileInfo(parser.value(u"junit"_s)).absoluteFilePath();
    RunOutput output(options, outputOptions, terminal);
    QObject::connect(&runner, &Runner::warning, &runner, [&output](const QString &message) { output.notice(message); });

    WorkflowRun workflowRun(workflow, &runner, options, [&output](const RunEvent &event) { output.publish(event); });
    workflowRun.setAutoDelete(false);
    InterruptWatcher interrupts;
    QObject::connect(&interrupts, &InterruptWatcher::interrupted, &workflowRun, [&](int count) {
        if (workflowRun.isFinished()) {
            // Ctrl-C ends the wait of --keep below.
            output.notice(u"deleting the kept sandboxes"_s);
        } else if (count == 1) {
            output.notice(u"interrupted: cancelling the running steps and deleting the sandboxes "
                          u"(Ctrl-C again to stop at once)"_s);
            workflowRun.cancel();
        } else {
            workflowRun.forceStop();
        }
    });
    QEventLoop loop;
    QObject::connect(&workflowRun, &AsyncJob::finished, &loop, &QEventLoop::quit);
    workflowRun.start();
    if (!workflowRun.isFinished())
        loop.exec();
    output.close();

    if (options.keepSandboxes && !workflowRun.keptSandboxes().isEmpty()) {
        // Local sandboxes live as long as this process, and remote ones as long as it renews
        // their leases: it stays until Ctrl-C, then deletes them.
        output.notice(u"kept sandboxes (they last until Ctrl-C):"_s);
        for (const auto &[id, job] : workflowRun.keptSandboxes())
            output.notice(u"  %1  %2"_s.arg(id, job));
        if (control)
            output.notice(u"from another terminal: sandflow sandbox exec ID -- bash"_s);
        QObject::connect(&interrupts, &InterruptWatcher::interrupted, &loop, &QEventLoop::quit);
        loop.exec();
        for (const auto &[id, job] : workflowRun.keptSandboxes())
            runner.deleteSandbox(id)->start();
    }
    awaitDeletions(runner, interrupts);
    switch (workflowRun.outcome()) {
    case TaskOutcome::Success:
    case TaskOutcome::Skipped:
        return ExitSuccess;
    case TaskOutcome::Cancelled:
        return ExitInterrupted;
    case TaskOutcome::Failure:
    case TaskOutcome::TimedOut:
        break;
    }
    return ExitFailure;
}

} // namespace

Command runCommand()
{
    return {u"run"_s,
            u"FILE"_s,
            u"Run a workflow"_s,
            u"Runs every job of the workflow, each job instance in its own sandbox, in parallel as\n"
            u"`needs` allows. Logs and reports go to the run directory. Ctrl-C cancels the running\n"
            u"steps, runs the clean-up steps and deletes the sandboxes; a second Ctrl-C stops at once."_s,
            QList<QCommandLineOption>{varOption(),
             QCommandLineOption(u"max-sandboxes"_s, u"Live sandboxes at most (default: from cores and memory)"_s,
                                u"N"_s),
             QCommandLineOption(u"keep"_s, u"Keep the sandboxes after the run, until Ctrl-C"_s),
             QCommandLineOption(u"json"_s, u"Print one JSON event per line instead of the progress view"_s),
             QCommandLineOption(u"junit"_s, u"Write the JUnit XML report to FILE"_s, u"FILE"_s),
             QCommandLineOption(u"run-dir"_s, u"The run directory (default: .sandflow/runs/RUN-ID)"_s, u"DIR"_s),
             QCommandLineOption(u"timeout"_s, u"Time for the whole run, e.g. 30m; then it is cancelled"_s, u"DURATION"_s),
             QCommandLineOption(u"log-limit"_s, u"Most output kept per step log, e.g. 10Mi (default)"_s, u"SIZE"_s),
             QCommandLineOption(u"allow-host-path"_s,
                                u"A host directory that host volumes may mount besides the workflow's own "
                                u"directory (repeatable; local runner)"_s,
                                u"DIR"_s),
             runnerOption(),
             QCommandLineOption(u"server"_s,
                                u"The OpenSandbox server for the opensandbox runner (default: the workflow's "
                                u"server.url, else $OPEN_SANDBOX_DOMAIN, else localhost:8080)"_s,
                                u"URL"_s),
             QCommandLineOption(u"api-key"_s,
                                u"Its API key (default: the workflow's server.apiKey, else $OPEN_SANDBOX_API_KEY)"_s,
                                u"KEY"_s),
             QCommandLineOption(u"server-proxy"_s, u"Reach the sandboxes through the server's proxy route"_s)}
                + imageOptions() + egressOptions(),
            1,
            1,
            run,
            {exitStatus(ExitSuccess, u"The run succeeded"_s),
             exitStatus(ExitFailure, u"A job failed, or the run timed out"_s),
             exitStatus(ExitUsage, u"Invalid input: a wrong option or an invalid workflow; nothing ran"_s),
             exitStatus(ExitInterrupted, u"Interrupted by Ctrl-C"_s)}};
}

} // namespace Sandflow::Cli
