// The egress API's wire format as `sandflow serve` speaks it on the proxy route's port 18080:
// the bodies of PATCH and DELETE /policy in, the policy's status out, byte for byte.
#include "egresswire_p.h"
#include "jsoncompare.h"

#include <QTest>

using namespace Sandflow;
using namespace Sandflow::Internal;
using namespace Qt::StringLiterals;
using SandflowTest::json;

namespace {

using Action = SandboxNetworkPolicy::Action;

/// The rules as "action target" lines, or "refused: PROBLEM".
QString rulesOf(const QByteArray &body)
{
    QString problem;
    const auto rules = egressRulesFromBody(body, &problem);
    if (!rules)
        return u"refused: "_s + problem;
    QStringList lines;
    for (const SandboxNetworkPolicy::Rule &rule : *rules)
        lines.append((rule.action == Action::Allow ? u"allow "_s : u"deny "_s) + rule.target);
    return lines.join(u'\n');
}

QString targetsOf(const QByteArray &body)
{
    QString problem;
    const auto targets = egressTargetsFromBody(body, &problem);
    return targets ? targets->join(u'\n') : u"refused: "_s + problem;
}

} // namespace

class TestEgressWire : public QObject
{
    Q_OBJECT

private slots:
    void patchBodiesAreRuleLists()
    {
        QCOMPARE(rulesOf(R"([{"action":"allow","target":"api.example.com"},{"action":"deny","target":"*.bad.org"}])"),
                 u"allow api.example.com\ndeny *.bad.org"_s);
        // Addresses and ranges are targets too; duplicates are the merge's business.
        QCOMPARE(rulesOf(R"([{"action":"deny","target":"10.0.0.0/8"},{"action":"deny","target":"10.0.0.0/8"}])"),
                 u"deny 10.0.0.0/8\ndeny 10.0.0.0/8"_s);
    }

    void patchBodiesThatAreRefused_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("problem");
        QTest::newRow("empty body") << QByteArray() << u"the body is empty; expected JSON"_s;
        QTest::newRow("not JSON") << QByteArray("[{") << u"invalid JSON at offset "_s;
        QTest::newRow("an object") << QByteArray(R"({"egress":[]})") << u"the body must be a JSON array of rules"_s;
        QTest::newRow("no rules") << QByteArray("[]") << u"the body must hold at least one of rules"_s;
        QTest::newRow("not a rule") << QByteArray(R"(["example.com"])")
                                    << u"a rule must be an object {\"action\", \"target\"}, not \"example.com\""_s;
        QTest::newRow("unknown action") << QByteArray(R"([{"action":"block","target":"example.com"}])")
                                        << u"a rule's action must be \"allow\" or \"deny\", not \"block\""_s;
        QTest::newRow("no action") << QByteArray(R"([{"target":"example.com"}])")
                                   << u"a rule's action must be \"allow\" or \"deny\", not nothing"_s;
        QTest::newRow("no target") << QByteArray(R"([{"action":"allow"}])") << u"a rule needs a target, a non-empty string"_s;
        QTest::newRow("bad target") << QByteArray(R"([{"action":"allow","target":"10.0.0.0/99"}])")
                                    << u"`10.0.0.0/99` is not an address range: the prefix length must be 0 to 32"_s;
    }

    void patchBodiesThatAreRefused()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, problem);
        const QString outcome = rulesOf(body);
        QVERIFY2(outcome.startsWith(u"refused: "_s + problem), qPrintable(outcome));
    }

    void deleteBodiesAreTargetLists()
    {
        QCOMPARE(targetsOf(R"(["bad.example.com","*.blocked.org"])"), u"bad.example.com\n*.blocked.org"_s);
        QCOMPARE(targetsOf("[]"), u"refused: the body must hold at least one of target strings"_s);
        QCOMPARE(targetsOf(R"([{"target":"x.org"}])"), u"refused: every target must be a non-empty string"_s);
        QCOMPARE(targetsOf(R"({"targets":["x.org"]})"), u"refused: the body must be a JSON array of target strings"_s);
    }

    // GET answers the policy with its mode; PATCH and DELETE, as upstream's sidecar, the mode only.
    void statusBodies()
    {
        SandboxNetworkPolicy policy;
        policy.defaultAction = Action::Deny;
        QCOMPARE(json(currentPolicyJson(policy)),
                 R"({"enforcementMode":"dns","mode":"deny_all","policy":{"defaultAction":"deny","egress":[]},"status":"ok"})");
        policy.defaultAction = Action::Allow;
        QCOMPARE(json(policyStatusJson(policy)), R"({"enforcementMode":"dns","mode":"allow_all","status":"ok"})");
        policy.egress.append({Action::Deny, u"*.example.com"_s});
        QCOMPARE(json(currentPolicyJson(policy)),
                 R"({"enforcementMode":"dns","mode":"enforcing","policy":{"defaultAction":"allow",)"
                 R"("egress":[{"action":"deny","target":"*.example.com"}]},"status":"ok"})");
    }
};

QTEST_GUILESS_MAIN(TestEgressWire)
#include "tst_egresswire.moc"
