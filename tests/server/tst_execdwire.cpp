// execd's wire format, byte for byte: what `sandflow serve` reads from requests and writes
// in answers, without a server or a runner.
#include "execdwire_p.h"
#include "ptywire_p.h"
#include "jsoncompare.h"

#include <QTest>

#include <csignal>
#include <ctime>

using namespace Sandflow;
using namespace Sandflow::Internal;
using namespace Qt::StringLiterals;
using SandflowTest::json;
using SandflowTest::normalized;

namespace {

/// "ok", or an error as "STATUS CODE: message".
template <typename T>
QString outcome(const Parsed<T> &result)
{
    if (result.ok())
        return u"ok"_s;
    return u"%1 %2"_s.arg(result.error().status).arg(result.error().message());
}

} // namespace

class TestExecdWire : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    // Errors and values
    void errorBodies();
    void modes_data();
    void modes();
    void modesFromRequests_data();
    void modesFromRequests();
    void times_data();
    void times();
    void fileInfo();
    void commandStatus();
    void metrics();

    // Output lines
    void lines_data();
    void lines();
    void linesAtEverySplit_data();
    void linesAtEverySplit();
    void lineEndsAsSoonAsItsCarriageReturnArrives();

    // Events
    void events();
    void outputIsUtf8Text();
    void executionErrors_data();
    void executionErrors();
    void finalEvents();

    // Requests
    void commandBodies_data();
    void commandBodies();
    void sessionBodies_data();
    void sessionBodies();
    void sessionRunBodies_data();
    void sessionRunBodies();
    void permissionBodies_data();
    void permissionBodies();
    void moveBodies_data();
    void moveBodies();
    void replaceBodies_data();
    void replaceBodies();
    void queries_data();
    void queries();

    // Multipart and uploads
    void boundaries_data();
    void boundaries();
    void multipartForms_data();
    void multipartForms();
    void multipartOffsetsPointIntoTheBody();
    void malformedMultipart_data();
    void malformedMultipart();
    void uploadsOfThePythonSdk();
    void uploadErrors_data();
    void uploadErrors();

    // Downloads
    void ranges_data();
    void ranges();
    void contentRanges();
    void contentDispositions_data();
    void contentDispositions();

    // PTY sessions
    void ptyBodies_data();
    void ptyBodies();
    void ptyServerFrames();
    void ptyClientTextFrames_data();
    void ptyClientTextFrames();
    void ptyClientBinaryFrames();
};

void TestExecdWire::initTestCase()
{
    // A fixed local zone without tzdata: execd writes times in its local offset.
    qputenv("TZ", "<+0530>-05:30");
    tzset();
}

// Errors and values

void TestExecdWire::errorBodies()
{
    QCOMPARE(json(execdErrorJson(u"FILE_NOT_FOUND"_s, u"no file `/a`"_s)),
             normalized(R"({"code": "FILE_NOT_FOUND", "message": "no file `/a`"})"));
    QCOMPARE(json(execdErrorJson(u"UNKNOWN"_s, {})), normalized(R"({"code": "UNKNOWN"})"));
    QCOMPARE(json(execdErrorJson({}, {})), "{}");
    const ApiError invalid = invalidRequestBody(u"`command` is required"_s);
    QCOMPARE(invalid.status, 400);
    QCOMPARE(json(invalid.body), normalized(R"({"code": "INVALID_REQUEST_BODY", "message": "`command` is required"})"));
    const ApiError missing = execdError(400, u"MISSING_QUERY"_s, u"missing query parameter `path`"_s);
    QCOMPARE(missing.status, 400);
    QCOMPARE(json(missing.body), normalized(R"({"code": "MISSING_QUERY", "message": "missing query parameter `path`"})"));
}

void TestExecdWire::modes_data()
{
    QTest::addColumn<int>("mode");
    QTest::addColumn<int>("digits");
    QTest::newRow("0755") << 0755 << 755;
    QTest::newRow("0644") << 0644 << 644;
    QTest::newRow("0700") << 0700 << 700;
    QTest::newRow("0007") << 0007 << 7;
    QTest::newRow("0777") << 0777 << 777;
    QTest::newRow("0") << 0 << 0;
}

void TestExecdWire::modes()
{
    QFETCH(int, mode);
    QFETCH(int, digits);
    QCOMPARE(modeToDigits(mode), digits);
    QCOMPARE(modeFromDigits(digits), std::optional<int>(mode));
    // Only the permission bits are reported.
    QCOMPARE(modeToDigits(mode | 04000 | 01000), digits);
}

void TestExecdWire::modesFromRequests_data()
{
    QTest::addColumn<qint64>("digits");
    QTest::addColumn<std::optional<int>>("mode");
    QTest::newRow("setuid digit dropped") << qint64(4755) << std::optional<int>(0755);
    QTest::newRow("8") << qint64(8) << std::optional<int>();
    QTest::newRow("9 in the middle") << qint64(795) << std::optional<int>();
    QTest::newRow("negative") << qint64(-755) << std::optional<int>();
    QTest::newRow("five digits") << qint64(10000) << std::optional<int>();
}

void TestExecdWire::modesFromRequests()
{
    QFETCH(qint64, digits);
    QFETCH(std::optional<int>, mode);
    QCOMPARE(modeFromDigits(digits), mode);
}

void TestExecdWire::times_data()
{
    QTest::addColumn<QDateTime>("time");
    QTest::addColumn<QString>("text");
    const QDate day(2026, 12, 1);
    QTest::newRow("UTC, milliseconds") << QDateTime(day, QTime(10, 0, 0, 123), Qt::UTC)
                                       << u"2026-12-01T10:00:00.123Z"_s;
    QTest::newRow("trailing zeros trimmed") << QDateTime(day, QTime(10, 0, 0, 120), Qt::UTC)
                                            << u"2026-12-01T10:00:00.12Z"_s;
    QTest::newRow("no fraction") << QDateTime(day, QTime(10, 0, 0), Qt::UTC) << u"2026-12-01T10:00:00Z"_s;
    QTest::newRow("positive offset") << QDateTime(day, QTime(15, 30, 0, 5), Qt::OffsetFromUTC, 5 * 3600 + 1800)
                                     << u"2026-12-01T15:30:00.005+05:30"_s;
    QTest::newRow("negative offset") << QDateTime(day, QTime(2, 4, 6, 780), Qt::OffsetFromUTC, -8 * 3600)
                                     << u"2026-12-01T02:04:06.78-08:00"_s;
    QTest::newRow("invalid: Go's zero time") << QDateTime() << u"0001-01-01T00:00:00Z"_s;
}

void TestExecdWire::times()
{
    QFETCH(QDateTime, time);
    QFETCH(QString, text);
    QCOMPARE(rfc3339Nano(time), text);
}

void TestExecdWire::fileInfo()
{
    FileInfo info;
    info.path = u"/workspace/a \"b\".txt"_s;
    info.type = FileInfo::Type::File;
    info.size = 2048;
    info.modifiedAt = QDateTime(QDate(2026, 12, 1), QTime(10, 0, 0, 123), Qt::UTC);
    info.changedAt = QDateTime(QDate(2026, 12, 1), QTime(10, 0, 1), Qt::UTC);
    info.owner = u"root"_s;
    info.group = u"1001"_s;
    info.mode = 0755;
    // Times in the local zone (+05:30 here), as execd writes them.
    const QByteArray expected = normalized(R"({
        "path": "/workspace/a \"b\".txt", "type": "file", "size": 2048,
        "modified_at": "2026-12-01T15:30:00.123+05:30", "created_at": "2026-12-01T15:30:01+05:30",
        "owner": "root", "group": "1001", "mode": 755})");
    QCOMPARE(json(fileInfoJson(info)), expected);

    info.type = FileInfo::Type::Symlink;
    info.mode = 0777;
    QCOMPARE(fileInfoJson(info).value(u"type"_s).toString(), u"symlink"_s);
    QCOMPARE(fileInfoJson(info).value(u"mode"_s).toInt(), 777);
    info.type = FileInfo::Type::Directory;
    QCOMPARE(fileInfoJson(info).value(u"type"_s).toString(), u"directory"_s);
    info.type = FileInfo::Type::Other;
    QCOMPARE(fileInfoJson(info).value(u"type"_s).toString(), u"other"_s);
}

