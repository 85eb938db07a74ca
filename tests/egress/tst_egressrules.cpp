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

    void nameRulesNeverMatchAddresses()
    {
        const EgressRules rules(policy(Action::Allow, {{Action::Deny, u"example.com"_s}}));
        QCOMPARE(rules.forAddress(QHostAddress(u"93.184.216.34"_s)), std::nullopt);
    }

    void ipv4Ranges()
    {
        const EgressRules rules(policy(Action::Deny, {{Action::Deny, u"10.1.0.0/16"_s}, {Action::Allow, u"10.0.0.0/8"_s}}));
        QCOMPARE(rules.forAddress(QHostAddress(u"10.2.3.4"_s)), ExplicitAllow);
        QCOMPARE(rules.forAddress(QHostAddress(u"10.1.3.4"_s)), ExplicitDeny);
        QCOMPARE(rules.forAddress(QHostAddress(u"11.0.0.1"_s)), std::nullopt);
        QCOMPARE(rules.forAddress(QHostAddress(u"fd00::1"_s)), std::nullopt);
    }

    void ipv6Ranges()
    {
        const EgressRules rules(policy(Action::Deny, {{Action::Allow, u"fd00::/8"_s}}));
        QCOMPARE(rules.forAddress(QHostAddress(u"fd12:3456::1"_s)), ExplicitAllow);
        QCOMPARE(rules.forAddress(QHostAddress(u"fe80::1"_s)), std::nullopt);
        QCOMPARE(rules.forAddress(QHostAddress(u"10.0.0.1"_s)), std::nullopt);
    }

    void singleAddresses()
    {
        const EgressRules rules(policy(Action::Deny, {{Action::Allow, u"192.0.2.7"_s}, {Action::Deny, u"2001:db8::7"_s}}));
        QCOMPARE(rules.forAddress(QHostAddress(u"192.0.2.7"_s)), ExplicitAllow);
        QCOMPARE(rules.forAddress(QHostAddress(u"192.0.2.8"_s)), std::nullopt);
        QCOMPARE(rules.forAddress(QHostAddress(u"2001:db8::7"_s)), ExplicitDeny);
        QCOMPARE(rules.forAddress(QHostAddress(u"2001:db8::8"_s)), std::nullopt);
    }

    void mappedAddressesCountAsIpv4()
    {
        const EgressRules ipv4Rules(policy(Action::Deny, {{Action::Allow, u"10.0.0.0/8"_s}, {Action::Deny, u"127.0.0.1"_s}}));
        QCOMPARE(ipv4Rules.forAddress(QHostAddress(u"::ffff:10.9.8.7"_s)), ExplicitAllow);
        QCOMPARE(ipv4Rules.forAddress(QHostAddress(u"::ffff:127.0.0.1"_s)), ExplicitDeny);
        QCOMPARE(ipv4Rules.forAddress(QHostAddress(u"::ffff:11.0.0.1"_s)), std::nullopt);

        const EgressRules mappedRules(policy(Action::Deny, {{Action::Allow, u"::ffff:10.0.0.0/104"_s},
                                                             {Action::Deny, u"::ffff:192.0.2.1"_s}}));
        QCOMPARE(mappedRules.forAddress(QHostAddress(u"10.1.2.3"_s)), ExplicitAllow);
        QCOMPARE(mappedRules.forAddress(QHostAddress(u"::ffff:10.1.2.3"_s)), ExplicitAllow);
        QCOMPARE(mappedRules.forAddress(QHostAddress(u"11.1.2.3"_s)), std::nullopt);
        QCOMPARE(mappedRules.forAddress(QHostAddress(u"192.0.2.1"_s)), ExplicitDeny);

        // A range wider than the mapped addresses holds every IPv4 address too.
        const EgressRules everything(policy(Action::Deny, {{Action::Allow, u"::/0"_s}}));
        QCOMPARE(everything.forAddress(QHostAddress(u"203.0.113.9"_s)), ExplicitAllow);
        const EgressRules documentation(policy(Action::Deny, {{Action::Allow, u"2001:db8::/32"_s}}));
        QCOMPARE(documentation.forAddress(QHostAddress(u"203.0.113.9"_s)), std::nullopt);
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
