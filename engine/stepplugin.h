// Step types beyond the built-in actions (run, upload, download, write) come from plugins.
// A plugin is a Qt plugin implementing StepPlugin, with JSON metadata beside its code:
//
//   { "name": "http-wait", "version": "1.0.0",
//     "stepTypes": [ { "name": "http-wait", "description": "...",
//                      "with": { "port": { "type": "integer", "required": true,
//                                          "description": "..." }, ... } } ] }
//
// Built-in plugins are linked statically and found through QPluginLoader::staticPlugins();
// they use the same interface as third-party ones.
#pragma once

#include "asyncjob.h"
#include "diagnostics.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QtPlugin>

#include <functional>

namespace Sandflow {

/// One input a step type declares under `with:`.
struct StepInput
{
    QString name;
    QString type;            ///< string | integer | number | boolean | duration
    bool required = false;
    QString description;
};

/// A step type as its plugin's metadata declares it.
struct StepTypeInfo
{
    QString name;
    QString description;
    QString pluginName;
    QString pluginVersion;
    QList<StepInput> inputs;

    const StepInput *input(const QString &name) const;
    QStringList inputNames() const;
};

class Runner;

/// What one run of a plugin step gets.
struct StepContext
{
    Runner *runner = nullptr;
    QString sandboxId;          ///< the job instance's sandbox, running
    QString stepType;
    /// `with:` after evaluation, every value as text (`8080`, `30s`); absent inputs are absent.
    QJsonObject inputs;
    /// Adds a line to the step's log.
    std::function<void(const QString &line)> log;
};

/// The interface a step plugin implements. Its step types are described by the metadata;
/// `checkInputs` adds the checks the metadata cannot express (ranges, combinations).
class StepPlugin
{
public:
    virtual ~StepPlugin() = default;

    /// Problems with literal `with:` values known at load time, as messages keyed by the
    /// input name ("" for the step as a whole). Values that are expressions are absent.
    virtual QList<std::pair<QString, QString>> checkInputs(const QString &stepType,
                                                           const QJsonObject &literalInputs) const = 0;
    /// The job that runs one step; it finishes with an error when the step failed. Inputs
    /// are as checkInputs accepted them, but expressions may have given any text: check them.
    virtual AsyncJob *createJob(const StepContext &context) const = 0;
};

/// The step types available to a workflow, by name.
class StepTypeRegistry
{
public:
    /// The built-in plugins (linked statically into the program).
    static StepTypeRegistry builtin();

    /// Adds the plugin described by `metadata`; false with `error` set when the metadata
    /// is malformed or a step type is already registered.
    bool add(const QJsonObject &metadata, StepPlugin *plugin, QString *error);

    const StepTypeInfo *find(const QString &stepType) const;
    StepPlugin *plugin(const QString &stepType) const;
    QStringList stepTypes() const;

private:
    struct Entry
    {
        StepTypeInfo info;
        StepPlugin *plugin = nullptr;   // owned by Qt's plugin loader
    };
    QList<Entry> m_entries;
};

} // namespace Sandflow

#define SandflowStepPlugin_iid "dev.sandflow.StepPlugin/1.0"
Q_DECLARE_INTERFACE(Sandflow::StepPlugin, SandflowStepPlugin_iid)
