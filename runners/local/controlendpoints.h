// Where the OpenSandbox servers over local sandboxes listen, so that `sandflow sandbox`
// reaches a sandbox of a running (or kept) `sandflow run`, or of `sandflow serve`, from
// another terminal without being told a server.
//
// Each such process writes <state directory>/endpoints/<pid>-<start time>.json, in a directory only its
// user may read (the file holds an API key), and removes it when it ends. A file whose
// process is gone (a crash) is removed by the next reader.
#pragma once

#include <QList>
#include <QString>

#include <memory>

namespace Sandflow {

/// One local server: how to reach it, and whose it is.
struct ControlEndpoint
{
    QString url;            ///< e.g. http://127.0.0.1:41234
    QString apiKey;         ///< empty: the server wants none
    QString owner;          ///< for people: "run RUN-ID" or "serve"
    qint64 pid = 0;         ///< the serving process
};

/// An endpoint recorded while this object lives: the file is written by publish() and
/// removed by the destructor.
class ControlEndpointRegistration
{
public:
    ~ControlEndpointRegistration();
    ControlEndpointRegistration(const ControlEndpointRegistration &) = delete;
    ControlEndpointRegistration &operator=(const ControlEndpointRegistration &) = delete;

    /// Records `endpoint` (its pid is this process's) in `stateDirectory`. Nothing, with
    /// `error` saying why, when the file cannot be written.
    static std::unique_ptr<ControlEndpointRegistration> publish(const QString &stateDirectory,
                                                                ControlEndpoint endpoint, QString *error);

private:
    explicit ControlEndpointRegistration(QString path);
    QString m_path;
};

/// The endpoints recorded in `stateDirectory` whose process still runs, oldest first. Files
/// of processes that are gone, and files that cannot be read as endpoints, are removed.
QList<ControlEndpoint> liveControlEndpoints(const QString &stateDirectory);

/// Removes the files of endpoints whose process is gone from `stateDirectory`, as `sandflow gc`
/// does with everything a killed run or server left.
void removeDeadControlEndpoints(const QString &stateDirectory);

} // namespace Sandflow