void TestExecdWire::commandStatus()
{
    CommandStatus status;
    status.id = u"0123456789abcdef0123456789abcdef"_s;
    status.command = u"sleep 10"_s;
    status.running = true;
    status.startedAt = QDateTime(QDate(2026, 12, 1), QTime(9, 8, 5), Qt::UTC);
    const QByteArray running = normalized(R"({
        "id": "0123456789abcdef0123456789abcdef", "content": "sleep 10", "running": true,
        "started_at": "2026-12-01T14:38:05+05:30"})");
    QCOMPARE(json(commandStatusJson(status)), running);

    status.running = false;
    status.exitCode = 3;
    status.error = u"exit status 3"_s;
    status.finishedAt = QDateTime(QDate(2026, 12, 1), QTime(9, 8, 9, 500), Qt::UTC);
    const QByteArray finished = normalized(R"({
        "id": "0123456789abcdef0123456789abcdef", "content": "sleep 10", "running": false,
        "exit_code": 3, "error": "exit status 3",
        "started_at": "2026-12-01T14:38:05+05:30", "finished_at": "2026-12-01T14:38:09.5+05:30"})");
    QCOMPARE(json(commandStatusJson(status)), finished);

    // A success has an exit code and no error.
    status.exitCode = 0;
    status.error.clear();
    const QJsonObject success = commandStatusJson(status);
    QCOMPARE(json(success.value(u"exit_code"_s)), "0");
    QVERIFY(!success.contains(u"error"_s));
}

void TestExecdWire::metrics()
{
    SandboxMetrics metrics;
    metrics.cpuCount = 2;
    metrics.cpuUsedPercent = 45.5;
    metrics.memoryTotalMiB = 8192;
    metrics.memoryUsedMiB = 1024.25;
    metrics.timestamp = QDateTime::fromMSecsSinceEpoch(1700000000123, Qt::UTC);
    const QByteArray expected = normalized(R"({
        "cpu_count": 2, "cpu_used_pct": 45.5, "mem_total_mib": 8192, "mem_used_mib": 1024.25,
        "timestamp": 1700000000123})");
    QCOMPARE(json(metricsJson(metrics)), expected);
}

// Output lines

namespace {

/// Each emitted line, as its text (lines are text in these tests).
QStringList split(ExecdLineSplitter &splitter, const QList<QByteArray> &chunks)
{
    QStringList lines;
    const auto sink = [&lines](const QByteArray &line) { lines.append(QString::fromUtf8(line)); };
    for (const QByteArray &chunk : chunks)
        splitter.add(chunk, sink);
    splitter.flush(sink);
    return lines;
}

} // namespace

void TestExecdWire::lines_data()
{
    QTest::addColumn<QByteArray>("output");
    QTest::addColumn<qsizetype>("maxLineLength");
    QTest::addColumn<QStringList>("lines");
    const qsizetype unlimited = ExecdLineSplitter::DefaultMaxLineLength;
    QTest::newRow("every kind of break") << QByteArray("a\r\nb\rc\n\nd") << unlimited
                                         << QStringList{u"a"_s, u"b"_s, u"c"_s, u"\n"_s, u"d"_s};
    QTest::newRow("nothing") << QByteArray() << unlimited << QStringList();
    QTest::newRow("one line") << QByteArray("Hello OpenSandbox E2E\n") << unlimited
                              << QStringList{u"Hello OpenSandbox E2E"_s};
    QTest::newRow("no final break") << QByteArray("partial") << unlimited << QStringList{u"partial"_s};
    QTest::newRow("only a break") << QByteArray("\n") << unlimited << QStringList{u"\n"_s};
    QTest::newRow("CRLF is one break") << QByteArray("\r\n") << unlimited << QStringList{u"\n"_s};
    QTest::newRow("two CRs are two") << QByteArray("x\r\ry") << unlimited << QStringList{u"x"_s, u"\n"_s, u"y"_s};
    QTest::newRow("LF CR is two") << QByteArray("x\n\ry") << unlimited << QStringList{u"x"_s, u"\n"_s, u"y"_s};
    QTest::newRow("blank CRLF lines") << QByteArray("x\r\n\r\n\r\ny\r\n") << unlimited
                                      << QStringList{u"x"_s, u"\n"_s, u"\n"_s, u"y"_s};
    QTest::newRow("progress bar") << QByteArray("10%\r50%\r100%\ndone\n") << unlimited
                                  << QStringList{u"10%"_s, u"50%"_s, u"100%"_s, u"done"_s};
    QTest::newRow("UTF-8") << QByteArray("h\xC3\xA9llo\nw\xC3\xB6rld") << unlimited
                           << QStringList{u"h\u00E9llo"_s, u"w\u00F6rld"_s};
    QTest::newRow("long line in pieces") << QByteArray("abcdefghij\nxy\n") << qsizetype(4)
                                         << QStringList{u"abcd"_s, u"efgh"_s, u"ij"_s, u"xy"_s};
    QTest::newRow("piece of exactly the limit") << QByteArray("abcd\nabcd") << qsizetype(4)
                                                << QStringList{u"abcd"_s, u"abcd"_s};
    // 'a', 'b', 'c', then a two-byte é that must not be cut.
    QTest::newRow("pieces keep characters whole") << QByteArray("abc\xC3\xA9\xC3\xA9\n") << qsizetype(4)
                                                  << QStringList{u"abc"_s, u"\u00E9\u00E9"_s};
}

void TestExecdWire::lines()
{
    QFETCH(QByteArray, output);
    QFETCH(qsizetype, maxLineLength);
    QFETCH(QStringList, lines);
    ExecdLineSplitter splitter(maxLineLength);
    QCOMPARE(split(splitter, {output}), lines);
}

void TestExecdWire::linesAtEverySplit_data()
{
    lines_data();
}

void TestExecdWire::linesAtEverySplit()
{
    QFETCH(QByteArray, output);
    QFETCH(qsizetype, maxLineLength);
    QFETCH(QStringList, lines);
    // The same bytes in two and in three chunks, cut at every pair of offsets: the lines
    // never depend on where the output was cut.
    for (qsizetype first = 0; first <= output.size(); ++first) {
        for (qsizetype second = first; second <= output.size(); ++second) {
            ExecdLineSplitter splitter(maxLineLength);
            const QStringList got = split(splitter, {output.first(first), output.sliced(first, second - first),
                                                     output.sliced(second)});
            if (got != lines)
                qWarning("cut at %lld and %lld", qlonglong(first), qlonglong(second));
            QCOMPARE(got, lines);
        }
    }
    // And byte by byte.
    ExecdLineSplitter splitter(maxLineLength);
    QList<QByteArray> bytes;
    for (const char c : output)
        bytes.append(QByteArray(1, c));
    QCOMPARE(split(splitter, bytes), lines);
}

void TestExecdWire::lineEndsAsSoonAsItsCarriageReturnArrives()
{
    ExecdLineSplitter splitter;
    QStringList lines;
    const auto sink = [&lines](const QByteArray &line) { lines.append(QString::fromUtf8(line)); };
    splitter.add("50%\r", sink);
    QCOMPARE(lines, QStringList{u"50%"_s});
    splitter.add("\n", sink);   // the rest of a CRLF: no line
    QCOMPARE(lines, QStringList{u"50%"_s});
    splitter.add("", sink);
    splitter.add("\n", sink);   // a break of its own: an empty line
    QCOMPARE(lines, (QStringList{u"50%"_s, u"\n"_s}));
    splitter.flush(sink);
    QCOMPARE(lines.size(), 2);
}

// Events

// Readable values for failed comparisons.
namespace Sandflow::Internal {

char *toString(const ExecutionError &error)
{
    return QTest::toString(u"{%1, %2, [%3]}"_s.arg(error.ename, error.evalue, error.traceback.join(u", "_s)));
}

} // namespace Sandflow::Internal

void TestExecdWire::events()
{
    const qint64 at = 1700000000123;
    QCOMPARE(initEvent(u"0123456789abcdef0123456789abcdef"_s, at),
             R"({"type":"init","text":"0123456789abcdef0123456789abcdef","timestamp":1700000000123})" "\n\n");
    QCOMPARE(initEvent({}, at), R"({"type":"init","timestamp":1700000000123})" "\n\n");
    QCOMPARE(pingEvent(at), R"({"type":"ping","text":"pong","timestamp":1700000000123})" "\n\n");
    QCOMPARE(outputEvent(CommandJob::Stream::Stdout, "Hello", at),
             R"({"type":"stdout","text":"Hello","timestamp":1700000000123})" "\n\n");
    QCOMPARE(outputEvent(CommandJob::Stream::Stderr, "say \"hi\"\\\t", at),
             R"({"type":"stderr","text":"say \"hi\"\\\t","timestamp":1700000000123})" "\n\n");
    QCOMPARE(outputEvent(CommandJob::Stream::Stdout, "\n", at),
             R"({"type":"stdout","text":"\n","timestamp":1700000000123})" "\n\n");
    QCOMPARE(errorEvent({u"CommandExecError"_s, u"3"_s, {u"exit status 3"_s}}, at),
             R"({"type":"error","timestamp":1700000000123,"error":{"ename":"CommandExecError","evalue":"3","traceback":["exit status 3"]}})" "\n\n");
    QCOMPARE(executionCompleteEvent(150, at),
             R"({"type":"execution_complete","execution_time":150,"timestamp":1700000000123})" "\n\n");
    QCOMPARE(executionCompleteEvent(0, at), R"({"type":"execution_complete","timestamp":1700000000123})" "\n\n");

    // Without a timestamp, now.
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    const QJsonObject ping = QJsonDocument::fromJson(pingEvent()).object();
    QVERIFY(ping.value(u"timestamp"_s).toInteger() >= before);
    QVERIFY(ping.value(u"timestamp"_s).toInteger() <= QDateTime::currentMSecsSinceEpoch());
}

