// `sandflow serve`: the OpenSandbox-compatible server over local sandboxes.
#include "command.h"
#include "egressoptions.h"
#include "imageoptions.h"
#include "interruptwatcher.h"
#include "localcontrol.h"
#include "localrunner.h"
#include "sandboxserver.h"
#include "units.h"

#include <QCoreApplication>
#include <QEventLoop>

#include <sys/resource.h>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

namespace {

struct ListenAddress
{
    QHostAddress host;
    quint16 port = 0;
};

/// HOST:PORT, with an IPv6 host in brackets ([::1]:8080); `localhost` is 127.0.0.1.
std::optional<ListenAddress> parseListen(const QString &text)
{
    const qsizetype colon = text.lastIndexOf(u':');
    if (colon <= 0)
        return std::nullopt;
    QString host = text.left(colon);
    if (host.startsWith(u'[') && host.endsWith(u']'))
        host = host.mid(1, host.size() - 2);
    bool ok = false;
    const uint port = text.mid(colon + 1).toUInt(&ok);
    if (!ok || port > 65535)
        return std::nullopt;
    ListenAddress address{host == u"localhost"_s ? QHostAddress(QHostAddress::LocalHost) : QHostAddress(host), quint16(port)};
    if (address.host.isNull())
        return std::nullopt;
    return address;
}

/// The soft limit of open files up to the hard one: each client's connection is a descriptor,
/// and the usual soft default of 1024 would leave later clients waiting unanswered.
void raiseOpenFileLimit()
{
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
    }
}

int serve(const QCommandLineParser &parser, const Terminal &terminal)
{
    const auto listen = parseListen(parser.value(u"listen"_s));
    if (!listen) {
        terminal.err(u"sandflow serve: --listen wants HOST:PORT, e.g. 127.0.0.1:8080, not `%1`\n"_s.arg(parser.value(u"listen"_s)));
        return ExitUsage;
    }
    SandboxServer::Options options;
    options.address = listen->host;
    options.port = listen->port;
    bool generatedKey = false;
    if (parser.isSet(u"no-auth"_s)) {
        if (parser.isSet(u"api-key"_s)) {
            terminal.err(u"sandflow serve: --no-auth and --api-key contradict each other\n"_s);
            return ExitUsage;
        }
        if (!listen->host.isLoopback()) {
            terminal.err(u"sandflow serve: --no-auth is allowed on a loopback address only, not %1: anyone who "
                         u"reaches the server could run commands on this machine\n"_s.arg(listen->host.toString()));
            return ExitUsage;
        }
    } else {
        options.apiKey = parser.isSet(u"api-key"_s) ? parser.value(u"api-key"_s)
                                                    : qEnvironmentVariable("OPEN_SANDBOX_API_KEY");
        generatedKey = options.apiKey.isEmpty();
        if (generatedKey)
            options.apiKey = newApiKey();
    }
    if (parser.isSet(u"max-body"_s)) {
        const std::optional<double> bytes = parseQuantity(parser.value(u"max-body"_s));
        if (!bytes || *bytes < 1) {
            terminal.err(u"sandflow serve: --max-body wants a size such as 512Mi, not `%1`\n"_s.arg(parser.value(u"max-body"_s)));
            return ExitUsage;
        }
        options.maxBodyBytes = qint64(*bytes);
    }

    LocalRunner::Options runnerOptions;
    runnerOptions.agentPath = QCoreApplication::applicationDirPath() + u"/sandflow-agent"_s;
    runnerOptions.stateDirectory = parser.isSet(u"state-dir"_s) ? parser.value(u"state-dir"_s)
                                                                : LocalRunner::defaultStateDirectory();
    runnerOptions.runId = u"serve"_s;
    runnerOptions.allowedHostPaths = parser.values(u"allow-host-path"_s);
    if (QString imageError; !applyImageOptions(parser, &runnerOptions, &imageError)
                                || !applyEgressOptions(parser, &runnerOptions, &imageError)) {
        terminal.err(u"sandflow serve: %1\n"_s.arg(imageError));
        return ExitUsage;
    }
    // Local sandboxes end with the process that made them, so a server that crashed left
    // only records, cgroups and volumes of dead sandboxes: clean them up before serving.
    const QStringList removed = LocalRunner::collectGarbage(runnerOptions.stateDirectory, false);
    if (!removed.isEmpty())
        terminal.err(u"sandflow serve: removed %1 sandbox(es) left by a server or run that ended abnormally\n"_s.arg(removed.size()));
    LocalRunner runner(runnerOptions);
    QObject::connect(&runner, &Runner::warning, &runner, [&terminal](const QString &message) {
        terminal.err(u"sandflow serve: warning: %1\n"_s.arg(message));
    });

    raiseOpenFileLimit();
    // Before the server says it listens: whoever stops it as soon as it does (a supervisor,
    // a test) gets a server that deletes its sandboxes and its endpoint record, not one that
    // dies of SIGTERM with them left.
    InterruptWatcher interrupts;
    SandboxServer server(&runner, options);
    QString error;
    if (!server.start(&error)) {
        terminal.err(u"sandflow serve: cannot listen on %1: %2\n"_s.arg(parser.value(u"listen"_s), error));
        return ExitFailure;
    }
    if (parser.isSet(u"verbose"_s)) {
        QObject::connect(&server, &SandboxServer::requestServed, &server,
                         [&terminal](const QString &line) { terminal.err(line + u'\n'); });
    }
    const QString host = listen->host.protocol() == QAbstractSocket::IPv6Protocol ? u"[%1]"_s.arg(listen->host.toString())
                                                                                  : listen->host.toString();
    terminal.out(u"sandflow serve: listening on http://%1:%2\n"_s.arg(host).arg(server.port()));
    if (generatedKey)
        terminal.out(u"API key (send it as OPEN-SANDBOX-API-KEY): %1\n"_s.arg(options.apiKey));
    // `sandflow sandbox` finds this server's sandboxes without being told where it listens.
    ControlEndpoint endpoint;
    endpoint.url = u"http://%1:%2"_s.arg(listen->host.isEqual(QHostAddress::AnyIPv4) || listen->host.isEqual(QHostAddress::AnyIPv6)
                                             ? u"127.0.0.1"_s
                                             : host)
                       .arg(server.port());
    endpoint.apiKey = options.apiKey;
    endpoint.owner = u"serve"_s;
    QString registrationError;
    const std::unique_ptr<ControlEndpointRegistration> registration =
        ControlEndpointRegistration::publish(runnerOptions.stateDirectory, endpoint, &registrationError);
    if (!registration)
        terminal.err(u"sandflow serve: warning: `sandflow sandbox` will not find this server without --server: %1\n"_s
                         .arg(registrationError));

    QEventLoop loop;
    QObject::connect(&interrupts, &InterruptWatcher::interrupted, &loop, [&](int count) {
        if (count > 1)
            return loop.quit();
        terminal.err(u"sandflow serve: stopping: deleting every sandbox (Ctrl-C again to stop at once)\n"_s);
        server.stop();
    });
    QObject::connect(&server, &SandboxServer::stopped, &loop, &QEventLoop::quit);
    loop.exec();
    return ExitSuccess;
}

} // namespace

