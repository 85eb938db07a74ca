// OpenSandboxClient against an OpenSandbox server, as bench/opensandbox/run-bench runs it
// against `sandflow serve` (its baseline, the official JavaScript SDK driving the same
// scenario, is bench_sdk_scenario.mjs beside this file):
//
//   bench_opensandbox --payload FILE [--sandboxes N] [--concurrency C]
//       N sandboxes, C at a time, each: created, five commands, FILE uploaded and downloaded
//       back (compared), deleted. Prints the wall time, this process's CPU time and the
//       median time per sandbox.
//   bench_opensandbox --streams N [--stream-sandboxes S] [--rounds R]
//       N command streams at once from this one process, over S sandboxes, each command
//       waiting 3 s: how long until all have started and until all have ended. The baseline
//       is the same command as a single stream, alone, from the same client to the same
//       sandboxes: what comes on top of it is what running N at once costs. The two take
//       turns over R rounds (rounds.h).
//
// The server is OPEN_SANDBOX_DOMAIN with OPEN_SANDBOX_API_KEY. Each mode ends with one
// `result ...` line for run-bench, and exits 1 when anything failed. Prints figures; not a test.
#include "opensandboxclient.h"
#include "rounds.h"
#include "runnercycles.h"

#include <QBuffer>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>

using namespace Sandflow;
using namespace Qt::StringLiterals;