void TestExecdWire::outputIsUtf8Text()
{
    QCOMPARE(outputEvent(CommandJob::Stream::Stdout, "caf\xC3\xA9 \x01", 5),
             "{\"type\":\"stdout\",\"text\":\"caf\xC3\xA9 \\u0001\",\"timestamp\":5}\n\n");
    // A byte that is not UTF-8 becomes U+FFFD (EF BF BD).
    QCOMPARE(outputEvent(CommandJob::Stream::Stdout, "a\xFF" "b", 5),
             "{\"type\":\"stdout\",\"text\":\"a\xEF\xBF\xBD" "b\",\"timestamp\":5}\n\n");
}

void TestExecdWire::executionErrors_data()
{
    QTest::addColumn<std::optional<JobError>>("error");
    QTest::addColumn<std::optional<int>>("exitCode");
    QTest::addColumn<FailureWording>("wording");
    QTest::addColumn<std::optional<ExecutionError>>("expected");

    using Kind = JobError::Kind;
    const auto failure = [](QString evalue, QString traceback) {
        return std::optional<ExecutionError>(ExecutionError{u"CommandExecError"_s, evalue, {traceback}});
    };
    const auto command = FailureWording::Command;
    const auto session = FailureWording::Session;
    const JobError exit3{Kind::Task, u"COMMAND_FAILED"_s, u"exit status 3"_s, {{u"exitCode"_s, 3}}};
    const JobError timeout{Kind::Timeout, u"COMMAND_TIMEOUT"_s, u"the command ran out of time"_s,
                           {{u"signal"_s, SIGKILL}}};
    const JobError interrupted{Kind::Task, u"COMMAND_KILLED"_s, u"killed by signal 15"_s, {{u"signal"_s, SIGTERM}}};
    const JobError oom{Kind::Task, u"COMMAND_OOM_KILLED"_s, u"killed by the kernel"_s, {{u"signal"_s, SIGKILL}}};
    const JobError startFailed{Kind::Task, u"COMMAND_START_FAILED"_s,
                               u"chdir /nope: no such file or directory"_s, {}};

    QTest::newRow("exit 0") << std::optional<JobError>() << std::optional<int>(0) << command
                            << std::optional<ExecutionError>();
    QTest::newRow("background, started") << std::optional<JobError>() << std::optional<int>() << command
                                         << std::optional<ExecutionError>();
    QTest::newRow("exit 3") << std::optional<JobError>(exit3) << std::optional<int>(3) << command
                            << failure(u"3"_s, u"exit status 3"_s);
    QTest::newRow("exit 3 in a session") << std::optional<JobError>(exit3) << std::optional<int>(3) << session
                                         << failure(u"3"_s, u"command exited with code 3"_s);
    QTest::newRow("exit code in the context only")
        << std::optional<JobError>(JobError{Kind::Task, u"COMMAND_FAILED"_s, u"exit status 2"_s, {{u"exitCode"_s, 2}}})
        << std::optional<int>() << command << failure(u"2"_s, u"exit status 2"_s);
    QTest::newRow("timeout") << std::optional<JobError>(timeout) << std::optional<int>() << command
                             << failure(u"-1"_s, u"signal: killed"_s);
    QTest::newRow("timeout without a signal")
        << std::optional<JobError>(JobError{Kind::Timeout, u"COMMAND_TIMEOUT"_s, u"out of time"_s, {}})
        << std::optional<int>() << command << failure(u"-1"_s, u"signal: killed"_s);
    QTest::newRow("interrupt") << std::optional<JobError>(interrupted) << std::optional<int>() << command
                               << failure(u"-1"_s, u"signal: terminated"_s);
    QTest::newRow("interrupt in a session") << std::optional<JobError>(interrupted) << std::optional<int>() << session
                                            << failure(u"-1"_s, u"signal: terminated"_s);
    QTest::newRow("OOM killed") << std::optional<JobError>(oom) << std::optional<int>() << command
                                << failure(u"-1"_s, u"signal: killed"_s);
    QTest::newRow("segfault")
        << std::optional<JobError>(JobError{Kind::Task, u"COMMAND_KILLED"_s, u"killed by signal 11"_s, {{u"signal"_s, 11}}})
        << std::optional<int>() << command << failure(u"-1"_s, u"signal: segmentation fault"_s);
    QTest::newRow("unnamed signal")
        << std::optional<JobError>(JobError{Kind::Task, u"COMMAND_KILLED"_s, u"killed by signal 40"_s, {{u"signal"_s, 40}}})
        << std::optional<int>() << command << failure(u"-1"_s, u"signal: signal 40"_s);
    QTest::newRow("cancelled") << std::optional<JobError>(JobError{Kind::Cancelled, u"CANCELLED"_s, u"cancelled"_s, {}})
                               << std::optional<int>() << command << failure(u"-1"_s, u"signal: terminated"_s);
    QTest::newRow("start failure") << std::optional<JobError>(startFailed) << std::optional<int>() << command
                                   << failure(u"chdir /nope: no such file or directory"_s,
                                              u"chdir /nope: no such file or directory"_s);
    QTest::newRow("sandbox lost")
        << std::optional<JobError>(JobError{Kind::Infra, u"SANDBOX_LOST"_s, u"sandbox `s1` is gone: stopped"_s, {}})
        << std::optional<int>() << session
        << failure(u"sandbox `s1` is gone: stopped"_s, u"sandbox `s1` is gone: stopped"_s);
}

void TestExecdWire::executionErrors()
{
    QFETCH(std::optional<JobError>, error);
    QFETCH(std::optional<int>, exitCode);
    QFETCH(FailureWording, wording);
    QFETCH(std::optional<ExecutionError>, expected);
    QCOMPARE(commandExecutionError(error, exitCode, wording), expected);
}

void TestExecdWire::finalEvents()
{
    QCOMPARE(finalEvent(std::nullopt, 0, 1234, FailureWording::Command, 7),
             R"({"type":"execution_complete","execution_time":1234,"timestamp":7})" "\n\n");
    const JobError exit1{JobError::Kind::Task, u"COMMAND_FAILED"_s, u"exit status 1"_s, {{u"exitCode"_s, 1}}};
    QCOMPARE(finalEvent(exit1, 1, 1234, FailureWording::Command, 7),
             R"({"type":"error","timestamp":7,"error":{"ename":"CommandExecError","evalue":"1","traceback":["exit status 1"]}})" "\n\n");
    QCOMPARE(finalEvent(exit1, 1, 1234, FailureWording::Session, 7),
             R"({"type":"error","timestamp":7,"error":{"ename":"CommandExecError","evalue":"1","traceback":["command exited with code 1"]}})" "\n\n");
    QCOMPARE(goSignalName(SIGKILL), u"killed"_s);
    QCOMPARE(goSignalName(SIGTERM), u"terminated"_s);
    QCOMPARE(goSignalName(SIGINT), u"interrupt"_s);
    QCOMPARE(goSignalName(31), u"bad system call"_s);
    QCOMPARE(goSignalName(0), u"signal 0"_s);
}

// Requests

namespace {

QByteArray commandJson(const CommandRequest &request)
{
    QJsonObject env;
    for (auto it = request.env.begin(); it != request.env.end(); ++it)
        env.insert(it.key(), it.value());
    QJsonObject object{{u"command"_s, request.command}, {u"cwd"_s, request.cwd}, {u"env"_s, env},
                       {u"background"_s, request.background}};
    if (request.timeoutMs)
        object.insert(u"timeoutMs"_s, *request.timeoutMs);
    if (request.uid)
        object.insert(u"uid"_s, qint64(*request.uid));
    if (request.gid)
        object.insert(u"gid"_s, qint64(*request.gid));
    return json(object);
}

QString permissionsText(const FilePermissions &permissions)
{
    return u"mode=0%1 owner=%2 group=%3"_s.arg(permissions.mode, 0, 8).arg(permissions.owner, permissions.group);
}

QStringList permissionsList(const QList<PathPermissions> &list)
{
    QStringList lines;
    for (const PathPermissions &entry : list)
        lines.append(entry.path + u' ' + permissionsText(entry.permissions));
    return lines;
}

} // namespace

