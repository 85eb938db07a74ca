// Builds the Workflow model from a YAML document, section by section. Structural problems
// (types, unknown or missing keys, bad literals) are reported here; problems that need the
// whole model (references, cycles, expression scopes) are WorkflowValidator's.
#pragma once

#include "names_p.h"
#include "stepplugin.h"
#include "workflow.h"
#include "yamlreader_p.h"

namespace Sandflow::Internal {

class WorkflowReader
{
public:
    WorkflowReader(const YamlSource &source, const StepTypeRegistry &stepTypes, Workflow *workflow);

    void read(const YAML::Node &root);

private:
    // Values (workflowreader.cpp)
    Text text(const YAML::Node &node, const QString &what);
    Text condition(const YAML::Node &node, const QString &what);
    void lintCondition(const Template &condition, const YAML::Node &node);
    TextMap textMap(const YAML::Node &node, const QString &what);
    /// An `env:` mapping: a TextMap whose keys must be exportable variable names.
    TextMap envMap(const YAML::Node &node);
    QList<Text> textList(const YAML::Node &node, const QString &what);
    std::optional<QString> identifier(const YAML::Node &node, const QString &what);
    Setting<bool> boolSetting(const YAML::Node &node, const QString &what);
    Setting<int> intSetting(const YAML::Node &node, const QString &what, int minimum);
    Setting<Duration> durationSetting(const YAML::Node &node, const QString &what, bool allowNone = false);
    std::optional<bool> boolean(const YAML::Node &node, const QString &what);
    void checkQuantity(const Text &value, const QString &what);
    void checkMetadata(const TextMap &metadata);
    QJsonValue jsonValue(const YAML::Node &node);
    void lintShortenedNumbers(const YAML::Node &node, int *budget);
    void recordExpressions(Text *value, const YAML::Node &node, const QList<Template::ParseError> &errors,
                           bool bare);

    /// Calls `read` for every entry of a mapping of user-chosen names (volumes, sandboxes…).
    template <typename Read>
    void forEachEntry(const YAML::Node &node, const QString &what, Read read)
    {
        if (!node.IsDefined() || node.IsNull())
            return;
        MappingReader map(m_source, node, what);
        for (const MappingReader::Entry &entry : map.entries()) {
            map.accept({entry.key});
            read(entry);
        }
        map.finish();
    }

    /// Calls `read` with a MappingReader for every item of a list of mappings (egress
    /// rules, mounts); items that are not mappings are reported and skipped.
    template <typename Read>
    void forEachMappingItem(const YAML::Node &node, const QString &listWhat, const QString &itemWhat, Read read)
    {
        if (!node.IsDefined())
            return;
        if (!node.IsSequence()) {
            m_source.error(node, QStringLiteral("%1 must be a list, not %2").arg(listWhat, describeNode(node)));
            return;
        }
        for (const YAML::Node &item : node) {
            MappingReader map(m_source, item, itemWhat);
            if (map.isValid()) {
                read(item, map);
                map.finish();
            }
        }
    }

    // Top-level sections (workflowreader.cpp, sandboxreader.cpp)
    void readSecrets(const YAML::Node &node);
    void readVolumes(const YAML::Node &node);
    void readVolume(const QString &name, const YAML::Node &keyNode, const YAML::Node &node);
    void readNetworks(const YAML::Node &node);
    NetworkPolicy readNetwork(const YAML::Node &node, const QString &what);
    void readSandboxes(const YAML::Node &node);
    SandboxSpec readSandbox(const YAML::Node &node, const QString &what);
    QList<Mount> readMounts(const YAML::Node &node, const QString &what);
    void readServer(const YAML::Node &node);

    // Jobs and steps (jobreader.cpp, stepreader.cpp)
    void readJobs(const YAML::Node &node);
    Job readJob(const QString &id, const YAML::Node &keyNode, const YAML::Node &node);
    void readNeeds(const YAML::Node &node, Job *job);
    void readJobSandbox(const YAML::Node &node, Job *job);
    void readStrategy(const YAML::Node &node, Job *job);
    void readMatrix(const YAML::Node &node, Job *job);
    QList<QJsonObject> readMatrixEntries(const YAML::Node &node, const QString &what,
                                         const QStringList *allowedKeys);
    Step readStep(const YAML::Node &node, const QString &what);
    void readStepAction(MappingReader &map, Step *step, const QString &what);
    void readTransfer(const YAML::Node &node, Step *step, const QString &what);
    void readWrite(const YAML::Node &node, Step *step, const QString &what);
    void readUses(MappingReader &map, Step *step);
    RetryPolicy readRetry(const YAML::Node &node, const QString &what);

    const YamlSource &m_source;
    const StepTypeRegistry &m_stepTypes;
    Workflow *m_workflow;
};

} // namespace Sandflow::Internal
