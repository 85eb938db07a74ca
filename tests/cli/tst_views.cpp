// How a run looks on a terminal, in a pipe and as --json: the views are fed events and
// what they write is compared, byte for byte.
#include "jsonlinesview.h"
#include "plainview.h"
#include "progressview.h"
#include "runeventtesting.h"
#include "runsummarytext.h"
#include "terminaltext_p.h"

#include <QBuffer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace Sandflow;
using namespace Sandflow::Cli;
using namespace RunEventTesting;
using namespace Qt::StringLiterals;

namespace {

// Counts the writes that reach it: a frame must be one.
class RecordingDevice final : public QIODevice
{
public:
    RecordingDevice() { open(QIODevice::WriteOnly | QIODevice::Unbuffered); }
    QList<QByteArray> writes;

protected:
    qint64 readData(char *, qint64) override { return -1; }
    qint64 writeData(const char *data, qint64 size) override
    {
        writes.append(QByteArray(data, size));
        return size;
    }
};

// A build job running its second step, a fan-out of 5 eval instances of which 3 started,
// one failed with output, and a job not started yet. The jobs the run announced come in the
// order of their ids (JSON objects keep no order).
void feed(ProgressView &view)
{
    RunEvent started = makeEvent(Type::RunStarted, 0);
    started.text = u"CI"_s;
    started.details = QJsonObject{{u"jobs"_s, QJsonObject{{u"build"_s, 1}, {u"eval"_s, 5}, {u"deploy"_s, 1}}},
                                  {u"order"_s, QJsonArray{u"build"_s, u"eval"_s, u"deploy"_s}}};
    view.handle(started);
    view.handle(makeEvent(Type::JobStarted, 0, u"build"_s));
    view.handle(step(Type::StepStarted, 0, u"build"_s, u"step-1"_s, u"Install"_s));
    view.handle(finished(Type::StepFinished, 1000, u"build"_s, u"success"_s, 1000));
    view.handle(step(Type::StepStarted, 1000, u"build"_s, u"compile"_s, u"Compile"_s));
    RunEvent compiling = step(Type::LogLine, 1100, u"build"_s, u"compile"_s);
    compiling.text = u"  [3/9] compiling main.cpp"_s;
    view.handle(compiling);
    for (const QString &name : {u"eval (a)"_s, u"eval (b)"_s, u"eval (c)"_s})
        view.handle(makeEvent(Type::JobStarted, 100, name, u"eval"_s));
    RunEvent sixLines;
    for (int i = 1; i <= 6; ++i) {
        RunEvent line = step(Type::LogLine, 200 + i, u"eval (b)"_s, u"step-1"_s);
        line.text = u"line %1\x1b[0m"_s.arg(i);
        view.handle(line);
    }
    RunEvent failed = finished(Type::StepFinished, 2000, u"eval (b)"_s, u"failure"_s, 1900);
    failed.step = u"step-1"_s;
    failed.stepName = u"Score"_s;
    failed.text = u"exit status 3"_s;
    view.handle(failed);
    view.handle(finished(Type::JobFinished, 2100, u"eval (b)"_s, u"failure"_s, 2000));
    view.handle(finished(Type::JobFinished, 2200, u"eval (c)"_s, u"success"_s, 2100));
    view.handle(step(Type::StepStarted, 2300, u"eval (a)"_s, u"step-1"_s, u"Score"_s));
    RunEvent scoring = step(Type::LogLine, 2400, u"eval (a)"_s, u"step-1"_s);
    scoring.text = u"task 7 of 9"_s;
    view.handle(scoring);
}

} // namespace

class TestViews : public QObject
{
    Q_OBJECT

private slots:
    void progressFrame()
    {
        RecordingDevice device;
        ProgressView view(&device);
        feed(view);
        // Jobs in the order they run; running instances with their latest line.
        QCOMPARE(view.render(100, 20, at(3500)).split(u'\n'), (QStringList{
            u"CI  r1  3.5s"_s,
            u"▸ build  compile Compile  2.5s"_s,
            u"    [3/9] compiling main.cpp"_s,
            u"▸ eval  2/5  running 1  ✔ 1  ✘ 1  ○ 0"_s,
            u"  ▸ eval (a)  step-1 Score  1.2s"_s,
            u"      task 7 of 9"_s,
            u"⋯ deploy  waiting"_s,
            u"✘ eval (b) › step-1 Score: failure after 1.9s: exit status 3"_s,
            u"    line 2"_s,
            u"    line 3"_s,
            u"    line 4"_s,
            u"    line 5"_s,
            u"    line 6"_s}));
        QCOMPARE(view.render(12, 4, at(3500)).split(u'\n'), (QStringList{
            u"CI  r1  3.5s"_s, u"▸ build  com"_s, u"    [3/9] co"_s, u"+10 more"_s}));
        QVERIFY(device.writes.isEmpty());   // nothing is drawn before the timer or a redraw

        RunEvent done = finished(Type::RunFinished, 9000, {}, u"failure"_s, 9000);
        view.handle(done);
        QCOMPARE(view.render(100, 2, at(9999)).split(u'\n'), (QStringList{u"CI  r1  failure in 9.0s"_s, u"+12 more"_s}));
    }