void TestExecdWire::commandBodies_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("outcome");
    QTest::addColumn<QByteArray>("request");

    QTest::newRow("every field")
        << QByteArray(R"({"command": "ls -la", "cwd": "/workspace", "envs": {"A": "1", "B": ""},
                         "timeout": 60000, "uid": 1000, "gid": 100, "background": true, "extra": [1]})")
        << u"ok"_s
        << normalized(R"({"command": "ls -la", "cwd": "/workspace", "env": {"A": "1", "B": ""},
                          "timeoutMs": 60000, "uid": 1000, "gid": 100, "background": true})");
    QTest::newRow("only the command") << QByteArray(R"({"command": "echo hi"})") << u"ok"_s
                                      << normalized(R"({"command": "echo hi", "cwd": "", "env": {}, "background": false})");
    QTest::newRow("nulls are absent")
        << QByteArray(R"({"command": "x", "cwd": null, "envs": null, "timeout": null, "uid": null, "background": null})")
        << u"ok"_s << normalized(R"({"command": "x", "cwd": "", "env": {}, "background": false})");
    QTest::newRow("timeout 0 is none") << QByteArray(R"({"command": "x", "timeout": 0})") << u"ok"_s
                                       << normalized(R"({"command": "x", "cwd": "", "env": {}, "background": false})");
    QTest::newRow("uid alone") << QByteArray(R"({"command": "x", "uid": 0})") << u"ok"_s
                               << normalized(R"({"command": "x", "cwd": "", "env": {}, "background": false, "uid": 0})");

    const auto bad = [](const char *message) { return u"400 INVALID_REQUEST_BODY: "_s + QString::fromUtf8(message); };
    QTest::newRow("broken JSON") << QByteArray(R"({"command": )") << bad("invalid JSON at offset 12: unterminated object")
                                 << QByteArray();
    QTest::newRow("empty body") << QByteArray(" \n") << bad("the body is empty; expected JSON") << QByteArray();
    QTest::newRow("an array") << QByteArray(R"(["ls"])") << bad("the body must be a JSON object") << QByteArray();
    QTest::newRow("no command") << QByteArray(R"({"cwd": "/"})") << bad("`command` is required") << QByteArray();
    QTest::newRow("empty command") << QByteArray(R"({"command": ""})") << bad("`command` is required") << QByteArray();
    QTest::newRow("command not a string") << QByteArray(R"({"command": ["ls"]})") << bad("`command` must be a string")
                                          << QByteArray();
    QTest::newRow("negative timeout") << QByteArray(R"({"command": "x", "timeout": -1})")
                                      << bad("`timeout` must be a number of milliseconds, 0 or more") << QByteArray();
    QTest::newRow("fractional timeout") << QByteArray(R"({"command": "x", "timeout": 1.5})")
                                        << bad("`timeout` must be a number of milliseconds, 0 or more") << QByteArray();
    QTest::newRow("timeout as text") << QByteArray(R"({"command": "x", "timeout": "60000"})")
                                     << bad("`timeout` must be a number of milliseconds, 0 or more") << QByteArray();
    QTest::newRow("gid without uid") << QByteArray(R"({"command": "x", "gid": 100})") << bad("`gid` needs `uid` too")
                                     << QByteArray();
    QTest::newRow("negative uid") << QByteArray(R"({"command": "x", "uid": -1})")
                                  << bad("`uid` must be a user id, 0 or more") << QByteArray();
    QTest::newRow("uid too large") << QByteArray(R"({"command": "x", "uid": 4294967296})")
                                   << bad("`uid` must be a user id, 0 or more") << QByteArray();
    QTest::newRow("envs a list") << QByteArray(R"({"command": "x", "envs": ["A=1"]})")
                                 << bad("`envs` must be an object of strings") << QByteArray();
    QTest::newRow("envs with a number") << QByteArray(R"({"command": "x", "envs": {"A": 1}})")
                                        << bad("`envs` must be an object of strings, and `A` is not a string")
                                        << QByteArray();
    QTest::newRow("background as text") << QByteArray(R"({"command": "x", "background": "yes"})")
                                        << bad("`background` must be true or false") << QByteArray();
}

void TestExecdWire::commandBodies()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, outcome);
    QFETCH(QByteArray, request);
    const Parsed<CommandRequest> result = parseCommandBody(body);
    QCOMPARE(::outcome(result), outcome);
    if (result.ok())
        QCOMPARE(commandJson(result.value()), request);
}

void TestExecdWire::sessionBodies_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("outcome");
    QTest::addColumn<QString>("cwd");
    QTest::newRow("empty") << QByteArray() << u"ok"_s << QString();
    QTest::newRow("blank") << QByteArray("\r\n") << u"ok"_s << QString();
    QTest::newRow("no cwd") << QByteArray("{}") << u"ok"_s << QString();
    QTest::newRow("cwd") << QByteArray(R"({"cwd": "/workspace"})") << u"ok"_s << u"/workspace"_s;
    QTest::newRow("cwd a number") << QByteArray(R"({"cwd": 1})")
                                  << u"400 INVALID_REQUEST_BODY: `cwd` must be a string"_s << QString();
    QTest::newRow("broken JSON") << QByteArray("{")
                                 << u"400 INVALID_REQUEST_BODY: invalid JSON at offset 1: unterminated object"_s
                                 << QString();
}

void TestExecdWire::sessionBodies()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, outcome);
    QFETCH(QString, cwd);
    const Parsed<QString> result = parseSessionBody(body);
    QCOMPARE(::outcome(result), outcome);
    if (result.ok())
        QCOMPARE(result.value(), cwd);
}

void TestExecdWire::sessionRunBodies_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("outcome");
    QTest::addColumn<QByteArray>("request");
    QTest::newRow("every field") << QByteArray(R"({"command": "pwd", "cwd": "/tmp", "timeout": 5000})") << u"ok"_s
                                 << normalized(R"({"command": "pwd", "cwd": "/tmp", "env": {}, "background": false,
                                                   "timeoutMs": 5000})");
    QTest::newRow("default timeout") << QByteArray(R"({"command": "pwd"})") << u"ok"_s
                                     << normalized(R"({"command": "pwd", "cwd": "", "env": {}, "background": false,
                                                       "timeoutMs": 86400000})");
    QTest::newRow("timeout 0") << QByteArray(R"({"command": "pwd", "timeout": 0})") << u"ok"_s
                               << normalized(R"({"command": "pwd", "cwd": "", "env": {}, "background": false,
                                                 "timeoutMs": 86400000})");
    QTest::newRow("negative timeout")
        << QByteArray(R"({"command": "pwd", "timeout": -5})")
        << u"400 INVALID_REQUEST_BODY: `timeout` must be a number of milliseconds, 0 or more"_s << QByteArray();
    QTest::newRow("no command") << QByteArray(R"({"cwd": "/tmp"})")
                                << u"400 INVALID_REQUEST_BODY: `command` is required"_s << QByteArray();
    QTest::newRow("empty body") << QByteArray()
                                << u"400 INVALID_REQUEST_BODY: the body is empty; expected JSON"_s << QByteArray();
}

void TestExecdWire::sessionRunBodies()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, outcome);
    QFETCH(QByteArray, request);
    const Parsed<CommandRequest> result = parseSessionRunBody(body);
    QCOMPARE(::outcome(result), outcome);
    if (result.ok())
        QCOMPARE(commandJson(result.value()), request);
}

void TestExecdWire::permissionBodies_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("outcome");
    QTest::addColumn<QStringList>("entries");
    QTest::newRow("two paths") << QByteArray(R"({"/w/b": {"owner": "nobody", "group": "nogroup", "mode": 644},
                                                 "/w/a": {"owner": null, "group": null, "mode": 755}})")
                               << u"ok"_s
                               << QStringList{u"/w/a mode=0755 owner= group="_s,
                                              u"/w/b mode=0644 owner=nobody group=nogroup"_s};
    QTest::newRow("mode 0 or absent") << QByteArray(R"({"/a": {"mode": 0}, "/b": {"owner": "root"}})") << u"ok"_s
                                      << QStringList{u"/a mode=00 owner= group="_s, u"/b mode=00 owner=root group="_s};
    QTest::newRow("nothing") << QByteArray("{}") << u"ok"_s << QStringList();

    const auto bad = [](const char *message) { return u"400 INVALID_REQUEST_BODY: "_s + QString::fromUtf8(message); };
    QTest::newRow("digit 8") << QByteArray(R"({"/a": {"mode": 758}})")
                             << bad("`/a`: `mode` must be a mode in octal digits, such as 755") << QStringList();
    QTest::newRow("mode as text") << QByteArray(R"({"/a": {"mode": "755"}})")
                                  << bad("`/a`: `mode` must be a mode in octal digits, such as 755") << QStringList();
    QTest::newRow("owner a number") << QByteArray(R"({"/a": {"owner": 0, "mode": 755}})")
                                    << bad("`/a`: `owner` must be a string") << QStringList();
    QTest::newRow("not an object per path") << QByteArray(R"({"/a": 755})")
                                            << bad("`/a` must map to an object {owner, group, mode}") << QStringList();
    QTest::newRow("empty path") << QByteArray(R"({"": {"mode": 755}})") << bad("a path is empty") << QStringList();
    QTest::newRow("an array") << QByteArray(R"([{"/a": {"mode": 755}}])") << bad("the body must be a JSON object")
                              << QStringList();
}

