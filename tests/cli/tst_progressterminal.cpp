// The live progress view in a real terminal, a tmux pane: whatever a frame holds and however
// the terminal changes between frames, a redraw leaves no line of an earlier frame behind and
// puts nothing into the scrollback but what was printed above the view on purpose.
#include "progressview.h"
#include "runeventtesting.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <fcntl.h>

using namespace Sandflow;
using namespace Sandflow::Cli;
using namespace RunEventTesting;
using namespace Qt::StringLiterals;

namespace {

// A tmux server of its own with one pane that runs nothing; the test writes to the pane's
// terminal as a program run in it would, and asks tmux what the pane shows.
class TmuxPane
{
public:
    ~TmuxPane()
    {
        m_terminal.close();
        if (m_started)
            tmux({u"kill-server"_s});
    }

    /// Starts the server with a pane of `width` x `height`; false when it could not.
    bool start(int width, int height)
    {
        QFile config(m_dir.filePath(u"tmux.conf"_s));
        // Without a status line the pane is the whole window.
        if (!config.open(QIODevice::WriteOnly) || config.write("set -g status off\n") < 0)
            return false;
        config.close();
        // The pane's program ends with this process: a test that crashes leaves no server.
        m_started = true;
        tmux({u"new-session"_s, u"-d"_s, u"-x"_s, QString::number(width), u"-y"_s, QString::number(height),
              u"exec tail --pid=%1 -f /dev/null"_s.arg(QCoreApplication::applicationPid())});
        const QByteArray tty = tmux({u"display"_s, u"-p"_s, u"#{pane_tty}"_s}).trimmed();
        // Not as the controlling terminal: this process must not get the pane's hang-up.
        const int fd = ::open(tty.constData(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
        return fd >= 0 && m_terminal.open(fd, QIODevice::WriteOnly | QIODevice::Unbuffered, QFileDevice::AutoCloseHandle);
    }

    /// The pane's terminal, as a program in the pane has it on its standard output.
    QFile &terminal() { return m_terminal; }
    int fd() const { return m_terminal.handle(); }

    /// Returns once tmux has read everything written to the terminal so far: the pane's title
    /// is set after it, and tmux reads a terminal in order.
    void sync()
    {
        const QByteArray mark = "mark-" + QByteArray::number(++m_marks);
        m_terminal.write("\x1b]2;" + mark + '\a');
        while (tmux({u"display"_s, u"-p"_s, u"#{pane_title}"_s}).trimmed() != mark)
            pause();
    }

    /// Lines scrolled off the top of the pane.
    int historySize()
    {
        return tmux({u"display"_s, u"-p"_s, u"#{history_size}"_s}).trimmed().toInt();
    }

    /// The scrollback, oldest line first.
    QStringList history()
    {
        if (historySize() == 0)
            return {};
        return lines(tmux({u"capture-pane"_s, u"-p"_s, u"-S"_s, u"-"_s, u"-E"_s, u"-1"_s}));
    }

    /// What the pane shows, without the blank rows at its bottom.
    QStringList screen()
    {
        QStringList rows = lines(tmux({u"capture-pane"_s, u"-p"_s}));
        while (!rows.isEmpty() && rows.last().isEmpty())
            rows.removeLast();
        return rows;
    }

    /// Resizes the pane and returns once its terminal has the new size.
    void resize(int width, int height)
    {
        tmux({u"resize-window"_s, u"-x"_s, QString::number(width), u"-y"_s, QString::number(height)});
        while (ProgressView::terminalSize(fd()) != QSize(width, height))
            pause();
    }

private:
    // Between two looks at the pane; a tmux that stopped answering ends the test at once
    // instead of letting it wait for ever.
    void pause() const
    {
        if (m_failed)
            qFatal("tmux stopped answering");
        QThread::msleep(10);
    }

    static QStringList lines(const QByteArray &text)
    {
        QStringList rows = QString::fromUtf8(text).split(u'\n');
        if (!rows.isEmpty() && rows.last().isEmpty())
            rows.removeLast();
        return rows;
    }

    QByteArray tmux(const QStringList &arguments)
    {
        QProcess process;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.remove(u"TMUX"_s);
        environment.insert(u"LC_ALL"_s, u"C.UTF-8"_s);   // tmux shows UTF-8 only in a UTF-8 locale
        process.setProcessEnvironment(environment);
        process.start(u"tmux"_s, QStringList{u"-S"_s, m_dir.filePath(u"socket"_s), u"-f"_s,
                                             m_dir.filePath(u"tmux.conf"_s)} + arguments);
        process.waitForFinished(-1);
        if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
            qWarning("tmux %s: %s", qPrintable(arguments.join(u' ')), process.readAllStandardError().constData());
            m_failed = true;
        }
        return process.readAllStandardOutput();
    }

    QTemporaryDir m_dir;
    QFile m_terminal;
    bool m_started = false;
    bool m_failed = false;
    int m_marks = 0;
};

RunEvent runStarted(const QStringList &order = {})
{
    RunEvent started = makeEvent(Type::RunStarted, 0);
    started.text = u"CI"_s;
    started.details = QJsonObject{{u"order"_s, QJsonArray::fromStringList(order)}};
    return started;
}

RunEvent logLine(qint64 ms, const QString &job, const QString &step, const QString &text)
{
    RunEvent line = RunEventTesting::step(Type::LogLine, ms, job, step);
    line.text = text;
    return line;
}

} // namespace

class TestProgressTerminal : public QObject
{
    Q_OBJECT

private:
    // A view on the pane whose clock reads `now`.
    static std::unique_ptr<ProgressView> viewOn(TmuxPane &pane, const QDateTime &now)
    {
        auto view = std::make_unique<ProgressView>(&pane.terminal(), pane.fd());
        view->setClock([&now] { return now; });
        return view;
    }

private slots:
    void initTestCase()
    {
        if (QStandardPaths::findExecutable(u"tmux"_s).isEmpty())
            QSKIP("tmux is not installed (scripts/bootstrap --tests installs it)");
    }

