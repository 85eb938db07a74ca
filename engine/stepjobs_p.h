// The built-in step actions as jobs over the Runner interface: a command whose output
// becomes log lines and whose $SANDFLOW_OUTPUT becomes outputs, and file transfers.
#pragma once

#include "downloadtree_p.h"
#include "hostdirectory_p.h"
#include "runner.h"

#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonObject>
#include <QPointer>

#include <functional>

namespace Sandflow::Internal {

/// Receives a command's output one line at a time (without the line break).
using LineSink = std::function<void(CommandJob::Stream stream, const QString &line)>;

/// Splits output chunks into lines per stream; a last line without a break comes on flush.
class LineSplitter
{
public:
    explicit LineSplitter(LineSink sink) : m_sink(std::move(sink)) {}
    void add(CommandJob::Stream stream, const QByteArray &data);
    void flush();

private:
    LineSink m_sink;
    QByteArray m_partial[2];
};

/// The files a `run` step fills for the runner, read once its command has ended. An empty
/// path is not read: nothing would use what it holds.
struct StepFiles
{
    QString outputs;    ///< $SANDFLOW_OUTPUT: the step's outputs
    QString env;        ///< $SANDFLOW_ENV: environment variables for the later steps
};

/// A `run` step: the command, then the files it filled.
class CommandStepJob final : public AsyncJob
{
public:
    CommandStepJob(Runner *runner, QString sandboxId, CommandRequest request, LineSink lines, StepFiles files);

    const QJsonObject &outputs() const { return m_outputs; }
    /// What the step wrote to $SANDFLOW_ENV, by name.
    const QJsonObject &addedEnv() const { return m_addedEnv; }

    /// The most a step may write to each of its files (GitHub Actions allows 1 MB per job).
    static constexpr qsizetype MaxOutputsBytes = 1 << 20;

protected:
    void doStart() override;
    void doCancel() override;

private:
    void readFiles(std::optional<JobError> commandError);
    void readFile(const QString &path, const QString &variable, QJsonObject *into,
                  const std::optional<JobError> &commandError, std::function<void()> next);

    Runner *m_runner;
    QString m_sandboxId;
    CommandRequest m_request;
    LineSplitter m_lines;
    StepFiles m_files;
    QPointer<CommandJob> m_command;
    QJsonObject m_outputs;
    QJsonObject m_addedEnv;
};

/// An `upload` step (a host file, or a directory whose contents go below `to`, sent one
/// file at a time as the tree is walked), or a `write` step (`content` with `mode`).
class UploadStepJob final : public AsyncJob
{
public:
    UploadStepJob(Runner *runner, QString sandboxId, QString from, QString to);
    UploadStepJob(Runner *runner, QString sandboxId, QByteArray content, QString to, int mode);
    ~UploadStepJob() override;

protected:
    void doStart() override;

private:
    void uploadNext();
    /// Opens `source` and uploads it to `target`, or finishes with why it cannot be read.
    void sendFile(const QFileInfo &source, const QString &target);
    void send(AsyncJob *job);

    Runner *m_runner;
    QString m_sandboxId;
    QString m_from;
    QString m_to;
    std::optional<QByteArray> m_content;
    int m_mode = 0;
    std::unique_ptr<QDirIterator> m_walk;
};

/// A `download` step: a file or directory of the sandbox to the host, straight to disk.
/// What the sandbox lists is checked before anything is written (downloadtree_p.h), and
/// everything is written through the destination's descriptor (hostdirectory_p.h).
class DownloadStepJob final : public AsyncJob
{
public:
    DownloadStepJob(Runner *runner, QString sandboxId, QString from, QString to);

protected:
    void doStart() override;

private:
    /// `mode`: the file's permission bits in the sandbox, kept on the host.
    void downloadSingleFile(int mode);
    void downloadDirectory();
    /// Opens `path` (made as the user named it) as the destination; false once finished.
    bool openDestination(const QString &path);
    void downloadNext();
    void targetUnwritable(const QString &problem, const QString &path);

    Runner *m_runner;
    QString m_sandboxId;
    QString m_from;
    QString m_to;
    std::optional<HostDirectory> m_destination;
    QList<DownloadTree::File> m_files;
    std::unique_ptr<QFile> m_file;
    QString m_filePath;             ///< the file being downloaded, for messages
    QString m_writeProblem;         ///< why the file being downloaded could not be written
};

} // namespace Sandflow::Internal
