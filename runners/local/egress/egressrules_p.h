// A sandbox's network policy as the egress filter asks it: which names a sandbox may look
// up, and which addresses it may reach.
#pragma once

#include "runner.h"

#include <QHostAddress>

#include <optional>

namespace Sandflow::Internal {

/// `address` as an IPv4 address when it is an IPv4-mapped IPv6 one (`::ffff:a.b.c.d`);
/// else unchanged. Rules, learned names and the filter all compare addresses so.
QHostAddress withoutMapping(const QHostAddress &address);

class EgressRules
{
public:
    /// What the policy says about one name or address.
    struct Decision
    {
        SandboxNetworkPolicy::Action action = SandboxNetworkPolicy::Action::Deny;
        /// A rule named it; false when the default action decided. The filter lets the host's
        /// loopback addresses through only when a rule allows them explicitly.
        bool explicitRule = false;
        /// For an address rule: its prefix length, counted in the address's own family (an
        /// IPv6 range over an IPv4 address counts 96 bits fewer; below 0 when it covers all
        /// of IPv4). -1 otherwise.
        int prefixLength = -1;

        bool allowed() const { return action == SandboxNetworkPolicy::Action::Allow; }
        /// The same decision, whatever range decided it.
        bool operator==(const Decision &other) const
        {
            return action == other.action && explicitRule == other.explicitRule;
        }
    };

    explicit EgressRules(const SandboxNetworkPolicy &policy = {});

    /// The first rule whose target matches `name` decides (an exact name, or `*.suffix` over
    /// the suffix's subdomains but not the suffix itself); else the default action. Address
    /// and range rules never match a name. Case and a trailing dot do not matter.
    Decision forName(const QString &name) const;

    /// What no rule matching decides.
    SandboxNetworkPolicy::Action defaultAction() const { return m_defaultAction; }

    /// The first address or range rule containing `address` decides; std::nullopt when none
    /// does. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) counts as its IPv4 address, in
    /// rules and in `address` alike.
    std::optional<Decision> forAddress(const QHostAddress &address) const;

private:
    struct NameRule
    {
        SandboxNetworkPolicy::Action action;
        QString name;           ///< normalized; for a wildcard, the suffix with its dot (`.a.com`)
        bool wildcard;
    };
    struct RangeRule
    {
        SandboxNetworkPolicy::Action action;
        QHostAddress network;   ///< IPv4 where the rule named an IPv4-mapped range
        int prefixLength;
    };

    static bool contains(const RangeRule &rule, const QHostAddress &address);

    SandboxNetworkPolicy::Action m_defaultAction;
    // Kept apart, each in policy order: a name never matches a range rule nor an address a
    // name rule, so the first match of either kind is the first in the whole policy.
    QList<NameRule> m_nameRules;
    QList<RangeRule> m_rangeRules;
};

} // namespace Sandflow::Internal
