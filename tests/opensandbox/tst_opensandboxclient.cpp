// OpenSandboxClient against a scripted HTTP server on a loopback port: what goes over the
// wire (paths, queries, headers, bodies, multipart parts) and how the answers a real
// server may give are read: execd's bare-JSON event streams and SSE `data:` lines split
// at any byte, the grace second execd holds a stream open, error bodies of every shape,
// silence and refused connections; and how the client lives with a misbehaving server:
// retries, a create whose answer is lost, Pending sandboxes, streams that die.
#include "execdevents_p.h"
#include "httprequesthead.h"
#include "opensandboxclient.h"
#include "warnings.h"

#include <QBuffer>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QPointer>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QUrlQuery>

#include <functional>

using namespace Qt::StringLiterals;
using namespace Sandflow;

namespace {

struct Request : HttpRequestHead
{
    QByteArray body;
    qint64 receivedMs = 0;                  ///< when it came, from the server's start

    QByteArray requestId() const { return headers.value("x-request-id"); }

    QByteArray path() const { return target.left(target.indexOf('?') < 0 ? target.size() : target.indexOf('?')); }
    QByteArray query() const { return target.indexOf('?') < 0 ? QByteArray() : target.mid(target.indexOf('?') + 1); }
};

/// An answer: status and body, or a stream of pieces written with a pause between them.
struct Response
{
    Response(int status = 200, QByteArray contentType = "application/json", QByteArray body = {})
        : status(status), contentType(std::move(contentType)), body(std::move(body))
    {
    }

    static Response silence()
    {
        Response response;
        response.silent = true;
        return response;
    }

    static Response dropped()
    {
        Response response;
        response.drop = true;
        return response;
    }

    int status;
    QByteArray contentType;
    QByteArray body;
    QList<QPair<QByteArray, QByteArray>> headers;   ///< more header fields, e.g. Retry-After
    QList<QByteArray> pieces;   ///< a streamed body; then the connection stays open for `holdMs`
    int holdMs = 0;
    /// `pieces` as HTTP chunks, and then the connection closes without the last chunk: a
    /// stream cut in the middle.
    bool cutChunked = false;
    bool silent = false;        ///< never answer
    bool drop = false;          ///< close the connection without answering
};

/// One connection per request (`Connection: close`), which is all a client test needs.
class ScriptedServer : public QObject
{
public:
    std::function<Response(const Request &)> handler;
    QList<Request> requests;
    int disconnections = 0;     ///< connections that ended, whichever side closed them

    ScriptedServer()
    {
        m_clock.start();
        m_server.listen(QHostAddress::LocalHost, 0);
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                socket->setParent(this);
                connect(socket, &QTcpSocket::readyRead, this, [this, socket] { read(socket); });
                connect(socket, &QTcpSocket::disconnected, this, [this] { ++disconnections; });
            }
        });
    }

    QString domain() const { return u"127.0.0.1:%1"_s.arg(m_server.serverPort()); }

private:
    void read(QTcpSocket *socket)
    {
        QByteArray &buffer = m_buffers[socket];
        buffer += socket->readAll();
        const std::optional<HttpRequestHead> head = HttpRequestHead::read(buffer);
        if (!head)
            return;
        Request request;
        static_cast<HttpRequestHead &>(request) = *head;
        const qsizetype length = request.headers.value("content-length", "0").toLongLong();
        if (buffer.size() < head->size + length)
            return;
        request.body = buffer.mid(head->size, length);
        request.receivedMs = m_clock.elapsed();
        m_buffers.remove(socket);
        requests.append(request);
        respond(socket, handler(request));
    }

    void respond(QTcpSocket *socket, const Response &response)
    {
        if (response.silent)
            return;
        if (response.drop) {
            socket->abort();
            return;
        }
        QByteArray head = "HTTP/1.1 " + QByteArray::number(response.status) + " Whatever\r\n";
        head += "Content-Type: " + response.contentType + "\r\nConnection: close\r\n";
        for (const auto &[name, value] : response.headers)
            head += name + ": " + value + "\r\n";
        if (response.cutChunked)
            head += "Transfer-Encoding: chunked\r\n";
        if (response.pieces.isEmpty()) {
            socket->write(head + "Content-Length: " + QByteArray::number(response.body.size()) + "\r\n\r\n"
                          + response.body);
            socket->disconnectFromHost();
            return;
        }
        // No length: the body ends when the connection does.
        socket->write(head + "\r\n");
        QPointer<QTcpSocket> guard(socket);
        int delay = 0;
        for (const QByteArray &piece : response.pieces) {
            delay += 20;
            const QByteArray bytes = response.cutChunked
                                         ? QByteArray::number(piece.size(), 16) + "\r\n" + piece + "\r\n"
                                         : piece;
            QTimer::singleShot(delay, this, [guard, bytes] {
                if (guard)
                    guard->write(bytes);
            });
        }
        QTimer::singleShot(delay + response.holdMs, this, [guard] {
            if (guard)
                guard->disconnectFromHost();
        });
    }

    QTcpServer m_server;
    QHash<QTcpSocket *, QByteArray> m_buffers;
    QElapsedTimer m_clock;
};

