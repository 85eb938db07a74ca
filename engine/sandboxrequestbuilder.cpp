#include "sandboxrequestbuilder_p.h"

#include "units.h"

#include <QDir>

#include <cmath>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

std::optional<SandboxNetworkPolicy> networkPolicy(const NetworkPolicy &policy, const InstanceScope &scope,
                                                  QString *error)
{
    const auto action = [](const QString &name) {
        return name == u"deny"_s ? SandboxNetworkPolicy::Action::Deny : SandboxNetworkPolicy::Action::Allow;
    };
    SandboxNetworkPolicy result;
    result.defaultAction = action(policy.defaultAction);
    for (const NetworkRule &rule : policy.egress) {
        SandboxNetworkPolicy::Rule resolved;
        resolved.action = action(rule.action);
        resolved.target = scope.text(rule.target, error);
        if (!error->isEmpty())
            return std::nullopt;
        result.egress.append(resolved);
    }
    return result;
}

bool addVolume(const Workflow &workflow, const Mount &mount, const InstanceScope &scope, SandboxRequest *request,
               QString *error)
{
    const Volume *volume = workflow.volume(mount.volume);
    if (!volume) {
        *error = u"unknown volume `%1`"_s.arg(mount.volume);
        return false;
    }
    SandboxVolume resolved;
    resolved.name = volume->name;
    resolved.mountPath = scope.text(mount.path, error);
    resolved.subPath = scope.text(mount.subPath, error);
    resolved.readOnly = mount.readOnly;
    switch (volume->backend) {
    case Volume::Backend::Host:
        resolved.kind = SandboxVolume::Kind::Host;
        resolved.hostPath = QDir(workflow.baseDirectory).absoluteFilePath(scope.text(volume->hostPath, error));
        break;
    case Volume::Backend::Pvc:
        resolved.kind = SandboxVolume::Kind::Pvc;
        break;
    case Volume::Backend::Ossfs:
        resolved.kind = SandboxVolume::Kind::Ossfs;
        break;
    }
    // Every option is a setting of the volume, but a pvc's claimName has a field of its own.
    for (const TextEntry &entry : volume->options) {
        if (entry.key != u"claimName"_s)
            resolved.settings.append({entry.key, scope.text(entry.value, error)});
        else if (volume->backend == Volume::Backend::Pvc)
            resolved.claimName = scope.text(entry.value, error);
    }
    request->volumes.append(resolved);
    return error->isEmpty();
}

std::optional<double> quantity(const Text &text, const InstanceScope &scope, const QString &what, QString *error)
{
    if (!text.isSet)
        return std::nullopt;
    const QString value = scope.text(text, error);
    if (!error->isEmpty())
        return std::nullopt;
    const std::optional<double> parsed = parseQuantity(value);
    if (!parsed)
        *error = u"%1:%2: `%3` is not a %4 quantity"_s.arg(text.pos.line).arg(text.pos.column).arg(value, what);
    return parsed;
}

} // namespace

bool buildSandboxRequest(const Workflow &workflow, const SandboxSpec &spec, const InstanceScope &scope,
                         SandboxRequest *request, QString *error)
{
    request->image = scope.text(spec.image, error);
    if (spec.rootfs.isSet && error->isEmpty())
        request->rootfs = QDir(workflow.baseDirectory).absoluteFilePath(scope.text(spec.rootfs, error));
    for (const Text &part : spec.entrypoint) {
        if (error->isEmpty())
            request->entrypoint.append(scope.text(part, error));
    }
    for (const TextEntry &entry : spec.env) {
        if (error->isEmpty())
            request->env.insert(entry.key, scope.text(entry.value, error));
    }
    for (const TextEntry &entry : spec.metadata) {
        if (error->isEmpty())
            request->metadata.insert(entry.key, scope.text(entry.value, error));
    }
    if (!error->isEmpty())
        return false;

    if (spec.timeout.literal) {
        if (*spec.timeout.literal != NoExpiry)
            request->timeoutMs = *spec.timeout.literal;
    } else if (spec.timeout.expression.isSet) {
        const QString value = scope.text(spec.timeout.expression, error);
        if (!error->isEmpty())
            return false;
        if (value != u"none"_s) {
            const std::optional<qint64> duration = parseDuration(value);
            if (!duration) {
                *error = u"`%1` is not a duration"_s.arg(value);
                return false;
            }
            request->timeoutMs = *duration;
        }
    }

    if (const std::optional<double> cpus = quantity(spec.cpu, scope, u"cpu"_s, error))
        request->cpus = *cpus;
    if (const std::optional<double> memory = quantity(spec.memory, scope, u"memory"_s, error))
        request->memoryBytes = qint64(std::llround(*memory));
    if (const std::optional<double> gpus = quantity(spec.gpu, scope, u"gpu"_s, error))
        request->gpus = *gpus;
    if (!error->isEmpty())
        return false;

    const NetworkPolicy *policy = spec.networkInline ? &*spec.networkInline : workflow.network(spec.networkName);
    if (policy) {
        const std::optional<SandboxNetworkPolicy> network = networkPolicy(*policy, scope, error);
        if (!network)
            return false;
        request->network = *network;
    }
    for (const Mount &mount : spec.mounts) {
        if (!addVolume(workflow, mount, scope, request, error))
            return false;
    }
    return true;
}

} // namespace Sandflow::Internal
