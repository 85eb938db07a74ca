// Volumes, networks and sandbox templates: the parts of a workflow that become an
// OpenSandbox create request.
#include "imagereference.h"
#include "workflowreader_p.h"

#include "units.h"

#include <QDir>
#include <QRegularExpression>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

void WorkflowReader::readVolumes(const YAML::Node &node)
{
    forEachEntry(node, u"`volumes`"_s, [this](const MappingReader::Entry &entry) {
        readVolume(entry.key, entry.keyNode, entry.value);
    });
}

void WorkflowReader::readVolume(const QString &name, const YAML::Node &keyNode, const YAML::Node &node)
{
    Volume volume;
    volume.name = name;
    volume.pos = m_source.position(keyNode);
    if (!isDnsName(name))
        m_source.error(keyNode, u"volume name `%1` is not a DNS label (lowercase letters, digits and `-`, "
                                u"at most 63 characters)"_s.arg(name));
    const QString what = u"volume `%1`"_s.arg(name);
    MappingReader map(m_source, node, what);
    if (!map.isValid())
        return;
    const QStringList backends = {u"host"_s, u"pvc"_s, u"ossfs"_s};
    QStringList present;
    for (const QString &backend : backends) {
        if (map.has(backend))
            present.append(backend);
    }
    map.accept(backends);
    if (present.size() != 1) {
        m_source.error(keyNode, present.isEmpty()
                                    ? u"%1 needs exactly one backend: `host`, `pvc` or `ossfs`"_s.arg(what)
                                    : u"%1 has %2 backends (`%3`); it needs exactly one"_s
                                          .arg(what).arg(present.size()).arg(present.join(u"`, `"_s)));
        map.finish();
        return;
    }
    const QString backend = present.first();
    const QString backendWhat = u"`%1` of %2"_s.arg(backend, what);
    MappingReader config(m_source, map.value(backend), backendWhat, map.keyPosition(backend));
    if (config.isValid()) {
        if (backend == u"host"_s) {
            volume.backend = Volume::Backend::Host;
            volume.hostPath = text(config.required(u"path"_s), u"`path` of %1"_s.arg(what));
            if (volume.hostPath.isSet && volume.hostPath.source().isEmpty())
                m_source.error(volume.hostPath.pos, u"`path` of %1 must not be empty"_s.arg(what));
            if (volume.hostPath.isLiteral() && !volume.hostPath.source().isEmpty()) {
                const QString absolute = QDir::cleanPath(QDir(m_workflow->baseDirectory).absoluteFilePath(volume.hostPath.source()));
                QList<Template::ParseError> none;
                volume.hostPath.value = Template::parse(absolute, &none);
            }
        } else if (backend == u"pvc"_s) {
            volume.backend = Volume::Backend::Pvc;
            const Text claim = text(config.required(u"claimName"_s), u"`claimName` of %1"_s.arg(what));
            if (claim.isSet && claim.isLiteral() && !isDnsName(claim.source(), 253))
                m_source.error(claim.pos, u"claim name `%1` must be lowercase letters, digits and `-`, at most 253 "
                                          u"characters"_s.arg(claim.source()));
            volume.options.append({u"claimName"_s, claim.pos, claim});
            for (const QString &key : {u"storageClass"_s, u"storage"_s}) {
                const Text value = text(config.value(key), u"`%1` of %2"_s.arg(key, what));
                if (key == u"storage"_s)
                    checkQuantity(value, u"`storage` of %1"_s.arg(what));
                if (value.isSet)
                    volume.options.append({key, value.pos, value});
            }
            for (const QString &key : {u"createIfNotExists"_s, u"deleteOnSandboxTermination"_s}) {
                const YAML::Node flag = config.value(key);
                if (const auto value = boolean(flag, u"`%1` of %2"_s.arg(key, what))) {
                    QList<Template::ParseError> none;
                    volume.options.append({key, m_source.position(flag),
                                           {Template::parse(*value ? u"true"_s : u"false"_s, &none),
                                            m_source.position(flag), {}, true}});
                }
            }
            for (const Text &mode : textList(config.value(u"accessModes"_s), u"`accessModes` of %1"_s.arg(what)))
                volume.options.append({u"accessModes"_s, mode.pos, mode});
        } else {
            volume.backend = Volume::Backend::Ossfs;
            for (const QString &key : {u"bucket"_s, u"endpoint"_s, u"accessKeyId"_s, u"accessKeySecret"_s}) {
                const Text value = text(config.required(key), u"`%1` of %2"_s.arg(key, what));
                if (value.isSet)
                    volume.options.append({key, value.pos, value});
            }
            const Text version = text(config.value(u"version"_s), u"`version` of %1"_s.arg(what));
            if (version.isSet && version.source() != u"1.0"_s && version.source() != u"2.0"_s)
                m_source.error(version.pos, u"ossfs version must be \"1.0\" or \"2.0\", not `%1`"_s.arg(version.source()));
            else if (version.isSet)
                volume.options.append({u"version"_s, version.pos, version});
            for (const Text &option : textList(config.value(u"options"_s), u"`options` of %1"_s.arg(what)))
                volume.options.append({u"options"_s, option.pos, option});
        }
        config.finish();
    }
    map.finish();
    m_workflow->volumes.append(volume);
}

