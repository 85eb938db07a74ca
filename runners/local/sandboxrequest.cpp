#include "sandboxrequest_p.h"

#include <QFileInfo>

#include <algorithm>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

QString actionName(SandboxNetworkPolicy::Action action)
{
    return action == SandboxNetworkPolicy::Action::Allow ? u"allow"_s : u"deny"_s;
}

// Without an egress filter, a sandbox gets either the host's network or none: a policy fits
// when none of its rules departs from its default (a rule that repeats it changes nothing).
std::optional<JobError> checkNetwork(const SandboxNetworkPolicy &policy, bool *isolate)
{
    const auto departs = std::find_if(policy.egress.cbegin(), policy.egress.cend(),
                                      [&policy](const SandboxNetworkPolicy::Rule &rule) {
                                          return rule.action != policy.defaultAction;
                                      });
    if (departs != policy.egress.cend())
        return JobError{JobError::Kind::Invalid, u"NETWORK_POLICY_NOT_SUPPORTED"_s,
                        u"the local runner supports only deny-all and allow-all network policies for now; the rule "
                        u"`%1 %2` needs egress filtering"_s.arg(actionName(departs->action), departs->target),
                        {{u"action"_s, actionName(departs->action)}, {u"target"_s, departs->target}}};
    *isolate = policy.defaultAction == SandboxNetworkPolicy::Action::Deny;
    return std::nullopt;
}

std::optional<JobError> checkRootfs(const QString &rootfs, QString *resolved)
{
    const QFileInfo info(rootfs);
    if (!info.isDir())
        return JobError{JobError::Kind::Invalid, u"ROOTFS_NOT_FOUND"_s,
                        u"the root filesystem `%1` is not a directory"_s.arg(rootfs), {{u"rootfs"_s, rootfs}}};
    // bwrap binds what the sandbox sees from this path; the runner's working directory has
    // no meaning there.
    *resolved = info.canonicalFilePath();
    return std::nullopt;
}

} // namespace

qint64 memoryLimit(const SandboxRequest &request, const LocalRunner::Options &options)
{
    return request.memoryBytes.value_or(options.defaultMemoryBytes);
}

std::optional<JobError> layoutForRequest(const SandboxRequest &request, const LocalRunner::Options &options,
                                         const VolumeSources &volumeSources, SandboxLayout *layout)
{
    layout->agentPath = options.agentPath;
    layout->tmpfsSizeBytes = options.tmpfsSizeBytes > 0 ? options.tmpfsSizeBytes : memoryLimit(request, options);
    if (request.network) {
        if (std::optional<JobError> error = checkNetwork(*request.network, &layout->isolateNetwork))
            return error;
    }
    if (!request.rootfs.isEmpty()) {
        if (std::optional<JobError> error = checkRootfs(request.rootfs, &layout->rootfs))
            return error;
    }
    return resolveVolumes(request.volumes, volumeSources, &layout->mounts);
}

} // namespace Sandflow::Internal