    // A wide fan-out shows its first running instances, and how many more run.
    void progressShowsSomeRunningInstances()
    {
        RecordingDevice device;
        ProgressView view(&device);
        RunEvent started = makeEvent(Type::RunStarted, 0);
        started.text = u"eval"_s;
        started.details = QJsonObject{{u"jobs"_s, QJsonObject{{u"solve"_s, 100}}}, {u"order"_s, QJsonArray{u"solve"_s}}};
        view.handle(started);
        for (int i = 1; i <= 6; ++i)
            view.handle(makeEvent(Type::JobStarted, 0, u"solve %1"_s.arg(i), u"solve"_s));
        QCOMPARE(view.render(100, 20, at(1000)).split(u'\n'), (QStringList{
            u"eval  r1  1.0s"_s, u"▸ solve  0/100  running 6  ✔ 0  ✘ 0  ○ 0"_s, u"  ▸ solve 1  1.0s"_s,
            u"  ▸ solve 2  1.0s"_s, u"  ▸ solve 3  1.0s"_s, u"  ▸ solve 4  1.0s"_s, u"  … 2 more running"_s}));
    }

    void progressRedrawsInPlace()
    {
        RecordingDevice device;
        QDateTime now = at(3500);
        {
            ProgressView view(&device);
            view.setClock([&now] { return now; });
            feed(view);
            view.redraw();
            QCOMPARE(device.writes.size(), 1);
            const QString first = QString::fromUtf8(device.writes.at(0));
            QCOMPARE(first, u"\x1b[?25l"_s + view.render(80, 23, now) + u'\n');

            view.redraw();   // nothing changed: nothing written
            QCOMPARE(device.writes.size(), 1);

            now = at(4500);
            view.redraw();
            QCOMPARE(device.writes.size(), 2);
            QCOMPARE(QString::fromUtf8(device.writes.at(1)), u"\x1b[13F\x1b[2K\x1b[B\x1b[J\x1b[A"_s + view.render(80, 23, now) + u'\n');

            RunEvent warning = makeEvent(Type::Warning, 4000, u"build"_s);
            warning.text = u"disk almost full"_s;
            view.handle(warning);
            QCOMPARE(device.writes.size(), 3);
            QVERIFY(device.writes.at(2).startsWith("\x1b[13F\x1b[2K\x1b[B\x1b[J\x1b[Awarning: [build] disk almost full\nCI  r1"));

            view.close();
            QCOMPARE(device.writes.last(), QByteArray("\x1b[?25h"));
            const qsizetype afterClose = device.writes.size();
            view.redraw();
            view.handle(warning);
            QCOMPARE(device.writes.size(), afterClose);
        }
        QCOMPARE(device.writes.last(), QByteArray("\x1b[?25h"));   // not shown twice
        QCOMPARE(device.writes.count(QByteArray("\x1b[?25h")), 1);

        RecordingDevice abandoned;
        {
            ProgressView view(&abandoned);
            feed(view);
            view.redraw();
        }
        QCOMPARE(abandoned.writes.last(), QByteArray("\x1b[?25h"));   // restored without close()
    }