    // A view drawn from the top row, as after `clear`: clearing from the top-left corner
    // makes tmux push the whole screen into the scrollback first.
    void redrawsOnTheTopRow()
    {
        TmuxPane pane;
        QVERIFY(pane.start(40, 10));
        QDateTime now = at(0);
        auto view = viewOn(pane, now);
        view->handle(runStarted({u"build"_s}));
        view->handle(makeEvent(Type::JobStarted, 0, u"build"_s));
        view->handle(step(Type::StepStarted, 0, u"build"_s, u"compile"_s, u"Compile"_s));
        for (int i = 1; i <= 5; ++i) {
            view->handle(logLine(i * 1000 - 500, u"build"_s, u"compile"_s, u"[%1/5] compiling"_s.arg(i)));
            now = at(i * 1000);
            view->redraw();
            pane.sync();
        }
        QCOMPARE(pane.historySize(), 0);
        QCOMPARE(pane.screen(), (QStringList{u"CI  r1  5.0s"_s, u"▸ build  compile Compile  5.0s"_s,
                                             u"    [5/5] compiling"_s}));
    }

    // A view started low on the screen grows until it is as high as the terminal allows: the
    // lines printed before it scroll off, then nothing more, but a warning printed above it.
    void growsAtTheBottom()
    {
        TmuxPane pane;
        QVERIFY(pane.start(40, 10));
        QStringList before;
        for (int i = 1; i <= 7; ++i)
            before.append(u"$ earlier output %1"_s.arg(i));
        pane.terminal().write((before.join(u'\n') + u'\n').toUtf8());
        QDateTime now = at(0);
        auto view = viewOn(pane, now);
        view->handle(runStarted());
        QStringList jobs;
        for (int i = 1; i <= 12; ++i) {
            now = at(i * 1000);
            view->handle(makeEvent(Type::JobStarted, i * 1000, u"job %1"_s.arg(i), u"job-%1"_s.arg(i)));
            view->redraw();
            pane.sync();
        }
        QCOMPARE(pane.history(), before);
        RunEvent warning = makeEvent(Type::Warning, 13000);
        warning.text = u"disk almost full"_s;
        view->handle(warning);
        pane.sync();
        QCOMPARE(pane.history(), before + QStringList{u"warning: disk almost full"_s});
        QCOMPARE(pane.screen(), (QStringList{u"CI  r1  12.0s"_s, u"▸ job 1  11.0s"_s, u"▸ job 2  10.0s"_s,
                                             u"▸ job 3  9.0s"_s, u"▸ job 4  8.0s"_s, u"▸ job 5  7.0s"_s,
                                             u"▸ job 6  6.0s"_s, u"▸ job 7  5.0s"_s, u"+5 more"_s}));
    }

