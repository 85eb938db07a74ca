// EgressRules: which names and addresses a sandbox's network policy lets through.
#include "egressrules_p.h"

#include <QTest>

using namespace Sandflow;
using namespace Sandflow::Internal;
using namespace Qt::StringLiterals;

namespace {

using Action = SandboxNetworkPolicy::Action;

SandboxNetworkPolicy policy(Action defaultAction, const QList<QPair<Action, QString>> &rules)
{
    SandboxNetworkPolicy result;
    result.defaultAction = defaultAction;
    for (const auto &[action, target] : rules)
        result.egress.append({action, target});
    return result;
}

const EgressRules::Decision ExplicitAllow{Action::Allow, true};
const EgressRules::Decision ExplicitDeny{Action::Deny, true};
const EgressRules::Decision DefaultAllow{Action::Allow, false};
const EgressRules::Decision DefaultDeny{Action::Deny, false};

} // namespace

class TestEgressRules : public QObject
{
    Q_OBJECT

private slots:
    void exactNameMatchesOnlyItself()
    {
        const EgressRules rules(policy(Action::Deny, {{Action::Allow, u"api.example.com"_s}}));
        QCOMPARE(rules.forName(u"api.example.com"_s), ExplicitAllow);
        QCOMPARE(rules.forName(u"x.api.example.com"_s), DefaultDeny);
        QCOMPARE(rules.forName(u"example.com"_s), DefaultDeny);
        QCOMPARE(rules.forName(u"bapi.example.com"_s), DefaultDeny);
    }

    void wildcardMatchesSubdomainsNotTheApex()
    {
        const EgressRules rules(policy(Action::Deny, {{Action::Allow, u"*.a.com"_s}}));
        QCOMPARE(rules.forName(u"x.a.com"_s), ExplicitAllow);
        QCOMPARE(rules.forName(u"x.y.a.com"_s), ExplicitAllow);
        QCOMPARE(rules.forName(u"a.com"_s), DefaultDeny);
        QCOMPARE(rules.forName(u"xa.com"_s), DefaultDeny);
        QCOMPARE(rules.forName(u"a.com.evil"_s), DefaultDeny);
    }

    void firstMatchingRuleWins()
    {
        const EgressRules denyFirst(policy(Action::Allow, {{Action::Deny, u"bad.a.com"_s}, {Action::Allow, u"*.a.com"_s}}));
        QCOMPARE(denyFirst.forName(u"bad.a.com"_s), ExplicitDeny);
        QCOMPARE(denyFirst.forName(u"good.a.com"_s), ExplicitAllow);
        const EgressRules allowFirst(policy(Action::Allow, {{Action::Allow, u"*.a.com"_s}, {Action::Deny, u"bad.a.com"_s}}));
        QCOMPARE(allowFirst.forName(u"bad.a.com"_s), ExplicitAllow);
    }

    void caseAndTrailingDotsDoNotMatter()
    {
        const EgressRules rules(policy(Action::Deny, {{Action::Allow, u"API.Example.COM."_s}, {Action::Allow, u"*.Wild.Org"_s}}));
        QCOMPARE(rules.forName(u"api.example.com"_s), ExplicitAllow);
        QCOMPARE(rules.forName(u"Api.EXAMPLE.com."_s), ExplicitAllow);
        QCOMPARE(rules.forName(u"X.WILD.ORG."_s), ExplicitAllow);
    }

    void defaultActionDecidesWhenNoRuleMatches()
    {
        QCOMPARE(EgressRules(policy(Action::Allow, {})).forName(u"any.where"_s), DefaultAllow);
        QCOMPARE(EgressRules(policy(Action::Deny, {})).forName(u"any.where"_s), DefaultDeny);
        QCOMPARE(EgressRules(policy(Action::Allow, {{Action::Deny, u"other.org"_s}})).forName(u"any.where"_s), DefaultAllow);
    }

    void addressRulesNeverMatchNames()
    {
        const EgressRules rules(policy(Action::Deny, {{Action::Allow, u"10.0.0.1"_s}, {Action::Allow, u"10.0.0.0/8"_s}}));
        QCOMPARE(rules.forName(u"10.0.0.1"_s), DefaultDeny);
        QCOMPARE(rules.forName(u"10.0.0.0/8"_s), DefaultDeny);
    }

