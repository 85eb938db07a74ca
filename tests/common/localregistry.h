// A real container registry for tests: Debian's `docker-registry` (the distribution
// project's registry) on a free loopback port, with its storage in a directory of the test's
// own, optionally behind htpasswd (basic) or token ("silly": any bearer token passes)
// authentication, optionally redirecting blob downloads to a storage server of their own (a
// Python http.server on the storage directory), as registries in front of object storage
// do. Images are made with umoci and pushed with skopeo (OciImage). Stopped, with its
// processes killed, when the object goes.
//
//   LocalRegistry registry;
//   if (const QString missing = LocalRegistry::missingTools(); !missing.isEmpty())
//       QSKIP(qPrintable(missing));
//   QVERIFY2(registry.start(dir.filePath(u"registry"_s)), qPrintable(registry.failure()));
//   OciImage image(dir.filePath(u"layout"_s));
//   QVERIFY2(image.create() && image.addLayer({{u"etc/motd"_s, "hi\n"}}), qPrintable(image.failure()));
//   QVERIFY2(registry.push(image.source(), u"test/img:v1"_s), qPrintable(registry.failure()));
//   // then pull registry.host() + "/test/img:v1"; registry.requestCount() reads its access log
//
// Synchronous (it waits for processes): for tests only. Needs python3 for setRedirectBlobs.
#pragma once

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QMap>
#include <QProcess>
#include <QStandardPaths>
#include <QString>
#include <QStringList>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>

#include <csignal>
#include <sys/prctl.h>

namespace TestTools {

/// Runs `program` with `arguments` to its end; false with `failure` holding its output
/// when it could not run or failed.
inline bool runTool(const QString &program, const QStringList &arguments, QString *failure,
                    QByteArray *output = nullptr)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(program, arguments);
    const bool ran = process.waitForFinished(120'000);
    const QByteArray out = process.readAll();
    if (output)
        *output = out;
    if (ran && process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0)
        return true;
    *failure = QStringLiteral("%1 %2 failed: %3 %4")
                   .arg(program, arguments.join(QLatin1Char(' ')), process.errorString(), QString::fromLocal8Bit(out));
    return false;
}

} // namespace TestTools

class LocalRegistry
{
public:
    enum class Auth {
        None,
        Basic,   ///< htpasswd with one user (setUser)
        Token,   ///< Bearer challenges naming `tokenRealm`; any token is taken
    };

    ~LocalRegistry() { stop(); }

    /// Empty when docker-registry, skopeo, umoci and htpasswd are installed; else a sentence
    /// naming what is missing, for QSKIP.
    static QString missingTools()
    {
        QStringList missing;
        for (const char *tool : {"docker-registry", "skopeo", "umoci", "htpasswd"}) {
            if (QStandardPaths::findExecutable(QString::fromLatin1(tool)).isEmpty())
                missing.append(QString::fromLatin1(tool));
        }
        if (missing.isEmpty())
            return {};
        return QStringLiteral("needs %1 (Debian packages docker-registry, skopeo, umoci, apache2-utils)")
            .arg(missing.join(QStringLiteral(", ")));
    }

    void setAuth(Auth auth) { m_auth = auth; }
    void setUser(const QString &user, const QString &password)
    {
        m_user = user;
        m_password = password;
    }
    /// For Auth::Token: the token service's URL the challenges name.
    void setTokenRealm(const QString &realm) { m_tokenRealm = realm; }
    /// Answers blob downloads with a 307 to a storage server on another port.
    void setRedirectBlobs(bool redirect) { m_redirectBlobs = redirect; }

