#include "networkpolicy.h"

#include <QRegularExpression>

#include <arpa/inet.h>

namespace Sandflow {

using namespace Qt::StringLiterals;

QString egressModeName(const SandboxNetworkPolicy &policy)
{
    if (!policy.egress.isEmpty())
        return u"enforcing"_s;
    return policy.defaultAction == SandboxNetworkPolicy::Action::Allow ? u"allow_all"_s : u"deny_all"_s;
}

QString normalizedTarget(const QString &target)
{
    QString normalized = target.trimmed().toLower();
    if (normalized.endsWith(u'.'))
        normalized.chop(1);
    return normalized;
}

SandboxNetworkPolicy patchedPolicy(const SandboxNetworkPolicy &policy, const QList<SandboxNetworkPolicy::Rule> &incoming)
{
    SandboxNetworkPolicy patched;
    patched.defaultAction = policy.defaultAction;
    QStringList named;
    for (const SandboxNetworkPolicy::Rule &rule : incoming) {
        const QString target = normalizedTarget(rule.target);
        if (named.contains(target))
            continue;
        named.append(target);
        patched.egress.append(rule);
    }
    for (const SandboxNetworkPolicy::Rule &rule : policy.egress) {
        if (!named.contains(normalizedTarget(rule.target)))
            patched.egress.append(rule);
    }
    return patched;
}

SandboxNetworkPolicy policyWithoutTargets(const SandboxNetworkPolicy &policy, const QStringList &targets)
{
    QStringList removed;
    for (const QString &target : targets)
        removed.append(normalizedTarget(target));
    SandboxNetworkPolicy result;
    result.defaultAction = policy.defaultAction;
    for (const SandboxNetworkPolicy::Rule &rule : policy.egress) {
        if (!removed.contains(normalizedTarget(rule.target)))
            result.egress.append(rule);
    }
    return result;
}

namespace {

bool isAddress(const QString &text)
{
    const QByteArray latin = text.toLatin1();
    unsigned char buffer[16];
    return ::inet_pton(AF_INET, latin.constData(), buffer) == 1 || ::inet_pton(AF_INET6, latin.constData(), buffer) == 1;
}

std::optional<QString> invalidRange(const QString &target)
{
    const QString address = target.section(u'/', 0, 0);
    bool isNumber = false;
    const int prefix = target.section(u'/', 1).toInt(&isNumber);
    if (!isAddress(address))
        return u"`%1` is not an address range: `%2` is not an IPv4 or IPv6 address"_s.arg(target, address);
    const int bits = address.contains(u':') ? 128 : 32;
    if (!isNumber || prefix < 0 || prefix > bits)
        return u"`%1` is not an address range: the prefix length must be 0 to %2"_s.arg(target).arg(bits);
    return std::nullopt;
}

} // namespace

std::optional<QString> invalidTargetReason(const QString &target)
{
    const QString normalized = normalizedTarget(target);
    if (normalized.isEmpty())
        return u"the target is empty"_s;
    if (normalized.contains(u'/'))
        return invalidRange(normalized);
    if (isAddress(normalized))
        return std::nullopt;
    // Labels of letters, digits, `-` and `_` (service names), 63 characters at most each.
    static const QRegularExpression name(
        uR"(^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$)"_s);
    if (normalized.size() > 253 || !name.match(normalized).hasMatch())
        return u"`%1` is neither a host name, a `*.domain` wildcard, an IP address nor a CIDR range"_s.arg(target);
    return std::nullopt;
}

} // namespace Sandflow
