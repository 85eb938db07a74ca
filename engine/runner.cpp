#include "runner.h"

#include <csignal>

#include <algorithm>

namespace Sandflow {

using namespace Qt::StringLiterals;

namespace {

// What a runner without Capability::Terminals hands out: a job that says so when started,
// so that callers learn it through the one job contract rather than from a null pointer.
class UnsupportedTerminalJob final : public TerminalJob
{
public:
    explicit UnsupportedTerminalJob(JobError error) : m_error(std::move(error)) {}

    // The job never runs a process: there is nothing to write to, resize or signal.
    void writeInput(const QByteArray &) override {}
    void closeInput() override {}
    void resize(int, int) override {}
    void sendSignal(int) override {}
    qint64 pendingInput() const override { return 0; }

protected:
    void doStart() override { finish(m_error); }

private:
    JobError m_error;
};

} // namespace

TerminalJob *Runner::openTerminal(const QString &sandboxId, const TerminalRequest &)
{
    const QString runner = QString::fromLatin1(metaObject()->className()).section(u"::"_s, -1);
    return new UnsupportedTerminalJob(JobError{JobError::Kind::Invalid, u"TERMINALS_NOT_SUPPORTED"_s,
                                               u"%1 cannot open terminals in sandboxes"_s.arg(runner),
                                               {{u"runner"_s, runner}, {u"id"_s, sandboxId}}});
}

namespace {

/// The egress operations of a runner that cannot filter: each fails when it starts.
class UnsupportedEgressJob final : public ResultJob<SandboxNetworkPolicy>
{
public:
    explicit UnsupportedEgressJob(JobError error) : m_error(std::move(error)) {}

protected:
    void doStart() override { finish(m_error); }

private:
    JobError m_error;
};

} // namespace

// One refusal for the three: a runner that overrides some must override all.
static ResultJob<SandboxNetworkPolicy> *unsupportedEgress(const QObject *runnerObject, const QString &sandboxId)
{
    const QString runner = QString::fromLatin1(runnerObject->metaObject()->className()).section(u"::"_s, -1);
    return new UnsupportedEgressJob(JobError{JobError::Kind::Invalid, u"EGRESS_NOT_SUPPORTED"_s,
                                             u"%1 cannot filter a sandbox's network"_s.arg(runner),
                                             {{u"runner"_s, runner}, {u"id"_s, sandboxId}}});
}

ResultJob<SandboxNetworkPolicy> *Runner::egressPolicy(const QString &sandboxId)
{
    return unsupportedEgress(this, sandboxId);
}

ResultJob<SandboxNetworkPolicy> *Runner::patchEgressRules(const QString &sandboxId, const QList<SandboxNetworkPolicy::Rule> &)
{
    return unsupportedEgress(this, sandboxId);
}

ResultJob<SandboxNetworkPolicy> *Runner::deleteEgressRules(const QString &sandboxId, const QStringList &)
{
    return unsupportedEgress(this, sandboxId);
}

bool isTerminalSize(int columns, int rows)
{
    constexpr int largest = 10'000;
    return columns >= 1 && columns <= largest && rows >= 1 && rows <= largest;
}

namespace {

struct NamedSignal
{
    int number;
    const char16_t *name;
};
constexpr NamedSignal TerminalSignals[] = {
    {SIGINT, u"SIGINT"}, {SIGTERM, u"SIGTERM"}, {SIGKILL, u"SIGKILL"}, {SIGQUIT, u"SIGQUIT"}, {SIGHUP, u"SIGHUP"},
};

} // namespace

int terminalSignalNamed(const QString &name)
{
    for (const NamedSignal &known : TerminalSignals) {
        if (name == QStringView(known.name))
            return known.number;
    }
    return 0;
}

QString terminalSignalName(int signal)
{
    for (const NamedSignal &known : TerminalSignals) {
        if (known.number == signal)
            return QString::fromUtf16(known.name);
    }
    return {};
}

AsyncJob *Runner::trackDeletion(AsyncJob *job)
{
    m_deleting.append(job);
    connect(job, &AsyncJob::finished, this, [this, job] {
        m_deleting.removeOne(job);
        if (m_deleting.isEmpty())
            emit deletionsSettled();
    });
    return job;
}

QString sandboxStateName(SandboxState state)
{
    switch (state) {
    case SandboxState::Pending: return u"Pending"_s;
    case SandboxState::Running: return u"Running"_s;
    case SandboxState::Paused: return u"Paused"_s;
    case SandboxState::Terminated: return u"Terminated"_s;
    case SandboxState::Failed: return u"Failed"_s;
    case SandboxState::Unknown: break;
    }
    return u"Unknown"_s;
}

SandboxState sandboxStateFromName(const QString &name)
{
    for (const SandboxState state : {SandboxState::Pending, SandboxState::Running, SandboxState::Paused,
                                     SandboxState::Terminated, SandboxState::Failed}) {
        if (name.compare(sandboxStateName(state), Qt::CaseInsensitive) == 0)
            return state;
    }
    return SandboxState::Unknown;
}

SandboxPage selectSandboxes(QList<SandboxInfo> sandboxes, const SandboxFilter &filter)
{
    const auto matches = [&filter](const SandboxInfo &sandbox) {
        if (!filter.states.isEmpty()
            && !filter.states.contains(sandboxStateName(sandbox.state), Qt::CaseInsensitive))
            return false;
        for (auto it = filter.metadata.cbegin(); it != filter.metadata.cend(); ++it) {
            const auto found = sandbox.metadata.constFind(it.key());
            if (found == sandbox.metadata.cend() || *found != it.value())
                return false;
        }
        return true;
    };
    sandboxes.removeIf([&matches](const SandboxInfo &sandbox) { return !matches(sandbox); });
    std::stable_sort(sandboxes.begin(), sandboxes.end(), [](const SandboxInfo &a, const SandboxInfo &b) {
        return a.createdAt > b.createdAt;
    });

    SandboxPage page;
    page.page = std::max(filter.page, 1);
    page.pageSize = std::max(filter.pageSize, 1);
    page.totalItems = int(sandboxes.size());
    // Rounded up without adding pageSize - 1 first, which overflows for a page size
    // meant as "everything" (INT_MAX).
    page.totalPages = page.totalItems / page.pageSize + (page.totalItems % page.pageSize != 0 ? 1 : 0);
    page.hasNextPage = page.page < page.totalPages;
    const qsizetype first = qsizetype(page.page - 1) * page.pageSize;
    if (first < sandboxes.size())
        page.items = sandboxes.mid(first, page.pageSize);
    return page;
}

int modeToDigits(int mode)
{
    return ((mode >> 6) & 7) * 100 + ((mode >> 3) & 7) * 10 + (mode & 7);
}

std::optional<int> modeFromDigits(qint64 digits)
{
    if (digits < 0 || digits > 7777)
        return std::nullopt;
    int mode = 0;
    int shift = 0;
    for (qint64 rest = digits; rest > 0; rest /= 10, shift += 3) {
        const int digit = int(rest % 10);
        if (digit > 7)
            return std::nullopt;
        mode |= digit << shift;
    }
    return mode & 0777;
}

FileInfo::Type fileTypeFromName(const QString &name)
{
    for (const FileInfo::Type type : {FileInfo::Type::File, FileInfo::Type::Directory, FileInfo::Type::Symlink}) {
        if (name == fileTypeName(type))
            return type;
    }
    return FileInfo::Type::Other;
}

bool isFileNotFound(const JobError &error)
{
    return error.code == u"FILE_NOT_FOUND"_s || error.code == u"NOT_FOUND"_s;
}

QString fileTypeName(FileInfo::Type type)
{
    switch (type) {
    case FileInfo::Type::File: return u"file"_s;
    case FileInfo::Type::Directory: return u"directory"_s;
    case FileInfo::Type::Symlink: return u"symlink"_s;
    case FileInfo::Type::Other: break;
    }
    return u"other"_s;
}

} // namespace Sandflow
