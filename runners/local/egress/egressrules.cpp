#include "egressrules_p.h"

#include "networkpolicy.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

QHostAddress withoutMapping(const QHostAddress &address)
{
    if (address.protocol() != QAbstractSocket::IPv6Protocol)
        return address;
    bool isMapped = false;
    const quint32 ipv4 = address.toIPv4Address(&isMapped);
    return isMapped ? QHostAddress(ipv4) : address;
}

namespace {

/// `::ffff:a.b.c.d`: an IPv4 address as IPv6 ranges see it.
QHostAddress mapped(const QHostAddress &ipv4)
{
    return QHostAddress(u"::ffff:"_s + ipv4.toString());
}

constexpr int MappedPrefixBits = 96;

} // namespace

EgressRules::EgressRules(const SandboxNetworkPolicy &policy) : m_defaultAction(policy.defaultAction)
{
    for (const SandboxNetworkPolicy::Rule &rule : policy.egress) {
        const QString target = normalizedTarget(rule.target);
        QPair<QHostAddress, int> range = QHostAddress::parseSubnet(target);
        if (!target.contains(u'/')) {
            const QHostAddress single(target);
            range = {single, single.protocol() == QAbstractSocket::IPv4Protocol ? 32 : 128};
        }
        if (range.first.isNull()) {
            const bool wildcard = target.startsWith(u"*."_s);
            m_nameRules.append({rule.action, wildcard ? target.mid(1) : target, wildcard});
            continue;
        }
        const QHostAddress network = withoutMapping(range.first);
        // `::ffff:10.0.0.0/104` is `10.0.0.0/8`; a shorter prefix reaches beyond the mapped
        // addresses and stays IPv6 (contains() maps IPv4 addresses for it).
        if (network.protocol() != range.first.protocol() && range.second >= MappedPrefixBits)
            m_rangeRules.append({rule.action, network, range.second - MappedPrefixBits});
        else
            m_rangeRules.append({rule.action, range.first, range.second});
    }
}

EgressRules::Decision EgressRules::forName(const QString &name) const
{
    const QString normalized = normalizedTarget(name);
    for (const NameRule &rule : m_nameRules) {
        const bool matches = rule.wildcard ? normalized.endsWith(rule.name) && normalized.size() > rule.name.size()
                                           : normalized == rule.name;
        if (matches)
            return {rule.action, true};
    }
    return {m_defaultAction, false};
}

std::optional<EgressRules::Decision> EgressRules::forAddress(const QHostAddress &address) const
{
    const QHostAddress normalized = withoutMapping(address);
    for (const RangeRule &rule : m_rangeRules) {
        if (contains(rule, normalized)) {
            const bool widened = normalized.protocol() == QAbstractSocket::IPv4Protocol
                                 && rule.network.protocol() == QAbstractSocket::IPv6Protocol;
            return Decision{rule.action, true, widened ? rule.prefixLength - 96 : rule.prefixLength};
        }
    }
    return std::nullopt;
}

bool EgressRules::contains(const RangeRule &rule, const QHostAddress &address)
{
    if (address.protocol() == QAbstractSocket::IPv4Protocol && rule.network.protocol() == QAbstractSocket::IPv6Protocol)
        return mapped(address).isInSubnet(rule.network, rule.prefixLength);
    return address.isInSubnet(rule.network, rule.prefixLength);
}

} // namespace Sandflow::Internal
