// The typed model of a workflow file (format version 1), as the loader builds it.
// Every value remembers where it was written, so later checks and run-time errors can
// point at the file. String values keep their `${{ }}` expressions parsed.
#pragma once

#include "dataset.h"
#include "diagnostics.h"
#include "expression.h"
#include "matrix.h"

#include <QList>
#include <QString>

#include <optional>

namespace Sandflow {

/// A string value as written, with its expressions parsed. Empty when the key is absent.
struct Text
{
    Template value;
    SourcePos pos;
    /// Where the source of each expression segment starts in the file, in segment order,
    /// so that problems inside an expression point at the exact column.
    QList<SourcePos> expressionPos;
    bool isSet = false;

    QString source() const { return value.source(); }
    bool isLiteral() const { return value.isLiteral(); }
};

/// An ordered string-to-Text map (env, metadata, outputs, vars, `with`).
struct TextEntry
{
    QString key;
    SourcePos keyPos;
    Text value;
};
using TextMap = QList<TextEntry>;

/// A typed setting that is either a literal known at load time or an expression resolved
/// for each job instance (e.g. `continue-on-error: ${{ matrix.experimental }}`).
template <typename T>
struct Setting
{
    std::optional<T> literal;
    Text expression;     ///< set when the value is an expression
    SourcePos pos;

    bool isSet() const { return literal.has_value() || expression.isSet; }
    T valueOr(T fallback) const { return literal.value_or(fallback); }
};

/// A duration in milliseconds.
using Duration = qint64;
/// The sandbox timeout `none`: the sandbox never expires.
inline constexpr Duration NoExpiry = -1;

struct Volume
{
    enum class Backend { Host, Pvc, Ossfs };

    QString name;
    SourcePos pos;
    Backend backend = Backend::Host;
    /// Host: the path, absolute (relative paths are resolved against the workflow file).
    Text hostPath;
    /// Pvc: claimName, createIfNotExists, deleteOnSandboxTermination, storageClass,
    /// storage, accessModes. Ossfs: bucket, endpoint, version, options, accessKeyId,
    /// accessKeySecret. Kept as written, for the runner to pass on.
    TextMap options;
};

struct NetworkRule
{
    QString action;    ///< allow | deny
    Text target;       ///< a host name, `*.domain`, an IP or CIDR
    SourcePos pos;
};

struct NetworkPolicy
{
    QString name;      ///< empty for an inline policy
    SourcePos pos;
    QString defaultAction = QStringLiteral("deny");
    QList<NetworkRule> egress;
};

struct Mount
{
    QString volume;
    SourcePos volumePos;
    Text path;
    Text subPath;
    bool readOnly = false;
    SourcePos pos;
};

struct SandboxSpec
{
    QString name;              ///< the template name; empty for an inline sandbox
    SourcePos pos;
    Text image;
    Text rootfs;               ///< local runner: an unpacked root filesystem
    QList<Text> entrypoint;    ///< empty: the default, `tail -f /dev/null`
    Text cpu;                  ///< Kubernetes quantities
    Text memory;
    Text gpu;
    TextMap env;
    TextMap metadata;
    Setting<Duration> timeout; ///< NoExpiry for `none`
    /// A name from `networks:` or an inline policy (then networkInline is set).
    QString networkName;
    SourcePos networkPos;
    std::optional<NetworkPolicy> networkInline;
    QList<Mount> mounts;
};

struct RetryPolicy
{
    int attempts = 1;
    Duration backoff = 1000;   ///< doubled before each further attempt
    QList<int> exitCodes;      ///< retry only these exit codes (empty with onInfra false: any failure)
    bool onInfra = false;      ///< retry infrastructure failures (sandbox lost, connection lost)
    SourcePos pos;
};

struct Step
{
    enum class Kind { Run, Upload, Download, Write, Uses };

    Kind kind = Kind::Run;
    SourcePos pos;
    QString id;                ///< empty when not given
    SourcePos idPos;
    Text name;
    Text condition;            ///< `if:`; a bare condition is parsed as one expression
    TextMap env;
    Text cwd;
    Text shell;
    Text user;
    Setting<Duration> timeout;
    RetryPolicy retry;
    Setting<bool> continueOnError;
    bool background = false;
    bool grade = false;

    Text run;                  ///< Run
    Text from;                 ///< Upload, Download
    Text to;                   ///< Upload, Download
    Text path;                 ///< Write
    Text content;              ///< Write
    Text mode;                 ///< Write: octal digits
    QString uses;              ///< Uses: the plugin step type
    SourcePos usesPos;
    TextMap with;              ///< Uses

    /// The id if given, else a name derived from the position, e.g. `step-3`.
    QString displayId(int index) const;
};

struct Strategy
{
    MatrixSpec matrix;
    SourcePos matrixPos;
    QString datasetPath;       ///< absolute; empty when the job has no dataset
    SourcePos datasetPos;
    Dataset dataset;           ///< loaded at validation, shared by every instance
    Setting<int> maxParallel;
    Setting<bool> failFast;    ///< default: true, or false when a dataset is set

    bool hasMatrix() const { return !matrix.isEmpty(); }
    bool hasDataset() const { return !datasetPath.isEmpty(); }
};

struct Job
{
    QString id;
    SourcePos pos;
    Text name;
    QStringList needs;
    QList<SourcePos> needsPos;
    Text condition;
    /// The sandbox: a template name from `sandboxes:` or an inline spec.
    QString sandboxName;
    SourcePos sandboxPos;
    SandboxSpec sandbox;       ///< inline spec, or a copy of the named template after loading
    Strategy strategy;
    Setting<Duration> timeout;
    Setting<bool> continueOnError;
    TextMap env;
    TextMap outputs;
    QList<Step> steps;
};

struct ServerConfig
{
    Text url;
    Text apiKey;
    std::optional<bool> useServerProxy;
};

/// The runners a workflow may name in `runner` (and `--runner` choose).
QStringList runnerNames();

/// A secret the workflow reads: an environment variable of the host that runs it.
struct Secret
{
    QString name;
    /// Unset, a required secret stops the run before anything starts; any other reads as ""
    /// with a warning, as GitHub Actions treats a secret that is not set.
    bool required = false;
    SourcePos pos;
};

struct Workflow
{
    QString file;              ///< as given to the loader
    QString baseDirectory;     ///< relative paths resolve against it
    int version = 1;
    QString name;
    SourcePos namePos;
    QString runner = QStringLiteral("local");   ///< one of runnerNames()
    ServerConfig server;
    TextMap vars;
    TextMap env;
    QList<Secret> secrets;
    QList<Volume> volumes;
    QList<NetworkPolicy> networks;
    QList<SandboxSpec> sandboxes;
    QList<Job> jobs;

    QStringList secretNames() const;
    const Job *job(const QString &id) const;
    const SandboxSpec *sandboxTemplate(const QString &name) const;
    const Volume *volume(const QString &name) const;
    const NetworkPolicy *network(const QString &name) const;
};

} // namespace Sandflow
