// A sandbox's network policy as the filter and the resolver ask it: of a name, or of an
// address. The first rule that matches decides, else the default (opensandbox-protocol-notes
// section 3): names match exact targets and `*.suffix` wildcards (which leave out the suffix
// itself), case-insensitively, trailing dots ignored; addresses match address and CIDR rules,
// IPv4 inside IPv6 (::ffff:a.b.c.d) as the IPv4 address.
#pragma once

#include "runner.h"

#include <QHostAddress>

#include <optional>

namespace Sandflow::Internal {

struct EgressDecision
{
    bool allow = false;
    /// Decided by a rule, not by the default.
    bool explicitRule = false;
};

class EgressRules
{
public:
    explicit EgressRules(const SandboxNetworkPolicy &policy);

    /// The first name rule matching `name`, else the default.
    EgressDecision forName(const QString &name) const;
    /// The first address or CIDR rule containing `address`; std::nullopt when none does.
    std::optional<EgressDecision> forAddress(const QHostAddress &address) const;

private:
    struct Rule
    {
        bool allow = false;
        QString name;                     ///< normalized; for `*.suffix`, ".suffix"
        bool wildcard = false;
        std::optional<QPair<QHostAddress, int>> range;   ///< address rules
    };

    bool m_defaultAllow = false;
    QList<Rule> m_rules;
};

} // namespace Sandflow::Internal