namespace {

/// Where each sandbox gets the payload.
const QString PayloadPathInSandbox = u"/tmp/payload.bin"_s;
/// Failures printed in full; the rest are only counted.
constexpr int FailuresShown = 5;
/// How long each stream's command waits before it prints its line.
constexpr double StreamWaitSeconds = 3;
/// The wait without a fork per command (a `sleep` each would make the benchmark measure
/// fork/exec on two cores): `read -t` on a pipe that this shell holds both ends of, so that
/// nothing is ever written to it and it never reaches end of file.
const QString StreamCommand = u"exec {fd}<> <(:); read -t 3 -u $fd; echo done"_s;

void say(const QString &line)
{
    std::fputs(qPrintable(line + u'\n'), stdout);
    std::fflush(stdout);
}

double cpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval &time) { return double(time.tv_sec) + double(time.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

/// The sandbox both sides ask for, labelled with what made it.
OpenSandboxCreateRequest sandboxRequest(const QString &label)
{
    OpenSandboxCreateRequest request;
    request.image = u"debian:12"_s;
    request.metadata = {{u"bench"_s, label}};
    return request;
}

CommandRequest commandRequest(const QString &command)
{
    CommandRequest request;
    request.command = command;
    return request;
}

double median(QList<double> values)
{
    std::sort(values.begin(), values.end());
    return values.isEmpty() ? 0 : values.at(values.size() / 2);
}

/// A command of the scenario and what its whole stdout must be like.
struct ScenarioCommand
{
    QString command;
    std::function<bool(const QByteArray &)> expected;
};

QList<ScenarioCommand> scenarioCommands(int index)
{
    QByteArray numbers;
    for (int n = 1; n <= 1000; ++n)
        numbers += QByteArray::number(n) + '\n';
    return {
        {u"echo %1"_s.arg(index), [want = QByteArray::number(index) + '\n'](const QByteArray &out) { return out == want; }},
        {u"uname -a"_s, [](const QByteArray &out) { return out.startsWith("Linux "); }},
        {u"ls /"_s, [](const QByteArray &out) { return out.split('\n').contains("etc"); }},
        {u"cat /etc/os-release"_s, [](const QByteArray &out) { return out.startsWith("ID=") || out.contains("\nID="); }},
        {u"seq 1 1000"_s, [numbers](const QByteArray &out) { return out == numbers; }},
    };
}

/// One sandbox's turn in the scenario. Reports its time, or why it failed, once its
/// sandbox is gone (deleted also after a failure), then deletes itself.
class SandboxRound final : public QObject
{
public:
    using Done = std::function<void(const std::optional<QString> &failure, double milliseconds)>;

    SandboxRound(OpenSandboxClient &client, int index, const QString &payloadFile, const QByteArray &payload, Done done)
        : m_client(client)
        , m_index(index)
        , m_commands(scenarioCommands(index))
        , m_payloadFile(payloadFile)
        , m_payload(payload)
        , m_done(std::move(done))
    {
    }

    void start()
    {
        m_clock.start();
        OpenSandboxCreateJob *create = m_client.createSandbox(sandboxRequest(u"sandflow"_s));
        then(create, u"create"_s, [this, create] {
            m_id = create->result().id;
            m_execd = create->execd();
            runCommand(0);
        });
    }

private:
    /// Starts `job`; once it succeeds, `next` runs; once it fails, the round fails.
    template <typename Next>
    void then(AsyncJob *job, const QString &step, Next next)
    {
        connect(job, &AsyncJob::finished, this, [this, step, next](AsyncJob *finished) {
            if (finished->error())
                return fail(u"%1: %2"_s.arg(step, finished->error()->message));
            next();
        });
        job->start();
    }

    void runCommand(int which)
    {
        if (which == m_commands.size())
            return upload();
        m_stdout.clear();
        CommandJob *run = m_client.runCommand(m_execd, commandRequest(m_commands.at(which).command));
        connect(run, &CommandJob::output, this, [this](CommandJob::Stream stream, const QByteArray &data) {
            if (stream == CommandJob::Stream::Stdout)
                m_stdout += data;
        });
        const QString &command = m_commands.at(which).command;
        then(run, command, [this, which, command] {
            if (!m_commands.at(which).expected(m_stdout))
                return fail(u"%1: unexpected output `%2`"_s.arg(command, QString::fromUtf8(m_stdout.left(200))));
            runCommand(which + 1);
        });
    }

    void upload()
    {
        then(m_client.uploadFile(m_execd, m_payloadFile, PayloadPathInSandbox, {}), u"upload"_s, [this] { download(); });
    }

    void download()
    {
        // Room for what is expected, as the SDK's readBytes sizes its buffer by the answer.
        QByteArray room;
        room.reserve(m_payload.size());
        m_downloaded.setData(room);
        m_downloaded.open(QIODevice::WriteOnly);
        then(m_client.downloadFile(m_execd, PayloadPathInSandbox, &m_downloaded), u"download"_s, [this] {
            if (m_downloaded.data() != m_payload)
                return fail(u"download: %1 bytes came back, not the %2 uploaded"_s.arg(m_downloaded.size())
                                .arg(m_payload.size()));
            remove();
        });
    }

    void remove()
    {
        AsyncJob *removal = m_client.deleteSandbox(m_id);
        m_id.clear();
        then(removal, u"delete"_s, [this] { report(); });
    }

    void fail(const QString &what)
    {
        if (!m_failure)
            m_failure = u"sandbox %1: %2"_s.arg(m_index).arg(what);
        if (!m_id.isEmpty())
            return remove();
        report();
    }

    void report()
    {
        m_done(m_failure, double(m_clock.nsecsElapsed()) / 1e6);
        deleteLater();
    }

    OpenSandboxClient &m_client;
    const int m_index;
    const QList<ScenarioCommand> m_commands;
    const QString m_payloadFile;
    const QByteArray &m_payload;
    const Done m_done;
    QElapsedTimer m_clock;
    QString m_id;   // set while the sandbox exists
    OpenSandboxEndpoint m_execd;
    QByteArray m_stdout;
    QBuffer m_downloaded;
    std::optional<QString> m_failure;
};

int runScenario(OpenSandboxClient &client, const QString &payloadFile, int sandboxes, int concurrency)
{
    QFile file(payloadFile);
    if (!file.open(QIODevice::ReadOnly)) {
        say(u"bench_opensandbox: cannot read the payload %1: %2"_s.arg(payloadFile, file.errorString()));
        return 2;
    }
    const QByteArray payload = file.readAll();

    QList<double> perSandbox;
    QStringList failures;
    const double cpuBefore = cpuSeconds();
    const double wallMs = Bench::runConcurrently(sandboxes, concurrency, [&, index = 0](std::function<void()> done) mutable {
        auto *round = new SandboxRound(client, index++, payloadFile, payload,
                                       [&, done](const std::optional<QString> &failure, double milliseconds) {
                                           if (failure)
                                               failures.append(*failure);
                                           else
                                               perSandbox.append(milliseconds);
                                           done();
                                       });
        round->start();
    });
    const double cpu = cpuSeconds() - cpuBefore;

    say(u"sandflow: %1 sandboxes (create, 5 commands, upload and download %2 bytes, delete) at concurrency %3: "
        "wall %4 s, client CPU %5 s, per sandbox median %6 ms, failed %7"_s.arg(sandboxes)
            .arg(payload.size())
            .arg(concurrency)
            .arg(wallMs / 1000, 0, 'f', 2)
            .arg(cpu, 0, 'f', 2)
            .arg(median(perSandbox), 0, 'f', 1)
            .arg(failures.size()));
    for (const QString &failure : failures.mid(0, FailuresShown))
        say(u"  "_s + failure);
    say(u"result wall_s=%1 cpu_s=%2 median_ms=%3 failures=%4"_s.arg(wallMs / 1000, 0, 'f', 3)
            .arg(cpu, 0, 'f', 3)
            .arg(median(perSandbox), 0, 'f', 1)
            .arg(failures.size()));
    return failures.isEmpty() ? 0 : 1;
}

/// The streams' sandboxes: each one's id and execd endpoint.
using StreamSandboxes = QList<QPair<QString, OpenSandboxEndpoint>>;

void deleteSandboxes(OpenSandboxClient &client, const StreamSandboxes &sandboxes)
{
    QStringList ids;
    for (const auto &sandbox : sandboxes)
        ids.append(sandbox.first);
    if (ids.isEmpty())
        return;
    Bench::runConcurrently(int(ids.size()), int(ids.size()), [&, index = 0](std::function<void()> done) mutable {
        AsyncJob *removal = client.deleteSandbox(ids.at(index++));
        QObject::connect(removal, &AsyncJob::finished, &client, [removal, done] {
            if (removal->error())
                say(u"bench_opensandbox: "_s + removal->error()->message);
            done();
        });
        removal->start();
    });
}

/// Creates `count` sandboxes at once; their ids and execd endpoints, or std::nullopt after
/// saying why (the ones made are deleted then).
std::optional<StreamSandboxes> createStreamSandboxes(OpenSandboxClient &client, int count)
{
    StreamSandboxes sandboxes;
    QStringList failures;
    Bench::runConcurrently(count, count, [&](std::function<void()> done) {
        OpenSandboxCreateJob *create = client.createSandbox(sandboxRequest(u"streams"_s));
        QObject::connect(create, &AsyncJob::finished, &client, [&, create, done] {
            if (create->error())
                failures.append(u"create: "_s + create->error()->message);
            else
                sandboxes.append({create->result().id, create->execd()});
            done();
        });
        create->start();
    });
    if (failures.isEmpty())
        return sandboxes;
    say(u"bench_opensandbox: cannot create the sandboxes for the streams: "_s + failures.first());
    deleteSandboxes(client, sandboxes);
    return std::nullopt;
}

/// What one batch of streams, all started at once, took.
struct StreamBatch
{
    double allStartedMs = 0;      ///< until the last one's init event
    double completedMs = 0;       ///< until the last one ended
    QList<double> initToEndMs;    ///< each one's run as seen from here
};

/// Runs `count` streams at once over `sandboxes`; what went wrong goes to `failures`.
StreamBatch runStreamBatch(OpenSandboxClient &client, const StreamSandboxes &sandboxes, int count, QStringList &failures)
{
    StreamBatch batch;
    int startedCount = 0;
    QElapsedTimer clock;
    clock.start();
    const auto elapsedMs = [&clock] { return double(clock.nsecsElapsed()) / 1e6; };
    batch.completedMs = Bench::runConcurrently(count, count, [&, index = 0](std::function<void()> done) mutable {
        struct Seen
        {
            QByteArray out;
            double startedMs = 0;
        };
        const int stream = index++;
        CommandJob *run = client.runCommand(sandboxes.at(stream % sandboxes.size()).second, commandRequest(StreamCommand));
        auto seen = std::make_shared<Seen>();
        QObject::connect(run, &CommandJob::started, &client, [&, seen] {
            seen->startedMs = elapsedMs();
            if (++startedCount == count)
                batch.allStartedMs = seen->startedMs;
        });
        QObject::connect(run, &CommandJob::output, &client, [seen](CommandJob::Stream, const QByteArray &data) {
            seen->out += data;
        });
        QObject::connect(run, &AsyncJob::finished, &client, [&, run, seen, stream, done] {
            if (run->error())
                failures.append(u"stream %1: %2"_s.arg(stream).arg(run->error()->message));
            else if (seen->out != "done\n")
                failures.append(u"stream %1: output `%2`, expected `done`"_s.arg(stream).arg(QString::fromUtf8(seen->out)));
            else
                batch.initToEndMs.append(elapsedMs() - seen->startedMs);
            done();
        });
        run->start();
    });
    if (startedCount != count)
        batch.allStartedMs = qQNaN();
    return batch;
}

int runStreams(OpenSandboxClient &client, int streams, int sandboxCount, int rounds)
{
    const auto sandboxes = createStreamSandboxes(client, sandboxCount);
    if (!sandboxes) {
        say(u"result started_s=0 completed_s=0 alone_s=0 failures=%1"_s.arg(streams));
        return 1;
    }

    QStringList failures;
    QList<StreamBatch> batches;
    const Bench::Rounds completed = Bench::alternate(
        rounds, [&] { return runStreamBatch(client, *sandboxes, 1, failures).completedMs; },
        [&] {
            batches.append(runStreamBatch(client, *sandboxes, streams, failures));
            return batches.last().completedMs;
        });
    batches.removeFirst();   // alternate()'s untimed run
    deleteSandboxes(client, *sandboxes);

    std::vector<double> allStarted;
    QList<double> initToEndMs;
    for (const StreamBatch &batch : batches) {
        allStarted.push_back(batch.allStartedMs / 1000);
        initToEndMs += batch.initToEndMs;
    }
    const Bench::Spread started = Bench::spread(allStarted);
    const Bench::Spread all = Bench::spread(completed.measured);
    const Bench::Spread alone = Bench::spread(completed.baseline);
    say(u"streams: %1 concurrent command streams from one process over %2 sandboxes, each waiting %3 s, %4 rounds "
        "in alternating order with one stream alone; failed %5"_s.arg(streams)
            .arg(sandboxCount)
            .arg(StreamWaitSeconds)
            .arg(rounds)
            .arg(failures.size()));
    for (const QString &failure : failures.mid(0, FailuresShown))
        say(u"  "_s + failure);
    Bench::printComparison(completed, "ms", "baseline, one stream alone, start to end:", "all streams at once, start to end:");
    // What goes beyond the wait is the server's and the client's: how soon the sandboxes start
    // each bash, and how soon their output and their end are relayed.
    say(u"streams: all started (init) within median %1 s (min %2, max %3); each from its init event to its end: "
        "median %4 s, longest %5 s"_s.arg(started.median, 0, 'f', 2)
            .arg(started.min, 0, 'f', 2)
            .arg(started.max, 0, 'f', 2)
            .arg(median(initToEndMs) / 1000, 0, 'f', 2)
            .arg(initToEndMs.isEmpty() ? 0 : *std::max_element(initToEndMs.begin(), initToEndMs.end()) / 1000, 0, 'f', 2));
    say(u"result started_s=%1 completed_s=%2 alone_s=%3 failures=%4"_s.arg(started.median, 0, 'f', 3)
            .arg(all.median / 1000, 0, 'f', 3)
            .arg(alone.median / 1000, 0, 'f', 3)
            .arg(failures.size()));
    return failures.isEmpty() ? 0 : 1;
}

std::optional<int> positiveNumber(const QCommandLineParser &parser, const QString &option)
{
    bool ok = false;
    const int value = parser.value(option).toInt(&ok);
    if (ok && value > 0)
        return value;
    say(u"bench_opensandbox: --%1 wants a positive number, not `%2`"_s.arg(option, parser.value(option)));
    return std::nullopt;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(u"OpenSandboxClient against the OpenSandbox server at $OPEN_SANDBOX_DOMAIN"_s);
    parser.addHelpOption();
    parser.addOptions({
        {u"payload"_s, u"The file each sandbox gets uploaded and downloaded back."_s, u"file"_s},
        {u"sandboxes"_s, u"How many sandboxes the scenario goes through."_s, u"n"_s, u"100"_s},
        {u"concurrency"_s, u"How many of them at a time."_s, u"n"_s, u"10"_s},
        {u"streams"_s, u"Instead of the scenario: this many command streams at once."_s, u"n"_s},
        {u"stream-sandboxes"_s, u"Over how many sandboxes the streams go."_s, u"n"_s, u"10"_s},
        {u"rounds"_s, u"How many rounds the streams and their baseline take turns over."_s, u"n"_s, u"3"_s},
    });
    parser.process(app);

    OpenSandboxClient client(OpenSandboxConfig::fromEnvironment());
    if (parser.isSet(u"streams"_s)) {
        const auto streams = positiveNumber(parser, u"streams"_s);
        const auto sandboxes = positiveNumber(parser, u"stream-sandboxes"_s);
        const auto rounds = positiveNumber(parser, u"rounds"_s);
        return streams && sandboxes && rounds ? runStreams(client, *streams, *sandboxes, *rounds) : 2;
    }
    if (!parser.isSet(u"payload"_s)) {
        say(u"bench_opensandbox: --payload FILE or --streams N is needed"_s);
        return 2;
    }
    const auto sandboxes = positiveNumber(parser, u"sandboxes"_s);
    const auto concurrency = positiveNumber(parser, u"concurrency"_s);
    return sandboxes && concurrency ? runScenario(client, parser.value(u"payload"_s), *sandboxes, *concurrency) : 2;
}