    /// Starts serving from `directory` (made if missing) and waits until /v2/ answers.
    bool start(const QString &directory)
    {
        m_directory = directory;
        QDir().mkpath(directory + QStringLiteral("/storage"));
        m_port = freePort();
        QString config = QStringLiteral("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
                                        "    rootdirectory: %1/storage\nhttp:\n  addr: 127.0.0.1:%2\n")
                             .arg(directory)
                             .arg(m_port);
        if (m_auth == Auth::Basic) {
            QByteArray line;
            if (!TestTools::runTool(QStringLiteral("htpasswd"), {QStringLiteral("-Bbn"), m_user, m_password},
                                    &m_failure, &line))
                return false;
            writeFile(directory + QStringLiteral("/htpasswd"), line.trimmed() + '\n');
            config += QStringLiteral("auth:\n  htpasswd:\n    realm: sandflow-test\n    path: %1/htpasswd\n").arg(directory);
        } else if (m_auth == Auth::Token) {
            config += QStringLiteral("auth:\n  silly:\n    realm: %1\n    service: sandflow-test\n").arg(m_tokenRealm);
        }
        if (m_redirectBlobs && !startStorageServer(&config))
            return false;
        writeFile(directory + QStringLiteral("/config.yml"), config.toUtf8());
        // The access log (one line per request) and warnings, for tests that count requests.
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        m_process.setStandardOutputFile(logPath());
        m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
        m_process.start(QStringLiteral("docker-registry"), {QStringLiteral("serve"), directory + QStringLiteral("/config.yml")});
        if (!m_process.waitForStarted(10'000)) {
            m_failure = m_process.errorString();
            return false;
        }
        if (waitForAnswer(m_process, m_port, "/v2/"))
            return true;
        m_failure = QStringLiteral("docker-registry did not answer: %1").arg(QString::fromLocal8Bit(log()));
        return false;
    }

    void stop()
    {
        for (QProcess *process : {&m_process, &m_storage}) {
            if (process->state() == QProcess::NotRunning)
                continue;
            process->kill();
            process->waitForFinished(10'000);
        }
    }

    /// "127.0.0.1:PORT", as image references name it.
    QString host() const { return QStringLiteral("127.0.0.1:%1").arg(m_port); }
    QString url() const { return QStringLiteral("http://") + host(); }
    /// Where the registry keeps blobs: storage/docker/registry/v2/blobs/sha256/<xx>/<hex>/data.
    QString storageDirectory() const { return m_directory + QStringLiteral("/storage"); }
    QString blobDataPath(const QString &digest) const
    {
        const QString hex = digest.section(QLatin1Char(':'), 1);
        return storageDirectory() + QStringLiteral("/docker/registry/v2/blobs/sha256/%1/%2/data").arg(hex.left(2), hex);
    }
    QByteArray log() const
    {
        QFile file(logPath());
        return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    }
    /// How many requests the access log shows whose line contains `text` (e.g.
    /// `"GET /v2/test/img/blobs/`). A request's line is written just after its answer:
    /// counted once the log has been still for a moment.
    int requestCount(const QByteArray &text) const { return int(settled(logPath()).count(text)); }
    /// The same for the storage server of setRedirectBlobs (e.g. `"GET /docker/`).
    int storageRequestCount(const QByteArray &text) const
    {
        return int(settled(m_directory + QStringLiteral("/storage.log")).count(text));
    }

    /// Copies `source` (a skopeo image name, e.g. "oci:DIR:TAG") to `repositoryAndTag` here,
    /// with every image of an index.
    bool push(const QString &source, const QString &repositoryAndTag)
    {
        QStringList arguments{QStringLiteral("copy"), QStringLiteral("--all"), QStringLiteral("--dest-tls-verify=false")};
        if (m_auth == Auth::Basic)
            arguments << QStringLiteral("--dest-creds") << m_user + QLatin1Char(':') + m_password;
        if (m_auth == Auth::Token)
            arguments << QStringLiteral("--dest-registry-token") << QStringLiteral("any");
        arguments << source << QStringLiteral("docker://%1/%2").arg(host(), repositoryAndTag);
        return TestTools::runTool(QStringLiteral("skopeo"), arguments, &m_failure);
    }

    const QString &failure() const { return m_failure; }

private:
    QString logPath() const { return m_directory + QStringLiteral("/registry.log"); }

    /// The content of the log at `path` once it has not grown for 100 ms.
    static QByteArray settled(const QString &path)
    {
        QByteArray content;
        for (int attempt = 0; attempt < 50; ++attempt) {
            QFile file(path);
            const QByteArray now = file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
            if (attempt > 0 && now == content)
                break;
            content = now;
            QThread::msleep(100);
        }
        return content;
    }

    /// Serves the storage directory on a port of its own and has `config` redirect there.
    bool startStorageServer(QString *config)
    {
        const quint16 port = freePort();
        m_storage.setProcessChannelMode(QProcess::MergedChannels);
        m_storage.setStandardOutputFile(m_directory + QStringLiteral("/storage.log"));
        m_storage.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
        m_storage.start(QStringLiteral("python3"), {QStringLiteral("-u"), QStringLiteral("-m"), QStringLiteral("http.server"),
                                                    QString::number(port), QStringLiteral("--bind"),
                                                    QStringLiteral("127.0.0.1"), QStringLiteral("--directory"),
                                                    storageDirectory()});
        if (!m_storage.waitForStarted(10'000) || !waitForAnswer(m_storage, port, "/")) {
            m_failure = QStringLiteral("python3 http.server did not answer: %1").arg(m_storage.errorString());
            return false;
        }
        *config += QStringLiteral("middleware:\n  storage:\n    - name: redirect\n      options:\n"
                                  "        baseurl: http://127.0.0.1:%1/\n").arg(port);
        return true;
    }

    static void writeFile(const QString &path, const QByteArray &data)
    {
        QFile file(path);
        if (file.open(QIODevice::WriteOnly | QIODevice::Truncate))
            file.write(data);
    }

    /// A port free now; the registry takes it a moment later.
    static quint16 freePort()
    {
        QTcpServer server;
        server.listen(QHostAddress::LocalHost, 0);
        return server.serverPort();
    }

    /// Waits up to ten seconds for `process` to answer a GET of `path` on `port`.
    static bool waitForAnswer(const QProcess &process, quint16 port, const QByteArray &path)
    {
        for (int attempt = 0; attempt < 200 && process.state() == QProcess::Running; ++attempt) {
            QTcpSocket socket;
            socket.connectToHost(QHostAddress::LocalHost, port);
            if (socket.waitForConnected(1000)) {
                socket.write("GET " + path + " HTTP/1.0\r\n\r\n");
                QByteArray answer;
                while (!answer.contains("\r\n") && socket.waitForReadyRead(2000))
                    answer += socket.readAll();
                if (answer.startsWith("HTTP/1."))
                    return true;
            }
            QThread::msleep(50);
        }
        return false;
    }

    Auth m_auth = Auth::None;
    QString m_user;
    QString m_password;
    QString m_tokenRealm;
    bool m_redirectBlobs = false;
    QString m_directory;
    quint16 m_port = 0;
    QProcess m_process;
    QProcess m_storage;
    QString m_failure;
};

/// An OCI image layout made with umoci, for pushing: an image of the test's own files.
class OciImage
{
public:
    /// The layout at `directory`, holding image `tag`.
    explicit OciImage(QString directory, QString tag = QStringLiteral("t"))
        : m_directory(std::move(directory))
        , m_tag(std::move(tag))
    {
    }

    /// Makes the layout (when missing) and an empty image in it.
    bool create()
    {
        if (!QFile::exists(m_directory + QStringLiteral("/index.json"))
            && !umoci({QStringLiteral("init"), QStringLiteral("--layout"), m_directory}))
            return false;
        return umoci({QStringLiteral("new"), QStringLiteral("--image"), image()});
    }

    /// Adds a layer holding `files` (path in the root → content).
    bool addLayer(const QMap<QString, QByteArray> &files)
    {
        const QString bundle = m_directory + QStringLiteral(".bundle");
        QDir(bundle).removeRecursively();
        if (!umoci({QStringLiteral("unpack"), QStringLiteral("--rootless"), QStringLiteral("--image"), image(), bundle}))
            return false;
        for (auto it = files.begin(); it != files.end(); ++it) {
            const QString path = bundle + QStringLiteral("/rootfs/") + it.key();
            QDir().mkpath(QFileInfo(path).path());
            QFile file(path);
            if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(it.value()) != it.value().size()) {
                m_failure = QStringLiteral("cannot write %1").arg(path);
                return false;
            }
        }
        const bool repacked = umoci({QStringLiteral("repack"), QStringLiteral("--image"), image(), bundle});
        QDir(bundle).removeRecursively();
        return repacked;
    }

    /// Runs `umoci config` on the image with `arguments` (e.g. "--config.env", "X=1").
    bool configure(const QStringList &arguments)
    {
        return umoci(QStringList{QStringLiteral("config"), QStringLiteral("--image"), image()} + arguments);
    }

    /// "DIR:TAG", as umoci names it.
    QString image() const { return m_directory + QLatin1Char(':') + m_tag; }
    /// "oci:DIR:TAG", as skopeo names it.
    QString source() const { return QStringLiteral("oci:") + image(); }
    const QString &directory() const { return m_directory; }
    const QString &failure() const { return m_failure; }

private:
    bool umoci(const QStringList &arguments) { return TestTools::runTool(QStringLiteral("umoci"), arguments, &m_failure); }

    QString m_directory;
    QString m_tag;
    QString m_failure;
};
