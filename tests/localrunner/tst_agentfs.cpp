// `sandflow-agent fs OP ARGS...`, the file tool the runner runs inside sandboxes, exercised
// through the real static binary on real files, results and failures checked as the runner
// will read them.
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>

#include <optional>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace {

/// Upper bound for anything that should take seconds at most: it only catches hangs.
constexpr int HangMs = 60'000;

struct Result {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

Result fs(const QStringList &arguments, const QByteArray &input = {})
{
    QProcess process;
    process.start(QString::fromUtf8(SANDFLOW_AGENT_PATH), QStringList{u"fs"_s} + arguments);
    if (!process.waitForStarted(HangMs))
        return {};
    process.write(input);
    process.closeWriteChannel();
    if (!process.waitForFinished(HangMs) || process.exitStatus() != QProcess::NormalExit) {
        process.kill();
        process.waitForFinished();
        return {};
    }
    return {process.exitCode(), process.readAllStandardOutput(), process.readAllStandardError()};
}

QJsonDocument parse(const QByteArray &text)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError)
        qWarning() << "not JSON:" << error.errorString() << text.left(200);
    return document;
}

/// Paths of the FileInfo objects in `array`, in order.
QStringList paths(const QJsonArray &array)
{
    QStringList result;
    for (const QJsonValue &value : array)
        result.append(value[u"path"].toString());
    return result;
}

QByteArray sha256(const QByteArray &data)
{
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256);
}

bool writeFile(const QString &path, const QByteArray &contents)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(contents) == contents.size();
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray("<unreadable>");
}

struct stat lstatOf(const QString &path)
{
    struct stat st {};
    if (lstat(QFile::encodeName(path).constData(), &st) != 0)
        st.st_mode = 0;
    return st;
}

int modeOf(const QString &path)
{
    return int(lstatOf(path).st_mode & 07777);
}

bool exists(const QString &path)
{
    return lstatOf(path).st_mode != 0;
}

bool makeLink(const QString &target, const QString &link)
{
    return symlink(QFile::encodeName(target).constData(), QFile::encodeName(link).constData()) == 0;
}

} // namespace

/// Checks that `result` failed with exit `status`, error `code` and a message naming `subject`.
#define QVERIFY_FAILURE(result, code, subject, status)                                         \
    do {                                                                                       \
        const Result &failed = (result);                                                       \
        QCOMPARE(failed.exitCode, (status));                                                     \
        QVERIFY2(failed.err.endsWith('\n') && failed.err.count('\n') == 1, failed.err.constData()); \
        const QJsonObject error = parse(failed.err).object();                                  \
        QCOMPARE(error[u"code"].toString(), QStringLiteral(code));                             \
        QVERIFY2(error[u"message"].toString().contains(subject), failed.err.constData());      \
    } while (false)

class TestAgentFs : public QObject {
    Q_OBJECT

private:
    std::optional<QTemporaryDir> temporary; ///< fresh for each test, so none sees another's files
    QString base;                            ///< its path
    QString path(const QString &name) const { return base + u'/' + name; }
    static bool root() { return geteuid() == 0; }

private slots:
    void init()
    {
        temporary.emplace();
        QVERIFY(temporary->isValid());
        base = temporary->path();
    }

    void usageErrorsExitTwo()
    {
        QVERIFY_FAILURE(fs({u"frobnicate"_s, path(u"x"_s)}), "INVALID_ARGUMENT", u"frobnicate"_s, 2);
        QVERIFY_FAILURE(fs({u"read"_s, path(u"x"_s), u"0"_s}), "INVALID_ARGUMENT", u"read PATH OFFSET LENGTH"_s, 2);
        QVERIFY_FAILURE(fs({u"remove"_s, path(u"a"_s), path(u"b"_s)}), "INVALID_ARGUMENT", u"remove"_s, 2);
        QVERIFY_FAILURE(fs({u"info"_s}), "INVALID_ARGUMENT", u"info"_s, 2);
        QVERIFY_FAILURE(fs({}), "INVALID_ARGUMENT", u"usage"_s, 2);
    }