    // Address rules, one address a row: the rules ("allow TARGET" or "deny TARGET", in
    // order, over a default of deny), the address, and "allow", "deny" or "none" (no rule
    // contains it).
    void forAddress_data()
    {
        QTest::addColumn<QStringList>("rules");
        QTest::addColumn<QString>("address");
        QTest::addColumn<QString>("expected");
        const QStringList ipv4Ranges{u"deny 10.1.0.0/16"_s, u"allow 10.0.0.0/8"_s};
        QTest::newRow("IPv4 range") << ipv4Ranges << u"10.2.3.4"_s << u"allow"_s;
        QTest::newRow("IPv4 range, the narrower first") << ipv4Ranges << u"10.1.3.4"_s << u"deny"_s;
        QTest::newRow("IPv4 beside the ranges") << ipv4Ranges << u"11.0.0.1"_s << u"none"_s;
        QTest::newRow("IPv6 against IPv4 ranges") << ipv4Ranges << u"fd00::1"_s << u"none"_s;
        const QStringList ipv6Range{u"allow fd00::/8"_s};
        QTest::newRow("IPv6 range") << ipv6Range << u"fd12:3456::1"_s << u"allow"_s;
        QTest::newRow("IPv6 beside the range") << ipv6Range << u"fe80::1"_s << u"none"_s;
        QTest::newRow("IPv4 against an IPv6 range") << ipv6Range << u"10.0.0.1"_s << u"none"_s;
        const QStringList singles{u"allow 192.0.2.7"_s, u"deny 2001:db8::7"_s};
        QTest::newRow("IPv4 address") << singles << u"192.0.2.7"_s << u"allow"_s;
        QTest::newRow("IPv4 next to the address") << singles << u"192.0.2.8"_s << u"none"_s;
        QTest::newRow("IPv6 address") << singles << u"2001:db8::7"_s << u"deny"_s;
        QTest::newRow("IPv6 next to the address") << singles << u"2001:db8::8"_s << u"none"_s;
        const QStringList ipv4Rules{u"allow 10.0.0.0/8"_s, u"deny 127.0.0.1"_s};
        QTest::newRow("mapped address, IPv4 range") << ipv4Rules << u"::ffff:10.9.8.7"_s << u"allow"_s;
        QTest::newRow("mapped address, IPv4 address") << ipv4Rules << u"::ffff:127.0.0.1"_s << u"deny"_s;
        QTest::newRow("mapped address beside") << ipv4Rules << u"::ffff:11.0.0.1"_s << u"none"_s;
        const QStringList mappedRules{u"allow ::ffff:10.0.0.0/104"_s, u"deny ::ffff:192.0.2.1"_s};
        QTest::newRow("mapped range, IPv4 address") << mappedRules << u"10.1.2.3"_s << u"allow"_s;
        QTest::newRow("mapped range, mapped address") << mappedRules << u"::ffff:10.1.2.3"_s << u"allow"_s;
        QTest::newRow("mapped range, IPv4 beside") << mappedRules << u"11.1.2.3"_s << u"none"_s;
        QTest::newRow("mapped address rule") << mappedRules << u"192.0.2.1"_s << u"deny"_s;
        // A range wider than the mapped addresses holds every IPv4 address too.
        QTest::newRow("::/0 holds IPv4") << QStringList{u"allow ::/0"_s} << u"203.0.113.9"_s << u"allow"_s;
        QTest::newRow("2001:db8::/32 does not") << QStringList{u"allow 2001:db8::/32"_s} << u"203.0.113.9"_s
                                                << u"none"_s;
        QTest::newRow("name rules never match addresses") << QStringList{u"allow example.com"_s}
                                                           << u"93.184.216.34"_s << u"none"_s;
    }

    void forAddress()
    {
        QFETCH(QStringList, rules);
        QFETCH(QString, address);
        QFETCH(QString, expected);
        SandboxNetworkPolicy written;
        written.defaultAction = Action::Deny;
        for (const QString &rule : rules)
            written.egress.append({rule.startsWith(u"allow"_s) ? Action::Allow : Action::Deny, rule.section(u' ', 1)});
        const std::optional<EgressRules::Decision> decision = EgressRules(written).forAddress(QHostAddress(address));
        QCOMPARE(decision ? (decision->allowed() ? u"allow"_s : u"deny"_s) : u"none"_s, expected);
        QVERIFY(!decision || decision->explicitRule);
    }

    void explicitFlagTellsRuleFromDefault()
    {
        const EgressRules rules(policy(Action::Allow, {{Action::Allow, u"localhost"_s}, {Action::Allow, u"127.0.0.0/8"_s}}));
        QVERIFY(rules.forName(u"localhost"_s).explicitRule);
        QVERIFY(!rules.forName(u"elsewhere"_s).explicitRule);
        QVERIFY(rules.forName(u"elsewhere"_s).allowed());
        QVERIFY(rules.forAddress(QHostAddress(QHostAddress::LocalHost))->explicitRule);
    }
};

QTEST_GUILESS_MAIN(TestEgressRules)
#include "tst_egressrules.moc"