void WorkflowReader::readNetworks(const YAML::Node &node)
{
    forEachEntry(node, u"`networks`"_s, [this](const MappingReader::Entry &entry) {
        NetworkPolicy policy = readNetwork(entry.value, u"network `%1`"_s.arg(entry.key));
        policy.name = entry.key;
        policy.pos = m_source.position(entry.keyNode);
        m_workflow->networks.append(policy);
    });
}

static bool isAction(const QString &value)
{
    return value == u"allow"_s || value == u"deny"_s;
}

NetworkPolicy WorkflowReader::readNetwork(const YAML::Node &node, const QString &what)
{
    NetworkPolicy policy;
    policy.pos = m_source.position(node);
    MappingReader map(m_source, node, what);
    if (!map.isValid())
        return policy;
    const YAML::Node defaultAction = map.value(u"defaultAction"_s);
    if (defaultAction.IsDefined()) {
        const QString value = text(defaultAction, u"`defaultAction`"_s).source();
        if (!isAction(value))
            m_source.error(defaultAction, u"`defaultAction` must be `allow` or `deny`, not `%1`"_s.arg(value));
        else
            policy.defaultAction = value;
    }
    forEachMappingItem(map.value(u"egress"_s), u"`egress` of %1"_s.arg(what), u"an egress rule of %1"_s.arg(what),
                       [&](const YAML::Node &ruleNode, MappingReader &rule) {
        NetworkRule parsed;
        parsed.pos = m_source.position(ruleNode);
        const YAML::Node action = rule.required(u"action"_s);
        parsed.action = text(action, u"`action`"_s).source();
        if (action.IsDefined() && !isAction(parsed.action))
            m_source.error(action, u"`action` must be `allow` or `deny`, not `%1`"_s.arg(parsed.action));
        parsed.target = text(rule.required(u"target"_s), u"`target`"_s);
        if (parsed.target.isSet && parsed.target.source().trimmed().isEmpty())
            m_source.error(parsed.target.pos, u"`target` must not be empty"_s);
        policy.egress.append(parsed);
    });
    map.finish();
    return policy;
}

void WorkflowReader::readSandboxes(const YAML::Node &node)
{
    forEachEntry(node, u"`sandboxes`"_s, [this](const MappingReader::Entry &entry) {
        SandboxSpec spec = readSandbox(entry.value, u"sandbox `%1`"_s.arg(entry.key));
        spec.name = entry.key;
        spec.pos = m_source.position(entry.keyNode);
        m_workflow->sandboxes.append(spec);
    });
}

