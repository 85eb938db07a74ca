// What OpenSandbox's egress API does to a sandbox's network policy, for every runner and the
// server to share: its mode, the merge of a PATCH, the removal of a DELETE, and which targets
// a rule may name.
#pragma once

#include "runner.h"

#include <optional>

namespace Sandflow {

/// The egress API's `mode`: "allow_all" (allow by default, no rules), "deny_all" (deny by
/// default, no rules), else "enforcing".
QString egressModeName(const SandboxNetworkPolicy &policy);

/// `policy` with `incoming` merged as the egress API's PATCH merges: the incoming rules come
/// first (they take precedence), a target repeated in `incoming` keeps its first rule, and
/// the policy's rules for a target `incoming` names are dropped. Targets compare
/// case-insensitively, without a trailing dot.
SandboxNetworkPolicy patchedPolicy(const SandboxNetworkPolicy &policy, const QList<SandboxNetworkPolicy::Rule> &incoming);

/// `policy` without its rules for `targets` (compared as patchedPolicy() compares them);
/// targets it has no rule for are ignored.
SandboxNetworkPolicy policyWithoutTargets(const SandboxNetworkPolicy &policy, const QStringList &targets);

/// A target as rules compare it: lower case, without a trailing dot.
QString normalizedTarget(const QString &target);

/// Why `target` cannot be a rule's target; std::nullopt when it can: a host name
/// (`api.example.com`), a wildcard over a domain's subdomains (`*.example.com`), an IPv4 or
/// IPv6 address, or a CIDR range (`10.0.0.0/8`, `fd00::/8`).
std::optional<QString> invalidTargetReason(const QString &target);

} // namespace Sandflow
