#include "stepjobs_p.h"

#include "stepoutputs_p.h"

#include <QBuffer>
#include <QDir>
#include <QFileInfo>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

void LineSplitter::add(CommandJob::Stream stream, const QByteArray &data)
{
    QByteArray &partial = m_partial[int(stream)];
    partial += data;
    qsizetype start = 0;
    for (qsizetype end = partial.indexOf('\n'); end >= 0; end = partial.indexOf('\n', start)) {
        qsizetype length = end - start;
        if (length > 0 && partial[end - 1] == '\r')
            --length;
        m_sink(stream, QString::fromUtf8(partial.constData() + start, length));
        start = end + 1;
    }
    partial.remove(0, start);
}

void LineSplitter::flush()
{
    for (const CommandJob::Stream stream : {CommandJob::Stream::Stdout, CommandJob::Stream::Stderr}) {
        QByteArray &partial = m_partial[int(stream)];
        if (!partial.isEmpty())
            m_sink(stream, QString::fromUtf8(partial));
        partial.clear();
    }
}

CommandStepJob::CommandStepJob(Runner *runner, QString sandboxId, CommandRequest request, LineSink lines,
                               StepFiles files)
    : m_runner(runner)
    , m_sandboxId(std::move(sandboxId))
    , m_request(std::move(request))
    , m_lines(std::move(lines))
    , m_files(std::move(files))
{
}

void CommandStepJob::doStart()
{
    m_command = m_runner->runCommand(m_sandboxId, m_request);
    connect(m_command, &CommandJob::output, this, [this](CommandJob::Stream stream, const QByteArray &data) {
        m_lines.add(stream, data);
    });
    connect(m_command, &AsyncJob::finished, this, [this](AsyncJob *command) {
        m_lines.flush();
        const std::optional<JobError> error = command->error();
        if (error && error->kind == JobError::Kind::Cancelled)
            finish(error);
        else
            readFiles(error);
    });
    m_command->start();
}

// The graceful interrupt: the command gets SIGTERM, then SIGKILL, and the job finishes
// when it has ended.
void CommandStepJob::doCancel()
{
    if (m_command)
        m_command->cancel();
    else
        finish(cancelledError());
}

// The files are read after a failure too: a step may say why it failed.
void CommandStepJob::readFiles(std::optional<JobError> commandError)
{
    readFile(m_files.outputs, u"$SANDFLOW_OUTPUT"_s, &m_outputs, commandError, [this, commandError] {
        readFile(m_files.env, u"$SANDFLOW_ENV"_s, &m_addedEnv, commandError, [this, commandError] {
            finish(commandError);
        });
    });
}

// The file is the sandbox's to fill, so no more of it is read than it may hold: one byte past
// the limit tells that it was over. Then `next`, unless the step fails here.
void CommandStepJob::readFile(const QString &path, const QString &variable, QJsonObject *into,
                              const std::optional<JobError> &commandError, std::function<void()> next)
{
    if (path.isEmpty())
        return next();
    FileReadJob *read = m_runner->downloadFile(m_sandboxId, path, 0, MaxOutputsBytes + 1);
    auto content = std::make_shared<QByteArray>();
    connect(read, &FileReadJob::data, this, [content](const QByteArray &bytes) {
        content->append(bytes.left(MaxOutputsBytes + 1 - content->size()));
    });
    connect(read, &AsyncJob::finished, this, [this, content, commandError, variable, into, next](AsyncJob *job) {
        // A step that wrote nothing has no file.
        if (job->error() && !isFileNotFound(*job->error())) {
            finish(commandError ? commandError : job->error());
            return;
        }
        if (content->size() > MaxOutputsBytes) {
            finish(commandError ? commandError
                                : JobError{JobError::Kind::Task, u"STEP_OUTPUTS_TOO_LARGE"_s,
                                           u"the step wrote more than %1 MiB to %2: it is for short values; write "
                                           u"files and download them instead"_s
                                               .arg(MaxOutputsBytes >> 20).arg(variable),
                                           {{u"limitBytes"_s, MaxOutputsBytes}}});
            return;
        }
        *into = parseStepOutputs(*content);
        next();
    });
    read->start();
}

UploadStepJob::UploadStepJob(Runner *runner, QString sandboxId, QString from, QString to)
    : m_runner(runner)
    , m_sandboxId(std::move(sandboxId))
    , m_from(std::move(from))
    , m_to(std::move(to))
{
}