SandboxSpec WorkflowReader::readSandbox(const YAML::Node &node, const QString &what)
{
    SandboxSpec spec;
    spec.pos = m_source.position(node);
    MappingReader map(m_source, node, what);
    if (!map.isValid())
        return spec;
    spec.image = text(map.value(u"image"_s), u"`image`"_s);
    if (spec.image.isSet) {
        QString problem;
        if (spec.image.source().trimmed().isEmpty())
            m_source.error(map.keyPosition(u"image"_s), u"`image` must not be empty"_s);
        // One with expressions is checked when it is known, by whoever pulls it.
        else if (spec.image.isLiteral() && !ImageReference::parse(spec.image.source(), &problem))
            m_source.error(spec.image.pos, u"`image`: %1"_s.arg(problem));
    }
    spec.rootfs = text(map.value(u"rootfs"_s), u"`rootfs`"_s);
    const YAML::Node entrypoint = map.value(u"entrypoint"_s);
    spec.entrypoint = textList(entrypoint, u"`entrypoint`"_s);
    if (entrypoint.IsSequence() && entrypoint.size() == 0)
        m_source.error(entrypoint, u"`entrypoint` must not be empty"_s);

    const YAML::Node resources = map.value(u"resources"_s);
    if (resources.IsDefined()) {
        MappingReader limits(m_source, resources, u"`resources`"_s);
        spec.cpu = text(limits.value(u"cpu"_s), u"`cpu`"_s);
        checkQuantity(spec.cpu, u"`cpu`"_s);
        spec.memory = text(limits.value(u"memory"_s), u"`memory`"_s);
        checkQuantity(spec.memory, u"`memory`"_s);
        spec.gpu = text(limits.value(u"gpu"_s), u"`gpu`"_s);
        checkQuantity(spec.gpu, u"`gpu`"_s);
        limits.finish();
    }
    spec.env = envMap(map.value(u"env"_s));
    spec.metadata = textMap(map.value(u"metadata"_s), u"`metadata`"_s);
    checkMetadata(spec.metadata);
    spec.timeout = durationSetting(map.value(u"timeout"_s), u"`timeout`"_s, true);

    const YAML::Node network = map.value(u"network"_s);
    if (network.IsMap()) {
        spec.networkInline = readNetwork(network, u"the inline network of %1"_s.arg(what));
    } else if (network.IsScalar()) {
        spec.networkName = QString::fromStdString(network.Scalar());
        spec.networkPos = m_source.position(network);
    } else if (network.IsDefined()) {
        m_source.error(network, u"`network` must be a network name or a policy mapping, not %1"_s
                                    .arg(describeNode(network)));
    }
    spec.mounts = readMounts(map.value(u"mounts"_s), what);
    map.finish();
    return spec;
}

// Metadata becomes labels on the server (Kubernetes or Docker), so it follows label rules;
// the server's own labels live under `opensandbox.io/`.
void WorkflowReader::checkMetadata(const TextMap &metadata)
{
    static const QRegularExpression key(
        u"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"_s);
    static const QRegularExpression value(u"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$"_s);
    for (const TextEntry &entry : metadata) {
        if (entry.key.startsWith(u"opensandbox.io/"_s))
            m_source.error(entry.keyPos, u"metadata key `%1` uses the reserved prefix `opensandbox.io/`"_s.arg(entry.key));
        else if (!key.match(entry.key).hasMatch())
            m_source.error(entry.keyPos, u"metadata key `%1` is not a valid label key ([prefix/]name, name: "
                                         u"letters, digits, `-`, `_`, `.`, at most 63)"_s.arg(entry.key));
        else if (entry.value.isLiteral() && !value.match(entry.value.source()).hasMatch())
            m_source.error(entry.value.pos, u"metadata value `%1` is not a valid label value (letters, digits, `-`, "
                                            u"`_`, `.`, at most 63)"_s.arg(entry.value.source()));
    }
}

QList<Mount> WorkflowReader::readMounts(const YAML::Node &node, const QString &what)
{
    QList<Mount> mounts;
    forEachMappingItem(node, u"`mounts` of %1"_s.arg(what), u"a mount of %1"_s.arg(what),
                       [&](const YAML::Node &item, MappingReader &map) {
        Mount mount;
        mount.pos = m_source.position(item);
        const YAML::Node volume = map.required(u"volume"_s);
        mount.volume = text(volume, u"`volume`"_s).source();
        mount.volumePos = m_source.position(volume);
        mount.path = text(map.required(u"path"_s), u"`path`"_s);
        if (mount.path.isSet && mount.path.isLiteral() && !mount.path.source().startsWith(u'/'))
            m_source.error(mount.path.pos, u"mount path `%1` must be absolute"_s.arg(mount.path.source()));
        mount.subPath = text(map.value(u"subPath"_s), u"`subPath`"_s);
        if (mount.subPath.isSet && mount.subPath.isLiteral()) {
            const QStringList parts = mount.subPath.source().split(u'/');
            if (parts.contains(u".."_s))
                m_source.error(mount.subPath.pos, u"`subPath` must not contain `..`"_s);
            else if (mount.subPath.source().startsWith(u'/'))
                m_source.error(mount.subPath.pos, u"`subPath` must be relative"_s);
        }
        mount.readOnly = boolean(map.value(u"readOnly"_s), u"`readOnly`"_s).value_or(false);
        mounts.append(mount);
    });
    return mounts;
}

} // namespace Sandflow::Internal
