// Network policies on the local runner, each side measured in the same run:
//   1. downloading 200 MB from a server of this benchmark on the host's loopback (127.0.0.2,
//      sendfile from memory), by curl in a sandbox whose policy allows that address (through
//      the runner's proxy), against the same download by curl in a sandbox without a policy
//      (the host's network): throughput by curl's own clock;
//   2. creating a sandbox until ready, then deleting it: with a policy of rules against one
//      with the deny-all policy, and that one against a sandbox without a policy.
// The sides take turns (rounds.h). Exits non-zero, without figures, when anything failed or
// curl is missing. Prints figures; not a test.
#include "localrunner.h"
#include "rounds.h"
#include "runnercycles.h"

#include <QCoreApplication>
#include <QStandardPaths>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

using namespace Sandflow;
using namespace Qt::StringLiterals;
using Action = SandboxNetworkPolicy::Action;

namespace {

constexpr qint64 DownloadBytes = 200LL * 1000 * 1000;
constexpr int DownloadRounds = 6;
constexpr int CreateRounds = 20;

/// An HTTP/1.0 server on 127.0.0.2 that answers every request with DownloadBytes of zeros,
/// sent with sendfile from a memory file, one connection at a time, on a thread of its own.
class DownloadServer
{
public:
    DownloadServer()
    {
        m_body = ::memfd_create("bench-egress-body", MFD_CLOEXEC);
        m_listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        ::inet_pton(AF_INET, "127.0.0.2", &address.sin_addr);
        socklen_t length = sizeof address;
        if (m_body < 0 || ::ftruncate(m_body, DownloadBytes) != 0 || m_listener < 0
            || ::bind(m_listener, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0
            || ::listen(m_listener, 16) != 0
            || ::getsockname(m_listener, reinterpret_cast<sockaddr *>(&address), &length) != 0)
            return;
        m_port = ntohs(address.sin_port);
        m_thread = std::thread([this] { serve(); });
    }
    ~DownloadServer()
    {
        m_stopping = true;
        ::shutdown(m_listener, SHUT_RDWR);
        if (m_thread.joinable())
            m_thread.join();
        ::close(m_listener);
        ::close(m_body);
    }
    quint16 port() const { return m_port; }

private:
    void serve()
    {
        while (!m_stopping) {
            const int client = ::accept4(m_listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0)
                return;
            char request[4096];
            [[maybe_unused]] const ssize_t got = ::recv(client, request, sizeof request, 0);
            const QByteArray head = "HTTP/1.0 200 OK\r\nContent-Length: " + QByteArray::number(DownloadBytes)
                                    + "\r\nConnection: close\r\n\r\n";
            if (::send(client, head.constData(), size_t(head.size()), MSG_NOSIGNAL) == head.size()) {
                off_t offset = 0;
                while (offset < DownloadBytes && ::sendfile(client, m_body, &offset, size_t(DownloadBytes - offset)) > 0) {
                }
            }
            ::close(client);
        }
    }

    int m_body = -1;
    int m_listener = -1;
    quint16 m_port = 0;
    std::atomic_bool m_stopping{false};
    std::thread m_thread;
};

/// What `command` printed in sandbox `id`; counts an error when it failed.
QByteArray outputOf(Runner *runner, const QString &id, const QString &command, Bench::Errors &errors)
{
    CommandRequest request;
    request.command = command;
    CommandJob *job = runner->runCommand(id, request);
    QByteArray out;
    QObject::connect(job, &CommandJob::output, job, [&out](CommandJob::Stream stream, const QByteArray &data) {
        if (stream == CommandJob::Stream::Stdout)
            out += data;
    });
    QObject::connect(job, &AsyncJob::finished, job, [&errors](AsyncJob *finished) { errors.failed(finished, u"run"_s); });
    Bench::waitFor(job);
    return out;
}

/// A sandbox made, waited for and deleted: milliseconds.
double createAndDelete(Runner *runner, const SandboxRequest &request, Bench::Errors &errors)
{
    QElapsedTimer clock;
    clock.start();
    const QString id = Bench::createAndWait(runner, request, errors);
    if (!id.isEmpty())
        Bench::waitFor(runner->deleteSandbox(id));
    return double(clock.nsecsElapsed()) / 1e6;
}

SandboxRequest withPolicy(std::optional<SandboxNetworkPolicy> policy)
{
    SandboxRequest request;
    request.network = std::move(policy);
    return request;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (QStandardPaths::findExecutable(u"curl"_s).isEmpty()) {
        std::fprintf(stderr, "bench_egress: curl is not installed (Debian package curl)\n");
        return 1;
    }
    DownloadServer server;
    if (server.port() == 0) {
        std::fprintf(stderr, "bench_egress: cannot serve on 127.0.0.2\n");
        return 1;
    }
    LocalRunner::Options options;
    options.agentPath = QStringLiteral(SANDFLOW_AGENT_PATH);
    LocalRunner runner(options);
    Bench::Errors errors;
    const SandboxNetworkPolicy rules{Action::Deny,
                                     {{Action::Allow, u"127.0.0.2"_s}, {Action::Allow, u"*.example.com"_s},
                                      {Action::Deny, u"10.0.0.0/8"_s}}};
    const QString filtered = Bench::createAndWait(&runner, withPolicy(rules), errors);
    const QString open = Bench::createAndWait(&runner, withPolicy(std::nullopt), errors);
    if (errors.report("bench_egress"))
        return 1;
    const QString curl = u"curl -sS -o /dev/null -w '%{speed_download}' http://127.0.0.2:%1/"_s.arg(server.port());
    const auto download = [&](const QString &id) {
        // Megabytes a second, as curl measured.
        return outputOf(&runner, id, curl, errors).toDouble() / 1e6;
    };
    const Bench::Rounds throughput =
        Bench::alternate(DownloadRounds, [&] { return download(open); }, [&] { return download(filtered); });
    Bench::waitFor(runner.deleteSandbox(filtered));
    Bench::waitFor(runner.deleteSandbox(open));

    const SandboxNetworkPolicy denyAll{Action::Deny, {}};
    const Bench::Rounds createRules =
        Bench::alternate(CreateRounds, [&] { return createAndDelete(&runner, withPolicy(denyAll), errors); },
                         [&] { return createAndDelete(&runner, withPolicy(rules), errors); });
    const Bench::Rounds createDenyAll =
        Bench::alternate(CreateRounds, [&] { return createAndDelete(&runner, withPolicy(std::nullopt), errors); },
                         [&] { return createAndDelete(&runner, withPolicy(denyAll), errors); });
    if (errors.report("bench_egress"))
        return 1;

    std::printf("bench_egress: the sides of each figure in alternating order, after one untimed run of each; medians\n");
    std::printf("downloading %lld MB from 127.0.0.2 with curl in a sandbox, %d runs of each\n", DownloadBytes / 1000000,
                DownloadRounds);
    Bench::printComparison(throughput, "MB/s", "baseline, no policy (the host's network):",
                           "policy allowing 127.0.0.2 (the runner's proxy):");
    std::printf("creating a sandbox until ready, then deleting it, %d runs of each\n", CreateRounds);
    Bench::printComparison(createRules, "ms", "baseline, deny-all policy:", "policy of three rules:");
    Bench::printComparison(createDenyAll, "ms", "baseline, no policy:", "deny-all policy:");
    return 0;
}