    // Names and output lines as wide as the terminal counted in columns, not characters:
    // CJK characters and emoji take two, combining accents none; escape sequences and
    // control characters in step output and warnings are not the terminal's to obey.
    void wideCharactersAndEscapes()
    {
        TmuxPane pane;
        QVERIFY(pane.start(40, 12));
        QDateTime now = at(0);
        auto view = viewOn(pane, now);
        view->handle(runStarted({u"build"_s, u"文書"_s, u"deploy"_s}));
        const auto startStep = [&view](const QString &job, const QString &name, const QString &output) {
            view->handle(makeEvent(Type::JobStarted, 0, job));
            view->handle(step(Type::StepStarted, 0, job, job == u"build"_s ? u"compile"_s : u"step-1"_s, name));
            view->handle(logLine(0, job, job == u"build"_s ? u"compile"_s : u"step-1"_s, output));
        };
        startStep(u"build"_s, u"Compile"_s, u"コンパイル中：日本語のファイル名はとても長いのでこの行は端で切られる"_s);
        startStep(u"文書"_s, u"説明書とリファレンスを生成する"_s,
                  u"\x1b[1;32mPASS\x1b[0m\ttest_ok\u009b2J \x1b]0;title\x07" u"done\r"_s);
        startStep(u"deploy"_s, u"Deploy"_s,
                  u"🚀 e\u0301te\u0301 ❤\uFE0F 👨\u200D👩\u200D👧 🇫🇷 🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀"_s);
        RunEvent warning = makeEvent(Type::Warning, 500);
        warning.text = u"\x1b[2J\x1b[Hdisk almost full\x1b[0m"_s;
        view->handle(warning);
        pane.sync();
        for (int i = 1; i <= 5; ++i) {
            now = at(i * 1000);
            view->redraw();
            pane.sync();
        }
        QCOMPARE(pane.historySize(), 0);
        QCOMPARE(pane.screen(), (QStringList{
            u"warning: disk almost full"_s,
            u"CI  r1  5.0s"_s,
            u"▸ build  compile Compile  5.0s"_s,
            u"    コンパイル中：日本語のファイル名はと"_s,
            u"▸ 文書  step-1 説明書とリファレンスを生"_s,
            u"    PASS test_ok done"_s,
            u"▸ deploy  step-1 Deploy  5.0s"_s,
            u"    🚀 e\u0301te\u0301 ❤ 👨👩👧 �� 🚀🚀🚀🚀🚀🚀🚀🚀"_s}));
    }