    // A line of the live view takes exactly one row of a terminal `width` columns wide, and
    // nothing in it moves the cursor.
    void terminalLines_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("width");
        QTest::addColumn<QString>("line");
        QTest::newRow("cut") << u"abcdef"_s << 4 << u"abcd"_s;
        QTest::newRow("two columns each") << u"日本語"_s << 5 << u"日本"_s;
        QTest::newRow("fullwidth") << u"ＡＢＣ"_s << 4 << u"ＡＢ"_s;
        QTest::newRow("emoji not split") << u"a😀b"_s << 2 << u"a"_s;
        QTest::newRow("emoji") << u"a😀b"_s << 3 << u"a😀"_s;
        QTest::newRow("half a surrogate pair") << (u"a"_s + QChar(0xd83d) + u"b"_s) << 9 << u"a�b"_s;
        QTest::newRow("combining accents take none") << u"e\u0301te\u0301"_s << 3 << u"e\u0301te\u0301"_s;
        QTest::newRow("combining accent kept with its letter") << u"e\u0301te\u0301"_s << 2 << u"e\u0301t"_s;
        QTest::newRow("combining accent on nothing") << u"\u0301x"_s << 9 << u"x"_s;
        QTest::newRow("colours") << u"\x1b[1;31mred\x1b[0m ok"_s << 9 << u"red ok"_s;
        QTest::newRow("cursor moves") << u"a\x1b[2J\x1b[10;1Hb\x1b[Kc\x1b" u"7d\x1b" u"8"_s << 9 << u"abcd"_s;
        QTest::newRow("character set") << u"a\x1b(0qq\x1b(Bb"_s << 9 << u"aqqb"_s;
        QTest::newRow("title ended by BEL") << u"a\x1b]0;title\x07" u"b"_s << 9 << u"ab"_s;
        QTest::newRow("link ended by ST") << u"\x1b]8;;https://example.org\x1b\\link\x1b]8;;\x1b\\"_s << 9 << u"link"_s;
        QTest::newRow("unended string") << u"a\x1b]0;title"_s << 9 << u"a"_s;
        QTest::newRow("8-bit CSI") << u"a\u009b2Jb"_s << 9 << u"ab"_s;
        QTest::newRow("8-bit OSC") << u"a\u009d0;t\u009c" u"b"_s << 9 << u"ab"_s;
        QTest::newRow("controls") << u"a\tb\rc\bd\ne\u0085f\x7fg"_s << 20 << u"a b c d e f g"_s;
        QTest::newRow("invisible joiners and marks") << u"👨\u200D👩 \u200Bx\u202Ey\uFEFF"_s << 20 << u"👨👩 xy"_s;
        QTest::newRow("emoji selector") << u"❤\uFE0F!"_s << 2 << u"❤!"_s;
        QTest::newRow("flag") << u"🇫🇷"_s << 9 << u"��"_s;
        QTest::newRow("private use") << u"a\U0010FFFDb"_s << 9 << u"a\U0010FFFDb"_s;
        QTest::newRow("unassigned") << u"a\U000E0FFFb"_s << 9 << u"a�b"_s;
        QTest::newRow("no room") << u"abc"_s << 0 << QString();
    }

    void terminalLines()
    {
        QFETCH(QString, text);
        QFETCH(int, width);
        QFETCH(QString, line);
        QCOMPARE(Internal::terminalLine(text, width), line);
    }

    // How many rows a line takes once a terminal made narrower has wrapped it.
    void terminalRows()
    {
        QCOMPARE(Internal::terminalRows(QString(), 3), 1);
        QCOMPARE(Internal::terminalRows(u"abc"_s, 3), 1);
        QCOMPARE(Internal::terminalRows(u"abcd"_s, 3), 2);
        QCOMPARE(Internal::terminalRows(u"abcdefg"_s, 3), 3);
        QCOMPARE(Internal::terminalRows(u"e\u0301te\u0301"_s, 3), 1);
        // A wide character that would cross the edge starts the next row.
        QCOMPARE(Internal::terminalRows(u"a日日"_s, 4), 2);
        QCOMPARE(Internal::terminalRows(u"日日日日日"_s, 5), 3);
        QCOMPARE(Internal::terminalRows(u"😀😀"_s, 1), 2);
    }

    // Warnings printed above the view keep their line breaks, and lose what would move the
    // cursor.
    void terminalText()
    {
        QCOMPARE(Internal::terminalText(u"one\x1b[31m red\none\x1b[A up\r\n\u0301x"_s), u"one red\none up \nx"_s);
    }

    void terminalSizeFallback()
    {
        QCOMPARE(ProgressView::terminalSize(-1), QSize(80, 24));
    }

    void plainLines()
    {
        RecordingDevice device;
        PlainView view(&device);
        RunEvent log = step(Type::LogLine, 10, u"test (3.11)"_s, u"step-1"_s);
        log.text = u"100% done %1"_s;
        RunEvent allowed = finished(Type::StepFinished, 20, u"test (3.11)"_s, u"failure"_s, 300);
        allowed.step = u"lint"_s;
        allowed.conclusion = u"success"_s;
        allowed.text = u"exit status 1"_s;
        RunEvent timedOut = finished(Type::StepFinished, 20, u"test (3.11)"_s, u"timed_out"_s, 30000);
        timedOut.step = u"step-2"_s;
        RunEvent skipped = finished(Type::StepFinished, 20, u"test (3.11)"_s, u"skipped"_s, 0);
        skipped.step = u"step-3"_s;
        RunEvent cancelled = finished(Type::StepFinished, 20, u"test (3.11)"_s, u"cancelled"_s, 0);
        cancelled.step = u"step-4"_s;
        cancelled.text = u"cancelled"_s;
        RunEvent retry = step(Type::StepRetrying, 20, u"test (3.11)"_s, u"step-1"_s);
        retry.text = u"exit status 1"_s;
        retry.details = QJsonObject{{u"backoffMs"_s, 2000}};
        RunEvent second = step(Type::StepStarted, 20, u"test (3.11)"_s, u"step-1"_s, u"Install"_s);
        second.attempt = 2;
        RunEvent kept = makeEvent(Type::SandboxDeleted, 20, u"test (3.11)"_s);
        kept.sandboxId = u"sb-1"_s;
        kept.details = QJsonObject{{u"kept"_s, true}};
        RunEvent warning = step(Type::Warning, 20, u"test (3.11)"_s, u"step-1"_s);
        warning.text = u"slow"_s;
        // Denials: of a connection to an address, to an IPv6 one (several, collapsed), of a name.
        const auto denied = [](const QString &target, int port, qint64 count) {
            RunEvent e = makeEvent(Type::EgressDenied, 20, u"test (3.11)"_s);
            e.sandboxId = u"sb-1"_s;
            e.details = QJsonObject{{u"target"_s, target}, {u"count"_s, count}};
            if (port != 0)
                e.details.insert(u"port"_s, port);
            return e;
        };
        RunEvent done = finished(Type::RunFinished, 20, {}, u"failure"_s, 61000);
        RunEvent succeeded = finished(Type::StepFinished, 20, u"test (3.11)"_s, u"success"_s, 1200);
        succeeded.step = u"step-1"_s;
        for (const RunEvent &e : {makeEvent(Type::JobStarted, 0, u"test (3.11)"_s),
                                  step(Type::StepStarted, 0, u"test (3.11)"_s, u"step-1"_s, u"Install"_s),
                                  log, retry, second,
                                  succeeded,
                                  allowed, timedOut, skipped, cancelled, kept, warning,
                                  denied(u"10.0.0.1"_s, 443, 1), denied(u"2001:db8::1"_s, 80, 7),
                                  denied(u"pypi.org"_s, 0, 1), done})
            view.handle(e);
        QStringList lines;
        for (const QByteArray &write : std::as_const(device.writes)) {
            QVERIFY(write.endsWith('\n'));
            lines.append(QString::fromUtf8(write.chopped(1)));
        }
        QCOMPARE(lines, (QStringList{
            u"[test (3.11)] ▶ job started"_s,
            u"[test (3.11)] ▶ step-1 Install"_s,
            u"[test (3.11)] step-1 | 100% done %1"_s,
            u"[test (3.11)] ↻ step-1 attempt 1 failed: exit status 1; retrying in 2.0s"_s,
            u"[test (3.11)] ▶ step-1 Install (attempt 2)"_s,
            u"[test (3.11)] ✔ step-1 success 1.2s"_s,
            u"[test (3.11)] ✔ lint failure, allowed to fail 0.3s: exit status 1"_s,
            u"[test (3.11)] ✘ step-2 timed out 30.0s"_s,
            u"[test (3.11)] ○ step-3 skipped"_s,
            u"[test (3.11)] ⊘ step-4 cancelled"_s,
            u"[test (3.11)] sandbox sb-1 kept"_s,
            u"warning: [test (3.11)] step-1: slow"_s,
            u"[test (3.11)] egress denied: 10.0.0.1:443"_s,
            u"[test (3.11)] egress denied: [2001:db8::1]:80 (7 attempts)"_s,
            u"[test (3.11)] egress denied: name pypi.org"_s,
            u"run r1 failure in 1m01s"_s}));
    }

    void jsonLines()
    {
        RecordingDevice device;
        JsonLinesView view(&device);
        RunEvent log = step(Type::LogLine, 5, u"build"_s, u"step-1"_s);
        log.stream = u"stderr"_s;
        log.text = u"oops \"quoted\""_s;
        view.handle(makeEvent(Type::JobStarted, 0, u"build"_s));
        view.handle(log);
        QCOMPARE(device.writes, (QList<QByteArray>{
            "{\"instance\":0,\"job\":\"build\",\"jobId\":\"build\",\"runId\":\"r1\","
            "\"time\":\"2026-12-01T19:40:00.000Z\",\"type\":\"job_started\"}\n",
            "{\"attempt\":1,\"instance\":0,\"job\":\"build\",\"jobId\":\"build\",\"runId\":\"r1\",\"step\":\"step-1\",\"stream\":\"stderr\","
            "\"text\":\"oops \\\"quoted\\\"\",\"time\":\"2026-12-01T19:40:00.005Z\",\"type\":\"log_line\"}\n"}));
    }

    void endSummary()
    {
        RunSummary summary;
        summary.runId = u"r1"_s;
        summary.outcome = u"failure"_s;
        summary.durationMs = 11300;
        const auto job = [](const QString &name, const QString &id, const QString &outcome, qint64 stepMs) {
            JobSummary j;
            j.name = name;
            j.jobId = id;
            j.outcome = outcome;
            if (stepMs > 0) {
                StepSummary s;
                s.id = u"step-1"_s;
                s.durationMs = stepMs;
                j.steps.append(s);
            }
            return j;
        };
        summary.jobs = {job(u"build"_s, u"build"_s, u"success"_s, 1200),
                        job(u"test (a)"_s, u"test"_s, u"success"_s, 2500),
                        job(u"test (b)"_s, u"test"_s, u"failure"_s, 4000),
                        job(u"test (c)"_s, u"test"_s, u"timed_out"_s, 6000),
                        job(u"test (d)"_s, u"test"_s, u"cancelled"_s, 0),
                        job(u"deploy"_s, u"deploy"_s, u"skipped"_s, 0)};
        // Rewards of the graded instances (the timed-out one has none) are averaged.
        summary.jobs[1].reward = 1.0;
        summary.jobs[2].reward = 0.25;
        // The failed steps are named with their logs, the timed-out one in words.
        summary.jobs[2].steps[0].conclusion = u"failure"_s;
        summary.jobs[2].steps[0].error = u"exit status 2"_s;
        summary.jobs[3].steps[0].conclusion = u"timed_out"_s;
        // Denied egress attempts are added up per job and over the run.
        summary.jobs[2].egressDenied = 3;
        summary.jobs[3].egressDenied = 2;
        const auto stepLog = [](const QString &job, const QString &step) {
            return job == u"test (b)"_s ? u"test-b/"_s + step + u".log"_s : QString();
        };
        QCOMPARE(formatRunSummary(summary, {u"runs/r1"_s, u"runs/r1/summary.json"_s, QString(), stepLog}),
                 u"Run r1: failure in 11.3s\n"
                 u"  ✔ build   1 passed\n"
                 u"  ✘ test    1 passed, 2 failed, 1 cancelled, mean reward 0.625 over 2, 5 egress denied\n"
                 u"  ○ deploy  1 skipped\n"
                 u"Egress denied: 5 attempts (events: egress_denied)\n"
                 u"Failed:\n"
                 u"  ✘ test (b) › step-1: exit status 2\n"
                 u"      runs/r1/test-b/step-1.log\n"
                 u"  ✘ test (c) › step-1: timed out\n"
                 u"Slowest steps:\n"
                 u"    6.0s  test (c) › step-1\n"
                 u"    4.0s  test (b) › step-1\n"
                 u"    2.5s  test (a) › step-1\n"
                 u"    1.2s  build › step-1\n"
                 u"Run directory: runs/r1\n"
                 u"Summary: runs/r1/summary.json\n"_s);

        // Steps that all took less than a tenth of a second are no slowest steps; a timed-out
        // run reads in words; a run without denied egress says nothing of egress.
        RunSummary quick;
        quick.runId = u"r2"_s;
        quick.outcome = u"timed_out"_s;
        quick.durationMs = 40;
        quick.jobs = {job(u"a"_s, u"a"_s, u"success"_s, 40)};
        QCOMPARE(formatRunSummary(quick, {}), u"Run r2: timed out in 0.0s\n  ✔ a  1 passed\n"_s);
    }
};

QTEST_GUILESS_MAIN(TestViews)
#include "tst_views.moc"