UploadStepJob::UploadStepJob(Runner *runner, QString sandboxId, QByteArray content, QString to, int mode)
    : m_runner(runner)
    , m_sandboxId(std::move(sandboxId))
    , m_to(std::move(to))
    , m_content(std::move(content))
    , m_mode(mode)
{
}

UploadStepJob::~UploadStepJob() = default;

static FilePermissions permissionsOf(const QFileInfo &file)
{
    FilePermissions permissions;
    // QFile's flags repeat the owner's bits as "user" bits; the mode is rebuilt from the
    // owner, group and other ones.
    const QFile::Permissions flags = file.permissions();
    const std::pair<QFile::Permission, int> bits[] = {
        {QFile::ReadOwner, 0400}, {QFile::WriteOwner, 0200}, {QFile::ExeOwner, 0100},
        {QFile::ReadGroup, 040},  {QFile::WriteGroup, 020},  {QFile::ExeGroup, 010},
        {QFile::ReadOther, 04},   {QFile::WriteOther, 02},   {QFile::ExeOther, 01}};
    for (const auto &bit : bits) {
        if (flags.testFlag(bit.first))
            permissions.mode |= bit.second;
    }
    return permissions;
}

void UploadStepJob::doStart()
{
    if (m_content) {
        auto *buffer = new QBuffer;
        buffer->setData(*m_content);
        buffer->open(QIODevice::ReadOnly);
        FilePermissions permissions;
        permissions.mode = m_mode;
        send(m_runner->uploadFile(m_sandboxId, m_to, permissions, buffer));
        m_content.reset();
        return;
    }
    const QFileInfo source(m_from);
    if (source.isDir()) {
        m_walk = std::make_unique<QDirIterator>(m_from, QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot,
                                                QDirIterator::Subdirectories);
        FilePermissions permissions = permissionsOf(source);
        send(m_runner->makeDirectory(m_sandboxId, m_to, permissions));
        return;
    }
    // A `to` that ends with `/` is a directory, as with `cp`: the file goes in it by its name.
    sendFile(source, m_to.endsWith(u'/') ? m_to + source.fileName() : m_to);
}

void UploadStepJob::sendFile(const QFileInfo &source, const QString &target)
{
    auto *file = new QFile(source.filePath());
    if (!file->open(QIODevice::ReadOnly)) {
        const QString reason = file->errorString();
        delete file;
        finish(JobError{JobError::Kind::Invalid, u"UPLOAD_SOURCE_UNREADABLE"_s,
                        u"cannot read `%1`: %2"_s.arg(source.filePath(), reason), {{u"path"_s, source.filePath()}}});
        return;
    }
    send(m_runner->uploadFile(m_sandboxId, target, permissionsOf(source), file));
}

void UploadStepJob::send(AsyncJob *job)
{
    connect(job, &AsyncJob::finished, this, [this](AsyncJob *done) {
        if (done->error())
            finish(done->error());
        else
            uploadNext();
    });
    job->start();
}

// One entry of the tree at a time, so a tree of any size costs one open file.
void UploadStepJob::uploadNext()
{
    if (!m_walk || !m_walk->hasNext()) {
        finish();
        return;
    }
    const QString path = m_walk->next();
    const QFileInfo entry = m_walk->fileInfo();
    const QString target = m_to + u'/' + QDir(m_from).relativeFilePath(path);
    if (entry.isDir()) {
        send(m_runner->makeDirectory(m_sandboxId, target, permissionsOf(entry)));
        return;
    }
    sendFile(entry, target);
}

namespace {

/// How deep a directory is listed for its download: any real tree, and a bound on how
/// many levels a hostile listing can make.
constexpr int DownloadDepth = 4096;

} // namespace

DownloadStepJob::DownloadStepJob(Runner *runner, QString sandboxId, QString from, QString to)
    : m_runner(runner)
    , m_sandboxId(std::move(sandboxId))
    , m_from(QDir::cleanPath(from))
    , m_to(std::move(to))
{
}