void TestExecdWire::permissionBodies()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, outcome);
    QFETCH(QStringList, entries);
    const Parsed<QList<PathPermissions>> result = parsePermissionsBody(body);
    QCOMPARE(::outcome(result), outcome);
    if (result.ok())
        QCOMPARE(permissionsList(result.value()), entries);
}

void TestExecdWire::moveBodies_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("outcome");
    QTest::addColumn<QStringList>("moves");
    QTest::newRow("two, in order") << QByteArray(R"([{"src": "/b", "dest": "/c"}, {"src": "/a", "dest": "/b"}])")
                                   << u"ok"_s << QStringList{u"/b -> /c"_s, u"/a -> /b"_s};
    QTest::newRow("none") << QByteArray("[]") << u"ok"_s << QStringList();
    QTest::newRow("no dest") << QByteArray(R"([{"src": "/a", "dest": "/b"}, {"src": "/c"}])")
                             << u"400 INVALID_REQUEST_BODY: item 2: `dest` is required"_s << QStringList();
    QTest::newRow("not objects") << QByteArray(R"(["/a"])")
                                 << u"400 INVALID_REQUEST_BODY: item 1 must be an object {src, dest}"_s << QStringList();
    QTest::newRow("an object") << QByteArray(R"({"src": "/a", "dest": "/b"})")
                               << u"400 INVALID_REQUEST_BODY: the body must be a JSON array of {src, dest}"_s
                               << QStringList();
}

void TestExecdWire::moveBodies()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, outcome);
    QFETCH(QStringList, moves);
    const Parsed<QList<FileMove>> result = parseMoveBody(body);
    QCOMPARE(::outcome(result), outcome);
    if (!result.ok())
        return;
    QStringList got;
    for (const FileMove &move : result.value())
        got.append(move.source + u" -> "_s + move.destination);
    QCOMPARE(got, moves);
}

void TestExecdWire::replaceBodies_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("outcome");
    QTest::addColumn<QStringList>("replacements");
    QTest::newRow("two files") << QByteArray(R"({"/w/app.py": {"old": "localhost", "new": "0.0.0.0"},
                                                 "/w/a.cfg": {"old": "debug=1", "new": ""}})")
                               << u"ok"_s
                               << QStringList{u"/w/a.cfg: debug=1 -> "_s, u"/w/app.py: localhost -> 0.0.0.0"_s};
    QTest::newRow("no new") << QByteArray(R"({"/a": {"old": "x"}})") << u"ok"_s << QStringList{u"/a: x -> "_s};
    QTest::newRow("empty old") << QByteArray(R"({"/a": {"old": "", "new": "y"}})")
                               << u"400 INVALID_REQUEST_BODY: `/a`: `old` must not be empty"_s << QStringList();
    QTest::newRow("no old") << QByteArray(R"({"/a": {"new": "y"}})")
                            << u"400 INVALID_REQUEST_BODY: `/a`: `old` must not be empty"_s << QStringList();
    QTest::newRow("new a number") << QByteArray(R"({"/a": {"old": "x", "new": 1}})")
                                  << u"400 INVALID_REQUEST_BODY: `/a`: `new` must be a string"_s << QStringList();
}

void TestExecdWire::replaceBodies()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, outcome);
    QFETCH(QStringList, replacements);
    const Parsed<QList<FileReplacement>> result = parseReplaceBody(body);
    QCOMPARE(::outcome(result), outcome);
    if (!result.ok())
        return;
    QStringList got;
    for (const FileReplacement &replacement : result.value())
        got.append(replacement.path + u": "_s + replacement.before + u" -> "_s + replacement.after);
    QCOMPARE(got, replacements);
}

void TestExecdWire::queries_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<QString>("outcome");
    QTest::addColumn<QStringList>("paths");
    QTest::newRow("one") << QByteArray("path=%2Fworkspace%2Fa.txt") << u"ok"_s << QStringList{u"/workspace/a.txt"_s};
    QTest::newRow("repeated, form-encoded")
        << QByteArray("path=a+b&path=c%2Bd&path=/x%20y&other=1&path=caf%C3%A9") << u"ok"_s
        << QStringList{u"a b"_s, u"c+d"_s, u"/x y"_s, u"caf\u00E9"_s};
    QTest::newRow("empty values dropped") << QByteArray("path=&path=/a&path") << u"ok"_s << QStringList{u"/a"_s};
    QTest::newRow("broken escape skipped") << QByteArray("path=%zz&path=/b&path=%4") << u"ok"_s << QStringList{u"/b"_s};
    QTest::newRow("encoded name") << QByteArray("pat%68=/c") << u"ok"_s << QStringList{u"/c"_s};
    QTest::newRow("none") << QByteArray("depth=1") << u"400 MISSING_QUERY: missing query parameter `path`"_s
                          << QStringList();
    QTest::newRow("empty query") << QByteArray() << u"400 MISSING_QUERY: missing query parameter `path`"_s
                                 << QStringList();
    QTest::newRow("only empty") << QByteArray("path=&path=") << u"400 MISSING_QUERY: missing query parameter `path`"_s
                                << QStringList();
}

void TestExecdWire::queries()
{
    QFETCH(QByteArray, query);
    QFETCH(QString, outcome);
    QFETCH(QStringList, paths);
    const Parsed<QStringList> result = parsePathQuery(query);
    QCOMPARE(::outcome(result), outcome);
    if (result.ok())
        QCOMPARE(result.value(), paths);
}

// Multipart and uploads

namespace {

const QByteArray FormType = "multipart/form-data; boundary=x";

/// What a part holds: "name|filename or -|content type|content".
QString partText(const MultipartPart &part, const QByteArray &body)
{
    return u"%1|%2|%3|%4"_s.arg(part.name, part.fileName.value_or(u"-"_s), QString::fromUtf8(part.contentType),
                                QString::fromUtf8(body.mid(part.offset, part.length)));
}

QStringList partTexts(const MultipartForm &form, const QByteArray &body)
{
    QStringList texts;
    for (const MultipartPart &part : form.parts)
        texts.append(partText(part, body));
    return texts;
}

/// One upload pair as the SDKs send it.
QByteArray uploadPair(const QByteArray &metadata, const QByteArray &fileName, const QByteArray &content)
{
    return "--x\r\n"
           "Content-Disposition: form-data; name=\"metadata\"; filename=\"metadata\"\r\n"
           "Content-Type: application/json\r\n\r\n"
        + metadata
        + "\r\n--x\r\n"
          "Content-Disposition: form-data; name=\"file\"; filename=\""
        + fileName
        + "\"\r\n"
          "Content-Type: application/octet-stream\r\n\r\n"
        + content + "\r\n";
}

} // namespace

void TestExecdWire::boundaries_data()
{
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("boundary");
    QTest::addColumn<QString>("error");
    QTest::newRow("unquoted") << QByteArray("multipart/form-data; boundary=abc123") << QByteArray("abc123") << QString();
    QTest::newRow("quoted") << QByteArray(R"(multipart/form-data; boundary="a b;c")") << QByteArray("a b;c")
                            << QString();
    QTest::newRow("case and spaces") << QByteArray("Multipart/Form-Data ;  charset=utf-8 ; BOUNDARY = xyz ;")
                                     << QByteArray("xyz") << QString();
    QTest::newRow("httpx") << QByteArray("multipart/form-data; boundary=9a0c1b2e3f4d5c6b7a8f9e0d1c2b3a4f")
                           << QByteArray("9a0c1b2e3f4d5c6b7a8f9e0d1c2b3a4f") << QString();
    QTest::newRow("another type") << QByteArray("application/json") << QByteArray()
                                  << u"the Content-Type is `application/json`, not multipart/form-data"_s;
    QTest::newRow("mixed") << QByteArray("multipart/mixed; boundary=x") << QByteArray()
                           << u"the Content-Type is `multipart/mixed`, not multipart/form-data"_s;
    QTest::newRow("no boundary") << QByteArray("multipart/form-data") << QByteArray()
                                 << u"the Content-Type has no boundary"_s;
    QTest::newRow("empty boundary") << QByteArray("multipart/form-data; boundary=\"\"") << QByteArray()
                                    << u"the Content-Type has no boundary"_s;
    QTest::newRow("unterminated quote") << QByteArray("multipart/form-data; boundary=\"abc") << QByteArray()
                                        << u"bad Content-Type: the value of parameter `boundary` lacks its closing quote"_s;
    QTest::newRow("no value") << QByteArray("multipart/form-data; boundary") << QByteArray()
                              << u"bad Content-Type: parameter `boundary` has no value"_s;
    QTest::newRow("empty") << QByteArray() << QByteArray() << u"the Content-Type is ``, not multipart/form-data"_s;
}