Command serveCommand()
{
    return {u"serve"_s,
            {},
            u"Serve local sandboxes over the OpenSandbox API"_s,
            u"Runs an OpenSandbox-compatible server over local sandboxes: the lifecycle API under /v1 and each\n"
            u"sandbox's execd API through /sandboxes/ID/proxy/44772, so the official OpenSandbox SDKs work against\n"
            u"it. Clients send the API key as the OPEN-SANDBOX-API-KEY header. On Ctrl-C or SIGTERM every sandbox\n"
            u"is deleted; sandboxes left by a server that crashed are removed when the next one starts."_s,
            QList<QCommandLineOption>{QCommandLineOption(u"listen"_s, u"Address and port to listen on (default: 127.0.0.1:8080; port 0: any free port)"_s,
                                u"HOST:PORT"_s, u"127.0.0.1:8080"_s),
             QCommandLineOption(u"api-key"_s, u"The key clients must send (default: $OPEN_SANDBOX_API_KEY, else a new one, printed)"_s,
                                u"KEY"_s),
             QCommandLineOption(u"no-auth"_s, u"Accept requests without a key (loopback addresses only)"_s),
             QCommandLineOption(u"allow-host-path"_s, u"A host directory that host volumes may mount (repeatable)"_s, u"DIR"_s),
             QCommandLineOption(u"state-dir"_s, u"Where sandboxes are recorded (default: $SANDFLOW_STATE_DIR, else "
                                                              u"$XDG_STATE_HOME/sandflow, else ~/.local/state/sandflow)"_s,
                                u"DIR"_s),
             QCommandLineOption(u"max-body"_s, u"The largest request body accepted, uploads included (default: 1Gi)"_s, u"SIZE"_s),
             QCommandLineOption(u"verbose"_s, u"Print one line per request on stderr"_s)}
                + imageOptions() + egressOptions(),
            0,
            0,
            serve,
            {exitStatus(ExitSuccess, u"Stopped by Ctrl-C or SIGTERM, every sandbox deleted"_s),
             exitStatus(ExitFailure, u"It could not listen on the address"_s),
             exitStatus(ExitUsage, u"An option is wrong, e.g. --no-auth on an address that is not loopback"_s)}};
}

} // namespace Sandflow::Cli