    void infoReportsLstatInOrder()
    {
        QVERIFY(writeFile(path(u"file.txt"_s), "12345"));
        QVERIFY(QFile::setPermissions(path(u"file.txt"_s), QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup));
        QVERIFY(QDir(base).mkdir(u"sub"_s));
        QVERIFY(makeLink(u"sub"_s, path(u"link"_s)));

        const Result result = fs({u"info"_s, path(u"link"_s), path(u"file.txt"_s), path(u"sub"_s)});
        QCOMPARE(result.exitCode, 0);
        QVERIFY(result.err.isEmpty());
        const QJsonArray infos = parse(result.out).array();
        QCOMPARE(paths(infos), (QStringList{path(u"link"_s), path(u"file.txt"_s), path(u"sub"_s)}));

        const QJsonObject link = infos[0].toObject();
        QCOMPARE(link[u"type"].toString(), u"symlink"_s);
        QCOMPARE(link[u"size"].toInteger(), 3); // the length of "sub": the link, not its target

        const QJsonObject file = infos[1].toObject();
        const struct stat st = lstatOf(path(u"file.txt"_s));
        QCOMPARE(file[u"type"].toString(), u"file"_s);
        QCOMPARE(file[u"size"].toInteger(), 5);
        QCOMPARE(file[u"mode"].toInteger(), 0640);
        QCOMPARE(file[u"uid"].toInteger(), qint64(st.st_uid));
        QCOMPARE(file[u"gid"].toInteger(), qint64(st.st_gid));
        QCOMPARE(file[u"modifiedAt"].toInteger(), qint64(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000);
        QCOMPARE(file[u"changedAt"].toInteger(), qint64(st.st_ctim.tv_sec) * 1000 + st.st_ctim.tv_nsec / 1'000'000);
        QCOMPARE(file[u"owner"].toString(), QString::fromLocal8Bit(getpwuid(st.st_uid)->pw_name));
        QCOMPARE(file[u"group"].toString(), QString::fromLocal8Bit(getgrgid(st.st_gid)->gr_name));

        QCOMPARE(infos[2].toObject()[u"type"].toString(), u"directory"_s);
    }

    void infoOfMissingPathFails()
    {
        QVERIFY(writeFile(path(u"here"_s), "x"));
        const Result result = fs({u"info"_s, path(u"here"_s), path(u"gone"_s)});
        QVERIFY_FAILURE(result, "NOT_FOUND", path(u"gone"_s), 1);
        QVERIFY(result.out.isEmpty());
    }

    void namesAreEscapedAndAlwaysValidJson()
    {
        const QString odd = path(u"quote\" back\\slash\nnewline"_s);
        QVERIFY(writeFile(odd, "x"));
        const QByteArray notUtf8 = QFile::encodeName(base) + "/latin1-\xe9";
        const int fd = open(notUtf8.constData(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        QVERIFY(fd >= 0);
        close(fd);
        // QTemporaryDir goes by decoded names and could not remove this one.
        const auto removeRaw = qScopeGuard([&] { unlink(notUtf8.constData()); });
        const QJsonArray infos = parse(fs({u"list"_s, base, u"1"_s}).out).array();
        QCOMPARE(infos.size(), 2);
        QCOMPARE(infos[0].toObject()[u"path"].toString(), path(u"latin1-\ufffd"_s));
        QCOMPARE(infos[1].toObject()[u"path"].toString(), odd);
    }

    void readStreamsARange()
    {
        QVERIFY(writeFile(path(u"f"_s), "0123456789"));
        QCOMPARE(fs({u"read"_s, path(u"f"_s), u"2"_s, u"3"_s}).out, QByteArray("234"));
        QCOMPARE(fs({u"read"_s, path(u"f"_s), u"7"_s, u"-1"_s}).out, QByteArray("789"));
        QCOMPARE(fs({u"read"_s, path(u"f"_s), u"0"_s, u"100"_s}).out, QByteArray("0123456789"));
        const Result atEnd = fs({u"read"_s, path(u"f"_s), u"10"_s, u"-1"_s});
        QCOMPARE(atEnd.exitCode, 0);
        QVERIFY(atEnd.out.isEmpty());
        QCOMPARE(fs({u"read"_s, path(u"f"_s), u"3"_s, u"0"_s}).out, QByteArray());
    }

    void readFailures()
    {
        QVERIFY(writeFile(path(u"f"_s), "0123456789"));
        QVERIFY_FAILURE(fs({u"read"_s, path(u"f"_s), u"11"_s, u"-1"_s}), "RANGE_NOT_SATISFIABLE", path(u"f"_s), 1);
        QVERIFY_FAILURE(fs({u"read"_s, base, u"0"_s, u"-1"_s}), "IS_A_DIRECTORY", base, 1);
        QVERIFY_FAILURE(fs({u"read"_s, path(u"none"_s), u"0"_s, u"-1"_s}), "NOT_FOUND", path(u"none"_s), 1);
        QVERIFY_FAILURE(fs({u"read"_s, path(u"f"_s), u"x"_s, u"-1"_s}), "INVALID_ARGUMENT", u"OFFSET"_s, 1);
        QVERIFY_FAILURE(fs({u"read"_s, path(u"f"_s), u"0"_s, u"-2"_s}), "INVALID_ARGUMENT", u"LENGTH"_s, 1);
    }

    void writeCreatesParentsAndAppliesMode()
    {
        const QString target = path(u"new/deeper/file.txt"_s);
        const Result result = fs({u"write"_s, target, u"600"_s, QString(), QString()}, "hello\n");
        QCOMPARE(result.exitCode, 0);
        const QJsonObject info = parse(result.out).object();
        QCOMPARE(info[u"path"].toString(), target);
        QCOMPARE(info[u"type"].toString(), u"file"_s);
        QCOMPARE(info[u"size"].toInteger(), 6);
        QCOMPARE(info[u"mode"].toInteger(), 0600);
        QCOMPARE(readFile(target), QByteArray("hello\n"));
        QCOMPARE(modeOf(target), 0600);
        QVERIFY(QFileInfo(path(u"new/deeper"_s)).isDir());

        // Mode 0 leaves an existing file's mode alone and truncates its contents.
        QVERIFY(QFile::setPermissions(target, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadOther));
        QCOMPARE(fs({u"write"_s, target, u"0"_s, QString(), QString()}, "hi").exitCode, 0);
        QCOMPARE(readFile(target), QByteArray("hi"));
        QCOMPARE(modeOf(target), 0604);
    }

    void writeStreamsLargeInput()
    {
        // Not a multiple of any plausible chunk size, and of whole 32-bit words to fill.
        QByteArray data(20 * 1024 * 1024 + 124, Qt::Uninitialized);
        QRandomGenerator generator(42);
        generator.fillRange(reinterpret_cast<quint32 *>(data.data()), data.size() / 4);
        const QString target = path(u"big.bin"_s);
        const Result written = fs({u"write"_s, target, u"644"_s, QString(), QString()}, data);
        QCOMPARE(written.exitCode, 0);
        QCOMPARE(parse(written.out).object()[u"size"].toInteger(), data.size());
        QCOMPARE(QFileInfo(target).size(), data.size());
        QCOMPARE(sha256(readFile(target)), sha256(data));

        const Result read = fs({u"read"_s, target, u"0"_s, u"-1"_s});
        QCOMPARE(read.out.size(), data.size());
        QCOMPARE(sha256(read.out), sha256(data));
        const Result tail = fs({u"read"_s, target, u"10000000"_s, u"5000000"_s});
        QCOMPARE(tail.out, data.mid(10'000'000, 5'000'000));
    }

    void writeFailures()
    {
        QVERIFY_FAILURE(fs({u"write"_s, base, u"0"_s, QString(), QString()}, "x"), "IS_A_DIRECTORY", base, 1);
        QVERIFY(writeFile(path(u"plain"_s), "x"));
        QVERIFY_FAILURE(fs({u"write"_s, path(u"plain/child"_s), u"0"_s, QString(), QString()}, "x"),
                        "NOT_A_DIRECTORY", path(u"plain"_s), 1);
        // Names are checked before anything is written.
        QVERIFY_FAILURE(fs({u"write"_s, path(u"f"_s), u"0"_s, u"no-such-user-here"_s, QString()}, "x"),
                        "INVALID_ARGUMENT", u"no-such-user-here"_s, 1);
        QVERIFY(!exists(path(u"f"_s)));
        QVERIFY_FAILURE(fs({u"write"_s, path(u"f"_s), u"9"_s, QString(), QString()}, "x"), "INVALID_ARGUMENT", u"9"_s, 1);
    }

    void chmodChangesMode()
    {
        QVERIFY(writeFile(path(u"f"_s), "x"));
        QCOMPARE(fs({u"chmod"_s, path(u"f"_s), u"640"_s, QString(), QString()}).exitCode, 0);
        QCOMPARE(modeOf(path(u"f"_s)), 0640);
        const Result unchanged = fs({u"chmod"_s, path(u"f"_s), u"0"_s, QString(), QString()});
        QCOMPARE(unchanged.exitCode, 0);
        QVERIFY(unchanged.out.isEmpty());
        QCOMPARE(modeOf(path(u"f"_s)), 0640);
        QVERIFY_FAILURE(fs({u"chmod"_s, path(u"none"_s), u"0"_s, QString(), QString()}), "NOT_FOUND", path(u"none"_s), 1);
        QVERIFY_FAILURE(fs({u"chmod"_s, path(u"f"_s), u"0"_s, QString(), u"no-such-group-here"_s}),
                        "INVALID_ARGUMENT", u"no-such-group-here"_s, 1);
    }

    void chownByNumberAndByName()
    {
        if (!root())
            QSKIP("changing owners needs root");
        const QString file = path(u"f"_s);
        QVERIFY(writeFile(file, "x"));
        QCOMPARE(fs({u"chmod"_s, file, u"0"_s, u"12345"_s, u"54321"_s}).exitCode, 0);
        QCOMPARE(lstatOf(file).st_uid, uid_t(12345));
        QCOMPARE(lstatOf(file).st_gid, gid_t(54321));
        // Ids without a name are reported as the number.
        QJsonObject info = parse(fs({u"info"_s, file}).out).array()[0].toObject();
        QCOMPARE(info[u"owner"].toString(), u"12345"_s);
        QCOMPARE(info[u"group"].toString(), u"54321"_s);

        const passwd *nobody = getpwnam("nobody");
        const group *nogroup = getgrnam("nogroup");
        if (!nobody || !nogroup)
            QSKIP("no nobody user or nogroup group here");
        QCOMPARE(fs({u"chmod"_s, file, u"0"_s, u"nobody"_s, QString()}).exitCode, 0);
        QCOMPARE(lstatOf(file).st_uid, nobody->pw_uid);
        QCOMPARE(lstatOf(file).st_gid, gid_t(54321));
        QCOMPARE(fs({u"chmod"_s, file, u"0"_s, QString(), u"nogroup"_s}).exitCode, 0);
        QCOMPARE(lstatOf(file).st_gid, nogroup->gr_gid);
        info = parse(fs({u"info"_s, file}).out).array()[0].toObject();
        QCOMPARE(info[u"owner"].toString(), u"nobody"_s);
        QCOMPARE(info[u"group"].toString(), u"nogroup"_s);
        QCOMPARE(info[u"uid"].toInteger(), qint64(nobody->pw_uid));

        const Result written = fs({u"write"_s, path(u"w"_s), u"600"_s, u"nobody"_s, u"nogroup"_s}, "data");
        QCOMPARE(written.exitCode, 0);
        QCOMPARE(parse(written.out).object()[u"owner"].toString(), u"nobody"_s);
        QCOMPARE(lstatOf(path(u"w"_s)).st_uid, nobody->pw_uid);
        QCOMPARE(modeOf(path(u"w"_s)), 0600);
    }

    void mkdirCreatesEveryLevel()
    {
        const QString deepest = path(u"a/b/c"_s);
        QCOMPARE(fs({u"mkdir"_s, deepest, u"750"_s, QString(), QString()}).exitCode, 0);
        for (const QString &created : {path(u"a"_s), path(u"a/b"_s), deepest}) {
            QVERIFY2(S_ISDIR(lstatOf(created).st_mode), qPrintable(created));
            QCOMPARE(modeOf(created), 0750);
        }
        // An existing directory is fine and keeps its mode.
        QCOMPARE(fs({u"mkdir"_s, path(u"a/b"_s), u"700"_s, QString(), QString()}).exitCode, 0);
        QCOMPARE(modeOf(path(u"a/b"_s)), 0750);

        QCOMPARE(fs({u"mkdir"_s, path(u"d"_s), u"0"_s, QString(), QString()}).exitCode, 0);
        QCOMPARE(modeOf(path(u"d"_s)), 0755);

        // A mode without write permission still lets every level be created.
        QCOMPARE(fs({u"mkdir"_s, path(u"ro/inner"_s), u"555"_s, QString(), QString()}).exitCode, 0);
        QCOMPARE(modeOf(path(u"ro/inner"_s)), 0555);
        QVERIFY(QFile::setPermissions(path(u"ro"_s), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));

        QVERIFY(writeFile(path(u"file"_s), "x"));
        QVERIFY_FAILURE(fs({u"mkdir"_s, path(u"file"_s), u"0"_s, QString(), QString()}), "ALREADY_EXISTS", path(u"file"_s), 1);

        if (root()) {
            QCOMPARE(fs({u"mkdir"_s, path(u"owned/x"_s), u"0"_s, u"12345"_s, u"54321"_s}).exitCode, 0);
            QCOMPARE(lstatOf(path(u"owned"_s)).st_uid, uid_t(12345));
            QCOMPARE(lstatOf(path(u"owned/x"_s)).st_gid, gid_t(54321));
        }
    }

    void removeDeletesFilesAndLinksOnly()
    {
        QVERIFY(writeFile(path(u"target"_s), "keep"));
        QVERIFY(makeLink(path(u"target"_s), path(u"link"_s)));
        QVERIFY(writeFile(path(u"file"_s), "x"));
        QCOMPARE(fs({u"remove"_s, path(u"link"_s)}).exitCode, 0);
        QVERIFY(!exists(path(u"link"_s)));
        QCOMPARE(readFile(path(u"target"_s)), QByteArray("keep"));
        QCOMPARE(fs({u"remove"_s, path(u"file"_s)}).exitCode, 0);
        QVERIFY(!exists(path(u"file"_s)));

        QVERIFY(QDir(base).mkdir(u"sub"_s));
        QVERIFY_FAILURE(fs({u"remove"_s, path(u"sub"_s)}), "IS_A_DIRECTORY", path(u"sub"_s), 1);
        QVERIFY(exists(path(u"sub"_s)));
        QVERIFY_FAILURE(fs({u"remove"_s, path(u"file"_s)}), "NOT_FOUND", path(u"file"_s), 1);
    }

    void rmdirRemovesTreeWithoutFollowingLinks()
    {
        QVERIFY(QDir(base).mkpath(u"outside"_s));
        QVERIFY(writeFile(path(u"outside/precious"_s), "keep"));
        QVERIFY(QDir(base).mkpath(u"tree/a/b"_s));
        QVERIFY(writeFile(path(u"tree/a/b/f"_s), "x"));
        QVERIFY(makeLink(path(u"outside"_s), path(u"tree/a/linkdir"_s)));

        QCOMPARE(fs({u"rmdir"_s, path(u"tree"_s)}).exitCode, 0);
        QVERIFY(!exists(path(u"tree"_s)));
        QCOMPARE(readFile(path(u"outside/precious"_s)), QByteArray("keep"));

        QVERIFY(makeLink(path(u"outside"_s), path(u"dirlink"_s)));
        QVERIFY_FAILURE(fs({u"rmdir"_s, path(u"dirlink"_s)}), "NOT_A_DIRECTORY", path(u"dirlink"_s), 1);
        QVERIFY_FAILURE(fs({u"rmdir"_s, path(u"outside/precious"_s)}), "NOT_A_DIRECTORY", path(u"outside/precious"_s), 1);
        QVERIFY_FAILURE(fs({u"rmdir"_s, path(u"none"_s)}), "NOT_FOUND", path(u"none"_s), 1);
        QVERIFY(exists(path(u"outside/precious"_s)));
    }

    void moveRenames()
    {
        QVERIFY(writeFile(path(u"f"_s), "data"));
        QCOMPARE(fs({u"move"_s, path(u"f"_s), path(u"g"_s)}).exitCode, 0);
        QVERIFY(!exists(path(u"f"_s)));
        QCOMPARE(readFile(path(u"g"_s)), QByteArray("data"));

        QVERIFY(QDir(base).mkpath(u"d/e"_s));
        QCOMPARE(fs({u"move"_s, path(u"d"_s), path(u"moved"_s)}).exitCode, 0);
        QVERIFY(QFileInfo(path(u"moved/e"_s)).isDir());

        QVERIFY_FAILURE(fs({u"move"_s, path(u"none"_s), path(u"x"_s)}), "NOT_FOUND", path(u"none"_s), 1);
        QVERIFY_FAILURE(fs({u"move"_s, path(u"g"_s), path(u"no/parent/x"_s)}), "NOT_FOUND", path(u"no/parent/x"_s), 1);
        QVERIFY(exists(path(u"g"_s)));
    }

    void moveAcrossFileSystems()
    {
        QTemporaryDir other(u"/dev/shm/agentfs-XXXXXX"_s);
        if (!other.isValid())
            QSKIP("no /dev/shm to move to");
        if (lstatOf(other.path()).st_dev == lstatOf(base).st_dev)
            QSKIP("/dev/shm and the temporary directory are one file system");

        QVERIFY(QDir(base).mkpath(u"tree/sub"_s));
        QVERIFY(writeFile(path(u"tree/secret"_s), "s3cret"));
        QVERIFY(QFile::setPermissions(path(u"tree/secret"_s), QFile::ReadOwner | QFile::WriteOwner));
        QVERIFY(writeFile(path(u"tree/sub/tool"_s), "#!/bin/sh\n"));
        QVERIFY(QFile::setPermissions(path(u"tree/sub/tool"_s), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner
                                                                  | QFile::ReadGroup | QFile::ExeGroup));
        QVERIFY(QFile::setPermissions(path(u"tree/sub"_s), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner
                                                             | QFile::ReadGroup | QFile::ExeGroup));
        QVERIFY(makeLink(u"sub/tool"_s, path(u"tree/link"_s)));
        const QString to = other.filePath(u"tree"_s);

        QCOMPARE(fs({u"move"_s, path(u"tree"_s), to}).exitCode, 0);
        QVERIFY(!exists(path(u"tree"_s)));
        QCOMPARE(readFile(to + u"/secret"_s), QByteArray("s3cret"));
        QCOMPARE(modeOf(to + u"/secret"_s), 0600);
        QCOMPARE(modeOf(to + u"/sub/tool"_s), 0750);
        QCOMPARE(modeOf(to + u"/sub"_s), 0750);
        QVERIFY(S_ISLNK(lstatOf(to + u"/link"_s).st_mode));
        QCOMPARE(QFile::symLinkTarget(to + u"/link"_s), to + u"/sub/tool"_s);
        // Nothing of the copy's staging is left beside the destination.
        QCOMPARE(QDir(other.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot), QStringList{u"tree"_s});

        // A single file replaces an existing one, as rename() would.
        QVERIFY(writeFile(path(u"single"_s), "new"));
        QVERIFY(writeFile(other.filePath(u"single"_s), "old"));
        QCOMPARE(fs({u"move"_s, path(u"single"_s), other.filePath(u"single"_s)}).exitCode, 0);
        QCOMPARE(readFile(other.filePath(u"single"_s)), QByteArray("new"));
        QVERIFY(!exists(path(u"single"_s)));
    }

    void searchMatchesBaseNames_data()
    {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("star") << u"*.txt"_s << QStringList{u"a.txt"_s, u"sub/deep/f.txt"_s, u"sub/e.txt"_s};
        QTest::newRow("braces") << u"*.{md,h}"_s << QStringList{u"b.md"_s, u"d.h"_s};
        QTest::newRow("nested braces") << u"{a,{c,d}}.*"_s << QStringList{u"a.txt"_s, u"c.cpp"_s, u"d.h"_s};
        QTest::newRow("brace then star") << u"{x,b}*"_s << QStringList{u"b.md"_s, u"x1.log"_s, u"x22.log"_s};
        QTest::newRow("class") << u"[ab].*"_s << QStringList{u"a.txt"_s, u"b.md"_s};
        QTest::newRow("range") << u"[c-d].*"_s << QStringList{u"c.cpp"_s, u"d.h"_s};
        QTest::newRow("negated class") << u"[!abx]*"_s
                                       << QStringList{u"c.cpp"_s, u"d.h"_s, u"sub/deep/f.txt"_s, u"sub/e.txt"_s};
        QTest::newRow("question mark") << u"x?.log"_s << QStringList{u"x1.log"_s};
        QTest::newRow("two question marks") << u"x??.log"_s << QStringList{u"x22.log"_s};
        QTest::newRow("double star") << u"**.txt"_s << QStringList{u"a.txt"_s, u"sub/deep/f.txt"_s, u"sub/e.txt"_s};
        const QStringList all{u"a.txt"_s, u"b.md"_s, u"c.cpp"_s, u"d.h"_s, u"sub/deep/f.txt"_s,
                              u"sub/e.txt"_s, u"x1.log"_s, u"x22.log"_s};
        QTest::newRow("all") << u"**"_s << all;
        QTest::newRow("empty is all") << QString() << all;
        QTest::newRow("slash") << u"sub/*.txt"_s << QStringList();
        QTest::newRow("globstar path") << u"**/*.txt"_s << QStringList();
        QTest::newRow("exact") << u"e.txt"_s << QStringList{u"sub/e.txt"_s};
        QTest::newRow("no match") << u"*.rs"_s << QStringList();
    }

    void searchMatchesBaseNames()
    {
        QFETCH(QString, pattern);
        QFETCH(QStringList, expected);
        const QString root = path(u"root"_s);
        QVERIFY(QDir(base).mkpath(u"root/sub/deep"_s));
        QVERIFY(QDir(base).mkpath(u"root/dir.txt"_s)); // a directory, never reported
        for (const QString &file : {u"a.txt"_s, u"b.md"_s, u"c.cpp"_s, u"d.h"_s, u"x1.log"_s, u"x22.log"_s,
                                    u"sub/e.txt"_s, u"sub/deep/f.txt"_s})
            QVERIFY(writeFile(root + u'/' + file, "x"));
        // Links are neither reported nor followed, even to directories full of matches.
        QVERIFY(QDir(base).mkpath(u"outside"_s));
        QVERIFY(writeFile(path(u"outside/o.txt"_s), "x"));
        QVERIFY(makeLink(path(u"outside"_s), root + u"/xlinkdir"_s));
        QVERIFY(makeLink(u"a.txt"_s, root + u"/link.txt"_s));

        const Result result = fs({u"search"_s, root, pattern});
        QCOMPARE(result.exitCode, 0);
        const QJsonArray found = parse(result.out).array();
        QStringList expectedPaths;
        for (const QString &file : expected)
            expectedPaths.append(root + u'/' + file);
        QCOMPARE(paths(found), expectedPaths);
        for (const QJsonValue &info : found)
            QCOMPARE(info[u"type"].toString(), u"file"_s);
    }

    void searchFailures()
    {
        QVERIFY_FAILURE(fs({u"search"_s, path(u"none"_s), u"*"_s}), "NOT_FOUND", path(u"none"_s), 1);
        QVERIFY(writeFile(path(u"f"_s), "x"));
        QVERIFY_FAILURE(fs({u"search"_s, path(u"f"_s), u"*"_s}), "NOT_A_DIRECTORY", path(u"f"_s), 1);
    }

    void replaceCountsAndKeepsAttributes()
    {
        const QString file = path(u"f.txt"_s);
        QVERIFY(writeFile(file, "foo bar foo foofoo fo"));
        QVERIFY(QFile::setPermissions(file, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup));
        if (root())
            QCOMPARE(chown(QFile::encodeName(file).constData(), 12345, 54321), 0);
        const ino_t before = lstatOf(file).st_ino;

        const Result result = fs({u"replace"_s, file, u"foo"_s, u"X"_s});
        QCOMPARE(result.exitCode, 0);
        QCOMPARE(parse(result.out).object()[u"replacedCount"].toInteger(), 4);
        QCOMPARE(readFile(file), QByteArray("X bar X XX fo"));
        QCOMPARE(modeOf(file), 0640);
        QVERIFY(lstatOf(file).st_ino != before); // replaced by rename, not rewritten in place
        if (root()) {
            QCOMPARE(lstatOf(file).st_uid, uid_t(12345));
            QCOMPARE(lstatOf(file).st_gid, gid_t(54321));
        }
        // Nothing beside the file is left over.
        QCOMPARE(QDir(base).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot), QStringList{u"f.txt"_s});

        // Occurrences do not overlap.
        QVERIFY(writeFile(file, "aaaaa"));
        QCOMPARE(parse(fs({u"replace"_s, file, u"aa"_s, u"b"_s}).out).object()[u"replacedCount"].toInteger(), 2);
        QCOMPARE(readFile(file), QByteArray("bba"));

        // No occurrence: the file is left as it is.
        const ino_t unchanged = lstatOf(file).st_ino;
        QCOMPARE(parse(fs({u"replace"_s, file, u"zzz"_s, u"y"_s}).out).object()[u"replacedCount"].toInteger(), 0);
        QCOMPARE(lstatOf(file).st_ino, unchanged);
        QCOMPARE(readFile(file), QByteArray("bba"));
    }

    void replaceFindsOccurrencesAcrossReadChunks()
    {
        // Occurrences straddle every plausible chunk boundary of a streamed read.
        QByteArray data;
        int expected = 0;
        for (int boundary = 1; boundary <= 8; ++boundary) {
            data.append(QByteArray(boundary * 64 * 1024 - data.size() - 3, '.'));
            data.append("needle");
            ++expected;
        }
        const QString file = path(u"big"_s);
        QVERIFY(writeFile(file, data));
        const Result result = fs({u"replace"_s, file, u"needle"_s, u"pin"_s});
        QCOMPARE(parse(result.out).object()[u"replacedCount"].toInteger(), expected);
        QCOMPARE(readFile(file), QByteArray(data).replace("needle", "pin"));
    }

    void replaceThroughLinkKeepsLink()
    {
        QVERIFY(writeFile(path(u"real"_s), "old text"));
        QVERIFY(makeLink(u"real"_s, path(u"link"_s)));
        QCOMPARE(parse(fs({u"replace"_s, path(u"link"_s), u"old"_s, u"new"_s}).out).object()[u"replacedCount"].toInteger(), 1);
        QVERIFY(S_ISLNK(lstatOf(path(u"link"_s)).st_mode));
        QCOMPARE(readFile(path(u"real"_s)), QByteArray("new text"));
    }

    void replaceFailures()
    {
        QVERIFY(writeFile(path(u"f"_s), "x"));
        QVERIFY_FAILURE(fs({u"replace"_s, path(u"f"_s), QString(), u"y"_s}), "INVALID_ARGUMENT", path(u"f"_s), 1);
        QVERIFY_FAILURE(fs({u"replace"_s, path(u"none"_s), u"a"_s, u"b"_s}), "NOT_FOUND", path(u"none"_s), 1);
        QVERIFY_FAILURE(fs({u"replace"_s, base, u"a"_s, u"b"_s}), "IS_A_DIRECTORY", base, 1);
    }

    void listWalksToDepthWithoutFollowingLinks()
    {
        const QString root = path(u"root"_s);
        QVERIFY(QDir(base).mkpath(u"root/b/deep/deeper"_s));
        QVERIFY(QDir(base).mkpath(u"root/b-sibling"_s));
        QVERIFY(writeFile(root + u"/a.txt"_s, "x"));
        QVERIFY(writeFile(root + u"/b/c.txt"_s, "x"));
        QVERIFY(writeFile(root + u"/b/deep/d.txt"_s, "x"));
        QVERIFY(QDir(base).mkpath(u"outside/inner"_s));
        QVERIFY(makeLink(path(u"outside"_s), root + u"/link"_s));

        auto list = [&](int depth) {
            const Result result = fs({u"list"_s, root, QString::number(depth)});
            return result.exitCode == 0 ? parse(result.out).array() : QJsonArray{u"failed"_s};
        };
        const auto under = [&](const QStringList &names) {
            QStringList full;
            for (const QString &name : names)
                full.append(root + u'/' + name);
            return full;
        };
        QCOMPARE(list(0), QJsonArray());
        QCOMPARE(paths(list(1)), under({u"a.txt"_s, u"b"_s, u"b-sibling"_s, u"link"_s}));
        // Descendants right after their parent, even where plain path order would differ.
        QCOMPARE(paths(list(2)), under({u"a.txt"_s, u"b"_s, u"b/c.txt"_s, u"b/deep"_s, u"b-sibling"_s, u"link"_s}));
        QCOMPARE(paths(list(10)), under({u"a.txt"_s, u"b"_s, u"b/c.txt"_s, u"b/deep"_s, u"b/deep/d.txt"_s,
                                         u"b/deep/deeper"_s, u"b-sibling"_s, u"link"_s}));
        const QJsonArray one = list(1);
        QCOMPARE(one[3].toObject()[u"type"].toString(), u"symlink"_s);
        QCOMPARE(one[1].toObject()[u"type"].toString(), u"directory"_s);
        QCOMPARE(one[0].toObject()[u"type"].toString(), u"file"_s);

        QVERIFY_FAILURE(fs({u"list"_s, root + u"/link"_s, u"1"_s}), "NOT_A_DIRECTORY", root + u"/link"_s, 1);
        QVERIFY_FAILURE(fs({u"list"_s, root + u"/a.txt"_s, u"1"_s}), "NOT_A_DIRECTORY", root + u"/a.txt"_s, 1);
        QVERIFY_FAILURE(fs({u"list"_s, path(u"none"_s), u"1"_s}), "NOT_FOUND", path(u"none"_s), 1);
        QVERIFY_FAILURE(fs({u"list"_s, root, u"-1"_s}), "INVALID_ARGUMENT", u"DEPTH"_s, 1);
    }
};

QTEST_GUILESS_MAIN(TestAgentFs)
#include "tst_agentfs.moc"