void TestExecdWire::boundaries()
{
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, boundary);
    QFETCH(QString, error);
    QString got;
    QCOMPARE(multipartBoundary(contentType, &got).value_or(QByteArray()), boundary);
    QCOMPARE(got, error);
}

void TestExecdWire::multipartForms_data()
{
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QStringList>("parts");

    QTest::newRow("one value, one file")
        << FormType
        << QByteArray("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n"
                      "--x\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                      "CONTENT-TYPE: text/plain\r\n\r\nline 1\r\nline 2\r\n--x--\r\n")
        << QStringList{u"a|-||value"_s, u"file|a.txt|text/plain|line 1\r\nline 2"_s};
    QTest::newRow("boundary-like text without CRLF before it")
        << FormType
        << QByteArray("--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n"
                      "a--x\r\nb --x--\r\n\n--x\r\n--xy\r\n\r\n--x-\r\n--x--")
        << QStringList{u"file|f||a--x\r\nb --x--\r\n\n--x\r\n--xy\r\n\r\n--x-"_s};
    QTest::newRow("preamble and epilogue")
        << FormType
        << QByteArray("This is a preamble.\r\n--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
                      "--x--\r\nThis is an epilogue, with a boundary:\r\n--x\r\n")
        << QStringList{u"a|-||1"_s};
    QTest::newRow("padding after boundaries")
        << FormType
        << QByteArray("--x \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x  \r\n"
                      "Content-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n--x--")
        << QStringList{u"a|-||1"_s, u"b|-||2"_s};
    QTest::newRow("empty contents")
        << FormType
        << QByteArray("--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"empty\"\r\n\r\n\r\n"
                      "--x\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n--x--\r\n")
        << QStringList{u"file|empty||"_s, u"b|-||"_s};
    QTest::newRow("no headers")
        << FormType << QByteArray("--x\r\n\r\nanonymous\r\n--x--") << QStringList{u"|-||anonymous"_s};
    QTest::newRow("no parts") << FormType << QByteArray("--x--\r\n") << QStringList();
    QTest::newRow("quoted boundary")
        << QByteArray("multipart/form-data; boundary=\"b:c d\"")
        << QByteArray("--b:c d\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b:c d--\r\n")
        << QStringList{u"a|-||1"_s};
    QTest::newRow("file names")
        << FormType
        << QByteArray("--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"say \\\"hi\\\".txt\"\r\n\r\n1\r\n"
                      "--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"C:\\dir\\a.txt\"\r\n\r\n2\r\n"
                      "--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"; "
                      "filename*=UTF-8''caf%C3%A9%20a.txt\r\n\r\n3\r\n"
                      "--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"\"\r\n\r\n4\r\n"
                      "--x\r\nContent-Disposition: form-data; name=f; filename=plain.txt\r\n\r\n5\r\n"
                      "--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"caf\xC3\xA9.txt\"\r\n\r\n6\r\n"
                      "--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"fallback\"; "
                      "filename*=latin-1''x\r\n\r\n7\r\n"
                      "--x\r\nContent-Disposition: attachment; name=\"f\"; filename=\"a\"\r\n\r\n8\r\n--x--")
        << QStringList{u"f|say \"hi\".txt||1"_s, u"f|C:\\dir\\a.txt||2"_s, u"f|caf\u00E9 a.txt||3"_s, u"f|-||4"_s,
                       u"f|plain.txt||5"_s, u"f|caf\u00E9.txt||6"_s, u"f|fallback||7"_s, u"|a||8"_s};
}

void TestExecdWire::multipartForms()
{
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    QFETCH(QStringList, parts);
    const MultipartForm form = parseMultipartForm(contentType, body);
    QCOMPARE(form.error, QString());
    QCOMPARE(partTexts(form, body), parts);
}

void TestExecdWire::multipartOffsetsPointIntoTheBody()
{
    const QByteArray body = "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n"
                            "0123456789\r\n--x--\r\n";
    const MultipartForm form = parseMultipartForm(FormType, body);
    QCOMPARE(form.error, QString());
    QCOMPARE(form.parts.size(), 1);
    QCOMPARE(form.parts[0].offset, body.indexOf("0123"));
    QCOMPARE(form.parts[0].length, 10);
}

void TestExecdWire::malformedMultipart_data()
{
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("error");
    QTest::newRow("no boundary line") << FormType << QByteArray("just text") << u"the body has no boundary line `--x`"_s;
    QTest::newRow("empty body") << FormType << QByteArray() << u"the body has no boundary line `--x`"_s;
    QTest::newRow("boundary not on its own line")
        << FormType << QByteArray("text--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1")
        << u"the body has no boundary line `--x`"_s;
    QTest::newRow("LF line ends") << FormType << QByteArray("--x\nContent-Disposition: form-data; name=\"a\"\n\n1\n--x--\n")
                                  << u"the body has no boundary line `--x`"_s;
    QTest::newRow("no closing boundary")
        << FormType << QByteArray("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ntruncated upl")
        << u"part 1: the body ends before its closing boundary `--x--`"_s;
    QTest::newRow("second part not closed")
        << FormType << QByteArray("--x\r\n\r\n1\r\n--x\r\n\r\n2\r\n--x")
        << u"part 2: the body ends before its closing boundary `--x--`"_s;
    QTest::newRow("headers never end")
        << FormType << QByteArray("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n--x--")
        << u"part 1: its headers do not end with an empty line"_s;
    QTest::newRow("header without colon")
        << FormType << QByteArray("--x\r\nContent-Disposition form-data\r\n\r\n1\r\n--x--")
        << u"part 1: header line `Content-Disposition form-data` has no name and colon"_s;
    QTest::newRow("folded header")
        << FormType << QByteArray("--x\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\n1\r\n--x--")
        << u"part 1: folded header lines are not supported"_s;
    QTest::newRow("bad disposition")
        << FormType << QByteArray("--x\r\nContent-Disposition: form-data; name=\"a\r\n\r\n1\r\n--x--")
        << u"part 1: bad Content-Disposition: the value of parameter `name` lacks its closing quote"_s;
    QTest::newRow("not multipart") << QByteArray("text/plain") << QByteArray("--x--")
                                   << u"the Content-Type is `text/plain`, not multipart/form-data"_s;
}

void TestExecdWire::malformedMultipart()
{
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    QFETCH(QString, error);
    const MultipartForm form = parseMultipartForm(contentType, body);
    QCOMPARE(form.error, error);
    QVERIFY(!form.ok());
}

void TestExecdWire::uploadsOfThePythonSdk()
{
    // All pairs in one request, the file part named after the full path.
    const QByteArray body = uploadPair(R"({"path": "/workspace/a.txt", "owner": null, "group": null, "mode": 755})",
                                       "/workspace/a.txt", "first\r\n--x file")
        + uploadPair(R"({"path": "/workspace/dir/b.bin", "owner": "nobody", "group": "nogroup", "mode": 600})",
                     "/workspace/dir/b.bin", QByteArray("\x00\xFF\r\n", 4))
        + "--x--\r\n";
    const Parsed<QList<UploadItem>> result = parseUpload(FormType, body);
    QCOMPARE(outcome(result), u"ok"_s);
    QCOMPARE(result->size(), 2);
    const UploadItem &first = result->at(0);
    QCOMPARE(first.path, u"/workspace/a.txt"_s);
    QCOMPARE(permissionsText(first.permissions), u"mode=0755 owner= group="_s);
    QCOMPARE(body.mid(first.offset, first.length), "first\r\n--x file");
    const UploadItem &second = result->at(1);
    QCOMPARE(second.path, u"/workspace/dir/b.bin"_s);
    QCOMPARE(permissionsText(second.permissions), u"mode=0600 owner=nobody group=nogroup"_s);
    QCOMPARE(body.mid(second.offset, second.length), QByteArray("\x00\xFF\r\n", 4));

    // The JS SDK: one pair, mode 0 (leave it), other parts ignored.
    const QByteArray single = "--x\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n"
        + uploadPair(R"({"path": "rel.txt", "mode": 0})", "rel.txt", "") + "--x--";
    const Parsed<QList<UploadItem>> one = parseUpload(FormType, single);
    QCOMPARE(outcome(one), u"ok"_s);
    QCOMPARE(one->size(), 1);
    QCOMPARE(one->at(0).path, u"rel.txt"_s);
    QCOMPARE(permissionsText(one->at(0).permissions), u"mode=00 owner= group="_s);
    QCOMPARE(one->at(0).length, 0);
}

void TestExecdWire::uploadErrors_data()
{
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("outcome");

    const QByteArray metadata = R"({"path": "/a", "mode": 644})";
    const QByteArray valueMetadata = "--x\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n" + metadata
        + "\r\n--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\ncontent\r\n--x--";
    QTest::newRow("metadata as a plain value")
        << FormType << valueMetadata
        << u"400 INVALID_FILE_METADATA: metadata file is missing: a `metadata` part needs a filename, "
           "such as filename=\"metadata\""_s;
    QTest::newRow("no metadata")
        << FormType << QByteArray("--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n1\r\n--x--")
        << u"400 INVALID_FILE_METADATA: metadata file is missing"_s;
    QTest::newRow("no parts") << FormType << QByteArray("--x--")
                              << u"400 INVALID_FILE_METADATA: metadata file is missing"_s;
    QTest::newRow("two metadata, one file")
        << FormType
        << uploadPair(metadata, "a", "1")
               + "--x\r\nContent-Disposition: form-data; name=\"metadata\"; filename=\"metadata\"\r\n\r\n" + metadata
               + "\r\n--x--"
        << u"400 INVALID_FILE: 2 metadata parts but 1 file parts; each file needs its metadata"_s;
    QTest::newRow("file as a plain value")
        << FormType
        << QByteArray("--x\r\nContent-Disposition: form-data; name=\"metadata\"; filename=\"metadata\"\r\n\r\n" + metadata
                      + "\r\n--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\ncontent\r\n--x--")
        << u"400 INVALID_FILE: file 1 has no filename, so it is not a file"_s;
    QTest::newRow("empty path") << FormType << uploadPair(R"({"path": "", "mode": 644})", "a", "1") + "--x--"
                                << u"400 INVALID_FILE_METADATA: metadata 1: `path` is required"_s;
    QTest::newRow("no path") << FormType << uploadPair(R"({"mode": 644})", "a", "1") + "--x--"
                             << u"400 INVALID_FILE_METADATA: metadata 1: `path` is required"_s;
    QTest::newRow("bad mode in the second")
        << FormType << uploadPair(metadata, "a", "1") + uploadPair(R"({"path": "/b", "mode": 9})", "b", "2") + "--x--"
        << u"400 INVALID_FILE_METADATA: metadata 2: `mode` must be a mode in octal digits, such as 755"_s;
    QTest::newRow("metadata not JSON") << FormType << uploadPair("path=/a", "a", "1") + "--x--"
                                       << u"400 INVALID_FILE_METADATA: metadata 1: invalid JSON at offset 1: illegal value"_s;
    QTest::newRow("metadata a list") << FormType << uploadPair(R"(["/a"])", "a", "1") + "--x--"
                                     << u"400 INVALID_FILE_METADATA: metadata 1: must be a JSON object {path, owner, group, mode}"_s;
    QTest::newRow("not closed") << FormType << uploadPair(metadata, "a", "1")
                                << u"400 INVALID_FILE: invalid multipart form: part 2: the body ends before its "
                                   "closing boundary `--x--`"_s;
    QTest::newRow("not multipart") << QByteArray("application/octet-stream") << QByteArray("data")
                                   << u"400 INVALID_FILE: invalid multipart form: the Content-Type is "
                                      "`application/octet-stream`, not multipart/form-data"_s;
}

void TestExecdWire::uploadErrors()
{
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    QFETCH(QString, outcome);
    QCOMPARE(::outcome(parseUpload(contentType, body)), outcome);
}

// Downloads

// Readable values for failed comparisons.
namespace Sandflow::Internal {

char *toString(const ByteRange &range)
{
    return QTest::toString(u"{kind %1, offset %2, length %3}"_s.arg(int(range.kind)).arg(range.offset).arg(range.length));
}

} // namespace Sandflow::Internal

void TestExecdWire::ranges_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<qint64>("size");
    QTest::addColumn<ByteRange>("range");
    using Kind = ByteRange::Kind;
    const ByteRange malformed{Kind::Malformed};
    const ByteRange unsatisfiable{Kind::Unsatisfiable};
    QTest::newRow("none") << QByteArray() << qint64(1000) << ByteRange{Kind::Whole, 0, 1000};
    QTest::newRow("blank") << QByteArray("  ") << qint64(1000) << ByteRange{Kind::Whole, 0, 1000};
    QTest::newRow("a-b") << QByteArray("bytes=0-99") << qint64(1000) << ByteRange{Kind::Partial, 0, 100};
    QTest::newRow("one byte") << QByteArray("bytes=5-5") << qint64(1000) << ByteRange{Kind::Partial, 5, 1};
    QTest::newRow("b clamped") << QByteArray("bytes=500-5000") << qint64(1000) << ByteRange{Kind::Partial, 500, 500};
    QTest::newRow("a-") << QByteArray("bytes=10-") << qint64(1000) << ByteRange{Kind::Partial, 10, 990};
    QTest::newRow("last byte") << QByteArray("bytes=999-") << qint64(1000) << ByteRange{Kind::Partial, 999, 1};
    QTest::newRow("-n") << QByteArray("bytes=-100") << qint64(1000) << ByteRange{Kind::Partial, 900, 100};
    QTest::newRow("-n past the start") << QByteArray("bytes=-2000") << qint64(1000) << ByteRange{Kind::Partial, 0, 1000};
    QTest::newRow("first of a list") << QByteArray("bytes=0-1,5-6") << qint64(1000) << ByteRange{Kind::Partial, 0, 2};
    QTest::newRow("spaces") << QByteArray(" bytes= , 1 - 2 ,3-4") << qint64(1000) << ByteRange{Kind::Partial, 1, 2};
    QTest::newRow("start at the end") << QByteArray("bytes=1000-") << qint64(1000) << unsatisfiable;
    QTest::newRow("start past the end") << QByteArray("bytes=1500-1600") << qint64(1000) << unsatisfiable;
    QTest::newRow("first past the end, second fine") << QByteArray("bytes=2000-,0-1") << qint64(1000) << unsatisfiable;
    QTest::newRow("-0") << QByteArray("bytes=-0") << qint64(1000) << unsatisfiable;
    QTest::newRow("empty file") << QByteArray("bytes=0-") << qint64(0) << unsatisfiable;
    QTest::newRow("empty file, suffix") << QByteArray("bytes=-5") << qint64(0) << unsatisfiable;
    QTest::newRow("a > b") << QByteArray("bytes=5-1") << qint64(1000) << malformed;
    QTest::newRow("a > b past the end") << QByteArray("bytes=2000-1500") << qint64(1000) << malformed;
    QTest::newRow("words") << QByteArray("bytes=abc") << qint64(1000) << malformed;
    QTest::newRow("no numbers") << QByteArray("bytes=-") << qint64(1000) << malformed;
    QTest::newRow("nothing after =") << QByteArray("bytes=") << qint64(1000) << malformed;
    QTest::newRow("another unit") << QByteArray("items=0-1") << qint64(1000) << malformed;
    QTest::newRow("upper case unit") << QByteArray("Bytes=0-1") << qint64(1000) << malformed;
    QTest::newRow("a sign") << QByteArray("bytes=+1-2") << qint64(1000) << malformed;
    QTest::newRow("three numbers") << QByteArray("bytes=1-2-3") << qint64(1000) << malformed;
    QTest::newRow("hex") << QByteArray("bytes=0x10-") << qint64(1000) << malformed;
    QTest::newRow("overflow") << QByteArray("bytes=99999999999999999999-") << qint64(1000) << malformed;
    QTest::newRow("suffix overflow") << QByteArray("bytes=-99999999999999999999") << qint64(1000) << malformed;
}