QByteArray json(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

/// Runs `job` (not auto-deleted) to its end.
void finish(AsyncJob *job)
{
    job->setAutoDelete(false);
    QSignalSpy finished(job, &AsyncJob::finished);
    job->start();
    QVERIFY(finished.wait(10'000));
}

/// The parts of a multipart body, each with its headers, without the CRLF before the next
/// delimiter.
QList<QByteArray> multipartParts(const QByteArray &body, const QByteArray &boundary)
{
    QList<QByteArray> parts;
    const QByteArray delimiter = "--" + boundary;
    qsizetype at = body.indexOf(delimiter);
    while (at >= 0) {
        const qsizetype start = at + delimiter.size() + 2;   // past the CRLF after the delimiter
        const qsizetype next = body.indexOf("\r\n" + delimiter, start);
        if (next < 0)
            break;
        parts.append(body.mid(start, next - start));
        at = next + 2;
    }
    return parts;
}

// X-Request-ID: the lifecycle spec declares it `format: uuid` (RFC 4122's dashed form).
const QRegularExpression requestIdPattern(u"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"_s);
// The create's token: a Kubernetes label value, so no dashes needed and none given.
const QRegularExpression createTokenPattern(u"^[0-9a-f]{32}$"_s);

QByteArray sandboxJson(const QString &id, const QString &state, const QJsonObject &status = {})
{
    QJsonObject full = status;
    full.insert(u"state"_s, state);
    return json({{u"id"_s, id}, {u"status"_s, full}});
}

/// The create-token label of a create's body.
QString createToken(const Request &create)
{
    return QJsonDocument::fromJson(create.body)
        .object()
        .value("metadata"_L1)
        .toObject()
        .value("sandflow.dev/create-token"_L1)
        .toString();
}

/// The requests with `method` whose path is `path`.
QList<Request> sent(const QList<Request> &requests, const QByteArray &method, const QByteArray &path)
{
    QList<Request> matching;
    for (const Request &request : requests) {
        if (request.method == method && request.path() == path)
            matching.append(request);
    }
    return matching;
}

CommandRequest echo()
{
    CommandRequest request;
    request.command = u"echo hello"_s;
    return request;
}

/// A sandbox list answer: `ids` as Running sandboxes, with the pagination servers write.
QByteArray pageJson(const QStringList &ids, int page, bool hasNextPage)
{
    QJsonArray items;
    for (const QString &id : ids)
        items.append(QJsonObject{{u"id"_s, id}, {u"status"_s, QJsonObject{{u"state"_s, u"Running"_s}}}});
    return json({{u"items"_s, items},
                 {u"pagination"_s,
                  QJsonObject{{u"page"_s, page}, {u"pageSize"_s, 2}, {u"hasNextPage"_s, hasNextPage}}}});
}

/// The page a list request asks for.
int pageAsked(const Request &request)
{
    return QUrlQuery(QString::fromLatin1(request.query())).queryItemValue(u"page"_s).toInt();
}

/// The ids of `sandboxes`, in their order.
QStringList idsOf(const QList<SandboxInfo> &sandboxes)
{
    QStringList ids;
    for (const SandboxInfo &sandbox : sandboxes)
        ids.append(sandbox.id);
    return ids;
}

/// An execd event stream: `events`, then `pings` ping events 20 ms apart, then the
/// connection held open.
Response eventStream(const QList<QByteArray> &events, int pings)
{
    Response response;
    response.contentType = "text/event-stream";
    for (const QByteArray &event : events)
        response.pieces.append(event + "\n\n");
    for (int i = 0; i < pings; ++i)
        response.pieces.append(R"({"type":"ping","text":"pong"})" "\n\n");
    response.holdMs = 60'000;
    return response;
}

} // namespace

class TestOpenSandboxClient : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void domains_data();
    void domains();
    void fromEnvironment();
    void createWaitsForPing();
    void createOutlivesASilentPing();
    void createDeletesASandboxThatIsNeverReady();
    void listQuery();
    void errorBodies_data();
    void errorBodies();
    void commandEvents_data();
    void commandEvents();
    void commandStopsListeningAtTheLastEvent();
    void uploadIsMultipart();
    void download();
    void downloadNotFound();
    void unreachable();
    void silentServer();
    void readFileAsksForTheRange();
    void readFileRefusesWhatWasNotAskedFor_data();
    void readFileRefusesWhatWasNotAskedFor();
    void oversizedAnswerIsRefused();
    void codeContexts();
    void runCodeStreamsOutputAndResults();
    void runCodeKernelError();
    void cancellingRunCodeInterruptsTheContext();
    void cancelledCommandIsCancelledWhicheverAnswerComesFirst();
    void retriesServerErrors();
    void retryAfterSeconds();
    void retryAfterDate();
    void commandPostIsNotRetried();
    void turnedAwayCommandIsAnInfraFailure();
    void gatewayTimeoutIsAnInfraFailure();
    void attemptsRunOut();
    void droppedConnection();
    void droppedCommandIsNotRetried();
    void repeatedDeleteOfAGoneSandbox();
    void createTakesTheSandboxOfALostAnswer();
    void createRetriesATurnedAwayPost();
    void createBadRequestIsFinal();
    void createWaitsWhilePending();
    void createDeletesAFailedSandbox();
    void streamCutMidway();
    void silentStream();
    void silentDownloadIsAnInfraFailure();
    void cancelDuringBackoff();
    void oneAttemptTriesNothingAgain();
    void retryAfterIsCapped();
    void createGivesUpAfterItsAttempts();
    void cancelledCreateRemovesWhatItMayHaveMade();
    void listAllSandboxesWalksThePages();
    void listAllSandboxesStopsWhenThePageDoesNotAdvance();
    void listAllSandboxesStopsWhenPagesRepeat();
    void listAllSandboxesStopsAfterItsPageLimit();
    void retryAfterOutOfRange_data();
    void retryAfterOutOfRange();
    void commandLogsCursorMustAdvance_data();
    void commandLogsCursorMustAdvance();
    void streamWithoutFinalEventEndsAfterTheCommandTimeout();
    void streamHeldOnAfterTheLastEventIsDropped();
    void eventLineWithoutEndIsCapped();
    void eventReaderReadsALongLineOnce();
    void createTakesOnlyASandboxWithItsToken();

private:
    OpenSandboxConfig config() const;

    std::unique_ptr<ScriptedServer> m_server;
};

void TestOpenSandboxClient::init()
{
    TestWarnings::failOnAnyWarning();
    m_server = std::make_unique<ScriptedServer>();
}

OpenSandboxConfig TestOpenSandboxClient::config() const
{
    OpenSandboxConfig config;
    config.domain = m_server->domain();
    config.apiKey = u"key-1"_s;
    config.readyTimeout = std::chrono::milliseconds(2000);
    // Short waits between attempts, but long enough to honour a Retry-After of 2 s.
    config.retry.initialDelay = std::chrono::milliseconds(20);
    config.retry.maxDelay = std::chrono::milliseconds(3000);
    return config;
}

void TestOpenSandboxClient::domains_data()
{
    QTest::addColumn<QString>("domain");
    QTest::addColumn<QString>("address");
    QTest::addColumn<QString>("lifecycle");
    QTest::newRow("host:port") << u"localhost:8080"_s << u"http://localhost:8080"_s << u"http://localhost:8080/v1"_s;
    QTest::newRow("with /v1") << u"localhost:8080/v1"_s << u"http://localhost:8080"_s << u"http://localhost:8080/v1"_s;
    QTest::newRow("scheme and /v1/") << u"https://sandboxes.example.com/v1/"_s << u"https://sandboxes.example.com"_s
                                     << u"https://sandboxes.example.com/v1"_s;
    QTest::newRow("path prefix") << u"http://gateway:80/opensandbox"_s << u"http://gateway:80/opensandbox"_s
                                 << u"http://gateway:80/opensandbox/v1"_s;
}

void TestOpenSandboxClient::domains()
{
    QFETCH(QString, domain);
    QFETCH(QString, address);
    QFETCH(QString, lifecycle);
    OpenSandboxConfig config;
    config.domain = domain;
    QCOMPARE(config.serverAddress(), address);
    QCOMPARE(config.lifecycleUrl().toString(), lifecycle);
}

void TestOpenSandboxClient::fromEnvironment()
{
    qunsetenv("OPEN_SANDBOX_DOMAIN");
    qunsetenv("OPEN_SANDBOX_API_KEY");
    QCOMPARE(OpenSandboxConfig::fromEnvironment().domain, u"localhost:8080"_s);
    QCOMPARE(OpenSandboxConfig::fromEnvironment().apiKey, QString());
    qputenv("OPEN_SANDBOX_DOMAIN", "https://remote:9000");
    qputenv("OPEN_SANDBOX_API_KEY", "k");
    const OpenSandboxConfig config = OpenSandboxConfig::fromEnvironment();
    QCOMPARE(config.serverAddress(), u"https://remote:9000"_s);
    QCOMPARE(config.effectiveProtocol(), u"https"_s);
    QCOMPARE(config.apiKey, u"k"_s);
    QCOMPARE(config.requestTimeout, std::chrono::milliseconds(30'000));
    qunsetenv("OPEN_SANDBOX_DOMAIN");
    qunsetenv("OPEN_SANDBOX_API_KEY");
}

void TestOpenSandboxClient::createWaitsForPing()
{
    int pings = 0;
    m_server->handler = [&](const Request &request) -> Response {
        if (request.method == "POST" && request.path() == "/v1/sandboxes")
            return {202, "application/json",
                    json({{u"id"_s, u"sb-1"_s},
                          {u"status"_s, QJsonObject{{u"state"_s, u"Running"_s}}},
                          {u"metadata"_s, QJsonObject{{u"team"_s, u"a"_s}}},
                          {u"createdAt"_s, u"2026-06-12T10:00:00.123456Z"_s},
                          {u"expiresAt"_s, u"2026-06-12T10:10:00Z"_s},
                          {u"entrypoint"_s, QJsonArray{u"tail"_s}}})};
        if (request.path() == "/v1/sandboxes/sb-1/endpoints/44772")
            return {200, "application/json",
                    json({{u"endpoint"_s, u"%1/sandboxes/sb-1/proxy/44772"_s.arg(m_server->domain())},
                          {u"headers"_s, QJsonObject{{u"X-Route"_s, u"sb-1"_s}}}})};
        if (request.path() == "/sandboxes/sb-1/proxy/44772/ping")
            return ++pings < 3 ? Response{502, "text/plain", "Bad Gateway"} : Response{200, "text/plain", {}};
        return {404, "text/plain", "404 page not found"};
    };
    OpenSandboxClient client(config());
    OpenSandboxCreateRequest request;
    request.image = u"python:3.12"_s;
    request.metadata = {{u"team"_s, u"a"_s}};
    std::unique_ptr<SandboxJob> job(client.createSandbox(request));
    finish(job.get());
    QVERIFY2(!job->error(), qPrintable(job->error() ? job->error()->message : QString()));
    QCOMPARE(job->result().id, u"sb-1"_s);
    QCOMPARE(job->result().state, SandboxState::Running);
    QCOMPARE(job->result().image, u"python:3.12"_s);
    QCOMPARE(job->result().createdAt, QDateTime(QDate(2026, 6, 12), QTime(10, 0, 0, 123), Qt::UTC));
    QCOMPARE(job->result().expiresAt, QDateTime(QDate(2026, 6, 12), QTime(10, 10), Qt::UTC));
    QCOMPARE(pings, 3);

    const Request &create = m_server->requests.at(0);
    QCOMPARE(create.headers.value("open-sandbox-api-key"), QByteArray("key-1"));
    QVERIFY(requestIdPattern.match(QString::fromLatin1(create.headers.value("x-request-id"))).hasMatch());
    QCOMPARE(create.headers.value("content-type"), QByteArray("application/json"));
    const QJsonObject body = QJsonDocument::fromJson(create.body).object();
    QCOMPARE(body.value("image"_L1).toObject().value("uri"_L1).toString(), u"python:3.12"_s);
    QCOMPARE(body.value("entrypoint"_L1).toArray(), (QJsonArray{u"tail"_s, u"-f"_s, u"/dev/null"_s}));
    QCOMPARE(body.value("resourceLimits"_L1).toObject(), (QJsonObject{{u"cpu"_s, u"1"_s}, {u"memory"_s, u"2Gi"_s}}));
    QCOMPARE(body.value("timeout"_L1).toInt(), 600);
    // The create's own label rides along with those asked for.
    QJsonObject metadata = body.value("metadata"_L1).toObject();
    QVERIFY(createTokenPattern.match(metadata.take("sandflow.dev/create-token"_L1).toString()).hasMatch());
    QCOMPARE(metadata, (QJsonObject{{u"team"_s, u"a"_s}}));

    QCOMPARE(m_server->requests.at(1).query(), QByteArray("use_server_proxy=false"));
    // execd calls carry the endpoint's headers, and each request has an id of its own.
    const Request &ping = m_server->requests.at(2);
    QCOMPARE(ping.headers.value("x-route"), QByteArray("sb-1"));
    QVERIFY(ping.headers.value("x-request-id") != create.headers.value("x-request-id"));
}

// A ping lost on the way (its answer never comes) is one failed ping, not the end of the
// wait: by default a ping may wait the request timeout, 30 s, which is the whole ready
// limit, so one silent ping made a ready sandbox count as never ready and deleted it.
void TestOpenSandboxClient::createOutlivesASilentPing()
{
    int pings = 0;
    m_server->handler = [&](const Request &request) -> Response {
        if (request.method == "POST" && request.path() == "/v1/sandboxes")
            return {202, "application/json", sandboxJson(u"sb-1"_s, u"Running"_s)};
        if (request.path() == "/v1/sandboxes/sb-1/endpoints/44772")
            return {200, "application/json",
                    json({{u"endpoint"_s, u"%1/sandboxes/sb-1/proxy/44772"_s.arg(m_server->domain())}})};
        if (request.path() == "/sandboxes/sb-1/proxy/44772/ping")
            return ++pings == 1 ? Response::silence() : Response{200, "text/plain", {}};
        return {404, "text/plain", "404 page not found"};
    };
    OpenSandboxConfig settings = config();
    settings.requestTimeout = std::chrono::milliseconds(3000);
    settings.readyTimeout = std::chrono::milliseconds(3000);
    OpenSandboxClient client(settings);
    OpenSandboxCreateRequest request;
    request.image = u"python:3.12"_s;
    std::unique_ptr<SandboxJob> job(client.createSandbox(request));
    finish(job.get());
    QVERIFY2(!job->error(), qPrintable(job->error() ? job->error()->message : QString()));
    QCOMPARE(job->result().id, u"sb-1"_s);
    QCOMPARE(pings, 2);
    QVERIFY(sent(m_server->requests, "DELETE", "/v1/sandboxes/sb-1").isEmpty());
}

void TestOpenSandboxClient::createDeletesASandboxThatIsNeverReady()
{
    m_server->handler = [&](const Request &request) -> Response {
        if (request.method == "POST")
            return {202, "application/json",
                    json({{u"id"_s, u"sb-2"_s}, {u"status"_s, QJsonObject{{u"state"_s, u"Running"_s}}}})};
        if (request.path().endsWith("/endpoints/44772"))
            return {200, "application/json", json({{u"endpoint"_s, u"%1/nowhere"_s.arg(m_server->domain())}})};
        if (request.method == "DELETE")
            return {204, "application/json", {}};
        return {502, "text/plain", "Bad Gateway"};
    };
    OpenSandboxConfig settings = config();
    settings.readyTimeout = std::chrono::milliseconds(600);
    OpenSandboxClient client(settings);
    OpenSandboxCreateRequest request;
    request.image = u"ubuntu"_s;
    request.timeoutSeconds = std::nullopt;
    std::unique_ptr<SandboxJob> job(client.createSandbox(request));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(job->error()->kind, JobError::Kind::Timeout);
    QCOMPARE(job->error()->code, u"SANDBOX_READY_TIMEOUT"_s);
    QVERIFY2(job->error()->message.contains(u"sb-2"_s), qPrintable(job->error()->message));
    QCOMPARE(job->error()->context.value("sandboxDeleted"_L1).toBool(), true);
    QCOMPARE(m_server->requests.last().method, QByteArray("DELETE"));
    QCOMPARE(m_server->requests.last().path(), QByteArray("/v1/sandboxes/sb-2"));
    // No timeout means "until deleted": the field is left out, not null.
    QVERIFY(!QJsonDocument::fromJson(m_server->requests.first().body).object().contains("timeout"_L1));
}

void TestOpenSandboxClient::listQuery()
{
    m_server->handler = [](const Request &) -> Response {
        return {200, "application/json",
                json({{u"items"_s, QJsonArray{QJsonObject{{u"id"_s, u"a"_s}, {u"status"_s, QJsonObject{{u"state"_s, u"Allocated"_s}}}}}},
                      {u"pagination"_s, QJsonObject{{u"page"_s, 2}, {u"pageSize"_s, 1}, {u"totalItems"_s, 3},
                                                    {u"totalPages"_s, 3}, {u"hasNextPage"_s, true}}}})};
    };
    OpenSandboxClient client(config());
    SandboxFilter filter;
    filter.states = {u"Running"_s, u"Paused"_s};
    filter.metadata = {{u"a"_s, u"1"_s}, {u"b"_s, u"x y"_s}};
    filter.page = 2;
    filter.pageSize = 1;
    std::unique_ptr<ResultJob<SandboxPage>> job(client.listSandboxes(filter));
    finish(job.get());
    QVERIFY(!job->error());
    QCOMPARE(m_server->requests.first().query(),
             QByteArray("state=Running&state=Paused&metadata=a%3D1%26b%3Dx%20y&page=2&pageSize=1"));
    QCOMPARE(job->result().items.size(), 1);
    // States the protocol does not name are tolerated.
    QCOMPARE(job->result().items.first().state, SandboxState::Unknown);
    QCOMPARE(job->result().totalItems, 3);
    QVERIFY(job->result().hasNextPage);
}

void TestOpenSandboxClient::errorBodies_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("message");
    QTest::addColumn<JobError::Kind>("kind");
    QTest::addColumn<QString>("after");
    QTest::newRow("envelope") << 404 << QByteArray(R"({"code":"DOCKER::SANDBOX_NOT_FOUND","message":"Sandbox x not found."})")
                              << u"DOCKER::SANDBOX_NOT_FOUND"_s << u"Sandbox x not found. (404 DOCKER::SANDBOX_NOT_FOUND, request "_s
                              << JobError::Kind::Invalid << QString();
    QTest::newRow("validation") << 422 << QByteArray(R"({"detail":[{"loc":["body","timeout"],"msg":"too small"}]})")
                                << u"HTTP_422"_s << u"body.timeout: too small (422, request "_s << JobError::Kind::Invalid
                                << QString();
    QTest::newRow("execd 401") << 401 << QByteArray(R"({"error":"Unauthorized"})") << u"HTTP_401"_s
                               << u"Unauthorized (401, request "_s << JobError::Kind::Invalid << QString();
    QTest::newRow("text") << 500 << QByteArray("Internal\n  Server   Error") << u"HTTP_500"_s
                          << u"Internal Server Error (500, request "_s << JobError::Kind::Infra
                          << u" after 4 attempts"_s;
}

void TestOpenSandboxClient::errorBodies()
{
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    QFETCH(QString, code);
    QFETCH(QString, message);
    QFETCH(JobError::Kind, kind);
    QFETCH(QString, after);
    m_server->handler = [&](const Request &) -> Response { return {status, "application/json", body}; };
    OpenSandboxClient client(config());
    std::unique_ptr<SandboxJob> job(client.getSandbox(u"x"_s));
    finish(job.get());
    QVERIFY(job->error());
    const QString requestId = QString::fromLatin1(m_server->requests.first().headers.value("x-request-id"));
    QCOMPARE(job->error()->code, code);
    QCOMPARE(job->error()->kind, kind);
    QCOMPARE(job->error()->message, message + requestId + u')' + after);
    const OpenSandboxErrorDetails details = OpenSandboxErrorDetails::of(*job->error());
    QCOMPARE(details.status, status);
    QCOMPARE(details.requestId, requestId);
    QVERIFY(!details.execd);
}

void TestOpenSandboxClient::commandEvents_data()
{
    QTest::addColumn<QList<QByteArray>>("pieces");
    QTest::addColumn<QByteArray>("out");
    QTest::addColumn<QByteArray>("err");
    QTest::addColumn<std::optional<int>>("exitCode");
    QTest::addColumn<QString>("errorCode");

    // execd's own framing: bare JSON and a blank line, cut at awkward places.
    const QByteArray bare = R"({"type":"init","text":"c0ffee","timestamp":1})" "\n\n"
                            R"({"type":"ping","text":"pong","timestamp":1})" "\n\n"
                            R"({"type":"stdout","text":"hello","timestamp":2})" "\n\n"
                            R"({"type":"stdout","text":"\n","timestamp":2})" "\n\n"
                            R"({"type":"stderr","text":"oops","timestamp":3})" "\n\n"
                            R"({"type":"error","error":{"ename":"CommandExecError","evalue":"3","traceback":["exit status 3"]},"timestamp":4})" "\n\n";
    QTest::newRow("bare, split") << QList<QByteArray>{bare.left(7), bare.mid(7, 60), bare.mid(67, 1), bare.mid(68)}
                                 << QByteArray("hello\n\n") << QByteArray("oops\n") << std::optional<int>(3)
                                 << u"COMMAND_FAILED"_s;
    // Standard SSE, with the fields and comments a proxy may add.
    const QByteArray sse = ": hello\n"
                           "event: message\nid: 1\nretry: 1000\n"
                           R"(data: {"type":"init","text":"c0ffee"})" "\n\n"
                           R"(data:{"type":"stdout","text":"line"})" "\n\n"
                           R"(data: {"type":"execution_complete","execution_time":5})" "\n\n";
    QTest::newRow("sse") << QList<QByteArray>{sse} << QByteArray("line\n") << QByteArray() << std::optional<int>(0)
                         << QString();
    const QByteArray killed = R"({"type":"init","text":"c0ffee"})" "\n\n"
                              R"({"type":"error","error":{"ename":"CommandExecError","evalue":"-1","traceback":["signal: terminated"]}})" "\n\n";
    QTest::newRow("killed") << QList<QByteArray>{killed} << QByteArray() << QByteArray() << std::optional<int>()
                            << u"COMMAND_KILLED"_s;
    const QByteArray unstarted = R"({"type":"init","text":"c0ffee"})" "\n\n"
                                 R"({"type":"error","error":{"ename":"CommandExecError","evalue":"fork/exec: no such file","traceback":[]}})" "\n\n";
    QTest::newRow("start failure") << QList<QByteArray>{unstarted} << QByteArray() << QByteArray() << std::optional<int>()
                                   << u"COMMAND_START_FAILED"_s;
    const QByteArray cut = R"({"type":"init","text":"c0ffee"})" "\n\n" R"({"type":"stdout","text":"partial"})" "\n\n";
    QTest::newRow("stream cut") << QList<QByteArray>{cut} << QByteArray("partial\n") << QByteArray() << std::optional<int>()
                                << u"CONNECTION_FAILED"_s;
}

void TestOpenSandboxClient::commandEvents()
{
    QFETCH(QList<QByteArray>, pieces);
    QFETCH(QByteArray, out);
    QFETCH(QByteArray, err);
    QFETCH(std::optional<int>, exitCode);
    QFETCH(QString, errorCode);
    m_server->handler = [&](const Request &) -> Response {
        Response response;
        response.contentType = "text/event-stream";
        response.pieces = pieces;
        return response;
    };
    OpenSandboxClient client(config());
    CommandRequest request;
    request.command = u"echo hello"_s;
    request.cwd = u"/srv/app"_s;
    request.env = {{u"A"_s, u"1"_s}};
    request.timeoutMs = 5000;
    std::unique_ptr<CommandJob> job(client.runCommand({m_server->domain(), {}}, request));
    QByteArray stdoutBytes;
    QByteArray stderrBytes;
    QString startedWith;
    connect(job.get(), &CommandJob::started, this, [&](const QString &id) { startedWith = id; });
    connect(job.get(), &CommandJob::output, this, [&](CommandJob::Stream stream, const QByteArray &data) {
        (stream == CommandJob::Stream::Stdout ? stdoutBytes : stderrBytes) += data;
    });
    finish(job.get());
    QCOMPARE(startedWith, u"c0ffee"_s);
    QCOMPARE(job->commandId(), u"c0ffee"_s);
    QCOMPARE(stdoutBytes, out);
    QCOMPARE(stderrBytes, err);
    QCOMPARE(job->exitCode(), exitCode);
    QCOMPARE(job->error() ? job->error()->code : QString(), errorCode);

    const Request &sent = m_server->requests.first();
    QCOMPARE(sent.path(), QByteArray("/command"));
    QCOMPARE(QJsonDocument::fromJson(sent.body).object(),
             (QJsonObject{{u"command"_s, u"echo hello"_s}, {u"background"_s, false}, {u"cwd"_s, u"/srv/app"_s},
                          {u"envs"_s, QJsonObject{{u"A"_s, u"1"_s}}}, {u"timeout"_s, 5000}}));
}

void TestOpenSandboxClient::commandStopsListeningAtTheLastEvent()
{
    // execd holds the stream open after the final event; the job does not wait for that.
    m_server->handler = [](const Request &) -> Response {
        Response response;
        response.contentType = "text/event-stream";
        response.pieces = {R"({"type":"init","text":"c"})" "\n\n" R"({"type":"execution_complete"})" "\n\n"};
        response.holdMs = 60'000;
        return response;
    };
    OpenSandboxClient client(config());
    CommandRequest request;
    request.command = u"true"_s;
    std::unique_ptr<CommandJob> job(client.runCommand({m_server->domain(), {}}, request));
    QElapsedTimer clock;
    clock.start();
    finish(job.get());
    QVERIFY(!job->error());
    QCOMPARE(job->exitCode(), std::optional<int>(0));
    // Far below the server's 60 s hold, whatever the machine's load.
    QVERIFY2(clock.elapsed() < 30'000, qPrintable(QString::number(clock.elapsed())));
}

void TestOpenSandboxClient::uploadIsMultipart()
{
    m_server->handler = [](const Request &) -> Response { return {200, "application/json", {}}; };
    QTemporaryDir dir;
    const QString local = dir.filePath(u"in \"quoted\".bin"_s);
    QByteArray content;
    for (int i = 0; i < 70'000; ++i)
        content += char(i * 7);
    {
        QFile file(local);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(content);
    }
    OpenSandboxClient client(config());
    FilePermissions permissions;
    permissions.mode = 0640;
    permissions.owner = u"nobody"_s;
    std::unique_ptr<AsyncJob> job(client.uploadFile({m_server->domain(), {}}, local, u"/data/in.bin"_s, permissions));
    finish(job.get());
    QVERIFY2(!job->error(), qPrintable(job->error() ? job->error()->message : QString()));

    const Request &sent = m_server->requests.first();
    QCOMPARE(sent.path(), QByteArray("/files/upload"));
    const QByteArray contentType = sent.headers.value("content-type");
    QVERIFY(contentType.startsWith("multipart/form-data; boundary="));
    QByteArray boundary = contentType.mid(contentType.indexOf("boundary=") + 9);
    if (boundary.startsWith('"'))
        boundary = boundary.mid(1, boundary.size() - 2);
    const QList<QByteArray> parts = multipartParts(sent.body, boundary);
    QCOMPARE(parts.size(), 2);
    const auto split = [](const QByteArray &part) {
        const qsizetype end = part.indexOf("\r\n\r\n");
        return std::pair{part.left(end), part.mid(end + 4)};
    };
    const auto [metadataHead, metadataBody] = split(parts.at(0));
    QVERIFY2(metadataHead.contains(R"(Content-Disposition: form-data; name="metadata"; filename="metadata")"),
             metadataHead.constData());
    QVERIFY(metadataHead.contains("Content-Type: application/json"));
    QCOMPARE(QJsonDocument::fromJson(metadataBody).object(),
             (QJsonObject{{u"path"_s, u"/data/in.bin"_s}, {u"mode"_s, 640}, {u"owner"_s, u"nobody"_s}}));
    const auto [fileHead, fileBody] = split(parts.at(1));
    QVERIFY2(fileHead.contains(R"(Content-Disposition: form-data; name="file"; filename="in _quoted_.bin")"),
             fileHead.constData());
    QVERIFY(fileBody == content);
}

void TestOpenSandboxClient::download()
{
    const QByteArray content = QByteArray("0123456789").repeated(10'000);
    m_server->handler = [&](const Request &) -> Response {
        Response response;
        response.contentType = "application/octet-stream";
        response.pieces = {content.left(1000), content.mid(1000, 50'000), content.mid(51'000)};
        return response;
    };
    OpenSandboxClient client(config());
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    std::unique_ptr<AsyncJob> job(client.downloadFile({m_server->domain(), {}}, u"/a b/c&d"_s, &buffer));
    finish(job.get());
    QVERIFY(!job->error());
    QVERIFY(buffer.data() == content);
    QCOMPARE(m_server->requests.first().target, QByteArray("/files/download?path=%2Fa%20b%2Fc%26d"));
}

void TestOpenSandboxClient::downloadNotFound()
{
    m_server->handler = [](const Request &) -> Response {
        return {404, "application/json", R"({"code":"FILE_NOT_FOUND","message":"file /x not found"})"};
    };
    OpenSandboxClient client(config());
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    std::unique_ptr<AsyncJob> job(client.downloadFile({m_server->domain(), {}}, u"/x"_s, &buffer));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(job->error()->code, u"FILE_NOT_FOUND"_s);
    QVERIFY(job->error()->message.startsWith(u"file /x not found (404 FILE_NOT_FOUND, request "_s));
    QVERIFY(OpenSandboxErrorDetails::of(*job->error()).execd);
    QCOMPARE(buffer.data(), QByteArray());
}

void TestOpenSandboxClient::unreachable()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    const quint16 port = probe.serverPort();
    probe.close();
    OpenSandboxConfig settings = config();
    settings.domain = u"127.0.0.1:%1"_s.arg(port);
    OpenSandboxClient client(settings);
    std::unique_ptr<AsyncJob> job(client.deleteSandbox(u"x"_s));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(job->error()->code, u"UNREACHABLE"_s);
    QCOMPARE(job->error()->kind, JobError::Kind::Infra);
    QCOMPARE(job->error()->message,
             u"cannot reach the server at http://127.0.0.1:%1: Connection refused after 4 attempts"_s.arg(port));
    QVERIFY(OpenSandboxErrorDetails::of(*job->error()).connectionRefused);
    QCOMPARE(OpenSandboxErrorDetails::of(*job->error()).attempts, 4);
}

void TestOpenSandboxClient::silentServer()
{
    m_server->handler = [](const Request &) -> Response { return Response::silence(); };
    OpenSandboxConfig settings = config();
    settings.requestTimeout = std::chrono::milliseconds(300);
    OpenSandboxClient client(settings);
    std::unique_ptr<SandboxJob> job(client.getSandbox(u"x"_s));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(job->error()->kind, JobError::Kind::Timeout);
    QVERIFY2(job->error()->message.startsWith(u"no answer from the server at http://%1 within 0.3 s (request "_s
                                                  .arg(m_server->domain())),
             qPrintable(job->error()->message));
    QVERIFY2(job->error()->message.endsWith(u" after 4 attempts"_s), qPrintable(job->error()->message));
    QCOMPARE(m_server->requests.size(), 4);
}

void TestOpenSandboxClient::retriesServerErrors()
{
    QList<int> statuses{500, 503, 200};
    m_server->handler = [&](const Request &) -> Response {
        const int status = statuses.takeFirst();
        return {status, "application/json", status == 200 ? sandboxJson(u"sb-1"_s, u"Running"_s) : QByteArray("{}")};
    };
    OpenSandboxClient client(config());
    std::unique_ptr<SandboxJob> job(client.getSandbox(u"sb-1"_s));
    finish(job.get());
    QVERIFY2(!job->error(), qPrintable(job->error() ? job->error()->message : QString()));
    QCOMPARE(job->result().id, u"sb-1"_s);
    QCOMPARE(m_server->requests.size(), 3);
    // One id for every attempt, so that the server logs them as one call.
    const QByteArray requestId = m_server->requests.first().requestId();
    QVERIFY(requestIdPattern.match(QString::fromLatin1(requestId)).hasMatch());
    for (const Request &request : std::as_const(m_server->requests))
        QCOMPARE(request.requestId(), requestId);
}

void TestOpenSandboxClient::retryAfterSeconds()
{
    m_server->handler = [&](const Request &) -> Response {
        if (m_server->requests.size() == 1) {
            Response busy{429, "application/json", R"({"code":"TOO_MANY_REQUESTS","message":"slow down"})"};
            busy.headers = {{"Retry-After", "1"}};
            return busy;
        }
        return {200, "application/json", sandboxJson(u"sb-1"_s, u"Running"_s)};
    };
    OpenSandboxClient client(config());
    std::unique_ptr<SandboxJob> job(client.getSandbox(u"sb-1"_s));
    finish(job.get());
    QVERIFY(!job->error());
    QCOMPARE(m_server->requests.size(), 2);
    // Timers may fire a little early; the wait is the server's second, not a 20 ms backoff.
    QVERIFY(m_server->requests.at(1).receivedMs - m_server->requests.at(0).receivedMs >= 900);
}

void TestOpenSandboxClient::retryAfterDate()
{
    m_server->handler = [&](const Request &) -> Response {
        if (m_server->requests.size() == 1) {
            // Two seconds ahead, cut to the second: a wait of one to two seconds.
            const QDateTime when = QDateTime::currentDateTimeUtc().addSecs(2);
            Response busy{503, "text/plain", "Service Unavailable"};
            const QString date = QLocale::c().toString(when, u"ddd, dd MMM yyyy HH:mm:ss 'GMT'"_s);
            busy.headers = {{"Retry-After", date.toLatin1()}};
            return busy;
        }
        return {200, "application/json", sandboxJson(u"sb-1"_s, u"Running"_s)};
    };
    OpenSandboxClient client(config());
    std::unique_ptr<SandboxJob> job(client.getSandbox(u"sb-1"_s));
    finish(job.get());
    QVERIFY(!job->error());
    QCOMPARE(m_server->requests.size(), 2);
    QVERIFY(m_server->requests.at(1).receivedMs - m_server->requests.at(0).receivedMs >= 900);
}

void TestOpenSandboxClient::commandPostIsNotRetried()
{
    m_server->handler = [](const Request &) -> Response { return {500, "text/plain", "Internal Server Error"}; };
    OpenSandboxClient client(config());
    std::unique_ptr<CommandJob> job(client.runCommand({m_server->domain(), {}}, echo()));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(m_server->requests.size(), 1);
    QCOMPARE(job->error()->code, u"HTTP_500"_s);
    QVERIFY2(job->error()->message.endsWith(u"; not tried again, since POST /command is not idempotent"_s),
             qPrintable(job->error()->message));
}

// A 429 turns the request away for now: the server's trouble, not the request's, so it is
// an infrastructure failure, which `retry: {on: [infra]}` retries, even for a command,
// which the client never sends again by itself.
void TestOpenSandboxClient::turnedAwayCommandIsAnInfraFailure()
{
    m_server->handler = [](const Request &) -> Response {
        Response busy{429, "application/json", R"({"code":"TOO_MANY_REQUESTS","message":"slow down"})"};
        busy.headers = {{"Retry-After", "1"}};
        return busy;
    };
    OpenSandboxClient client(config());
    std::unique_ptr<CommandJob> job(client.runCommand({m_server->domain(), {}}, echo()));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(m_server->requests.size(), 1);
    QCOMPARE(job->error()->code, u"TOO_MANY_REQUESTS"_s);
    QCOMPARE(job->error()->kind, JobError::Kind::Infra);
}

// A 504 is a gateway in front of the server giving up on it, the infrastructure's failure
// as a 502 is, not a time limit of the command's: `retry: {on: [infra]}` retries it.
void TestOpenSandboxClient::gatewayTimeoutIsAnInfraFailure()
{
    m_server->handler = [](const Request &) -> Response { return {504, "text/plain", "Gateway Timeout"}; };
    OpenSandboxClient client(config());
    std::unique_ptr<CommandJob> job(client.runCommand({m_server->domain(), {}}, echo()));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(m_server->requests.size(), 1);
    QCOMPARE(job->error()->code, u"HTTP_504"_s);
    QCOMPARE(job->error()->kind, JobError::Kind::Infra);
}

void TestOpenSandboxClient::attemptsRunOut()
{
    m_server->handler = [](const Request &) -> Response {
        return {503, "application/json", R"({"code":"SERVER_BUSY","message":"try later"})"};
    };
    OpenSandboxClient client(config());
    std::unique_ptr<SandboxJob> job(client.getSandbox(u"sb-1"_s));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(m_server->requests.size(), 4);
    const QString requestId = QString::fromLatin1(m_server->requests.first().requestId());
    QCOMPARE(job->error()->code, u"SERVER_BUSY"_s);
    QCOMPARE(job->error()->message, u"try later (503 SERVER_BUSY, request %1) after 4 attempts"_s.arg(requestId));
    const OpenSandboxErrorDetails details = OpenSandboxErrorDetails::of(*job->error());
    QCOMPARE(details.status, 503);
    QCOMPARE(details.serverCode, u"SERVER_BUSY"_s);
    QCOMPARE(details.requestId, requestId);
    QCOMPARE(details.attempts, 4);
}

void TestOpenSandboxClient::droppedConnection()
{
    m_server->handler = [&](const Request &) -> Response {
        if (m_server->requests.size() == 1)
            return Response::dropped();
        return {200, "application/json", sandboxJson(u"sb-1"_s, u"Running"_s)};
    };
    OpenSandboxClient client(config());
    std::unique_ptr<SandboxJob> job(client.getSandbox(u"sb-1"_s));
    finish(job.get());
    QVERIFY2(!job->error(), qPrintable(job->error() ? job->error()->message : QString()));
    QCOMPARE(m_server->requests.size(), 2);
}

void TestOpenSandboxClient::droppedCommandIsNotRetried()
{
    // The HTTP stack sends a request once more only when a kept-alive connection turns out
    // closed; a fresh connection closed before any answer may have been acted on, and the
    // client's own retries never repeat a POST /command.
    m_server->handler = [](const Request &) -> Response { return Response::dropped(); };
    OpenSandboxClient client(config());
    std::unique_ptr<CommandJob> job(client.runCommand({m_server->domain(), {}}, echo()));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(job->error()->kind, JobError::Kind::Infra);
    QCOMPARE(job->error()->code, u"CONNECTION_FAILED"_s);
    const QString requestId = QString::fromLatin1(m_server->requests.first().requestId());
    QCOMPARE(job->error()->message, u"the connection to the sandbox's execd at http://%1 failed: Connection closed "
                                    u"(request %2); not tried again, since POST /command is not idempotent"_s
                                        .arg(m_server->domain(), requestId));
    // Give a wrong retry the time to show.
    QTest::qWait(200);
    QCOMPARE(m_server->requests.size(), 1);
}

void TestOpenSandboxClient::repeatedDeleteOfAGoneSandbox()
{
    // The first DELETE removes the sandbox but its answer is lost; the repeat finds none.
    m_server->handler = [&](const Request &) -> Response {
        if (m_server->requests.size() == 1)
            return Response::dropped();
        return {404, "application/json", R"({"code":"SANDBOX_NOT_FOUND","message":"Sandbox sb-1 not found."})"};
    };
    OpenSandboxClient client(config());
    std::unique_ptr<AsyncJob> job(client.deleteSandbox(u"sb-1"_s));
    finish(job.get());
    QVERIFY2(!job->error(), qPrintable(job->error() ? job->error()->message : QString()));
    QCOMPARE(m_server->requests.size(), 2);

    // A first attempt answered 404 is an error as before.
    m_server->requests.clear();
    std::unique_ptr<AsyncJob> again(client.deleteSandbox(u"sb-1"_s));
    m_server->handler = [](const Request &) -> Response {
        return {404, "application/json", R"({"code":"SANDBOX_NOT_FOUND","message":"Sandbox sb-1 not found."})"};
    };
    finish(again.get());
    QVERIFY(again->error());
    QCOMPARE(again->error()->code, u"SANDBOX_NOT_FOUND"_s);
}

/// A lifecycle server that keeps the sandboxes it made, lists them by label, and says
/// every one is ready.
class SandboxKeeper
{
public:
    explicit SandboxKeeper(ScriptedServer &server)
        : m_server(server)
    {
    }

    QMap<QString, QJsonObject> sandboxes;

    /// Makes a sandbox of `create`'s body, Running.
    QJsonObject make(const Request &create)
    {
        const QString id = u"sb-%1"_s.arg(++m_made);
        QJsonObject sandbox{{u"id"_s, id},
                            {u"status"_s, QJsonObject{{u"state"_s, u"Running"_s}}},
                            {u"metadata"_s, QJsonDocument::fromJson(create.body).object().value("metadata"_L1)}};
        sandboxes.insert(id, sandbox);
        return sandbox;
    }

    /// The rest of the lifecycle and execd API, or std::nullopt for a create.
    std::optional<Response> answer(const Request &request)
    {
        if (request.method == "POST" && request.path() == "/v1/sandboxes")
            return std::nullopt;
        if (request.method == "GET" && request.path() == "/v1/sandboxes") {
            // metadata=k%3Dv: the test's creates carry only the token label.
            const QString filter = QUrl::fromPercentEncoding(request.query().split('&').first().mid(9));
            const QString token = filter.mid(filter.indexOf(u'=') + 1);
            QJsonArray items;
            for (const QJsonObject &sandbox : std::as_const(sandboxes)) {
                if (sandbox.value("metadata"_L1).toObject().value("sandflow.dev/create-token"_L1).toString() == token)
                    items.append(sandbox);
            }
            return Response{200, "application/json", json({{u"items"_s, items}})};
        }
        if (request.path().endsWith("/endpoints/44772"))
            return Response{200, "application/json", json({{u"endpoint"_s, m_server.domain() + u"/execd"_s}})};
        if (request.path() == "/execd/ping")
            return Response{200, "text/plain", {}};
        if (request.method == "DELETE") {
            const QString id = QString::fromLatin1(request.path().mid(request.path().lastIndexOf('/') + 1));
            return sandboxes.remove(id) ? Response{204, "application/json", {}}
                                        : Response{404, "application/json", R"({"code":"SANDBOX_NOT_FOUND"})"};
        }
        return Response{404, "text/plain", "404 page not found"};
    }

private:
    ScriptedServer &m_server;
    int m_made = 0;
};

void TestOpenSandboxClient::createTakesTheSandboxOfALostAnswer()
{
    SandboxKeeper keeper(*m_server);
    m_server->handler = [&](const Request &request) -> Response {
        if (std::optional<Response> answer = keeper.answer(request))
            return *answer;
        keeper.make(request);
        return Response::dropped();   // made, but the answer never arrives
    };
    OpenSandboxClient client(config());
    OpenSandboxCreateRequest request;
    request.image = u"ubuntu"_s;
    std::unique_ptr<SandboxJob> job(client.createSandbox(request));
    finish(job.get());
    QVERIFY2(!job->error(), qPrintable(job->error() ? job->error()->message : QString()));
    QCOMPARE(job->result().id, u"sb-1"_s);
    QCOMPARE(keeper.sandboxes.keys(), QStringList{u"sb-1"_s});

    const QList<Request> posts = sent(m_server->requests, "POST", "/v1/sandboxes");
    QCOMPARE(posts.size(), 1);
    const QString token = createToken(posts.first());
    QVERIFY(createTokenPattern.match(token).hasMatch());
    const QList<Request> lists = sent(m_server->requests, "GET", "/v1/sandboxes");
    QCOMPARE(lists.size(), 1);
    QVERIFY2(lists.first().query().startsWith("metadata=sandflow.dev%2Fcreate-token%3D" + token.toLatin1() + '&'),
             lists.first().query().constData());
}

void TestOpenSandboxClient::createRetriesATurnedAwayPost()
{
    SandboxKeeper keeper(*m_server);
    m_server->handler = [&](const Request &request) -> Response {
        if (std::optional<Response> answer = keeper.answer(request))
            return *answer;
        if (sent(m_server->requests, "POST", "/v1/sandboxes").size() == 1)
            return {429, "application/json", R"({"code":"TOO_MANY_REQUESTS","message":"slow down"})"};
        return {202, "application/json", json(keeper.make(request))};
    };
    OpenSandboxClient client(config());
    OpenSandboxCreateRequest request;
    request.image = u"ubuntu"_s;
    std::unique_ptr<SandboxJob> job(client.createSandbox(request));
    finish(job.get());
    QVERIFY2(!job->error(), qPrintable(job->error() ? job->error()->message : QString()));
    // A 429 made nothing: no need to look before posting again.
    const QList<Request> posts = sent(m_server->requests, "POST", "/v1/sandboxes");
    QCOMPARE(posts.size(), 2);
    QCOMPARE(sent(m_server->requests, "GET", "/v1/sandboxes").size(), 0);
    QCOMPARE(keeper.sandboxes.size(), 1);
    QCOMPARE(createToken(posts.at(1)), createToken(posts.at(0)));
    QCOMPARE(posts.at(1).requestId(), posts.at(0).requestId());
}

void TestOpenSandboxClient::createBadRequestIsFinal()
{
    m_server->handler = [](const Request &) -> Response {
        return {400, "application/json", R"({"code":"INVALID_REQUEST_BODY","message":"image is required"})"};
    };
    OpenSandboxClient client(config());
    std::unique_ptr<SandboxJob> job(client.createSandbox({}));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(job->error()->kind, JobError::Kind::Invalid);
    QCOMPARE(job->error()->code, u"INVALID_REQUEST_BODY"_s);
    QVERIFY2(!job->error()->message.contains(u"attempts"_s), qPrintable(job->error()->message));
    QCOMPARE(m_server->requests.size(), 1);
}

void TestOpenSandboxClient::createWaitsWhilePending()
{
    QStringList states{u"Pending"_s, u"Scheduling"_s, u"Allocated"_s};
    m_server->handler = [&](const Request &request) -> Response {
        if (request.method == "POST")
            return {202, "application/json", sandboxJson(u"sb-1"_s, u"Pending"_s)};
        if (request.path() == "/v1/sandboxes/sb-1")
            return {200, "application/json", sandboxJson(u"sb-1"_s, states.takeFirst())};
        if (request.path().endsWith("/endpoints/44772"))
            return {200, "application/json", json({{u"endpoint"_s, m_server->domain() + u"/execd"_s}})};
        return {200, "text/plain", {}};
    };
    OpenSandboxConfig settings = config();
    settings.readyTimeout = std::chrono::milliseconds(10'000);
    OpenSandboxClient client(settings);
    OpenSandboxCreateRequest request;
    request.image = u"ubuntu"_s;
    std::unique_ptr<SandboxJob> job(client.createSandbox(request));
    finish(job.get());
    QVERIFY2(!job->error(), qPrintable(job->error() ? job->error()->message : QString()));
    // Allocated counts as Running; an unknown state is waited through.
    QCOMPARE(job->result().state, SandboxState::Running);
    QCOMPARE(job->result().image, u"ubuntu"_s);
    QStringList paths;
    for (const Request &sentRequest : std::as_const(m_server->requests))
        paths.append(QString::fromLatin1(sentRequest.method + ' ' + sentRequest.path()));
    QCOMPARE(paths, (QStringList{u"POST /v1/sandboxes"_s, u"GET /v1/sandboxes/sb-1"_s, u"GET /v1/sandboxes/sb-1"_s,
                                 u"GET /v1/sandboxes/sb-1"_s, u"GET /v1/sandboxes/sb-1/endpoints/44772"_s,
                                 u"GET /execd/ping"_s}));
    // The polls back off: 200 ms before the first, 400 ms before the second.
    QVERIFY(m_server->requests.at(2).receivedMs - m_server->requests.at(1).receivedMs >= 350);
}

void TestOpenSandboxClient::createDeletesAFailedSandbox()
{
    m_server->handler = [&](const Request &request) -> Response {
        if (request.method == "POST")
            return {202, "application/json", sandboxJson(u"sb-1"_s, u"Pending"_s)};
        if (request.method == "DELETE")
            return {204, "application/json", {}};
        return {200, "application/json",
                sandboxJson(u"sb-1"_s, u"Failed"_s,
                            {{u"reason"_s, u"POD_PLATFORM_UNSCHEDULABLE"_s},
                             {u"message"_s, u"0/3 nodes are available: 3 Insufficient memory."_s}})};
    };
    OpenSandboxClient client(config());
    OpenSandboxCreateRequest request;
    request.image = u"ubuntu"_s;
    std::unique_ptr<SandboxJob> job(client.createSandbox(request));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(job->error()->code, u"SANDBOX_FAILED"_s);
    QCOMPARE(job->error()->message, u"sandbox sb-1 is Failed instead of Running: POD_PLATFORM_UNSCHEDULABLE: "
                                    u"0/3 nodes are available: 3 Insufficient memory."_s);
    QCOMPARE(job->error()->context.value("reason"_L1).toString(), u"POD_PLATFORM_UNSCHEDULABLE"_s);
    QCOMPARE(job->error()->context.value("sandboxDeleted"_L1).toBool(), true);
    QCOMPARE(m_server->requests.last().method, QByteArray("DELETE"));
    QCOMPARE(m_server->requests.last().path(), QByteArray("/v1/sandboxes/sb-1"));
}

void TestOpenSandboxClient::streamCutMidway()
{
    m_server->handler = [](const Request &) -> Response {
        Response response;
        response.contentType = "text/event-stream";
        response.cutChunked = true;
        response.pieces = {R"({"type":"init","text":"c0ffee"})" "\n\n", R"({"type":"stdout","text":"partial"})" "\n\n"};
        return response;
    };
    OpenSandboxClient client(config());
    std::unique_ptr<CommandJob> job(client.runCommand({m_server->domain(), {}}, echo()));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(job->error()->kind, JobError::Kind::Infra);
    QCOMPARE(job->error()->code, u"CONNECTION_FAILED"_s);
    const QString requestId = QString::fromLatin1(m_server->requests.first().requestId());
    QCOMPARE(job->error()->message, u"the stream of command c0ffee from the sandbox's execd at http://%1 broke off "
                                    u"before the command ended (request %2)"_s.arg(m_server->domain(), requestId));
    QCOMPARE(job->error()->context.value("commandId"_L1).toString(), u"c0ffee"_s);
    QTest::qWait(200);
    QCOMPARE(m_server->requests.size(), 1);
}

void TestOpenSandboxClient::silentStream()
{
    m_server->handler = [](const Request &) -> Response {
        Response response;
        response.contentType = "text/event-stream";
        response.pieces = {R"({"type":"init","text":"c0ffee"})" "\n\n"};
        response.holdMs = 60'000;
        return response;
    };
    OpenSandboxConfig settings = config();
    settings.requestTimeout = std::chrono::milliseconds(500);
    OpenSandboxClient client(settings);
    std::unique_ptr<CommandJob> job(client.runCommand({m_server->domain(), {}}, echo()));
    finish(job.get());
    QVERIFY(job->error());
    // A dead connection is the infrastructure's failure, which `retry: {on: [infra]}` retries.
    QCOMPARE(job->error()->kind, JobError::Kind::Infra);
    QCOMPARE(job->error()->code, u"CONNECTION_FAILED"_s);
    QVERIFY2(job->error()->message.startsWith(u"the stream of command c0ffee from the sandbox's execd at http://%1 "
                                              u"went silent for 0.5 s"_s.arg(m_server->domain())),
             qPrintable(job->error()->message));
    QCOMPARE(m_server->requests.size(), 1);
}

// A download that stops coming, its connection held open, is a dead connection as a silent
// command stream is: an infrastructure failure, which `retry: {on: [infra]}` retries, not
// a time limit of the step's running out.
void TestOpenSandboxClient::silentDownloadIsAnInfraFailure()
{
    m_server->handler = [](const Request &) -> Response {
        Response response;
        response.contentType = "application/octet-stream";
        response.pieces = {"the first bytes"};
        response.holdMs = 60'000;
        return response;
    };
    OpenSandboxConfig settings = config();
    settings.requestTimeout = std::chrono::milliseconds(500);
    OpenSandboxClient client(settings);
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    std::unique_ptr<AsyncJob> job(client.downloadFile({m_server->domain(), {}}, u"/result.txt"_s, &buffer));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(job->error()->kind, JobError::Kind::Infra);
    QCOMPARE(m_server->requests.size(), 1);
}

void TestOpenSandboxClient::cancelDuringBackoff()
{
    m_server->handler = [](const Request &) -> Response {
        Response busy{503, "text/plain", "Service Unavailable"};
        busy.headers = {{"Retry-After", "40"}};
        return busy;
    };
    OpenSandboxConfig settings = config();
    settings.retry.maxDelay = std::chrono::seconds(60);
    OpenSandboxClient client(settings);
    std::unique_ptr<SandboxJob> job(client.getSandbox(u"sb-1"_s));
    job->setAutoDelete(false);
    QSignalSpy finished(job.get(), &AsyncJob::finished);
    job->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->requests.size(), 1, 10'000);
    QTest::qWait(100);   // the answer has arrived; the job waits for its second attempt
    QVERIFY(!job->isFinished());
    QElapsedTimer clock;
    clock.start();
    job->cancel();
    QVERIFY(finished.count() == 1 || finished.wait(30'000));
    // Far below the 40 s the server asked to wait, whatever the machine's load.
    QVERIFY2(clock.elapsed() < 20'000, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(job->error()->kind, JobError::Kind::Cancelled);
    QTest::qWait(1500);
    QCOMPARE(m_server->requests.size(), 1);
}

void TestOpenSandboxClient::oneAttemptTriesNothingAgain()
{
    m_server->handler = [](const Request &) -> Response { return {503, "text/plain", "Service Unavailable"}; };
    OpenSandboxConfig settings = config();
    settings.retry.maxAttempts = 1;
    OpenSandboxClient client(settings);
    std::unique_ptr<SandboxJob> job(client.getSandbox(u"sb-1"_s));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(m_server->requests.size(), 1);
    QVERIFY2(!job->error()->message.contains(u"attempts"_s), qPrintable(job->error()->message));
    QCOMPARE(OpenSandboxErrorDetails::of(*job->error()).attempts, 1);
}

void TestOpenSandboxClient::retryAfterIsCapped()
{
    m_server->handler = [&](const Request &) -> Response {
        if (m_server->requests.size() == 1) {
            Response busy{429, "text/plain", "Too Many Requests"};
            busy.headers = {{"Retry-After", "3600"}};
            return busy;
        }
        return {200, "application/json", sandboxJson(u"sb-1"_s, u"Running"_s)};
    };
    OpenSandboxConfig settings = config();
    settings.retry.maxDelay = std::chrono::milliseconds(100);
    OpenSandboxClient client(settings);
    std::unique_ptr<SandboxJob> job(client.getSandbox(u"sb-1"_s));
    finish(job.get());   // well within its ten seconds, not after an hour
    QVERIFY(!job->error());
    QCOMPARE(m_server->requests.size(), 2);
}

void TestOpenSandboxClient::createGivesUpAfterItsAttempts()
{
    SandboxKeeper keeper(*m_server);
    m_server->handler = [&](const Request &request) -> Response {
        if (std::optional<Response> answer = keeper.answer(request))
            return *answer;
        return {500, "application/json", R"({"code":"INTERNAL","message":"database is down"})"};
    };
    OpenSandboxClient client(config());
    OpenSandboxCreateRequest request;
    request.image = u"ubuntu"_s;
    std::unique_ptr<SandboxJob> job(client.createSandbox(request));
    finish(job.get());
    QVERIFY(job->error());
    // Each 500 may have made a sandbox: a look for it follows every one, the last included.
    const QList<Request> posts = sent(m_server->requests, "POST", "/v1/sandboxes");
    QCOMPARE(posts.size(), 4);
    QCOMPARE(sent(m_server->requests, "GET", "/v1/sandboxes").size(), 4);
    QCOMPARE(job->error()->code, u"INTERNAL"_s);
    QCOMPARE(job->error()->message, u"database is down (500 INTERNAL, request %1) after 4 attempts"_s.arg(
                                        QString::fromLatin1(posts.first().requestId())));
    QCOMPARE(job->error()->context.value("createToken"_L1).toString(), createToken(posts.first()));
    QCOMPARE(OpenSandboxErrorDetails::of(*job->error()).attempts, 4);
}

void TestOpenSandboxClient::cancelledCreateRemovesWhatItMayHaveMade()
{
    SandboxKeeper keeper(*m_server);
    m_server->handler = [&](const Request &request) -> Response {
        if (std::optional<Response> answer = keeper.answer(request))
            return *answer;
        keeper.make(request);
        return Response::silence();   // made, and still busy answering
    };
    OpenSandboxClient client(config());
    OpenSandboxCreateRequest request;
    request.image = u"ubuntu"_s;
    std::unique_ptr<SandboxJob> job(client.createSandbox(request));
    job->setAutoDelete(false);
    QSignalSpy finished(job.get(), &AsyncJob::finished);
    job->start();
    QTRY_COMPARE_WITH_TIMEOUT(keeper.sandboxes.size(), 1, 10'000);
    job->cancel();
    QVERIFY(finished.count() == 1 || finished.wait(10'000));
    QCOMPARE(job->error()->kind, JobError::Kind::Cancelled);
    QVERIFY(keeper.sandboxes.isEmpty());
    QCOMPARE(job->error()->context.value("sandboxDeleted"_L1).toBool(), true);
}

void TestOpenSandboxClient::readFileAsksForTheRange()
{
    // Ten bytes, and the one asked for by the last request.
    m_server->handler = [](const Request &request) -> Response {
        const QByteArray content = request.headers.value("range") == "bytes=0-0" ? "0" : "0123456789";
        return {request.headers.contains("range") ? 206 : 200, "application/octet-stream", content};
    };
    OpenSandboxClient client(config());
    const auto read = [&](qint64 offset, qint64 length) {
        std::unique_ptr<FileReadJob> job(client.readFile({m_server->domain(), {}}, u"/f"_s, offset, length));
        QByteArray received;
        connect(job.get(), &FileReadJob::data, this, [&received](const QByteArray &bytes) { received += bytes; });
        finish(job.get());
        return job->error() ? job->error()->message : QString::fromLatin1(received);
    };
    QCOMPARE(read(0, -1), u"0123456789"_s);
    QCOMPARE(read(10, 10), u"0123456789"_s);
    QCOMPARE(read(10, -1), u"0123456789"_s);
    QCOMPARE(read(0, 1), u"0"_s);
    QCOMPARE(m_server->requests.size(), 4);
    QVERIFY(!m_server->requests.at(0).headers.contains("range"));
    QCOMPARE(m_server->requests.at(1).headers.value("range"), QByteArray("bytes=10-19"));
    QCOMPARE(m_server->requests.at(2).headers.value("range"), QByteArray("bytes=10-"));
    QCOMPARE(m_server->requests.at(3).headers.value("range"), QByteArray("bytes=0-0"));
}

void TestOpenSandboxClient::readFileRefusesWhatWasNotAskedFor_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("reason");
    // A server that ignores Range would hand over the wrong bytes.
    QTest::newRow("the whole file") << 200 << u"the whole file came instead of the range asked for"_s;
    // A range is what was asked for and no more: `sandflow serve` sends it on as a body whose
    // length it has announced.
    QTest::newRow("more than the range") << 206 << u"more than the 3 bytes asked for"_s;
}

void TestOpenSandboxClient::readFileRefusesWhatWasNotAskedFor()
{
    QFETCH(int, status);
    QFETCH(QString, reason);
    m_server->handler = [status](const Request &) -> Response {
        return {status, "application/octet-stream", "0123456789"};
    };
    OpenSandboxClient client(config());
    std::unique_ptr<FileReadJob> job(client.readFile({m_server->domain(), {}}, u"/f"_s, 2, 3));
    QByteArray received;
    connect(job.get(), &FileReadJob::data, this, [&received](const QByteArray &bytes) { received += bytes; });
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(job->error()->code, u"UNEXPECTED_RESPONSE"_s);
    QVERIFY2(job->error()->message.contains(reason), qPrintable(job->error()->message));
    // Nothing of what was not asked for reaches the reader.
    QVERIFY(received.size() <= (status == 200 ? 0 : 3));
}

// A REST answer is held in memory until it is whole: one that grows past the limit is
// refused as it arrives, whatever the server goes on sending.
void TestOpenSandboxClient::oversizedAnswerIsRefused()
{
    const QByteArray listing = '[' + QByteArray(65 << 20, ' ') + ']';
    m_server->handler = [&listing](const Request &) -> Response { return {200, "application/json", listing}; };
    OpenSandboxClient client(config());
    std::unique_ptr<ResultJob<QList<FileInfo>>> job(client.listDirectory({m_server->domain(), {}}, u"/w"_s, 1));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(job->error()->code, u"UNEXPECTED_RESPONSE"_s);
    QVERIFY2(job->error()->message.contains(u"larger than 64 MiB"_s), qPrintable(job->error()->message));
    QCOMPARE(m_server->requests.size(), 1);
}

void TestOpenSandboxClient::codeContexts()
{
    m_server->handler = [](const Request &request) -> Response {
        if (request.method == "POST" && request.path() == "/code/context")
            return {200, "application/json", R"({"id":"ctx-1","language":"python","cwd":"/w"})"};
        if (request.method == "GET" && request.path() == "/code/contexts")
            return {200, "application/json", R"([{"id":"ctx-1","language":"python"},{"id":"ctx-2","language":"python"}])"};
        if (request.method == "DELETE")
            return {200, "application/json", {}};
        return {404, "text/plain", "404 page not found"};
    };
    OpenSandboxClient client(config());
    const OpenSandboxEndpoint execd{m_server->domain(), {}};

    std::unique_ptr<ResultJob<OpenSandboxCodeContext>> created(client.createCodeContext(execd, u"python"_s, u"/w"_s));
    finish(created.get());
    QVERIFY(!created->error());
    QCOMPARE(created->result().id, u"ctx-1"_s);
    QCOMPARE(created->result().language, u"python"_s);
    QCOMPARE(created->result().cwd, u"/w"_s);
    QCOMPARE(QJsonDocument::fromJson(m_server->requests.at(0).body).object(),
             (QJsonObject{{u"language"_s, u"python"_s}, {u"cwd"_s, u"/w"_s}}));

    std::unique_ptr<ResultJob<QList<OpenSandboxCodeContext>>> listed(client.listCodeContexts(execd, u"python"_s));
    finish(listed.get());
    QVERIFY(!listed->error());
    QCOMPARE(listed->result().size(), 2);
    QCOMPARE(listed->result().at(1).id, u"ctx-2"_s);
    QCOMPARE(m_server->requests.at(1).target, QByteArray("/code/contexts?language=python"));

    std::unique_ptr<AsyncJob> deleted(client.deleteCodeContext(execd, u"ctx-1"_s));
    finish(deleted.get());
    QVERIFY(!deleted->error());
    QCOMPARE(m_server->requests.at(2).method, QByteArray("DELETE"));
    QCOMPARE(m_server->requests.at(2).target, QByteArray("/code/contexts/ctx-1"));

    std::unique_ptr<AsyncJob> interrupted(client.interruptCode(execd, u"ctx-1"_s));
    finish(interrupted.get());
    QVERIFY(!interrupted->error());
    QCOMPARE(m_server->requests.at(3).method, QByteArray("DELETE"));
    QCOMPARE(m_server->requests.at(3).target, QByteArray("/code?id=ctx-1"));

    m_server->handler = [](const Request &) -> Response {
        return {404, "application/json", R"({"code":"CONTEXT_NOT_FOUND","message":"context ctx-9 not found"})"};
    };
    std::unique_ptr<AsyncJob> unknown(client.deleteCodeContext(execd, u"ctx-9"_s));
    finish(unknown.get());
    QVERIFY(unknown->error());
    QCOMPARE(unknown->error()->code, u"CONTEXT_NOT_FOUND"_s);
}

void TestOpenSandboxClient::runCodeStreamsOutputAndResults()
{
    // A kernel's output comes in chunks that carry their own line breaks.
    m_server->handler = [](const Request &) -> Response {
        Response response;
        response.contentType = "text/event-stream";
        response.pieces = {R"({"type":"init","text":"ctx-1"})" "\n\n" R"({"type":"ping","text":"pong"})" "\n\n",
                           R"({"type":"status","text":"busy"})" "\n\n" R"({"type":"stdout","text":"hello\nwor"})" "\n\n",
                           R"({"type":"stdout","text":"ld\n"})" "\n\n" R"({"type":"stderr","text":"warn\n"})" "\n\n",
                           R"({"type":"execution_count","execution_count":3})" "\n\n",
                           R"({"type":"result","results":{"text":"4","text/html":"<b>4</b>"}})" "\n\n",
                           R"({"type":"execution_complete","execution_time":12})" "\n\n"};
        return response;
    };
    OpenSandboxClient client(config());
    std::unique_ptr<CodeJob> job(
        client.runCode({m_server->domain(), {}}, {u"ctx-1"_s, u"python"_s, {}}, u"print('hello')\n2 + 2"_s));
    QByteArray out;
    QByteArray err;
    QList<QJsonObject> results;
    connect(job.get(), &CommandJob::output, this, [&](CommandJob::Stream stream, const QByteArray &data) {
        (stream == CommandJob::Stream::Stdout ? out : err) += data;
    });
    connect(job.get(), &CodeJob::result, this, [&](const QJsonObject &data) { results.append(data); });
    finish(job.get());
    QVERIFY2(!job->error(), qPrintable(job->error() ? job->error()->message : QString()));
    QCOMPARE(job->commandId(), u"ctx-1"_s);
    QCOMPARE(job->exitCode(), std::optional<int>(0));
    QCOMPARE(out, QByteArray("hello\nworld\n"));
    QCOMPARE(err, QByteArray("warn\n"));
    QCOMPARE(results, (QList<QJsonObject>{{{u"text"_s, u"4"_s}, {u"text/html"_s, u"<b>4</b>"_s}}}));

    const Request &sent = m_server->requests.first();
    QCOMPARE(sent.method, QByteArray("POST"));
    QCOMPARE(sent.path(), QByteArray("/code"));
    QCOMPARE(QJsonDocument::fromJson(sent.body).object(),
             (QJsonObject{{u"context"_s, QJsonObject{{u"id"_s, u"ctx-1"_s}, {u"language"_s, u"python"_s}}},
                          {u"code"_s, u"print('hello')\n2 + 2"_s}}));
}

void TestOpenSandboxClient::runCodeKernelError()
{
    m_server->handler = [](const Request &) -> Response {
        Response response;
        response.contentType = "text/event-stream";
        response.pieces = {R"({"type":"init","text":"ctx-1"})" "\n\n"
                           R"({"type":"error","error":{"ename":"NameError","evalue":"name 'x' is not defined",)"
                           R"("traceback":["Traceback (most recent call last):","NameError: name 'x' is not defined"]}})"
                           "\n\n"};
        return response;
    };
    OpenSandboxClient client(config());
    std::unique_ptr<CodeJob> job(client.runCode({m_server->domain(), {}}, {{}, u"python"_s, {}}, u"x"_s));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(job->error()->kind, JobError::Kind::Task);
    QCOMPARE(job->error()->code, u"CODE_FAILED"_s);
    QVERIFY2(job->error()->message.startsWith(u"NameError: name 'x' is not defined (request "_s),
             qPrintable(job->error()->message));
    QCOMPARE(job->error()->context.value(u"ename"_s).toString(), u"NameError"_s);
    QCOMPARE(job->error()->context.value(u"evalue"_s).toString(), u"name 'x' is not defined"_s);
    QCOMPARE(job->error()->context.value(u"traceback"_s).toArray().size(), 2);
    QCOMPARE(job->error()->context.value(u"contextId"_s).toString(), u"ctx-1"_s);
    QCOMPARE(job->exitCode(), std::nullopt);
    // Without an id the language's default context runs it.
    QCOMPARE(QJsonDocument::fromJson(m_server->requests.first().body).object().value(u"context"_s).toObject(),
             (QJsonObject{{u"language"_s, u"python"_s}}));
}

void TestOpenSandboxClient::cancellingRunCodeInterruptsTheContext()
{
    m_server->handler = [](const Request &request) -> Response {
        if (request.method == "DELETE")
            return {200, "application/json", {}};
        Response response;
        response.contentType = "text/event-stream";
        response.pieces = {R"({"type":"init","text":"ctx-7"})" "\n\n"};
        response.holdMs = 60'000;
        return response;
    };
    OpenSandboxClient client(config());
    std::unique_ptr<CodeJob> job(
        client.runCode({m_server->domain(), {}}, {u"ctx-7"_s, u"python"_s, {}}, u"while True: pass"_s));
    job->setAutoDelete(false);
    QSignalSpy started(job.get(), &CommandJob::started);
    QSignalSpy finished(job.get(), &AsyncJob::finished);
    job->start();
    QVERIFY(started.wait(10'000));
    job->cancel();
    QVERIFY(finished.count() == 1 || finished.wait(10'000));
    QCOMPARE(job->error()->kind, JobError::Kind::Cancelled);
    QCOMPARE(m_server->requests.size(), 2);
    QCOMPARE(m_server->requests.at(1).method, QByteArray("DELETE"));
    QCOMPARE(m_server->requests.at(1).target, QByteArray("/code?id=ctx-7"));
}

// The interrupt stops the command, and execd may report its end on the stream before it
// answers the interrupt (here it never does): the job is cancelled all the same, not failed
// with the signal that the cancel itself sent.
void TestOpenSandboxClient::cancelledCommandIsCancelledWhicheverAnswerComesFirst()
{
    m_server->handler = [](const Request &request) -> Response {
        if (request.method == "DELETE")
            return Response::silence();
        Response response;
        response.contentType = "text/event-stream";
        response.pieces = {R"({"type":"init","text":"c-1"})" "\n\n",
                           R"({"type":"error","error":{"ename":"CommandExecError","evalue":"-1",)"
                           R"("traceback":["signal: terminated"]}})" "\n\n"};
        response.holdMs = 60'000;
        return response;
    };
    OpenSandboxClient client(config());
    CommandRequest request;
    request.command = u"sleep 120"_s;
    std::unique_ptr<CommandJob> job(client.runCommand({m_server->domain(), {}}, request));
    job->setAutoDelete(false);
    // Cancelled as soon as it runs, before the stream's next piece comes.
    connect(job.get(), &CommandJob::started, job.get(), [&job] { job->cancel(); });
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(job->error()->kind, JobError::Kind::Cancelled);
    // The job ended with the stream's event; the interrupt sent before may still be on its
    // way to this server, which reads it on the event loop.
    QTRY_COMPARE_WITH_TIMEOUT(m_server->requests.size(), 2, 10'000);
    QCOMPARE(m_server->requests.at(1).method, QByteArray("DELETE"));
}

// Pages are asked for while the server says more follow; a sandbox that a newer one pushed
// onto the next page comes once.
void TestOpenSandboxClient::listAllSandboxesWalksThePages()
{
    m_server->handler = [](const Request &request) -> Response {
        const int page = pageAsked(request);
        return {200, "application/json",
                page == 1 ? pageJson({u"sb-4"_s, u"sb-3"_s}, 1, true) : pageJson({u"sb-3"_s, u"sb-2"_s}, 2, false)};
    };
    OpenSandboxClient client(config());
    SandboxFilter filter;
    filter.pageSize = 2;
    filter.metadata = {{u"team"_s, u"a"_s}};
    std::unique_ptr<ResultJob<QList<SandboxInfo>>> job(client.listAllSandboxes(filter));
    finish(job.get());
    QVERIFY2(!job->error(), qPrintable(job->error() ? job->error()->message : QString()));
    QCOMPARE(idsOf(job->result()), (QStringList{u"sb-4"_s, u"sb-3"_s, u"sb-2"_s}));
    QCOMPARE(m_server->requests.size(), 2);
    QCOMPARE(pageAsked(m_server->requests.at(1)), 2);
    QVERIFY(m_server->requests.at(1).query().contains("metadata=team%3Da"));
}

// A server that ignores `page` answers page 1 to every request, and says more follow.
void TestOpenSandboxClient::listAllSandboxesStopsWhenThePageDoesNotAdvance()
{
    m_server->handler = [](const Request &) -> Response {
        return {200, "application/json", pageJson({u"sb-2"_s, u"sb-1"_s}, 1, true)};
    };
    OpenSandboxClient client(config());
    std::unique_ptr<ResultJob<QList<SandboxInfo>>> job(client.listAllSandboxes({}));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(job->error()->code, u"UNEXPECTED_RESPONSE"_s);
    QVERIFY2(job->error()->message.startsWith(u"unexpected answer from the server at http://%1: asked for page 2 of "
                                              u"the sandbox list, it answered page 1"_s.arg(m_server->domain())),
             qPrintable(job->error()->message));
    QCOMPARE(m_server->requests.size(), 2);
}

// Page numbers that advance over the same sandboxes are no progress either.
void TestOpenSandboxClient::listAllSandboxesStopsWhenPagesRepeat()
{
    m_server->handler = [](const Request &request) -> Response {
        return {200, "application/json", pageJson({u"sb-2"_s, u"sb-1"_s}, pageAsked(request), true)};
    };
    OpenSandboxClient client(config());
    std::unique_ptr<ResultJob<QList<SandboxInfo>>> job(client.listAllSandboxes({}));
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(job->error()->code, u"UNEXPECTED_RESPONSE"_s);
    QVERIFY2(job->error()->message.contains(u"page 2 of the sandbox list holds only sandboxes of earlier pages "
                                            u"(sb-2 first), yet says more follow"_s),
             qPrintable(job->error()->message));
    QVERIFY(job->error()->message.contains(m_server->domain()));
    QCOMPARE(m_server->requests.size(), 2);
}

// New sandboxes on every page, for ever: the walk ends at its limit of 1000 pages.
void TestOpenSandboxClient::listAllSandboxesStopsAfterItsPageLimit()
{
    m_server->handler = [](const Request &request) -> Response {
        const int page = pageAsked(request);
        return {200, "application/json", pageJson({u"sb-%1"_s.arg(page)}, page, true)};
    };
    OpenSandboxClient client(config());
    std::unique_ptr<ResultJob<QList<SandboxInfo>>> job(client.listAllSandboxes({}));
    job->setAutoDelete(false);
    QSignalSpy finished(job.get(), &AsyncJob::finished);
    job->start();
    QVERIFY(finished.wait(60'000));
    QVERIFY(job->error());
    QVERIFY2(job->error()->message.contains(u"page 1000 of the sandbox list still says more follow; no more than "
                                            u"1000 pages are read"_s),
             qPrintable(job->error()->message));
    QCOMPARE(m_server->requests.size(), 1000);
}

void TestOpenSandboxClient::retryAfterOutOfRange_data()
{
    QTest::addColumn<QByteArray>("retryAfter");
    QTest::addColumn<bool>("honoured");   // waited for as long as the policy allows
    // Seconds whose milliseconds overflow qint64 once went negative, and the retry's timer,
    // refusing a negative interval, never fired.
    QTest::newRow("qint64 max") << QByteArray("9223372036854775807") << true;
    QTest::newRow("past milliseconds") << QByteArray("9223372036854776") << true;
    QTest::newRow("negative") << QByteArray("-5") << false;
    QTest::newRow("far past date") << QByteArray("Thu, 01 Jan 1970 00:00:00 GMT") << false;
}

void TestOpenSandboxClient::retryAfterOutOfRange()
{
    QFETCH(QByteArray, retryAfter);
    QFETCH(bool, honoured);
    m_server->handler = [&](const Request &) -> Response {
        if (m_server->requests.size() == 1) {
            Response busy{503, "text/plain", "Service Unavailable"};
            busy.headers = {{"Retry-After", retryAfter}};
            return busy;
        }
        return {200, "application/json", sandboxJson(u"sb-1"_s, u"Running"_s)};
    };
    OpenSandboxConfig settings = config();
    // Far apart, so that a loaded machine does not blur them: the policy's own first wait
    // is about 20 ms, the most it allows 3 s.
    settings.retry.maxDelay = std::chrono::seconds(3);
    OpenSandboxClient client(settings);
    std::unique_ptr<SandboxJob> job(client.getSandbox(u"sb-1"_s));
    finish(job.get());
    QVERIFY2(!job->error(), qPrintable(job->error() ? job->error()->message : QString()));
    QCOMPARE(m_server->requests.size(), 2);
    const qint64 waited = m_server->requests.at(1).receivedMs - m_server->requests.at(0).receivedMs;
    if (honoured)
        QVERIFY2(waited >= 2800, qPrintable(QString::number(waited)));   // coarse timers fire up to 5% early
    else
        QVERIFY2(waited < 2000, qPrintable(QString::number(waited)));
}

void TestOpenSandboxClient::commandLogsCursorMustAdvance_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("nextCursor");
    QTest::addColumn<QString>("problem");   // empty: a good answer
    QTest::newRow("advances") << QByteArray("abc") << QByteArray("13") << QString();
    QTest::newRow("nothing new") << QByteArray() << QByteArray("10") << QString();
    QTest::newRow("stands still") << QByteArray("abc") << QByteArray("10")
                                  << u"the log cursor stayed at 10 after 3 bytes of output"_s;
    QTest::newRow("goes back") << QByteArray("abc") << QByteArray("4") << u"the log cursor went back from 10 to 4"_s;
    QTest::newRow("goes back, no output") << QByteArray() << QByteArray("0")
                                          << u"the log cursor went back from 10 to 0"_s;
}

// A reader of background logs asks again from the cursor it was given: one that stands
// still or goes back would hand it the same output at every read, for ever.
void TestOpenSandboxClient::commandLogsCursorMustAdvance()
{
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, nextCursor);
    QFETCH(QString, problem);
    m_server->handler = [&](const Request &) -> Response {
        Response logs{200, "text/plain; charset=utf-8", body};
        logs.headers = {{"EXECD-COMMANDS-TAIL-CURSOR", nextCursor}};
        return logs;
    };
    OpenSandboxClient client(config());
    std::unique_ptr<ResultJob<CommandLogs>> job(client.commandLogs({m_server->domain(), {}}, u"c1"_s, 10));
    finish(job.get());
    QCOMPARE(m_server->requests.first().query(), QByteArray("cursor=10"));
    if (problem.isEmpty()) {
        QVERIFY2(!job->error(), qPrintable(job->error() ? job->error()->message : QString()));
        QCOMPARE(job->result().data, body);
        QCOMPARE(job->result().nextCursor, nextCursor.toLongLong());
        return;
    }
    QVERIFY(job->error());
    QCOMPARE(job->error()->code, u"UNEXPECTED_RESPONSE"_s);
    QVERIFY2(job->error()->message.contains(problem), qPrintable(job->error()->message));
    QVERIFY(job->error()->message.contains(m_server->domain()));
}

// execd kills a command whose time is up and ends the stream; one that pings on instead
// (pings keep the silence limit from ever passing) is given up once the command's time
// and the request timeout have passed.
void TestOpenSandboxClient::streamWithoutFinalEventEndsAfterTheCommandTimeout()
{
    m_server->handler = [](const Request &) -> Response {
        return eventStream({R"({"type":"init","text":"c0ffee"})"}, 3000);   // a minute of pings
    };
    OpenSandboxConfig settings = config();
    settings.requestTimeout = std::chrono::milliseconds(500);
    OpenSandboxClient client(settings);
    CommandRequest request = echo();
    request.timeoutMs = 200;
    std::unique_ptr<CommandJob> job(client.runCommand({m_server->domain(), {}}, request));
    QElapsedTimer clock;
    clock.start();
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(job->error()->kind, JobError::Kind::Timeout);
    QVERIFY2(job->error()->message.startsWith(u"the stream of command c0ffee from the sandbox's execd at http://%1 "
                                              u"sent no final event within "_s.arg(m_server->domain())),
             qPrintable(job->error()->message));
    // Far below the minute of pings, whatever the machine's load.
    QVERIFY2(clock.elapsed() < 30'000, qPrintable(QString::number(clock.elapsed())));
}

// After the last event execd holds the stream a grace second; a server that streams on is
// not listened to for ever: its connection is closed after the request timeout.
void TestOpenSandboxClient::streamHeldOnAfterTheLastEventIsDropped()
{
    m_server->handler = [](const Request &) -> Response {
        return eventStream({R"({"type":"init","text":"c"})", R"({"type":"execution_complete"})"}, 250);
    };
    OpenSandboxConfig settings = config();
    settings.requestTimeout = std::chrono::milliseconds(500);
    OpenSandboxClient client(settings);
    std::unique_ptr<CommandJob> job(client.runCommand({m_server->domain(), {}}, echo()));
    finish(job.get());
    QVERIFY(!job->error());
    QCOMPARE(m_server->disconnections, 0);
    // The server would hold on for 65 s.
    QTRY_COMPARE_WITH_TIMEOUT(m_server->disconnections, 1, 30'000);
}

// An event line that never ends is refused at 64 MiB, without reading it again and again.
void TestOpenSandboxClient::eventLineWithoutEndIsCapped()
{
    m_server->handler = [](const Request &) -> Response {
        Response response;
        response.contentType = "text/event-stream";
        response.pieces.append(R"({"type":"init","text":"c"})" "\n\n");
        for (int i = 0; i < 66; ++i)
            response.pieces.append(QByteArray(1 << 20, 'x'));
        response.holdMs = 60'000;
        return response;
    };
    OpenSandboxClient client(config());
    std::unique_ptr<CommandJob> job(client.runCommand({m_server->domain(), {}}, echo()));
    QElapsedTimer clock;
    clock.start();
    finish(job.get());
    QVERIFY(job->error());
    QCOMPARE(job->error()->code, u"UNEXPECTED_RESPONSE"_s);
    QVERIFY2(job->error()->message.contains(u"an event line larger than 64 MiB"_s), qPrintable(job->error()->message));
    // 66 pieces 20 ms apart take 1.3 s to send; far below the server's 60 s hold after
    // them, whatever the machine's load.
    QVERIFY2(clock.elapsed() < 30'000, qPrintable(QString::number(clock.elapsed())));
}

// A server that trickles a line without end in small pieces: each piece is searched for
// the end of the line, not everything before it again, which on the event loop took time
// growing with the square of the line (minutes at 64 MiB in 4 KiB pieces).
void TestOpenSandboxClient::eventReaderReadsALongLineOnce()
{
    Internal::ExecdEventReader reader;
    const QByteArray piece(4096, 'x');
    int events = 0;
    const auto handler = [&events](const QJsonObject &) { ++events; };
    QElapsedTimer clock;
    clock.start();
    qsizetype fed = 0;
    while (fed + piece.size() <= 64 * 1024 * 1024) {
        QVERIFY(reader.add(piece, handler));
        fed += piece.size();
    }
    QVERIFY(!reader.add(piece, handler));
    // Reading it again at each piece takes many minutes; once, well under a second.
    QVERIFY2(clock.elapsed() < 60'000, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(events, 0);
}

// A create whose answer was lost looks for its sandbox by its label. A server that drops
// that filter lists sandboxes of others: the create neither takes nor deletes them.
void TestOpenSandboxClient::createTakesOnlyASandboxWithItsToken()
{
    SandboxKeeper keeper(*m_server);
    m_server->handler = [&](const Request &request) -> Response {
        if (request.method == "GET" && request.path() == "/v1/sandboxes") {
            QJsonArray items{QJsonObject{{u"id"_s, u"theirs"_s},
                                         {u"status"_s, QJsonObject{{u"state"_s, u"Running"_s}}},
                                         {u"metadata"_s, QJsonObject{{u"team"_s, u"b"_s}}}}};
            for (const QJsonObject &sandbox : std::as_const(keeper.sandboxes))
                items.append(sandbox);
            return {200, "application/json", json({{u"items"_s, items}})};
        }
        if (std::optional<Response> answer = keeper.answer(request))
            return *answer;
        keeper.make(request);
        return Response::dropped();
    };
    OpenSandboxClient client(config());
    OpenSandboxCreateRequest request;
    request.image = u"ubuntu"_s;
    std::unique_ptr<SandboxJob> job(client.createSandbox(request));
    finish(job.get());
    QVERIFY2(!job->error(), qPrintable(job->error() ? job->error()->message : QString()));
    QCOMPARE(job->result().id, u"sb-1"_s);
    QCOMPARE(sent(m_server->requests, "DELETE", "/v1/sandboxes/theirs").size(), 0);
    QCOMPARE(keeper.sandboxes.keys(), QStringList{u"sb-1"_s});
}

QTEST_GUILESS_MAIN(TestOpenSandboxClient)
#include "tst_opensandboxclient.moc"