void DownloadStepJob::doStart()
{
    auto *info = m_runner->fileInfo(m_sandboxId, {m_from});
    connect(info, &AsyncJob::finished, this, [this, info] {
        if (info->error()) {
            finish(info->error());
            return;
        }
        if (info->result().size() != 1) {
            finish(JobError{JobError::Kind::Invalid, u"DOWNLOAD_BAD_LISTING"_s,
                            u"the sandbox described %1 files for `%2`"_s.arg(info->result().size()).arg(m_from),
                            {{u"source"_s, m_from}}});
            return;
        }
        if (info->result().first().type == FileInfo::Type::Directory)
            downloadDirectory();
        else
            downloadSingleFile(downloadedMode(info->result().first().mode));
    });
    info->start();
}

// The file goes where the user named it: the directories on the way are theirs to choose,
// links among them, and are followed. The name itself is the one thing the download makes,
// so a link found there is not the user's choice of place (it may have been planted, by a
// sandbox sharing the directory through a volume, say): it is refused, not written through.
void DownloadStepJob::downloadSingleFile(int mode)
{
    const QFileInfo file(m_to);
    if (!isPlainName(file.fileName())) {
        targetUnwritable(u"`%1` names no file"_s.arg(m_to), m_to);
        return;
    }
    if (!openDestination(file.path()))
        return;
    m_files.append({m_from, {file.fileName()}, mode});
    downloadNext();
}

void DownloadStepJob::downloadDirectory()
{
    // Listing paths are absolute, so only an absolute source tells what is below it.
    if (QDir::isRelativePath(m_from)) {
        finish(JobError{JobError::Kind::Invalid, u"DOWNLOAD_SOURCE_NOT_ABSOLUTE"_s,
                        u"cannot download the directory `%1`: its path is not absolute"_s.arg(m_from),
                        {{u"source"_s, m_from}}});
        return;
    }
    auto *listing = m_runner->listDirectory(m_sandboxId, m_from, DownloadDepth);
    connect(listing, &AsyncJob::finished, this, [this, listing] {
        if (listing->error()) {
            finish(listing->error());
            return;
        }
        DownloadTree tree;
        if (std::optional<JobError> refusal = downloadTreeFromListing(m_from, listing->result(), DownloadDepth, &tree)) {
            finish(std::move(refusal));
            return;
        }
        if (!openDestination(m_to))
            return;
        QString problem;
        for (const QStringList &directory : std::as_const(tree.directories)) {
            if (!m_destination->makeDirectory(directory, &problem)) {
                targetUnwritable(problem, m_to);
                return;
            }
        }
        m_files = std::move(tree.files);
        downloadNext();
    });
    listing->start();
}

bool DownloadStepJob::openDestination(const QString &path)
{
    QString problem;
    m_destination = HostDirectory::open(path, &problem);
    if (!m_destination)
        targetUnwritable(problem, path);
    return m_destination.has_value();
}

void DownloadStepJob::downloadNext()
{
    if (m_files.isEmpty()) {
        finish();
        return;
    }
    const DownloadTree::File next = m_files.takeFirst();
    m_filePath = QDir(m_destination->path()).filePath(next.names.join(u'/'));
    QString problem;
    m_file = m_destination->createFile(next.names, next.mode, &problem);
    if (!m_file) {
        targetUnwritable(problem, m_destination->path());
        return;
    }
    FileReadJob *read = m_runner->downloadFile(m_sandboxId, next.sandboxPath, 0, -1);
    // A full disk or a size limit is the host's failure, and the file is incomplete: the
    // read stops, and the step fails naming the file.
    connect(read, &FileReadJob::data, this, [this, read](const QByteArray &bytes) {
        if (m_writeProblem.isEmpty() && m_file->write(bytes) != bytes.size()) {
            m_writeProblem = u"cannot write `%1`: %2"_s.arg(m_filePath, m_file->errorString());
            read->cancel();
        }
    });
    connect(read, &AsyncJob::finished, this, [this](AsyncJob *job) {
        // Buffered bytes are written at close, and may fail there.
        if (!m_file->flush() && m_writeProblem.isEmpty())
            m_writeProblem = u"cannot write `%1`: %2"_s.arg(m_filePath, m_file->errorString());
        m_file->close();
        if (!m_writeProblem.isEmpty())
            targetUnwritable(m_writeProblem, m_filePath);
        else if (job->error())
            finish(job->error());
        else
            downloadNext();
    });
    read->start();
}

void DownloadStepJob::targetUnwritable(const QString &problem, const QString &path)
{
    finish(JobError{JobError::Kind::Invalid, u"DOWNLOAD_TARGET_UNWRITABLE"_s, problem, {{u"path"_s, path}}});
}

} // namespace Sandflow::Internal
