// The execd API of one sandbox, served by the server itself for the proxy route's port
// 44772: every route answers as execd does, over the Runner interface.
#include "commandstream_p.h"
#include "downloadpump_p.h"
#include "execddownload_p.h"
#include "execderror_p.h"
#include "execdjson_p.h"
#include "execdrequests_p.h"
#include "execdupload_p.h"
#include "execdwire_p.h"
#include "runner.h"
#include "ptysessions_p.h"
#include "serverroutes_p.h"

#include <QBuffer>
#include <QDeadlineTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QTimer>

#include <memory>

using namespace Qt::StringLiterals;

namespace Sandflow::Internal {

namespace {

/// Gin's answer for a route execd does not have.
void respondNoExecdRoute(HttpExchange *exchange)
{
    exchange->respond(404, "text/plain", "404 page not found");
}

bool isNotFound(const JobError &error)
{
    return error.code == u"NOT_FOUND"_s;
}

/// Answers an error about the sandbox itself (gone, paused) as every route of it does;
/// whether `error` was one.
bool respondedSandboxError(HttpExchange *exchange, const JobError &error)
{
    const std::optional<ApiError> sandboxError = sandboxStateError(error);
    if (sandboxError)
        respondApiError(exchange, *sandboxError);
    return sandboxError.has_value();
}

/// execd's answer for a runner error: a missing file is 404, a malformed argument 400, and
/// everything else (permissions, a directory where a file belongs, ...) a runtime error.
void respondRunnerError(HttpExchange *exchange, const JobError &error)
{
    if (respondedSandboxError(exchange, error))
        return;
    if (isNotFound(error))
        return respondApiError(exchange, execdError(404, u"FILE_NOT_FOUND"_s, error.message));
    if (error.code == u"INVALID_ARGUMENT"_s)
        return respondApiError(exchange, execdError(400, u"INVALID_REQUEST_BODY"_s, error.message));
    respondApiError(exchange, execdError(500, u"RUNTIME_ERROR"_s, error.message));
}

template <typename Value>
bool failed(HttpExchange *exchange, const Parsed<Value> &result)
{
    if (result.ok())
        return false;
    respondApiError(exchange, result.error());
    return true;
}

/// Runs one job per item, one after the other; calls `done` when all succeeded (by default
/// it answers 200 with an empty body), or answers with the first error. `skip` says which
/// errors do not count (a missing file for DELETE).
template <typename Item>
void runEach(HttpExchange *exchange, std::shared_ptr<const QList<Item>> items, qsizetype next,
             std::function<AsyncJob *(const Item &)> makeJob, std::function<bool(const JobError &)> skip,
             std::function<void(HttpExchange *)> done)
{
    if (next == items->size())
        return done ? done(exchange) : exchange->respondEmpty(200);
    whenFinished<AsyncJob>(exchange, makeJob(items->at(next)), [=](HttpExchange *exchange, AsyncJob *job) {
        if (job->error() && !(skip && skip(*job->error())))
            return respondRunnerError(exchange, *job->error());
        runEach(exchange, items, next + 1, makeJob, skip, done);
    });
}

/// Runs one job per item, one after the other; calls `done` when all succeeded (by default
/// it answers 200 with an empty body), or answers with the first error. `skip` says which
/// errors do not count (a missing file for DELETE).
template <typename Item>
void runEach(HttpExchange *exchange, QList<Item> items, std::function<AsyncJob *(const Item &)> makeJob,
             std::function<bool(const JobError &)> skip = {}, std::function<void(HttpExchange *)> done = {})
{
    runEach<Item>(exchange, std::make_shared<const QList<Item>>(std::move(items)), 0, std::move(makeJob),
                  std::move(skip), std::move(done));
}

/// A part of a request body as a device, keeping the body alive as long as it is read.
class BodySlice final : public QBuffer
{
public:
    BodySlice(const QByteArray &body, qsizetype offset, qsizetype length)
        : m_body(body)
    {
        setData(QByteArray::fromRawData(m_body.constData() + offset, length));
        open(QIODevice::ReadOnly);
    }

private:
    QByteArray m_body;
};

void ping(const ServerContext &context, HttpExchange *exchange, const QString &id)
{
    // A paused sandbox's execd is frozen and cannot answer; clients wait for it by pinging.
    whenFinished<SandboxJob>(exchange, context.runner->getSandbox(id), [](HttpExchange *exchange, SandboxJob *job) {
        if (job->error())
            return respondRunnerError(exchange, *job->error());
        if (job->result().state != SandboxState::Running)
            return respondApiError(exchange, execdError(503, u"RUNTIME_ERROR"_s,
                                                u"the sandbox is "_s + sandboxStateName(job->result().state).toLower()));
        exchange->respondEmpty(200);
    });
}

/// execd refuses a command whose working directory is not a directory before it starts
/// anything (400), so `start` runs only once `cwd` is known to be one.
void withWorkingDirectory(const ServerContext &context, HttpExchange *exchange, const QString &id, const QString &cwd,
                          std::function<void(HttpExchange *)> start)
{
    if (cwd.isEmpty())
        return start(exchange);
    whenFinished<ResultJob<QList<FileInfo>>>(exchange, context.runner->fileInfo(id, {cwd}),
                                             [cwd, start](HttpExchange *exchange, ResultJob<QList<FileInfo>> *job) {
        if (job->error() && !isNotFound(*job->error()))
            return respondRunnerError(exchange, *job->error());
        if (job->error() || job->result().value(0).type != FileInfo::Type::Directory)
            return respondApiError(exchange, invalidRequestBody(u"working directory %1 is not a directory"_s.arg(cwd)));
        start(exchange);
    });
}

void runCommand(const ServerContext &context, HttpExchange *exchange, const QString &id)
{
    const auto parsed = parseCommandBody(exchange->request().body);
    if (failed(exchange, parsed))
        return;
    Runner *runner = context.runner;
    CommandRequest request = parsed.value();
    request.shell = CommandRequest::Shell::Bash;
    withWorkingDirectory(context, exchange, id, request.cwd, [runner, id, request](HttpExchange *exchange) {
        new CommandStream(exchange, runner->runCommand(id, request), CommandStream::Kind::Command);
    });
}

/// execd answers an interrupt once the command has ended: it sends SIGTERM, polls the
/// process group for up to 3 s, then sends SIGKILL. The runner sends the signals; this polls
/// until the command is over, a little past the SIGKILL, which nothing outlives for long.
void answerOnceEnded(HttpExchange *exchange, Runner *runner, const QString &id, const QString &commandId,
                     QDeadlineTimer deadline)
{
    whenFinished<ResultJob<CommandStatus>>(exchange, runner->commandStatus(id, commandId),
                                           [runner, id, commandId, deadline](HttpExchange *exchange,
                                                                            ResultJob<CommandStatus> *job) {
        if (job->error() || !job->result().running || deadline.hasExpired())
            return exchange->respondEmpty(200);
        QTimer::singleShot(100, exchange, [exchange, runner, id, commandId, deadline] {
            answerOnceEnded(exchange, runner, id, commandId, deadline);
        });
    });
}

void interruptCommand(const ServerContext &context, HttpExchange *exchange, const QString &id)
{
    const QStringList commandIds = queryValues(exchange->request().encodedQuery, "id");
    if (commandIds.isEmpty() || commandIds.first().isEmpty())
        return respondApiError(exchange, execdError(400, u"MISSING_QUERY"_s, u"missing query parameter 'id'"_s));
    Runner *runner = context.runner;
    const QString commandId = commandIds.first();
    whenFinished<AsyncJob>(exchange, runner->interruptCommand(id, commandId), [runner, id, commandId](HttpExchange *exchange, AsyncJob *job) {
        if (!job->error())
            return answerOnceEnded(exchange, runner, id, commandId, QDeadlineTimer(std::chrono::seconds(5)));
        if (respondedSandboxError(exchange, *job->error()))
            return;
        if (job->error()->code != u"COMMAND_NOT_FOUND"_s)
            return respondApiError(exchange, execdError(500, u"RUNTIME_ERROR"_s, job->error()->message));
        // execd interrupts a bash session with the same route: it closes it.
        whenFinished<AsyncJob>(exchange, runner->deleteSession(id, commandId), [message = job->error()->message](HttpExchange *exchange, AsyncJob *job) {
            if (job->error())
                return respondApiError(exchange, execdError(500, u"RUNTIME_ERROR"_s, message));
            exchange->respondEmpty(200);
        });
    });
}

void commandStatus(const ServerContext &context, HttpExchange *exchange, const QString &id, const QString &commandId)
{
    whenFinished<ResultJob<CommandStatus>>(exchange, context.runner->commandStatus(id, commandId),
                                           [](HttpExchange *exchange, ResultJob<CommandStatus> *job) {
        if (job->error() && respondedSandboxError(exchange, *job->error()))
            return;
        if (job->error())
            return respondApiError(exchange, execdError(404, u"INVALID_REQUEST_BODY"_s, job->error()->message));
        exchange->respondJson(200, commandStatusJson(job->result()));
    });
}

void commandLogs(const ServerContext &context, HttpExchange *exchange, const QString &id, const QString &commandId)
{
    // Without a cursor, or with one that is not a number, execd reads from the start.
    const qint64 cursor = qMax<qint64>(0, queryValues(exchange->request().encodedQuery, "cursor").value(0).toLongLong());
    whenFinished<ResultJob<CommandLogs>>(exchange, context.runner->commandLogs(id, commandId, cursor),
                                         [](HttpExchange *exchange, ResultJob<CommandLogs> *job) {
        if (job->error() && respondedSandboxError(exchange, *job->error()))
            return;
        if (job->error())
            return respondApiError(exchange, execdError(400, u"INVALID_REQUEST_BODY"_s, job->error()->message));
        exchange->respond(200, "text/plain; charset=utf-8", job->result().data,
                          {{"EXECD-COMMANDS-TAIL-CURSOR", QByteArray::number(job->result().nextCursor)}});
    });
}

void createSession(const ServerContext &context, HttpExchange *exchange, const QString &id)
{
    const auto cwd = parseSessionBody(exchange->request().body);
    if (failed(exchange, cwd))
        return;
    whenFinished<ResultJob<QString>>(exchange, context.runner->createSession(id, cwd.value()), [](HttpExchange *exchange, ResultJob<QString> *job) {
        if (job->error())
            return respondRunnerError(exchange, *job->error());
        exchange->respondJson(200, QJsonObject{{u"session_id"_s, job->result()}});
    });
}

void runInSession(const ServerContext &context, HttpExchange *exchange, const QString &id, const QString &sessionId)
{
    const auto request = parseSessionRunBody(exchange->request().body);
    if (failed(exchange, request))
        return;
    Runner *runner = context.runner;
    withWorkingDirectory(context, exchange, id, request->cwd, [runner, id, sessionId, request = request.value()](HttpExchange *exchange) {
        new CommandStream(exchange, runner->runInSession(id, sessionId, request), CommandStream::Kind::Session, sessionId);
    });
}

void deleteSession(const ServerContext &context, HttpExchange *exchange, const QString &id, const QString &sessionId)
{
    whenFinished<AsyncJob>(exchange, context.runner->deleteSession(id, sessionId), [](HttpExchange *exchange, AsyncJob *job) {
        if (job->error() && respondedSandboxError(exchange, *job->error()))
            return;
        if (job->error())
            return respondApiError(exchange, execdError(404, u"CONTEXT_NOT_FOUND"_s, job->error()->message));
        exchange->respondEmpty(200);
    });
}

// PTY sessions (ptysessions_p.h). The session is made once the sandbox is known to be
// there and its working directory made, as upstream makes a missing one.
void createPtySession(const ServerContext &context, HttpExchange *exchange, const QString &id)
{
    Parsed<PtyRequest> request = parsePtyBody(exchange->request().body);
    if (failed(exchange, request))
        return;
    PtySessions *sessions = context.ptySessions;
    const auto create = [sessions, id, request = std::move(request).value()](HttpExchange *exchange) {
        PtySession *session = sessions->create(id, request);
        if (!session)
            return respondApiError(exchange, execdError(429, u"TOO_MANY_SESSIONS"_s,
                                                        u"the sandbox has %1 pty sessions; delete one first"_s
                                                            .arg(PtySessions::MaxPerSandbox)));
        exchange->respondJson(201, QJsonObject{{u"session_id"_s, session->id()}});
    };
    Runner *runner = context.runner;
    whenFinished<SandboxJob>(exchange, runner->getSandbox(id), [runner, id, cwd = request->cwd, create](HttpExchange *exchange, SandboxJob *job) {
        if (job->error())
            return respondRunnerError(exchange, *job->error());
        if (cwd.isEmpty())
            return create(exchange);
        FilePermissions permissions;
        permissions.mode = 0777;
        whenFinished<AsyncJob>(exchange, runner->makeDirectory(id, cwd, permissions), [create](HttpExchange *exchange, AsyncJob *job) {
            if (job->error())
                return respondApiError(exchange, execdError(500, u"RUNTIME_ERROR"_s,
                                                            u"error creating pty session: "_s + job->error()->message));
            create(exchange);
        });
    });
}

void routePty(const ServerContext &context, HttpExchange *exchange, const QString &id, const QStringList &segments)
{
    const QByteArray &method = exchange->request().method;
    if (segments.size() == 1 && method == "POST")
        return createPtySession(context, exchange, id);
    if (segments.size() < 2 || segments.size() > 3 || (segments.size() == 3 && segments.at(2) != u"ws"_s))
        return respondNoExecdRoute(exchange);
    const QString &sessionId = segments.at(1);
    PtySession *session = context.ptySessions->find(id, sessionId);
    const ApiError notFound = execdError(404, u"CONTEXT_NOT_FOUND"_s, u"pty session %1 not found"_s.arg(sessionId));
    if (segments.size() == 3) {
        // A WebSocket handshake never gets here (SandboxServer takes it): this is a plain
        // GET, answered as the WebSocket library upstream uses answers one.
        if (method != "GET")
            return respondNoExecdRoute(exchange);
        if (!session)
            return respondApiError(exchange, notFound);
        return exchange->respond(400, "text/plain; charset=utf-8", "Bad Request\n", {{"Sec-Websocket-Version", "13"}});
    }
    if (method == "GET") {
        if (!session)
            return respondApiError(exchange, notFound);
        return exchange->respondJson(200, QJsonObject{{u"session_id"_s, session->id()},
                                                      {u"running"_s, session->isRunning()},
                                                      {u"output_offset"_s, session->outputOffset()}});
    }
    if (method == "DELETE") {
        if (!context.ptySessions->remove(id, sessionId))
            return respondApiError(exchange, notFound);
        return exchange->respondEmpty(200);
    }
    respondNoExecdRoute(exchange);
}

void fileInfo(const ServerContext &context, HttpExchange *exchange, const QString &id)
{
    const auto paths = parsePathQuery(exchange->request().encodedQuery);
    if (failed(exchange, paths))
        return;
    whenFinished<ResultJob<QList<FileInfo>>>(exchange, context.runner->fileInfo(id, paths.value()),
                                             [paths = paths.value()](HttpExchange *exchange, ResultJob<QList<FileInfo>> *job) {
        if (job->error())
            return respondRunnerError(exchange, *job->error());
        // Keyed by each path as the client sent it.
        QJsonObject answer;
        for (qsizetype i = 0; i < job->result().size() && i < paths.size(); ++i)
            answer.insert(paths.at(i), fileInfoJson(job->result().at(i)));
        exchange->respondJson(200, answer);
    });
}

void respondFileList(const ServerContext &, HttpExchange *exchange, ResultJob<QList<FileInfo>> *job)
{
    whenFinished<ResultJob<QList<FileInfo>>>(exchange, job, [](HttpExchange *exchange, ResultJob<QList<FileInfo>> *job) {
        if (job->error())
            return respondRunnerError(exchange, *job->error());
        QJsonArray answer;
        for (const FileInfo &info : job->result())
            answer.append(fileInfoJson(info));
        exchange->respondJson(200, answer);
    });
}

void searchFiles(const ServerContext &context, HttpExchange *exchange, const QString &id)
{
    const QByteArray &query = exchange->request().encodedQuery;
    const QString directory = queryValues(query, "path").value(0);
    if (directory.isEmpty())
        return respondApiError(exchange, execdError(400, u"MISSING_QUERY"_s, u"missing query parameter 'path'"_s));
    const QString pattern = queryValues(query, "pattern").value(0, u"**"_s);
    respondFileList(context, exchange, context.runner->searchFiles(id, directory, pattern.isEmpty() ? u"**"_s : pattern));
}

void listDirectory(const ServerContext &context, HttpExchange *exchange, const QString &id)
{
    const QByteArray &query = exchange->request().encodedQuery;
    const QString directory = queryValues(query, "path").value(0);
    if (directory.isEmpty())
        return respondApiError(exchange, execdError(400, u"MISSING_QUERY"_s, u"missing query parameter 'path'"_s));
    const QStringList depthValues = queryValues(query, "depth");
    bool ok = true;
    const int depth = depthValues.isEmpty() ? 1 : depthValues.first().toInt(&ok);
    if (!ok || depth < 0)
        return respondApiError(exchange, invalidRequestBody(u"depth must be a non-negative integer"_s));
    if (depth == 0)
        return exchange->respondJson(200, QJsonArray());
    respondFileList(context, exchange, context.runner->listDirectory(id, directory, depth));
}

void replaceInFiles(const ServerContext &context, HttpExchange *exchange, const QString &id)
{
    const auto replacements = parseReplaceBody(exchange->request().body);
    if (failed(exchange, replacements))
        return;
    const bool verbose = queryValues(exchange->request().encodedQuery, "verbose").value(0) == u"true"_s;
    auto counts = std::make_shared<QJsonObject>();
    Runner *runner = context.runner;
    runEach<FileReplacement>(
        exchange, replacements.value(),
        [runner, id, counts](const FileReplacement &item) {
            auto *job = runner->replaceInFile(id, item.path, item.before, item.after);
            QObject::connect(job, &AsyncJob::finished, job, [job, counts, path = item.path] {
                if (!job->error())
                    counts->insert(path, QJsonObject{{u"replacedCount"_s, job->result()}});
            });
            return job;
        },
        {},
        [verbose, counts](HttpExchange *exchange) {
            // Keyed by each path as the client sent it.
            verbose ? exchange->respondJson(200, *counts) : exchange->respondEmpty(200);
        });
}

void upload(const ServerContext &context, HttpExchange *exchange, const QString &id)
{
    const QByteArray body = exchange->request().body;
    const auto items = parseUpload(exchange->request().header("content-type"), body);
    if (failed(exchange, items))
        return;
    Runner *runner = context.runner;
    runEach<UploadItem>(exchange, items.value(), [runner, id, body](const UploadItem &item) -> AsyncJob * {
        // Each file is read straight out of the request body, without a copy.
        return runner->uploadFile(id, item.path, item.permissions, new BodySlice(body, item.offset, item.length));
    });
}

void download(const ServerContext &context, HttpExchange *exchange, const QString &id)
{
    const QString path = queryValues(exchange->request().encodedQuery, "path").value(0);
    if (path.isEmpty())
        return respondApiError(exchange, execdError(400, u"MISSING_QUERY"_s, u"missing query parameter 'path'"_s));
    Runner *runner = context.runner;
    whenFinished<ResultJob<QList<FileInfo>>>(exchange, runner->fileInfo(id, {path}), [runner, id, path](HttpExchange *exchange, ResultJob<QList<FileInfo>> *job) {
        if (job->error())
            return respondRunnerError(exchange, *job->error());
        const FileInfo info = job->result().value(0);
        if (info.type == FileInfo::Type::Directory)
            return respondApiError(exchange, execdError(400, u"INVALID_FILE"_s, path + u" is a directory"_s));
        if (info.type == FileInfo::Type::Symlink) {
            // The link's own size says nothing of its target's, which the read follows: the
            // whole target goes out chunked.
            exchange->beginStream(200, "application/octet-stream",
                                  {{"Content-Disposition", contentDispositionAttachment(QFileInfo(path).fileName())}});
            new DownloadPump(runner, exchange, id, path, 0, -1);
            return;
        }
        const ByteRange range = parseRange(exchange->request().header("range"), info.size);
        if (range.kind == ByteRange::Kind::Malformed)
            return respondApiError(exchange, execdError(416, u"UNKNOWN"_s, {}));
        // The spec's 416 is an ErrorResponse (Go's ServeContent, behind upstream's execd,
        // answers plain text): the code of the malformed case, and why.
        if (range.kind == ByteRange::Kind::Unsatisfiable)
            return exchange->respondJson(
                416,
                execdError(416, u"UNKNOWN"_s,
                           u"the range %1 starts past the end of the file (%2 bytes)"_s.arg(
                               QString::fromLatin1(exchange->request().header("range")), QString::number(info.size)))
                    .body,
                {{"Content-Range", unsatisfiedContentRange(info.size)}});
        HttpHeaders headers{{"Content-Disposition", contentDispositionAttachment(QFileInfo(path).fileName())},
                            {"Accept-Ranges", "bytes"}};
        const bool partial = range.kind == ByteRange::Kind::Partial;
        if (partial)
            headers.append({"Content-Range", contentRange(range.offset, range.length, info.size)});
        exchange->beginStream(partial ? 206 : 200, "application/octet-stream", headers, range.length);
        if (range.length == 0)
            return exchange->endStream();
        new DownloadPump(runner, exchange, id, path, range.offset, range.length);
    });
}

void metrics(const ServerContext &context, HttpExchange *exchange, const QString &id)
{
    whenFinished<ResultJob<SandboxMetrics>>(exchange, context.runner->metrics(id), [](HttpExchange *exchange, ResultJob<SandboxMetrics> *job) {
        if (job->error())
            return respondRunnerError(exchange, *job->error());
        exchange->respondJson(200, metricsJson(job->result()));
    });
}

/// Routes under /files.
void routeFiles(const ServerContext &context, HttpExchange *exchange, const QString &id, const QString &action)
{
    const QByteArray &method = exchange->request().method;
    Runner *runner = context.runner;
    if (action.isEmpty() && method == "DELETE") {
        const auto paths = parsePathQuery(exchange->request().encodedQuery);
        if (failed(exchange, paths))
            return;
        // execd ignores paths that do not exist.
        return runEach<QString>(exchange, paths.value(), [runner, id](const QString &path) { return runner->removeFile(id, path); },
                                isNotFound);
    }
    if (action == u"info"_s && method == "GET")
        return fileInfo(context, exchange, id);
    if (action == u"search"_s && method == "GET")
        return searchFiles(context, exchange, id);
    if (action == u"download"_s && method == "GET")
        return download(context, exchange, id);
    if (action == u"upload"_s && method == "POST")
        return upload(context, exchange, id);
    if (action == u"replace"_s && method == "POST")
        return replaceInFiles(context, exchange, id);
    if (action == u"permissions"_s && method == "POST") {
        const auto items = parsePermissionsBody(exchange->request().body);
        if (failed(exchange, items))
            return;
        return runEach<PathPermissions>(exchange, items.value(), [runner, id](const PathPermissions &item) {
            return runner->setPermissions(id, item.path, item.permissions);
        });
    }
    if (action == u"mv"_s && method == "POST") {
        const auto moves = parseMoveBody(exchange->request().body);
        if (failed(exchange, moves))
            return;
        // execd makes the destination's missing parents; a move then renames.
        QList<FileMove> steps;
        for (const FileMove &move : moves.value()) {
            steps.append({QString(), QFileInfo(move.destination).path()});
            steps.append(move);
        }
        return runEach<FileMove>(exchange, steps, [runner, id](const FileMove &step) -> AsyncJob * {
            if (step.source.isEmpty())
                return runner->makeDirectory(id, step.destination, {});
            return runner->moveFile(id, step.source, step.destination);
        });
    }
    respondNoExecdRoute(exchange);
}

void routeDirectories(const ServerContext &context, HttpExchange *exchange, const QString &id, const QString &action)
{
    const QByteArray &method = exchange->request().method;
    Runner *runner = context.runner;
    if (action == u"list"_s && method == "GET")
        return listDirectory(context, exchange, id);
    if (action.isEmpty() && method == "POST") {
        const auto items = parsePermissionsBody(exchange->request().body);
        if (failed(exchange, items))
            return;
        return runEach<PathPermissions>(exchange, items.value(), [runner, id](const PathPermissions &item) {
            return runner->makeDirectory(id, item.path, item.permissions);
        });
    }
    if (action.isEmpty() && method == "DELETE") {
        const auto paths = parsePathQuery(exchange->request().encodedQuery);
        if (failed(exchange, paths))
            return;
        // rm -rf: a directory that is not there is fine.
        return runEach<QString>(exchange, paths.value(), [runner, id](const QString &path) { return runner->removeDirectory(id, path); },
                                isNotFound);
    }
    respondNoExecdRoute(exchange);
}

} // namespace

void routeExecd(const ServerContext &context, HttpExchange *exchange, const QString &id, const QStringList &segments)
{
    const QByteArray &method = exchange->request().method;
    const QString first = segments.value(0);
    const QString second = segments.value(1);
    if (segments == QStringList{u"ping"_s} && method == "GET")
        return ping(context, exchange, id);
    if (first == u"command"_s) {
        if (segments.size() == 1 && method == "POST")
            return runCommand(context, exchange, id);
        if (segments.size() == 1 && method == "DELETE")
            return interruptCommand(context, exchange, id);
        if (segments.size() == 3 && second == u"status"_s && method == "GET")
            return commandStatus(context, exchange, id, segments.at(2));
        if (segments.size() == 3 && segments.at(2) == u"logs"_s && method == "GET")
            return commandLogs(context, exchange, id, second);
    }
    if (first == u"session"_s) {
        if (segments.size() == 1 && method == "POST")
            return createSession(context, exchange, id);
        if (segments.size() == 2 && method == "DELETE")
            return deleteSession(context, exchange, id, second);
        if (segments.size() == 3 && segments.at(2) == u"run"_s && method == "POST")
            return runInSession(context, exchange, id, second);
    }
    if (first == u"pty"_s)
        return routePty(context, exchange, id, segments);
    if (first == u"files"_s && segments.size() <= 2)
        return routeFiles(context, exchange, id, second);
    if (first == u"directories"_s && segments.size() <= 2)
        return routeDirectories(context, exchange, id, second);
    if (segments == QStringList{u"metrics"_s} && method == "GET")
        return metrics(context, exchange, id);
    respondNoExecdRoute(exchange);
}

} // namespace Sandflow::Internal
