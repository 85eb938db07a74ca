#include "stepplugin.h"

#include <QJsonArray>
#include <QPluginLoader>
#include <QStaticPlugin>

namespace Sandflow {

using namespace Qt::StringLiterals;

const StepInput *StepTypeInfo::input(const QString &inputName) const
{
    for (const StepInput &candidate : inputs) {
        if (candidate.name == inputName)
            return &candidate;
    }
    return nullptr;
}

QStringList StepTypeInfo::inputNames() const
{
    QStringList names;
    for (const StepInput &candidate : inputs)
        names.append(candidate.name);
    return names;
}

StepTypeRegistry StepTypeRegistry::builtin()
{
    StepTypeRegistry registry;
    const QList<QStaticPlugin> plugins = QPluginLoader::staticPlugins();
    for (const QStaticPlugin &staticPlugin : plugins) {
        const QJsonObject metaData = staticPlugin.metaData();
        if (metaData.value(u"IID"_s).toString() != QLatin1StringView(SandflowStepPlugin_iid))
            continue;
        auto *plugin = qobject_cast<StepPlugin *>(staticPlugin.instance());
        QString error;
        // A malformed built-in plugin is a build defect, caught by the plugin tests.
        if (!plugin || !registry.add(metaData.value(u"MetaData"_s).toObject(), plugin, &error))
            qWarning("sandflow: built-in plugin skipped: %s", qPrintable(error));
    }
    return registry;
}

static bool readInputs(const QJsonObject &with, QList<StepInput> *inputs, QString *error)
{
    static const QStringList types = {u"string"_s, u"integer"_s, u"number"_s, u"boolean"_s, u"duration"_s};
    for (auto it = with.begin(); it != with.end(); ++it) {
        const QJsonObject spec = it.value().toObject();
        StepInput input{it.key(), spec.value(u"type"_s).toString(u"string"_s),
                        spec.value(u"required"_s).toBool(), spec.value(u"description"_s).toString()};
        if (!types.contains(input.type)) {
            *error = u"input `%1` has unknown type `%2`"_s.arg(input.name, input.type);
            return false;
        }
        inputs->append(input);
    }
    return true;
}

bool StepTypeRegistry::add(const QJsonObject &metadata, StepPlugin *plugin, QString *error)
{
    const QString pluginName = metadata.value(u"name"_s).toString();
    const QJsonArray stepTypes = metadata.value(u"stepTypes"_s).toArray();
    if (pluginName.isEmpty() || stepTypes.isEmpty()) {
        *error = u"plugin metadata needs `name` and `stepTypes`"_s;
        return false;
    }
    QList<Entry> added;
    for (const QJsonValue &value : stepTypes) {
        const QJsonObject object = value.toObject();
        Entry entry;
        entry.plugin = plugin;
        entry.info.name = object.value(u"name"_s).toString();
        entry.info.description = object.value(u"description"_s).toString();
        entry.info.pluginName = pluginName;
        entry.info.pluginVersion = metadata.value(u"version"_s).toString();
        if (entry.info.name.isEmpty()) {
            *error = u"plugin `%1` declares a step type without a name"_s.arg(pluginName);
            return false;
        }
        if (find(entry.info.name)) {
            *error = u"step type `%1` of plugin `%2` is already registered"_s.arg(entry.info.name, pluginName);
            return false;
        }
        if (!readInputs(object.value(u"with"_s).toObject(), &entry.info.inputs, error)) {
            error->prepend(u"plugin `%1`, step type `%2`: "_s.arg(pluginName, entry.info.name));
            return false;
        }
        added.append(entry);
    }
    m_entries.append(added);
    return true;
}

const StepTypeInfo *StepTypeRegistry::find(const QString &stepType) const
{
    for (const Entry &entry : m_entries) {
        if (entry.info.name == stepType)
            return &entry.info;
    }
    return nullptr;
}

StepPlugin *StepTypeRegistry::plugin(const QString &stepType) const
{
    for (const Entry &entry : m_entries) {
        if (entry.info.name == stepType)
            return entry.plugin;
    }
    return nullptr;
}

QStringList StepTypeRegistry::stepTypes() const
{
    QStringList names;
    for (const Entry &entry : m_entries)
        names.append(entry.info.name);
    return names;
}

} // namespace Sandflow