void TestExecdWire::ranges()
{
    QFETCH(QByteArray, header);
    QFETCH(qint64, size);
    QFETCH(ByteRange, range);
    QCOMPARE(parseRange(header, size), range);
}

void TestExecdWire::contentRanges()
{
    QCOMPARE(contentRange(0, 100, 1000), "bytes 0-99/1000");
    QCOMPARE(contentRange(999, 1, 1000), "bytes 999-999/1000");
    const ByteRange suffix = parseRange("bytes=-10", 25);
    QCOMPARE(contentRange(suffix.offset, suffix.length, 25), "bytes 15-24/25");
    QCOMPARE(unsatisfiedContentRange(1000), "bytes */1000");
}

void TestExecdWire::contentDispositions_data()
{
    QTest::addColumn<QString>("fileName");
    QTest::addColumn<QByteArray>("header");
    QTest::newRow("plain") << u"data.csv"_s << QByteArray(R"(attachment; filename="data.csv")");
    QTest::newRow("spaces and symbols") << u"my file (1);v=2.txt"_s
                                        << QByteArray(R"(attachment; filename="my file (1);v=2.txt")");
    QTest::newRow("quote and backslash") << u"a\"b\\c"_s << QByteArray(R"(attachment; filename="a\"b\\c")");
    QTest::newRow("non-ASCII") << u"r\u00E9sum\u00E9 2.pdf"_s
                               << QByteArray("attachment; filename=\"r_sum_ 2.pdf\"; "
                                             "filename*=UTF-8''r%C3%A9sum%C3%A9%202.pdf");
    QTest::newRow("CJK and emoji") << u"\u6587\u4EF6\U0001F600.txt"_s
                                   << QByteArray("attachment; filename=\"___.txt\"; "
                                                 "filename*=UTF-8''%E6%96%87%E4%BB%B6%F0%9F%98%80.txt");
    QTest::newRow("control characters") << u"a\r\nb\"\t"_s
                                        << QByteArray("attachment; filename=\"a__b\\\"_\"; "
                                                      "filename*=UTF-8''a%0D%0Ab%22%09");
}

