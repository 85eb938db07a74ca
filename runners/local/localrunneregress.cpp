// LocalRunner: the egress API over a sandbox's network policy. The sandbox's filter follows
// the policy as it changes (LocalSandbox::networkPolicyChanged).
#include "localrunner.h"

#include "immediatejob_p.h"
#include "localerrors_p.h"
#include "localsandbox_p.h"
#include "networkpolicy.h"

namespace Sandflow {

using namespace Qt::StringLiterals;
using Internal::ImmediateJob;
using Internal::LocalSandbox;

namespace {

using Change = std::function<SandboxNetworkPolicy(const SandboxNetworkPolicy &)>;

JobError noPolicy(const QString &id)
{
    return JobError{JobError::Kind::Invalid, u"EGRESS_POLICY_NOT_FOUND"_s,
                    u"sandbox `%1` was created without a network policy: its network is the host's, unfiltered"_s.arg(id),
                    {{u"id"_s, id}}};
}

/// The sandbox's policy, changed by `change` first where there is one.
ResultJob<SandboxNetworkPolicy> *changePolicy(const QString &id, std::function<LocalSandbox *(const QString &)> find,
                                              Change change)
{
    return new ImmediateJob<SandboxNetworkPolicy>([id, find, change](SandboxNetworkPolicy &result) -> std::optional<JobError> {
        LocalSandbox *sandbox = find(id);
        if (!sandbox)
            return Internal::sandboxNotFound(id);
        if (!sandbox->networkPolicy())
            return noPolicy(id);
        result = change ? change(*sandbox->networkPolicy()) : *sandbox->networkPolicy();
        if (change)
            sandbox->setNetworkPolicy(result);
        return std::nullopt;
    });
}

} // namespace

ResultJob<SandboxNetworkPolicy> *LocalRunner::egressPolicy(const QString &sandboxId)
{
    return changePolicy(sandboxId, [this](const QString &id) { return find(id); }, {});
}

ResultJob<SandboxNetworkPolicy> *LocalRunner::patchEgressRules(const QString &sandboxId,
                                                               const QList<SandboxNetworkPolicy::Rule> &rules)
{
    for (const SandboxNetworkPolicy::Rule &rule : rules) {
        if (const std::optional<QString> reason = invalidTargetReason(rule.target)) {
            const JobError error{JobError::Kind::Invalid, u"EGRESS_RULE_INVALID"_s, *reason, {{u"target"_s, rule.target}}};
            return new ImmediateJob<SandboxNetworkPolicy>([error](SandboxNetworkPolicy &) { return error; });
        }
    }
    return changePolicy(sandboxId, [this](const QString &id) { return find(id); },
                        [rules](const SandboxNetworkPolicy &policy) { return patchedPolicy(policy, rules); });
}

ResultJob<SandboxNetworkPolicy> *LocalRunner::deleteEgressRules(const QString &sandboxId, const QStringList &targets)
{
    return changePolicy(sandboxId, [this](const QString &id) { return find(id); },
                        [targets](const SandboxNetworkPolicy &policy) { return policyWithoutTargets(policy, targets); });
}

} // namespace Sandflow
