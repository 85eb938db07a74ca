#include "egressrules_p.h"

#include "networkpolicy.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

QHostAddress unmapped(const QHostAddress &address)
{
    bool mapped = false;
    const quint32 ipv4 = address.toIPv4Address(&mapped);
    return mapped && address.protocol() == QAbstractSocket::IPv6Protocol ? QHostAddress(ipv4) : address;
}

} // namespace

EgressRules::EgressRules(const SandboxNetworkPolicy &policy)
    : m_defaultAllow(policy.defaultAction == SandboxNetworkPolicy::Action::Allow)
{
    for (const SandboxNetworkPolicy::Rule &source : policy.egress) {
        Rule rule;
        rule.allow = source.action == SandboxNetworkPolicy::Action::Allow;
        const QString target = normalizedTarget(source.target);
        const QHostAddress address(target.section(u'/', 0, 0));
        if (!address.isNull()) {
            const QHostAddress plain = unmapped(address);
            const int bits = plain.protocol() == QAbstractSocket::IPv6Protocol ? 128 : 32;
            bool isNumber = true;
            const int prefix = target.contains(u'/') ? target.section(u'/', 1).toInt(&isNumber) : bits;
            // A mapped range (::ffff:10.0.0.0/104) is the IPv4 range it holds.
            const int plainPrefix = bits == 32 && address.protocol() == QAbstractSocket::IPv6Protocol ? prefix - 96 : prefix;
            if (!isNumber || plainPrefix < 0 || plainPrefix > bits)
                continue;
            rule.range = qMakePair(plain, plainPrefix);
        } else if (target.startsWith(u"*."_s)) {
            rule.wildcard = true;
            rule.name = target.mid(1);
        } else {
            rule.name = target;
        }
        m_rules.append(rule);
    }
}

EgressDecision EgressRules::forName(const QString &name) const
{
    const QString normalized = normalizedTarget(name);
    for (const Rule &rule : m_rules) {
        if (rule.range)
            continue;
        if (rule.wildcard ? normalized.endsWith(rule.name) && normalized.size() > rule.name.size()
                          : normalized == rule.name)
            return {rule.allow, true};
    }
    return {m_defaultAllow, false};
}

std::optional<EgressDecision> EgressRules::forAddress(const QHostAddress &address) const
{
    const QHostAddress plain = unmapped(address);
    for (const Rule &rule : m_rules) {
        if (rule.range && plain.isInSubnet(rule.range->first, rule.range->second))
            return EgressDecision{rule.allow, true};
    }
    return std::nullopt;
}

} // namespace Sandflow::Internal