void TestExecdWire::contentDispositions()
{
    QFETCH(QString, fileName);
    QFETCH(QByteArray, header);
    QCOMPARE(contentDispositionAttachment(fileName), header);
}

void TestExecdWire::ptyBodies_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("expected");   // cwd|command|env, or the error's message
    QTest::newRow("empty") << QByteArray() << u"||"_s;
    QTest::newRow("null, as Go decodes it") << QByteArray("null") << u"||"_s;
    QTest::newRow("all") << QByteArray("{\"cwd\":\"/w\",\"command\":\"top\",\"envs\":{\"TERM\":\"xterm\"},\"other\":1}")
                         << u"/w|top|TERM=xterm"_s;
    QTest::newRow("cwd of a wrong type") << QByteArray("{\"cwd\":1}") << u"error"_s;
    QTest::newRow("not an object") << QByteArray("[]") << u"error"_s;
}

void TestExecdWire::ptyBodies()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, expected);
    const Parsed<PtyRequest> parsed = parsePtyBody(body);
    if (expected == u"error"_s) {
        QVERIFY(!parsed.ok());
        QCOMPARE(parsed.error().status, 400);
        QCOMPARE(parsed.error().body.value(u"code"_s).toString(), u"INVALID_REQUEST_BODY"_s);
        return;
    }
    QVERIFY(parsed.ok());
    QStringList env;
    for (auto it = parsed->env.cbegin(); it != parsed->env.cend(); ++it)
        env.append(it.key() + u'=' + it.value());
    QCOMPARE(parsed->cwd + u'|' + parsed->command + u'|' + env.join(u','), expected);
}

// Byte for byte as upstream's execd sends them: a channel byte, the replay's big-endian
// offset, JSON text frames ending in a newline.
void TestExecdWire::ptyServerFrames()
{
    QCOMPARE(ptyOutputFrame(PtyChannel::Stdout, "hi"), QByteArray("\x01hi"));
    QCOMPARE(ptyOutputFrame(PtyChannel::Stderr, ""), QByteArray("\x02"));
    QCOMPARE(ptyReplayFrame(0x0102030405060708ULL, "ab"), QByteArray("\x03\x01\x02\x03\x04\x05\x06\x07\x08" "ab"));
    QCOMPARE(ptyConnectedFrame(u"s-1"_s, true), QByteArray("{\"mode\":\"pty\",\"session_id\":\"s-1\",\"type\":\"connected\"}" "\n"));
    QCOMPARE(ptyConnectedFrame(u"s-1"_s, false), QByteArray("{\"mode\":\"pipe\",\"session_id\":\"s-1\",\"type\":\"connected\"}" "\n"));
    QCOMPARE(ptyExitFrame(-1), QByteArray("{\"exit_code\":-1,\"type\":\"exit\"}" "\n"));
    QCOMPARE(ptyExitFrame(0), QByteArray("{\"exit_code\":0,\"type\":\"exit\"}" "\n"));
    QCOMPARE(ptyPongFrame(), QByteArray("{\"type\":\"pong\"}" "\n"));
    QCOMPARE(ptyErrorFrame(u"INVALID_FRAME"_s, u"unknown frame type \"x\""_s),
             QByteArray("{\"code\":\"INVALID_FRAME\",\"error\":\"unknown frame type \\\"x\\\"\",\"type\":\"error\"}" "\n"));
}

void TestExecdWire::ptyClientTextFrames_data()
{
    QTest::addColumn<QString>("frame");
    QTest::addColumn<QString>("expected");   // kind and its values
    QTest::newRow("stdin as text") << u"{\"type\":\"stdin\",\"data\":\"ls\\n\"}"_s << u"input ls\n"_s;
    QTest::newRow("resize") << u"{\"type\":\"resize\",\"cols\":120,\"rows\":40}"_s << u"resize 120x40"_s;
    QTest::newRow("resize to nothing is dropped") << u"{\"type\":\"resize\",\"cols\":0,\"rows\":40}"_s << u"ignored"_s;
    QTest::newRow("a size as text fails the frame") << u"{\"type\":\"resize\",\"cols\":\"80\",\"rows\":24}"_s << u"ignored"_s;
    QTest::newRow("a size beyond any int fails the frame") << u"{\"type\":\"resize\",\"cols\":1e300,\"rows\":24}"_s
                                                           << u"ignored"_s;
    QTest::newRow("a fractional size fails the frame") << u"{\"type\":\"resize\",\"cols\":8.5,\"rows\":24}"_s << u"ignored"_s;
    QTest::newRow("SIGINT") << u"{\"type\":\"signal\",\"signal\":\"SIGINT\"}"_s << u"signal 2"_s;
    QTest::newRow("SIGHUP") << u"{\"type\":\"signal\",\"signal\":\"SIGHUP\"}"_s << u"signal 1"_s;
    QTest::newRow("a signal by another name is dropped") << u"{\"type\":\"signal\",\"signal\":\"sigint\"}"_s << u"ignored"_s;
    QTest::newRow("SIGSTOP is not one a client may send") << u"{\"type\":\"signal\",\"signal\":\"SIGSTOP\"}"_s << u"ignored"_s;
    QTest::newRow("ping") << u"{\"type\":\"ping\"}"_s << u"ping"_s;
    QTest::newRow("Sandflow's end of input") << u"{\"type\":\"eof\"}"_s << u"eof"_s;
    QTest::newRow("unknown type") << u"{\"type\":\"dance\"}"_s << u"unknown dance"_s;
    QTest::newRow("no type") << u"{}"_s << u"unknown "_s;
    QTest::newRow("broken JSON") << u"{\"type\":"_s << u"ignored"_s;
    QTest::newRow("not an object") << u"[\"ping\"]"_s << u"ignored"_s;
    QTest::newRow("a type that is no string") << u"{\"type\":1}"_s << u"ignored"_s;
}

void TestExecdWire::ptyClientTextFrames()
{
    QFETCH(QString, frame);
    QFETCH(QString, expected);
    const PtyClientFrame parsed = parsePtyTextFrame(frame);
    QString actual;
    switch (parsed.kind) {
    case PtyClientFrame::Kind::Ignored: actual = u"ignored"_s; break;
    case PtyClientFrame::Kind::Input: actual = u"input "_s + QString::fromUtf8(parsed.data); break;
    case PtyClientFrame::Kind::EndOfInput: actual = u"eof"_s; break;
    case PtyClientFrame::Kind::Resize: actual = u"resize %1x%2"_s.arg(parsed.columns).arg(parsed.rows); break;
    case PtyClientFrame::Kind::Signal: actual = u"signal %1"_s.arg(parsed.signal); break;
    case PtyClientFrame::Kind::Ping: actual = u"ping"_s; break;
    case PtyClientFrame::Kind::Unknown: actual = u"unknown "_s + parsed.type; break;
    }
    QCOMPARE(actual, expected);
}

void TestExecdWire::ptyClientBinaryFrames()
{
    PtyClientFrame parsed = parsePtyBinaryFrame(QByteArray("\x00ls\n", 4));
    QCOMPARE(parsed.kind, PtyClientFrame::Kind::Input);
    QCOMPARE(parsed.data, QByteArray("ls\n"));
    QCOMPARE(parsePtyBinaryFrame(QByteArray("\x00", 1)).kind, PtyClientFrame::Kind::Input);
    QCOMPARE(parsePtyBinaryFrame(QByteArray()).kind, PtyClientFrame::Kind::Ignored);
    QCOMPARE(parsePtyBinaryFrame(QByteArray("\x01out")).kind, PtyClientFrame::Kind::Ignored);
}

QTEST_GUILESS_MAIN(TestExecdWire)

#include "tst_execdwire.moc"