    // A terminal made narrower between two frames wraps the longer lines of the one it
    // shows (tmux pushes the rows this adds at the top into the scrollback): the next
    // frame goes back over every row they take then. Made wider again, nothing is left
    // either.
    void narrowerTerminal()
    {
        TmuxPane pane;
        QVERIFY(pane.start(60, 12));
        const QStringList before{u"$ sandflow run ci.yaml"_s, u"$ # earlier"_s, u"$ # output"_s};
        pane.terminal().write((before.join(u'\n') + u'\n').toUtf8());
        QDateTime now = at(1000);
        auto view = viewOn(pane, now);
        view->handle(runStarted({u"build"_s, u"test"_s}));
        for (const QString &job : {u"build"_s, u"test"_s}) {
            view->handle(makeEvent(Type::JobStarted, 0, job));
            view->handle(step(Type::StepStarted, 0, job, u"step-1"_s, u"Make"_s));
            view->handle(logLine(0, job, u"step-1"_s, u"[1/9] %1: compiling src/engine/workflowrun.cpp, optimised"_s.arg(job)));
        }
        view->redraw();
        pane.sync();
        // Only the lines printed before the view may be above it, on the screen or in the
        // scrollback; the frame is what the view renders for the pane's size then. (A
        // failure here returns from the lambda only: the test checks for it after each.)
        const auto checkScreen = [&] {
            QStringList screen = pane.screen();
            while (!screen.isEmpty() && before.contains(screen.first()))
                screen.removeFirst();
            const QSize size = ProgressView::terminalSize(pane.fd());
            QCOMPARE(screen, view->render(size.width(), size.height() - 1, now).split(u'\n'));
            for (const QString &line : pane.history())
                QVERIFY2(before.contains(line), qPrintable(line));
        };
        checkScreen();
        if (QTest::currentTestFailed())
            return;

        pane.resize(30, 12);
        now = at(2000);
        view->redraw();
        pane.sync();
        checkScreen();
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(view->render(30, 11, now).split(u'\n').at(4), u"    [1/9] test: compiling src/"_s);

        pane.resize(60, 12);
        now = at(3000);
        view->redraw();
        pane.sync();
        checkScreen();
    }

    // A terminal one row high has no room for a frame and the cursor below it: the view
    // draws none there, only warnings, and draws again once the terminal is higher. The
    // frame it drew before the terminal was made that low comes back with the rows tmux
    // gives back, and the next frame covers it.
    void oneRowTerminal()
    {
        TmuxPane pane;
        QVERIFY(pane.start(40, 1));
        QDateTime now = at(0);
        auto view = viewOn(pane, now);
        view->handle(runStarted({u"build"_s}));
        view->handle(makeEvent(Type::JobStarted, 0, u"build"_s));
        view->handle(step(Type::StepStarted, 0, u"build"_s, u"step-1"_s, u"Make"_s));
        for (int i = 1; i <= 3; ++i) {
            now = at(i * 1000);
            view->redraw();
            pane.sync();
        }
        QCOMPARE(pane.historySize(), 0);
        RunEvent warning = makeEvent(Type::Warning, 3000);
        warning.text = u"disk almost full"_s;
        view->handle(warning);
        pane.sync();
        QCOMPARE(pane.history(), QStringList{u"warning: disk almost full"_s});

        pane.resize(40, 5);
        now = at(4000);
        view->redraw();
        pane.sync();
        QCOMPARE(pane.screen(), (QStringList{u"warning: disk almost full"_s, u"CI  r1  4.0s"_s,
                                             u"▸ build  step-1 Make  4.0s"_s}));

        pane.resize(40, 1);
        for (int i = 5; i <= 6; ++i) {
            now = at(i * 1000);
            view->redraw();
            pane.sync();
        }
        pane.resize(40, 5);
        now = at(7000);
        view->redraw();
        pane.sync();
        QCOMPARE(pane.historySize(), 0);
        QCOMPARE(pane.screen(), (QStringList{u"warning: disk almost full"_s, u"CI  r1  7.0s"_s,
                                             u"▸ build  step-1 Make  7.0s"_s}));
    }
};

QTEST_GUILESS_MAIN(TestProgressTerminal)
#include "tst_progressterminal.moc"
