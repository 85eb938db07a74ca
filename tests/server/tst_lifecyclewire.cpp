// The lifecycle API's wire format: what the server reads from create, list, PATCH, renew and
// endpoint requests, what it refuses and with which status, code or `detail`, and the exact
// bytes of its response bodies.
#include "jsoncompare.h"
#include "labelrules_p.h"
#include "lifecyclewire_p.h"
#include "resourcelimits_p.h"
#include "wiretime_p.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <QTimeZone>
#include <QUrlQuery>

#include <limits>

using namespace Sandflow;
using namespace Sandflow::Internal;
using namespace Qt::StringLiterals;

namespace {

using SandflowTest::json;
using SandflowTest::normalized;

// What the JS SDK 0.1.11 sends for `Sandbox.create({image: "ubuntu"})`.
const QByteArray SdkCreateBody =
    R"({"image":{"uri":"ubuntu"},"entrypoint":["tail","-f","/dev/null"],"resourceLimits":{"cpu":"1","memory":"2Gi"},)"
    R"("secureAccess":false,"env":{},"metadata":{},"extensions":{},"timeout":600})"_ba;

/// A create body: the least a valid request has, then `members`. Of duplicate members the
/// last counts, so `members` may replace the defaults (null stands for "absent").
QByteArray create(const QByteArray &members = {})
{
    QByteArray body = R"({"image":{"uri":"ubuntu"},"entrypoint":["tail","-f","/dev/null"],)"
                      R"("resourceLimits":{"cpu":"1","memory":"2Gi"})"_ba;
    if (!members.isEmpty())
        body += ',' + members;
    return body + '}';
}

CreatePolicy testPolicy()
{
    CreatePolicy policy;
    policy.maxTimeoutSeconds = 86400;
    policy.hostArch = u"amd64"_s;
    return policy;
}

/// An error as tables state it: `STATUS CODE` for a coded error, `422 [detail]` for a
/// validation failure with each entry's `input` left out (tests that care check it apart).
QByteArray describe(const ApiError &error)
{
    const QByteArray status = QByteArray::number(error.status) + ' ';
    if (error.body.contains(u"code"_s)) {
        if (error.body.value(u"message"_s).toString().isEmpty())
            return status + "(no message)";
        return status + error.body.value(u"code"_s).toString().toUtf8();
    }
    QJsonArray detail;
    for (const QJsonValue entry : error.body.value(u"detail"_s).toArray()) {
        QJsonObject withoutInput = entry.toObject();
        withoutInput.remove(u"input"_s);
        detail.append(withoutInput);
    }
    return status + json(detail);
}

/// The expectation for a validation failure, written with spaces.
QByteArray invalid(const QByteArray &detail)
{
    return "422 " + normalized(detail);
}

QJsonValue optionalJson(const auto &value)
{
    return value ? QJsonValue(*value) : QJsonValue(QJsonValue::Null);
}

QJsonObject toJson(const QMap<QString, QString> &map)
{
    QJsonObject object;
    for (auto it = map.cbegin(); it != map.cend(); ++it)
        object.insert(it.key(), it.value());
    return object;
}

/// Every member of a SandboxRequest, for comparisons that print what differs.
QJsonObject describe(const SandboxRequest &request)
{
    const auto action = [](SandboxNetworkPolicy::Action a) {
        return a == SandboxNetworkPolicy::Action::Allow ? u"allow"_s : u"deny"_s;
    };
    QJsonValue network;   // null: none given
    if (request.network) {
        QJsonArray egress;
        for (const SandboxNetworkPolicy::Rule &rule : request.network->egress)
            egress.append(QJsonObject{{u"action"_s, action(rule.action)}, {u"target"_s, rule.target}});
        network = QJsonObject{{u"defaultAction"_s, action(request.network->defaultAction)}, {u"egress"_s, egress}};
    }
    QJsonArray volumes;
    for (const SandboxVolume &volume : request.volumes) {
        const QString kind = volume.kind == SandboxVolume::Kind::Host  ? u"host"_s
                             : volume.kind == SandboxVolume::Kind::Pvc ? u"pvc"_s
                                                                       : u"ossfs"_s;
        volumes.append(QJsonObject{{u"name"_s, volume.name},
                                   {u"mountPath"_s, volume.mountPath},
                                   {u"readOnly"_s, volume.readOnly},
                                   {u"subPath"_s, volume.subPath},
                                   {u"kind"_s, kind},
                                   {u"hostPath"_s, volume.hostPath},
                                   {u"claimName"_s, volume.claimName}});
    }
    return {{u"image"_s, request.image},
            {u"imageUsername"_s, request.imageUsername},
            {u"imagePassword"_s, request.imagePassword},
            {u"entrypoint"_s, QJsonArray::fromStringList(request.entrypoint)},
            {u"env"_s, toJson(request.env)},
            {u"metadata"_s, toJson(request.metadata)},
            {u"timeoutMs"_s, optionalJson(request.timeoutMs)},
            {u"network"_s, network},
            {u"volumes"_s, volumes},
            {u"rootfs"_s, request.rootfs},
            {u"cpus"_s, optionalJson(request.cpus)},
            {u"memoryBytes"_s, optionalJson(request.memoryBytes)},
            {u"maxProcesses"_s, optionalJson(request.maxProcesses)}};
}

/// Only the members of `actual` that `expected` names, so each table row states what it is about.
QByteArray membersOf(const QJsonObject &actual, const QJsonObject &expected)
{
    QJsonObject subset;
    for (auto it = expected.constBegin(); it != expected.constEnd(); ++it)
        subset.insert(it.key(), actual.value(it.key()));
    return json(subset);
}

QByteArray compact(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

QDateTime utc(const QString &text)
{
    return QDateTime::fromString(text, Qt::ISODateWithMs).toUTC();
}

SandboxInfo sampleSandbox()
{
    SandboxInfo sandbox;
    sandbox.id = u"3f2c1a9e-6b7d-4c8e-9f10-1a2b3c4d5e6f"_s;
    sandbox.state = SandboxState::Running;
    sandbox.reason = u"AGENT_READY"_s;
    sandbox.image = u"ubuntu"_s;
    sandbox.entrypoint = {u"tail"_s, u"-f"_s, u"/dev/null"_s};
    sandbox.metadata = {{u"team"_s, u"ml"_s}, {u"app.kubernetes.io/name"_s, u"eval"_s}};
    sandbox.createdAt = utc(u"2026-06-12T10:00:00.123Z"_s);
    sandbox.expiresAt = utc(u"2026-06-12T10:10:00.123Z"_s);
    return sandbox;
}

const QString LongName = QString(63, u'a');

} // namespace

class TestLifecycleWire : public QObject
{
    Q_OBJECT

private slots:
    void sdkCreateRequest();
    void createRequest_data();
    void createRequest();
    void createErrors_data();
    void createErrors();
    void validationEntries_data();
    void validationEntries();
    void timeoutWithoutCap();
    void cpuLimits_data();
    void cpuLimits();
    void memoryLimits_data();
    void memoryLimits();
    void labelRules_data();
    void labelRules();
    void sandboxJson();
    void createResponseJson();
    void pageJson();
    void timestamps_data();
    void timestamps();
    void listQuery_data();
    void listQuery();
    void metadataPatch_data();
    void metadataPatch();
    void renew_data();
    void renew();
    void endpoint();
    void endpointPort_data();
    void endpointPort();
    void errors();
    void errorMessageForLogs();
};

void TestLifecycleWire::sdkCreateRequest()
{
    const Parsed<CreateRequest> parsed = parseCreateRequest(SdkCreateBody, testPolicy());
    QVERIFY2(parsed.ok(), qPrintable(parsed.error().message()));
    QCOMPARE(json(describe(parsed->sandbox)), normalized(R"({
        "image": "ubuntu", "imageUsername": "", "imagePassword": "", "entrypoint": ["tail", "-f", "/dev/null"],
        "env": {}, "metadata": {}, "timeoutMs": 600000, "network": null, "volumes": [],
        "rootfs": "", "cpus": 1, "memoryBytes": 2147483648, "maxProcesses": null})"));
    QCOMPARE(parsed->warnings, QStringList());
    QCOMPARE(parsed->renewOnAccessSeconds, std::nullopt);
}

void TestLifecycleWire::createRequest_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("expected");   // members of describe(SandboxRequest)
    QTest::addColumn<QStringList>("warningParts");   // one substring per expected warning

    QTest::newRow("env: null values are not set")
        << create(R"("env": {"A": "1", "B": null, "C": ""})") << R"({"env": {"A": "1", "C": ""}})"_ba
        << QStringList();
    QTest::newRow("env and metadata null") << create(R"("env": null, "metadata": null)")
        << R"({"env": {}, "metadata": {}})"_ba << QStringList();
    QTest::newRow("metadata as labels") << create(R"("metadata": {"team": "ml", "example.com/run-id": "r_1.2", "note": ""})")
        << R"({"metadata": {"team": "ml", "example.com/run-id": "r_1.2", "note": ""}})"_ba
        << QStringList();
    QTest::newRow("timeout absent: no expiry") << create() << R"({"timeoutMs": null})"_ba << QStringList();
    QTest::newRow("timeout null: no expiry") << create(R"("timeout": null)") << R"({"timeoutMs": null})"_ba
        << QStringList();
    QTest::newRow("timeout 60") << create(R"("timeout": 60)") << R"({"timeoutMs": 60000})"_ba << QStringList();
    QTest::newRow("timeout as a whole float") << create(R"("timeout": 600.0)") << R"({"timeoutMs": 600000})"_ba
        << QStringList();
    QTest::newRow("timeout at the cap") << create(R"("timeout": 86400)") << R"({"timeoutMs": 86400000})"_ba
        << QStringList();
    QTest::newRow("entrypoint kept as sent") << create(R"("entrypoint": ["python", "-c", "exit 0"])")
        << R"({"entrypoint": ["python", "-c", "exit 0"]})"_ba << QStringList();
    QTest::newRow("image uri with a tag") << create(R"("image": {"uri": "python:3.12-slim"})")
        << R"({"image": "python:3.12-slim"})"_ba << QStringList();

    QTest::newRow("networkPolicy {}: deny all")
        << create(R"("networkPolicy": {})") << R"({"network": {"defaultAction": "deny", "egress": []}})"_ba
        << QStringList();
    QTest::newRow("networkPolicy without defaultAction: deny")
        << create(R"("networkPolicy": {"egress": [{"action": "allow", "target": "pypi.org"}]})")
        << R"({"network": {"defaultAction": "deny", "egress": [{"action": "allow", "target": "pypi.org"}]}})"_ba
        << QStringList();
    QTest::newRow("networkPolicy rules in order")
        << create(R"("networkPolicy": {"defaultAction": "allow", "egress": [
                        {"action": "deny", "target": "*.example.com"}, {"action": "allow", "target": "10.0.0.0/8"}]})")
        << R"({"network": {"defaultAction": "allow", "egress": [
                  {"action": "deny", "target": "*.example.com"}, {"action": "allow", "target": "10.0.0.0/8"}]}})"_ba
        << QStringList();
    QTest::newRow("networkPolicy null: the host's network")
        << create(R"("networkPolicy": null)") << R"({"network": null})"_ba
        << QStringList();

    QTest::newRow("volumes of each backend")
        << create(R"("volumes": [
               {"name": "data", "mountPath": "/data", "readOnly": true, "subPath": "run/1", "host": {"path": "/srv/data"}},
               {"name": "cache", "mountPath": "/cache", "pvc": {"claimName": "pip-cache"}},
               {"name": "bucket", "mountPath": "/mnt/oss", "ossfs": {"bucket": "my-bucket", "endpoint": "oss.example.com",
                "accessKeyId": "id", "accessKeySecret": "secret", "version": "1.0", "options": ["allow_other"]}}])")
        << R"({"volumes": [
               {"name": "data", "mountPath": "/data", "readOnly": true, "subPath": "run/1", "kind": "host",
                "hostPath": "/srv/data", "claimName": ""},
               {"name": "cache", "mountPath": "/cache", "readOnly": false, "subPath": "", "kind": "pvc",
                "hostPath": "", "claimName": "pip-cache"},
               {"name": "bucket", "mountPath": "/mnt/oss", "readOnly": false, "subPath": "", "kind": "ossfs",
                "hostPath": "", "claimName": ""}]})"_ba
        << QStringList();
    QTest::newRow("pvc options the runner does not take")
        << create(R"("volumes": [{"name": "cache", "mountPath": "/cache",
                      "pvc": {"claimName": "c", "createIfNotExists": false, "storage": "1.5Gi", "accessModes": ["ReadWriteOnce"]}}])")
        << R"({"volumes": [{"name": "cache", "mountPath": "/cache", "readOnly": false, "subPath": "", "kind": "pvc",
                        "hostPath": "", "claimName": "c"}]})"_ba
        << QStringList{u"createIfNotExists"_s};

    QTest::newRow("resourceLimits: millicores and decimal units")
        << create(R"("resourceLimits": {"cpu": "250m", "memory": "512M"})")
        << R"({"cpus": 0.25, "memoryBytes": 512000000})"_ba << QStringList();
    QTest::newRow("resourceLimits: empty") << create(R"("resourceLimits": {})")
        << R"({"cpus": null, "memoryBytes": null})"_ba << QStringList();
    QTest::newRow("resourceLimits: unreadable values are ignored")
        << create(R"("resourceLimits": {"cpu": "lots", "memory": "1.5Gi"})")
        << R"({"cpus": null, "memoryBytes": null})"_ba
        << QStringList{u"resourceLimits.cpu 'lots'"_s, u"resourceLimits.memory '1.5Gi'"_s};
    QTest::newRow("resourceLimits: gpu and unknown keys are ignored")
        << create(R"("resourceLimits": {"cpu": "2", "gpu": "1", "ephemeral-storage": "1Gi"})")
        << R"({"cpus": 2, "memoryBytes": null})"_ba
        << QStringList{u"resourceLimits.ephemeral-storage"_s, u"resourceLimits.gpu"_s};

    QTest::newRow("platform of this machine") << create(R"("platform": {"os": "linux", "arch": "amd64"})")
        << R"({"image": "ubuntu"})"_ba << QStringList();
    QTest::newRow("credentialProxy with networkPolicy")
        << create(R"("networkPolicy": {"defaultAction": "allow"}, "credentialProxy": {"enabled": true})")
        << R"({"network": {"defaultAction": "allow", "egress": []}})"_ba << QStringList{u"credentialProxy"_s};
    QTest::newRow("credentialProxy disabled") << create(R"("credentialProxy": {"enabled": false})")
        << R"({"image": "ubuntu"})"_ba << QStringList();
    QTest::newRow("image.auth") << create(R"("image": {"uri": "registry.example.com/app", "auth": {"username": "u", "password": "p"}})")
        << R"({"image": "registry.example.com/app", "imageUsername": "u", "imagePassword": "p"})"_ba << QStringList();
    QTest::newRow("unknown members are ignored")
        << create(R"("colour": "blue", "image": {"uri": "ubuntu", "digest": "sha256:0"}, "secureAccess": false,
                     "volumes": [], "extensions": {"vendor.flag": "on"})")
        << R"({"image": "ubuntu", "volumes": []})"_ba << QStringList();
}

void TestLifecycleWire::createRequest()
{
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, expected);
    QFETCH(QStringList, warningParts);

    const Parsed<CreateRequest> parsed = parseCreateRequest(body, testPolicy());
    QVERIFY2(parsed.ok(), qPrintable(parsed.error().message()));
    const QJsonObject expectedMembers = QJsonDocument::fromJson(expected).object();
    QVERIFY(!expectedMembers.isEmpty());
    QCOMPARE(membersOf(describe(parsed->sandbox), expectedMembers), json(expectedMembers));
    QCOMPARE(parsed->warnings.size(), warningParts.size());
    for (qsizetype i = 0; i < warningParts.size(); ++i)
        QVERIFY2(parsed->warnings.at(i).contains(warningParts.at(i)), qPrintable(parsed->warnings.at(i)));
}

void TestLifecycleWire::createErrors_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("expected");
    QTest::addColumn<QString>("messagePart");   // for coded errors

    // The body as a whole.
    QTest::newRow("empty body") << QByteArray() << invalid(R"([{"type": "missing", "loc": ["body"], "msg": "Field required"}])")
        << QString();
    QTest::newRow("not JSON") << R"({"image": )"_ba
        << invalid(R"([{"type": "json_invalid", "loc": ["body", 10], "msg": "JSON decode error",
                        "ctx": {"error": "unterminated object"}}])")
        << QString();
    QTest::newRow("not an object") << R"(["ubuntu"])"_ba
        << invalid(R"([{"type": "model_attributes_type", "loc": ["body"],
                        "msg": "Input should be a valid dictionary or object to extract fields from"}])")
        << QString();

    // Members of the wrong type or shape: 422, all at once.
    QTest::newRow("image not an object") << create(R"("image": "ubuntu")")
        << invalid(R"([{"type": "model_attributes_type", "loc": ["body", "image"],
                        "msg": "Input should be a valid dictionary or object to extract fields from"}])")
        << QString();
    QTest::newRow("image without uri") << create(R"("image": {})")
        << invalid(R"([{"type": "missing", "loc": ["body", "image", "uri"], "msg": "Field required"}])")
        << QString();
    QTest::newRow("entrypoint not a list") << create(R"("entrypoint": "tail -f /dev/null")")
        << invalid(R"([{"type": "list_type", "loc": ["body", "entrypoint"],
                        "msg": "Input should be a valid list"}])")
        << QString();
    QTest::newRow("entrypoint with a number") << create(R"("entrypoint": ["sleep", 60])")
        << invalid(R"([{"type": "string_type", "loc": ["body", "entrypoint", 1],
                        "msg": "Input should be a valid string"}])")
        << QString();
    QTest::newRow("timeout under 60") << create(R"("timeout": 59)")
        << invalid(R"([{"type": "greater_than_equal", "loc": ["body", "timeout"],
                        "msg": "Input should be greater than or equal to 60", "ctx": {"ge": 60}}])")
        << QString();
    QTest::newRow("timeout negative") << create(R"("timeout": -1)")
        << invalid(R"([{"type": "greater_than_equal", "loc": ["body", "timeout"],
                        "msg": "Input should be greater than or equal to 60", "ctx": {"ge": 60}}])")
        << QString();
    QTest::newRow("timeout a string") << create(R"("timeout": "600")")
        << invalid(R"([{"type": "int_type", "loc": ["body", "timeout"],
                        "msg": "Input should be a valid integer"}])")
        << QString();
    QTest::newRow("timeout with a fraction") << create(R"("timeout": 600.5)")
        << invalid(R"([{"type": "int_from_float", "loc": ["body", "timeout"],
                        "msg": "Input should be a valid integer, got a number with a fractional part"}])")
        << QString();
    QTest::newRow("resourceLimits value a number") << create(R"("resourceLimits": {"cpu": 1})")
        << invalid(R"([{"type": "string_type", "loc": ["body", "resourceLimits", "cpu"],
                        "msg": "Input should be a valid string"}])")
        << QString();
    QTest::newRow("env not a map") << create(R"("env": ["A=1"])")
        << invalid(R"([{"type": "dict_type", "loc": ["body", "env"], "msg": "Input should be a valid dictionary"}])")
        << QString();
    QTest::newRow("env value a number") << create(R"("env": {"PORT": 8080})")
        << invalid(R"([{"type": "string_type", "loc": ["body", "env", "PORT"],
                        "msg": "Input should be a valid string"}])")
        << QString();
    QTest::newRow("metadata value null") << create(R"("metadata": {"team": null})")
        << invalid(R"([{"type": "string_type", "loc": ["body", "metadata", "team"],
                        "msg": "Input should be a valid string"}])")
        << QString();
    QTest::newRow("secureAccess a string") << create(R"("secureAccess": "yes")")
        << invalid(R"([{"type": "bool_type", "loc": ["body", "secureAccess"],
                        "msg": "Input should be a valid boolean"}])")
        << QString();
    QTest::newRow("defaultAction unknown") << create(R"("networkPolicy": {"defaultAction": "block"})")
        << invalid(R"([{"type": "enum", "loc": ["body", "networkPolicy", "defaultAction"],
                        "msg": "Input should be 'allow' or 'deny'", "ctx": {"expected": "'allow' or 'deny'"}}])")
        << QString();
    QTest::newRow("egress rule without target") << create(R"("networkPolicy": {"egress": [{"action": "allow"}]})")
        << invalid(R"([{"type": "missing", "loc": ["body", "networkPolicy", "egress", 0, "target"],
                        "msg": "Field required"}])")
        << QString();
    QTest::newRow("extensions value a number") << create(R"("extensions": {"access.renew.extend.seconds": 600})")
        << invalid(R"([{"type": "string_type", "loc": ["body", "extensions", "access.renew.extend.seconds"],
                        "msg": "Input should be a valid string"}])")
        << QString();
    QTest::newRow("platform without arch") << create(R"("platform": {"os": "linux"})")
        << invalid(R"([{"type": "missing", "loc": ["body", "platform", "arch"], "msg": "Field required"}])")
        << QString();
    QTest::newRow("several misfits at once")
        << create(R"("timeout": 30, "secureAccess": "no", "volumes": [{"name": "Data", "mountPath": "data", "host": {"path": "/d"}}])")
        << invalid(R"([{"type": "greater_than_equal", "loc": ["body", "timeout"],
                        "msg": "Input should be greater than or equal to 60", "ctx": {"ge": 60}},
                       {"type": "bool_type", "loc": ["body", "secureAccess"], "msg": "Input should be a valid boolean"},
                       {"type": "string_pattern_mismatch", "loc": ["body", "volumes", 0, "name"],
                        "msg": "String should match pattern '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'",
                        "ctx": {"pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}},
                       {"type": "string_pattern_mismatch", "loc": ["body", "volumes", 0, "mountPath"],
                        "msg": "String should match pattern '^/.*'", "ctx": {"pattern": "^/.*"}}])")
        << QString();

    // Volumes' shapes: 422.
    const QByteArray pattern = R"("msg": "String should match pattern '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'",
                        "ctx": {"pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"})";
    QTest::newRow("volume name with a capital")
        << create(R"("volumes": [{"name": "Data", "mountPath": "/data", "host": {"path": "/d"}}])")
        << invalid(R"([{"type": "string_pattern_mismatch", "loc": ["body", "volumes", 0, "name"], )" + pattern + "}]")
        << QString();
    QTest::newRow("volume name ending in -")
        << create(R"("volumes": [{"name": "data-", "mountPath": "/data", "host": {"path": "/d"}}])")
        << invalid(R"([{"type": "string_pattern_mismatch", "loc": ["body", "volumes", 0, "name"], )" + pattern + "}]")
        << QString();
    QTest::newRow("volume name with a newline")
        << create(R"("volumes": [{"name": "data\n", "mountPath": "/data", "host": {"path": "/d"}}])")
        << invalid(R"([{"type": "string_pattern_mismatch", "loc": ["body", "volumes", 0, "name"], )" + pattern + "}]")
        << QString();
    QTest::newRow("volume name of 64 characters")
        << create(R"("volumes": [{"name": ")" + QByteArray(64, 'a') + R"(", "mountPath": "/data", "host": {"path": "/d"}}])")
        << invalid(R"([{"type": "string_too_long", "loc": ["body", "volumes", 0, "name"],
                        "msg": "String should have at most 63 characters", "ctx": {"max_length": 63}}])")
        << QString();
    QTest::newRow("volume without name")
        << create(R"("volumes": [{"mountPath": "/data", "host": {"path": "/d"}}])")
        << invalid(R"([{"type": "missing", "loc": ["body", "volumes", 0, "name"], "msg": "Field required"}])") << QString();
    QTest::newRow("mountPath relative")
        << create(R"("volumes": [{"name": "data", "mountPath": "data", "host": {"path": "/d"}}])")
        << invalid(R"([{"type": "string_pattern_mismatch", "loc": ["body", "volumes", 0, "mountPath"],
                        "msg": "String should match pattern '^/.*'", "ctx": {"pattern": "^/.*"}}])")
        << QString();
    QTest::newRow("volume without backend")
        << create(R"("volumes": [{"name": "data", "mountPath": "/data"}])")
        << invalid(R"([{"type": "value_error", "loc": ["body", "volumes", 0],
                        "msg": "Value error, Exactly one backend (host, pvc or ossfs) must be specified"}])")
        << QString();
    QTest::newRow("volume with two backends")
        << create(R"("volumes": [{"name": "data", "mountPath": "/data", "host": {"path": "/d"}, "pvc": {"claimName": "d"}}])")
        << invalid(R"([{"type": "value_error", "loc": ["body", "volumes", 0],
                        "msg": "Value error, Exactly one backend (host, pvc or ossfs) must be specified"}])")
        << QString();
    QTest::newRow("host path not a path")
        << create(R"("volumes": [{"name": "data", "mountPath": "/data", "host": {"path": "srv/data"}}])")
        << invalid(R"x([{"type": "string_pattern_mismatch", "loc": ["body", "volumes", 0, "host", "path"],
                        "msg": "String should match pattern '^(/|[A-Za-z]:[\\\\/])'", "ctx": {"pattern": "^(/|[A-Za-z]:[\\\\/])"}}])x")
        << QString();
    QTest::newRow("pvc claimName with an underscore")
        << create(R"("volumes": [{"name": "cache", "mountPath": "/cache", "pvc": {"claimName": "pip_cache"}}])")
        << invalid(R"([{"type": "string_pattern_mismatch", "loc": ["body", "volumes", 0, "pvc", "claimName"], )" + pattern + "}]")
        << QString();
    QTest::newRow("pvc claimName of 254 characters")
        << create(R"("volumes": [{"name": "cache", "mountPath": "/cache", "pvc": {"claimName": ")" + QByteArray(254, 'a') + R"("}}])")
        << invalid(R"([{"type": "string_too_long", "loc": ["body", "volumes", 0, "pvc", "claimName"],
                        "msg": "String should have at most 253 characters", "ctx": {"max_length": 253}}])")
        << QString();
    QTest::newRow("ossfs bucket too short, no secret")
        << create(R"("volumes": [{"name": "b", "mountPath": "/b", "ossfs": {"bucket": "ab", "endpoint": "e", "accessKeyId": "i"}}])")
        << invalid(R"([{"type": "string_too_short", "loc": ["body", "volumes", 0, "ossfs", "bucket"],
                        "msg": "String should have at least 3 characters", "ctx": {"min_length": 3}},
                       {"type": "missing", "loc": ["body", "volumes", 0, "ossfs", "accessKeySecret"], "msg": "Field required"}])")
        << QString();

    // Rules across members: 422 from the model, once every member fits.
    const QByteArray exactlyOne = invalid(R"([{"type": "value_error", "loc": ["body"],
                        "msg": "Value error, Exactly one of image or snapshotId must be provided"}])");
    QTest::newRow("neither image nor snapshotId") << create(R"("image": null)") << exactlyOne << QString();
    QTest::newRow("image and snapshotId") << create(R"("snapshotId": "snap-1")") << exactlyOne << QString();
    QTest::newRow("blank image uri") << create(R"("image": {"uri": "  "})") << exactlyOne << QString();
    QTest::newRow("image without entrypoint")
        << create(R"("entrypoint": null)")
        << invalid(R"([{"type": "value_error", "loc": ["body"],
                        "msg": "Value error, entrypoint is required when image is provided"}])")
        << QString();
    QTest::newRow("no resourceLimits")
        << create(R"("resourceLimits": null)")
        << invalid(R"([{"type": "value_error", "loc": ["body"],
                        "msg": "Value error, resourceLimits is required unless extensions.poolRef is set"}])")
        << QString();
    QTest::newRow("credentialProxy without networkPolicy")
        << create(R"("credentialProxy": {"enabled": true})")
        << invalid(R"([{"type": "value_error", "loc": ["body"], "msg": "Value error, credentialProxy.enabled requires networkPolicy"}])")
        << QString();
    QTest::newRow("snapshotId with poolRef")
        << R"({"snapshotId": "snap-1", "extensions": {"poolRef": "warm"}})"_ba
        << invalid(R"([{"type": "value_error", "loc": ["body"], "msg": "Value error, snapshotId cannot be combined with extensions.poolRef"}])")
        << QString();
    QTest::newRow("a misfit hides the rules across members")
        << create(R"("image": null, "timeout": 10)")
        << invalid(R"([{"type": "greater_than_equal", "loc": ["body", "timeout"],
                        "msg": "Input should be greater than or equal to 60", "ctx": {"ge": 60}}])")
        << QString();

    // The handler's checks: 400 with a code.
    QTest::newRow("renew extension too short") << create(R"("extensions": {"access.renew.extend.seconds": "299"})")
        << "400 SANDBOX::INVALID_PARAMETER"_ba << u"'299'"_s;
    QTest::newRow("renew extension too long") << create(R"("extensions": {"access.renew.extend.seconds": "86401"})")
        << "400 SANDBOX::INVALID_PARAMETER"_ba << u"'86401'"_s;
    QTest::newRow("renew extension not a number") << create(R"("extensions": {"access.renew.extend.seconds": "10m"})")
        << "400 SANDBOX::INVALID_PARAMETER"_ba << u"'10m'"_s;
    QTest::newRow("renew extension empty") << create(R"("extensions": {"access.renew.extend.seconds": ""})")
        << "400 SANDBOX::INVALID_PARAMETER"_ba << u"300 to 86400"_s;
    QTest::newRow("poolRef") << R"({"extensions": {"poolRef": "warm"}})"_ba << "400 SANDBOX::UNSUPPORTED_POOL_REF"_ba
        << u"poolRef"_s;
    QTest::newRow("bad renew extension before poolRef")
        << R"({"extensions": {"poolRef": "warm", "access.renew.extend.seconds": "5"}})"_ba
        << "400 SANDBOX::INVALID_PARAMETER"_ba << u"'5'"_s;
    QTest::newRow("snapshotId") << R"({"snapshotId": "snap-1", "resourceLimits": {}})"_ba
        << "400 SANDBOX::API_NOT_SUPPORTED"_ba << u"snapshot"_s;
    QTest::newRow("empty entrypoint") << create(R"("entrypoint": [])") << "400 DOCKER::INVALID_ENTRYPOINT"_ba
        << u"entrypoint"_s;
    QTest::newRow("metadata value with a space") << create(R"("metadata": {"name": "Data Processing Sandbox"})")
        << "400 SANDBOX::INVALID_METADATA_LABEL"_ba
        << u"'Data Processing Sandbox'"_s;
    QTest::newRow("metadata key invalid") << create(R"("metadata": {"team name": "ml"})")
        << "400 SANDBOX::INVALID_METADATA_LABEL"_ba << u"'team name'"_s;
    QTest::newRow("metadata key reserved") << create(R"("metadata": {"opensandbox.io/id": "mine"})")
        << "400 SANDBOX::INVALID_METADATA_LABEL"_ba << u"reserved"_s;
    QTest::newRow("empty entrypoint before metadata")
        << create(R"("entrypoint": [], "metadata": {"bad key": "x"})") << "400 DOCKER::INVALID_ENTRYPOINT"_ba
        << u"entrypoint"_s;
    QTest::newRow("platform windows") << create(R"("platform": {"os": "windows", "arch": "amd64"})")
        << "400 SANDBOX::INVALID_PARAMETER"_ba << u"'windows'"_s;
    QTest::newRow("platform unknown os") << create(R"("platform": {"os": "plan9", "arch": "amd64"})")
        << "400 SANDBOX::INVALID_PARAMETER"_ba << u"'plan9'"_s;
    QTest::newRow("platform of another machine") << create(R"("platform": {"os": "linux", "arch": "arm64"})")
        << "400 SANDBOX::INVALID_PARAMETER"_ba << u"'arm64'"_s;
    QTest::newRow("timeout above the cap") << create(R"("timeout": 86401)") << "400 SANDBOX::INVALID_PARAMETER"_ba
        << u"86400"_s;
    QTest::newRow("metadata before timeout")
        << create(R"("timeout": 86401, "metadata": {"a": "b c"})") << "400 SANDBOX::INVALID_METADATA_LABEL"_ba
        << u"'b c'"_s;
    QTest::newRow("secureAccess") << create(R"("secureAccess": true)") << "400 SANDBOX::INVALID_PARAMETER"_ba
        << u"secureAccess"_s;
    QTest::newRow("duplicate volume name")
        << create(R"("volumes": [{"name": "data", "mountPath": "/a", "host": {"path": "/a"}},
                        {"name": "data", "mountPath": "/b", "pvc": {"claimName": "b"}}])")
        << "400 VOLUME::DUPLICATE_NAME"_ba << u"'data'"_s;
    QTest::newRow("subPath absolute")
        << create(R"("volumes": [{"name": "data", "mountPath": "/a", "subPath": "/etc", "pvc": {"claimName": "a"}}])")
        << "400 VOLUME::INVALID_SUB_PATH"_ba << u"'/etc'"_s;
    QTest::newRow("subPath with ..")
        << create(R"("volumes": [{"name": "data", "mountPath": "/a", "subPath": "run/../../etc", "host": {"path": "/a"}}])")
        << "400 VOLUME::INVALID_SUB_PATH"_ba << u"'run/../../etc'"_s;
    QTest::newRow("subPath ..")
        << create(R"("volumes": [{"name": "data", "mountPath": "/a", "subPath": "..", "host": {"path": "/a"}}])")
        << "400 VOLUME::INVALID_SUB_PATH"_ba << u"'..'"_s;
    QTest::newRow("host path of another system")
        << create(R"("volumes": [{"name": "data", "mountPath": "/a", "host": {"path": "C:\\data"}}])")
        << "400 VOLUME::INVALID_HOST_PATH"_ba << u"not absolute"_s;
    QTest::newRow("host path with /..")
        << create(R"("volumes": [{"name": "data", "mountPath": "/a", "host": {"path": "/srv/../etc"}}])")
        << "400 VOLUME::INVALID_HOST_PATH"_ba << u"'/..'"_s;
    QTest::newRow("host path with //")
        << create(R"("volumes": [{"name": "data", "mountPath": "/a", "host": {"path": "/srv//data"}}])")
        << "400 VOLUME::INVALID_HOST_PATH"_ba << u"'//'"_s;
    QTest::newRow("host path with a trailing /")
        << create(R"("volumes": [{"name": "data", "mountPath": "/a", "host": {"path": "/srv/data/"}}])")
        << "400 VOLUME::INVALID_HOST_PATH"_ba << u"ends with '/'"_s;
    QTest::newRow("duplicate name before a bad host path")
        << create(R"("volumes": [{"name": "data", "mountPath": "/a", "host": {"path": "/srv/"}},
                        {"name": "data", "mountPath": "/b", "host": {"path": "/b"}}])")
        << "400 VOLUME::DUPLICATE_NAME"_ba << u"'data'"_s;
}

void TestLifecycleWire::createErrors()
{
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, expected);
    QFETCH(QString, messagePart);

    const Parsed<CreateRequest> parsed = parseCreateRequest(body, testPolicy());
    QVERIFY(!parsed.ok());
    QCOMPARE(describe(parsed.error()), expected);
    const QString message = parsed.error().body.value(u"message"_s).toString();
    QVERIFY2(message.contains(messagePart), qPrintable(message));
}

void TestLifecycleWire::validationEntries_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("expected");   // the whole error body

    QTest::newRow("not JSON: the offset and the parser's reason")
        << R"({"timeout": 60,})"_ba
        << R"({"detail": [{"type": "json_invalid", "loc": ["body", 16], "msg": "JSON decode error", "input": {},
                        "ctx": {"error": "object is missing after a comma"}}]})"_ba;
    QTest::newRow("missing member: the input is the object lacking it")
        << R"({"image": {"tag": "x"}})"_ba
        << R"({"detail": [{"type": "missing", "loc": ["body", "image", "uri"], "msg": "Field required",
                        "input": {"tag": "x"}}]})"_ba;
    QTest::newRow("wrong type: the input is the value")
        << create(R"("timeout": 59.5)")
        << R"({"detail": [{"type": "int_from_float", "loc": ["body", "timeout"],
                        "msg": "Input should be a valid integer, got a number with a fractional part", "input": 59.5}]})"_ba;
    QTest::newRow("rule across members: the input is the body")
        << R"({"resourceLimits": {}})"_ba
        << R"({"detail": [{"type": "value_error", "loc": ["body"],
                        "msg": "Value error, Exactly one of image or snapshotId must be provided",
                        "input": {"resourceLimits": {}}}]})"_ba;
    QTest::newRow("a scalar body") << "42"_ba
        << R"({"detail": [{"type": "model_attributes_type", "loc": ["body"],
                        "msg": "Input should be a valid dictionary or object to extract fields from",
                        "input": 42}]})"_ba;
    QTest::newRow("null body") << "null"_ba
        << R"({"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": null}]})"_ba;
}

void TestLifecycleWire::validationEntries()
{
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, expected);

    const Parsed<CreateRequest> parsed = parseCreateRequest(body, testPolicy());
    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().status, 422);
    QCOMPARE(json(parsed.error().body), normalized(expected));
}

void TestLifecycleWire::timeoutWithoutCap()
{
    CreatePolicy policy = testPolicy();
    policy.maxTimeoutSeconds.reset();

    const Parsed<CreateRequest> week = parseCreateRequest(create(R"("timeout": 604800)"), policy);
    QVERIFY2(week.ok(), qPrintable(week.error().message()));
    QCOMPARE(week->sandbox.timeoutMs, 604'800'000);

    // An expiry past the year 9999 cannot be represented.
    const Parsed<CreateRequest> millennia = parseCreateRequest(create(R"("timeout": 1e15)"), policy);
    QVERIFY(!millennia.ok());
    QCOMPARE(describe(millennia.error()), "400 SANDBOX::INVALID_PARAMETER"_ba);
    const Parsed<CreateRequest> beyond = parseCreateRequest(create(R"("timeout": 1e300)"), policy);
    QVERIFY(!beyond.ok());
    QCOMPARE(describe(beyond.error()), "400 SANDBOX::INVALID_PARAMETER"_ba);
}

void TestLifecycleWire::cpuLimits_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<double>("cores");   // 0: not read

    QTest::newRow("millicores") << u"500m"_s << 0.5;
    QTest::newRow("millicores above a core") << u"1500m"_s << 1.5;
    QTest::newRow("whole cores") << u"1"_s << 1.0;
    QTest::newRow("fractional cores") << u"0.25"_s << 0.25;
    QTest::newRow("spaces around") << u" 2 "_s << 2.0;
    QTest::newRow("exponent") << u"1e1"_s << 10.0;
    QTest::newRow("empty") << QString() << 0.0;
    QTest::newRow("words") << u"two"_s << 0.0;
    QTest::newRow("zero") << u"0"_s << 0.0;
    QTest::newRow("zero millicores") << u"0m"_s << 0.0;
    QTest::newRow("negative") << u"-1"_s << 0.0;
    QTest::newRow("fractional millicores") << u"1.5m"_s << 0.0;
    QTest::newRow("capital M") << u"500M"_s << 0.0;
    QTest::newRow("m alone") << u"m"_s << 0.0;
    QTest::newRow("infinity") << u"inf"_s << 0.0;
    QTest::newRow("not a number") << u"nan"_s << 0.0;
}

void TestLifecycleWire::cpuLimits()
{
    QFETCH(QString, text);
    QFETCH(double, cores);

    const std::optional<double> parsed = parseCpuLimit(text);
    if (cores == 0)
        QCOMPARE(parsed, std::nullopt);
    else
        QCOMPARE(parsed, cores);
}

void TestLifecycleWire::memoryLimits_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("bytes");   // 0: not read

    QTest::newRow("bytes") << u"100"_s << qint64(100);
    QTest::newRow("b") << u"100b"_s << qint64(100);
    QTest::newRow("Ki") << u"1Ki"_s << qint64(1024);
    QTest::newRow("Mi") << u"512Mi"_s << qint64(536'870'912);
    QTest::newRow("Gi") << u"2Gi"_s << qint64(2'147'483'648);
    QTest::newRow("Ti") << u"1Ti"_s << qint64(1'099'511'627'776);
    QTest::newRow("k") << u"1k"_s << qint64(1000);
    QTest::newRow("kb") << u"1kb"_s << qint64(1000);
    QTest::newRow("KB") << u"1KB"_s << qint64(1000);
    QTest::newRow("M") << u"512M"_s << qint64(512'000'000);
    QTest::newRow("g") << u"3g"_s << qint64(3'000'000'000);
    QTest::newRow("GB") << u"5GB"_s << qint64(5'000'000'000);
    QTest::newRow("t") << u"1t"_s << qint64(1'000'000'000'000);
    QTest::newRow("mixed case gI") << u"2gI"_s << qint64(2'147'483'648);
    QTest::newRow("spaces around") << u" 2Gi \t"_s << qint64(2'147'483'648);
    QTest::newRow("fraction") << u"1.5Gi"_s << qint64(0);
    QTest::newRow("Pi is beyond the pattern") << u"2Pi"_s << qint64(0);
    QTest::newRow("space before the unit") << u"1 Gi"_s << qint64(0);
    QTest::newRow("unit alone") << u"Gi"_s << qint64(0);
    QTest::newRow("empty") << QString() << qint64(0);
    QTest::newRow("zero") << u"0"_s << qint64(0);
    QTest::newRow("negative") << u"-1Gi"_s << qint64(0);
    QTest::newRow("i alone") << u"1i"_s << qint64(0);
    QTest::newRow("ib") << u"1ib"_s << qint64(0);
    QTest::newRow("more digits than 64 bits") << u"99999999999999999999"_s << qint64(0);
    QTest::newRow("beyond 64 bits with its unit") << u"9999999999Ti"_s << qint64(0);
}

void TestLifecycleWire::memoryLimits()
{
    QFETCH(QString, text);
    QFETCH(qint64, bytes);

    const std::optional<qint64> parsed = parseMemoryLimit(text);
    if (bytes == 0)
        QCOMPARE(parsed, std::nullopt);
    else
        QCOMPARE(parsed, bytes);
}

void TestLifecycleWire::labelRules_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("problemPart");   // empty: the entry is accepted

    const QString longPrefix = LongName + u'.' + LongName + u'.' + LongName + u'.' + QString(61, u'b');
    QCOMPARE(longPrefix.size(), 253);

    QTest::newRow("plain") << u"team"_s << u"ml"_s << QString();
    QTest::newRow("every character class") << u"A_b.c-9"_s << u"Z-1_x.y"_s << QString();
    QTest::newRow("prefixed") << u"app.kubernetes.io/name"_s << u"web"_s << QString();
    QTest::newRow("empty value") << u"example.com/note"_s << QString() << QString();
    QTest::newRow("63 characters") << LongName << LongName << QString();
    QTest::newRow("prefix of 253 characters") << longPrefix + u"/x"_s << u"v"_s << QString();
    QTest::newRow("reserved key") << u"opensandbox.io/id"_s << u"x"_s << u"reserved"_s;
    QTest::newRow("reserved key of another name") << u"opensandbox.io/expires-at"_s << u"x"_s << u"reserved"_s;
    QTest::newRow("empty key") << QString() << u"x"_s << u"empty"_s;
    QTest::newRow("name of 64 characters") << LongName + u'a' << u"x"_s << u"longer than 63"_s;
    QTest::newRow("name starting with -") << u"-team"_s << u"x"_s << u"begin and end"_s;
    QTest::newRow("name ending with .") << u"team."_s << u"x"_s << u"begin and end"_s;
    QTest::newRow("space in the key") << u"team name"_s << u"x"_s << u"begin and end"_s;
    QTest::newRow("non-ASCII key") << u"équipe"_s << u"x"_s << u"begin and end"_s;
    QTest::newRow("empty prefix") << u"/team"_s << u"x"_s << u"prefix"_s;
    QTest::newRow("capital in the prefix") << u"Example.com/team"_s << u"x"_s << u"prefix"_s;
    QTest::newRow("underscore in the prefix") << u"my_org.com/team"_s << u"x"_s << u"prefix"_s;
    QTest::newRow("prefix of 254 characters") << longPrefix + u"b/x"_s << u"v"_s << u"prefix"_s;
    QTest::newRow("empty name after the prefix") << u"example.com/"_s << u"x"_s << u"empty"_s;
    QTest::newRow("two slashes") << u"a/b/c"_s << u"x"_s << u"at most one '/'"_s;
    QTest::newRow("value with a space") << u"name"_s << u"Data Processing Sandbox"_s << u"valid label value"_s;
    QTest::newRow("value of 64 characters") << u"name"_s << LongName + u'a' << u"longer than 63"_s;
    QTest::newRow("value ending with _") << u"name"_s << u"run_"_s << u"valid label value"_s;
    QTest::newRow("value with a slash") << u"name"_s << u"a/b"_s << u"valid label value"_s;
}

void TestLifecycleWire::labelRules()
{
    QFETCH(QString, key);
    QFETCH(QString, value);
    QFETCH(QString, problemPart);

    const QString problem = metadataEntryProblem(key, value);
    if (problemPart.isEmpty())
        QCOMPARE(problem, QString());
    else
        QVERIFY2(problem.contains(problemPart), qPrintable(problem));
}

void TestLifecycleWire::sandboxJson()
{
    SandboxInfo sandbox = sampleSandbox();
    QCOMPARE(compact(Internal::sandboxJson(sandbox)),
             R"({"createdAt":"2026-06-12T10:00:00.123000Z","entrypoint":["tail","-f","/dev/null"],)"
             R"("expiresAt":"2026-06-12T10:10:00.123000Z","id":"3f2c1a9e-6b7d-4c8e-9f10-1a2b3c4d5e6f",)"
             R"("image":{"uri":"ubuntu"},"metadata":{"app.kubernetes.io/name":"eval","team":"ml"},)"
             R"("status":{"lastTransitionAt":"2026-06-12T10:00:00.123000Z","reason":"AGENT_READY","state":"Running"}})"_ba);

    // No expiry, no metadata, no reason: left out, never null. Times in other zones come out in UTC.
    sandbox.expiresAt.reset();
    sandbox.metadata.clear();
    sandbox.reason.clear();
    sandbox.state = SandboxState::Paused;
    sandbox.createdAt = QDateTime(QDate(2026, 6, 12), QTime(12, 0), QTimeZone(7200));
    QCOMPARE(compact(Internal::sandboxJson(sandbox)),
             R"({"createdAt":"2026-06-12T10:00:00.000000Z","entrypoint":["tail","-f","/dev/null"],)"
             R"("id":"3f2c1a9e-6b7d-4c8e-9f10-1a2b3c4d5e6f","image":{"uri":"ubuntu"},)"
             R"("status":{"lastTransitionAt":"2026-06-12T10:00:00.000000Z","state":"Paused"}})"_ba);

    sandbox.image.clear();
    sandbox.entrypoint.clear();
    sandbox.state = SandboxState::Unknown;
    QCOMPARE(compact(Internal::sandboxJson(sandbox)),
             R"({"createdAt":"2026-06-12T10:00:00.000000Z","entrypoint":[],)"
             R"("id":"3f2c1a9e-6b7d-4c8e-9f10-1a2b3c4d5e6f",)"
             R"("status":{"lastTransitionAt":"2026-06-12T10:00:00.000000Z","state":"Unknown"}})"_ba);
}

void TestLifecycleWire::createResponseJson()
{
    SandboxInfo sandbox = sampleSandbox();
    QCOMPARE(compact(Internal::createResponseJson(sandbox)),
             R"({"createdAt":"2026-06-12T10:00:00.123000Z","entrypoint":["tail","-f","/dev/null"],)"
             R"("expiresAt":"2026-06-12T10:10:00.123000Z","id":"3f2c1a9e-6b7d-4c8e-9f10-1a2b3c4d5e6f",)"
             R"("metadata":{"app.kubernetes.io/name":"eval","team":"ml"},)"
             R"("status":{"lastTransitionAt":"2026-06-12T10:00:00.123000Z","reason":"AGENT_READY","state":"Running"}})"_ba);

    sandbox.expiresAt.reset();
    sandbox.metadata.clear();
    QCOMPARE(compact(Internal::createResponseJson(sandbox)),
             R"({"createdAt":"2026-06-12T10:00:00.123000Z","entrypoint":["tail","-f","/dev/null"],)"
             R"("id":"3f2c1a9e-6b7d-4c8e-9f10-1a2b3c4d5e6f",)"
             R"("status":{"lastTransitionAt":"2026-06-12T10:00:00.123000Z","reason":"AGENT_READY","state":"Running"}})"_ba);
}

void TestLifecycleWire::pageJson()
{
    SandboxPage page;
    page.items = {sampleSandbox()};
    page.page = 2;
    page.pageSize = 1;
    page.totalItems = 3;
    page.totalPages = 3;
    page.hasNextPage = true;
    QCOMPARE(compact(Internal::pageJson(page)),
             "{\"items\":[" + compact(Internal::sandboxJson(sampleSandbox())) + "],"
             R"("pagination":{"hasNextPage":true,"page":2,"pageSize":1,"totalItems":3,"totalPages":3}})");

    QCOMPARE(compact(Internal::pageJson(SandboxPage())),
             R"({"items":[],"pagination":{"hasNextPage":false,"page":1,"pageSize":20,"totalItems":0,"totalPages":0}})"_ba);
}

void TestLifecycleWire::timestamps_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected");   // formatTimestamp of the parsed time; empty: not a timestamp

    QTest::newRow("Z") << u"2026-06-12T10:00:00Z"_s << u"2026-06-12T10:00:00.000000Z"_s;
    QTest::newRow("lowercase t and z") << u"2026-06-12t10:00:00z"_s << u"2026-06-12T10:00:00.000000Z"_s;
    QTest::newRow("naive: UTC") << u"2026-06-12T10:00:00"_s << u"2026-06-12T10:00:00.000000Z"_s;
    QTest::newRow("space separator") << u"2026-06-12 10:00:00"_s << u"2026-06-12T10:00:00.000000Z"_s;
    QTest::newRow("microseconds, kept to milliseconds") << u"2026-06-12T10:00:00.123456Z"_s
        << u"2026-06-12T10:00:00.123000Z"_s;
    QTest::newRow("one digit of fraction") << u"2026-06-12T10:00:00.5Z"_s << u"2026-06-12T10:00:00.500000Z"_s;
    QTest::newRow("comma fraction") << u"2026-06-12T10:00:00,25Z"_s << u"2026-06-12T10:00:00.250000Z"_s;
    QTest::newRow("positive offset") << u"2026-06-12T12:00:00+02:00"_s << u"2026-06-12T10:00:00.000000Z"_s;
    QTest::newRow("offset without colon") << u"2026-06-12T12:30:00+0230"_s << u"2026-06-12T10:00:00.000000Z"_s;
    QTest::newRow("negative offset across midnight") << u"2026-06-11T19:00:00-05:00"_s
        << u"2026-06-12T00:00:00.000000Z"_s;
    QTest::newRow("zero offset") << u"2026-06-12T10:00:00+00:00"_s << u"2026-06-12T10:00:00.000000Z"_s;
    QTest::newRow("date only") << u"2026-06-12"_s << QString();
    QTest::newRow("no seconds") << u"2026-06-12T10:00Z"_s << QString();
    QTest::newRow("hour 25") << u"2026-06-12T25:00:00Z"_s << QString();
    QTest::newRow("February 30") << u"2026-02-30T10:00:00Z"_s << QString();
    QTest::newRow("offset of 24 hours") << u"2026-06-12T10:00:00+24:00"_s << QString();
    QTest::newRow("trailing newline") << u"2026-06-12T10:00:00Z\n"_s << QString();
    QTest::newRow("words") << u"tomorrow"_s << QString();
    QTest::newRow("empty") << QString() << QString();
}

void TestLifecycleWire::timestamps()
{
    QFETCH(QString, text);
    QFETCH(QString, expected);

    QCOMPARE(formatTimestamp(parseTimestamp(text)), expected);
}

void TestLifecycleWire::listQuery_data()
{
    QTest::addColumn<QString>("query");   // as it appears in the URL
    QTest::addColumn<QStringList>("states");
    QTest::addColumn<QByteArray>("metadata");
    QTest::addColumn<int>("page");
    QTest::addColumn<int>("pageSize");
    QTest::addColumn<QByteArray>("error");   // describe(ApiError); empty when accepted

    const QStringList none;
    QTest::newRow("defaults") << QString() << none << "{}"_ba << 1 << 20 << QByteArray();
    QTest::newRow("states repeated") << u"state=Running&state=paused"_s << QStringList{u"Running"_s, u"paused"_s}
        << "{}"_ba << 1 << 20 << QByteArray();
    QTest::newRow("metadata pairs as the SDKs send them")
        << u"metadata=team%3Dml%26env%3Dprod"_s << none << R"({"env": "prod", "team": "ml"})"_ba << 1 << 20 << QByteArray();
    QTest::newRow("metadata sent unencoded but for &")
        << u"metadata=team=ml%26env=prod"_s << none << R"({"env": "prod", "team": "ml"})"_ba << 1 << 20 << QByteArray();
    QTest::newRow("blank value kept") << u"metadata=note%3D"_s << none << R"({"note": ""})"_ba << 1 << 20 << QByteArray();
    QTest::newRow("empty metadata: no filter") << u"metadata="_s << none << "{}"_ba << 1 << 20 << QByteArray();
    QTest::newRow("value with =") << u"metadata=expr%3Da%3Db"_s << none << R"({"expr": "a=b"})"_ba << 1 << 20
        << QByteArray();
    QTest::newRow("plus is a space") << u"metadata=team%3Dml+ops"_s << none << R"({"team": "ml ops"})"_ba << 1 << 20
        << QByteArray();
    QTest::newRow("encoded plus is a space too") << u"metadata=team%3Dml%2Bops"_s << none << R"({"team": "ml ops"})"_ba
        << 1 << 20 << QByteArray();
    QTest::newRow("double-encoded value decoded twice") << u"metadata=path%3Da%252Fb"_s << none << R"({"path": "a/b"})"_ba
        << 1 << 20 << QByteArray();
    QTest::newRow("the last metadata counts") << u"metadata=a%3D1&metadata=b%3D2"_s << none << R"({"b": "2"})"_ba << 1
        << 20 << QByteArray();
    QTest::newRow("repeated key: the last counts") << u"metadata=a%3D1%26a%3D2"_s << none << R"({"a": "2"})"_ba << 1 << 20
        << QByteArray();
    QTest::newRow("pair without =") << u"metadata=a%3D1%26broken"_s << none << "{}"_ba << 1 << 20
        << "400 INVALID_METADATA_FORMAT"_ba;
    QTest::newRow("empty pair") << u"metadata=a%3D1%26%26b%3D2"_s << none << "{}"_ba << 1 << 20
        << "400 INVALID_METADATA_FORMAT"_ba;
    QTest::newRow("trailing &") << u"metadata=a%3D1%26"_s << none << "{}"_ba << 1 << 20
        << "400 INVALID_METADATA_FORMAT"_ba;
    QTest::newRow("word alone") << u"metadata=team"_s << none << "{}"_ba << 1 << 20 << "400 INVALID_METADATA_FORMAT"_ba;
    QTest::newRow("page and pageSize") << u"page=3&pageSize=50"_s << none << "{}"_ba << 3 << 50 << QByteArray();
    QTest::newRow("largest pageSize") << u"pageSize=200"_s << none << "{}"_ba << 1 << 200 << QByteArray();
    QTest::newRow("page beyond int") << u"page=99999999999"_s << none << "{}"_ba << std::numeric_limits<int>::max()
        << 20 << QByteArray();
    QTest::newRow("pageSize above 200")
        << u"pageSize=201"_s << none << "{}"_ba << 1 << 20
        << invalid(R"([{"type": "less_than_equal", "loc": ["query", "pageSize"],
                        "msg": "Input should be less than or equal to 200", "ctx": {"le": 200}}])");
    QTest::newRow("pageSize 0")
        << u"pageSize=0"_s << none << "{}"_ba << 1 << 20
        << invalid(R"([{"type": "greater_than_equal", "loc": ["query", "pageSize"],
                        "msg": "Input should be greater than or equal to 1", "ctx": {"ge": 1}}])");
    QTest::newRow("page 0")
        << u"page=0"_s << none << "{}"_ba << 1 << 20
        << invalid(R"([{"type": "greater_than_equal", "loc": ["query", "page"],
                        "msg": "Input should be greater than or equal to 1", "ctx": {"ge": 1}}])");
    const QByteArray notInteger = R"("msg": "Input should be a valid integer, unable to parse string as an integer")";
    QTest::newRow("page not a number")
        << u"page=first"_s << none << "{}"_ba << 1 << 20
        << invalid(R"([{"type": "int_parsing", "loc": ["query", "page"], )" + notInteger + "}]");
    QTest::newRow("pageSize with a fraction")
        << u"pageSize=1.5"_s << none << "{}"_ba << 1 << 20
        << invalid(R"([{"type": "int_parsing", "loc": ["query", "pageSize"], )" + notInteger + "}]");
    QTest::newRow("both wrong")
        << u"page=&pageSize=500"_s << none << "{}"_ba << 1 << 20
        << invalid(R"([{"type": "int_parsing", "loc": ["query", "page"], )" + notInteger + R"(},
                       {"type": "less_than_equal", "loc": ["query", "pageSize"],
                        "msg": "Input should be less than or equal to 200", "ctx": {"le": 200}}])");
    QTest::newRow("page checked before metadata")
        << u"page=0&metadata=broken"_s << none << "{}"_ba << 1 << 20
        << invalid(R"([{"type": "greater_than_equal", "loc": ["query", "page"],
                        "msg": "Input should be greater than or equal to 1", "ctx": {"ge": 1}}])");
}

void TestLifecycleWire::listQuery()
{
    QFETCH(QString, query);
    QFETCH(QStringList, states);
    QFETCH(QByteArray, metadata);
    QFETCH(int, page);
    QFETCH(int, pageSize);
    QFETCH(QByteArray, error);

    const Parsed<SandboxFilter> parsed = parseListQuery(QUrlQuery(query));
    if (!error.isEmpty()) {
        QVERIFY(!parsed.ok());
        QCOMPARE(describe(parsed.error()), error);
        return;
    }
    QVERIFY2(parsed.ok(), qPrintable(parsed.error().message()));
    QCOMPARE(parsed->states, states);
    QCOMPARE(json(toJson(parsed->metadata)), normalized(metadata));
    QCOMPARE(parsed->page, page);
    QCOMPARE(parsed->pageSize, pageSize);
}

void TestLifecycleWire::metadataPatch_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("expected");   // the patch, null for removals; or describe(ApiError)

    QTest::newRow("set and remove") << R"({"team": "ml", "old": null, "example.com/stage": ""})"_ba
        << normalized(R"({"example.com/stage": "", "old": null, "team": "ml"})");
    QTest::newRow("empty patch") << "{}"_ba << "{}"_ba;
    QTest::newRow("removing a key that cannot exist") << R"({"bad key": null})"_ba << normalized(R"({"bad key": null})");
    QTest::newRow("reserved key") << R"({"opensandbox.io/id": "mine"})"_ba << "400 INVALID_METADATA_LABEL"_ba;
    QTest::newRow("removing a reserved key") << R"({"opensandbox.io/expires-at": null})"_ba
        << "400 INVALID_METADATA_LABEL"_ba;
    QTest::newRow("invalid key") << R"({"team name": "ml"})"_ba << "400 INVALID_METADATA_LABEL"_ba;
    QTest::newRow("invalid value") << R"({"team": "machine learning"})"_ba << "400 INVALID_METADATA_LABEL"_ba;
    QTest::newRow("value a number")
        << R"({"team": "ml", "count": 3})"_ba
        << invalid(R"([{"type": "string_type", "loc": ["body", "count"], "msg": "Input should be a valid string"}])");
    QTest::newRow("a type error before a label error")
        << R"({"team name": "ml", "count": 3})"_ba
        << invalid(R"([{"type": "string_type", "loc": ["body", "count"], "msg": "Input should be a valid string"}])");
    QTest::newRow("an array")
        << R"(["team"])"_ba
        << invalid(R"([{"type": "dict_type", "loc": ["body"], "msg": "Input should be a valid dictionary"}])");
    QTest::newRow("a string")
        << R"("team=ml")"_ba
        << invalid(R"([{"type": "dict_type", "loc": ["body"], "msg": "Input should be a valid dictionary"}])");
    QTest::newRow("no body") << QByteArray()
        << invalid(R"([{"type": "missing", "loc": ["body"], "msg": "Field required"}])");
    QTest::newRow("not JSON") << "{team: ml}"_ba
        << invalid(R"([{"type": "json_invalid", "loc": ["body", 2], "msg": "JSON decode error",
                        "ctx": {"error": "unterminated object"}}])");
}

void TestLifecycleWire::metadataPatch()
{
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, expected);

    const Parsed<QMap<QString, std::optional<QString>>> parsed = parseMetadataPatch(body);
    if (!parsed.ok()) {
        QCOMPARE(describe(parsed.error()), expected);
        return;
    }
    QJsonObject patch;
    for (auto it = parsed->cbegin(); it != parsed->cend(); ++it)
        patch.insert(it.key(), it.value() ? QJsonValue(*it.value()) : QJsonValue(QJsonValue::Null));
    QCOMPARE(json(patch), expected);
}

void TestLifecycleWire::renew_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("expected");   // the response body, or describe(ApiError)

    QTest::newRow("UTC") << R"({"expiresAt": "2026-06-12T11:00:00Z"})"_ba
        << R"({"expiresAt":"2026-06-12T11:00:00.000000Z"})"_ba;
    QTest::newRow("naive: UTC") << R"({"expiresAt": "2026-06-12T11:00:00"})"_ba
        << R"({"expiresAt":"2026-06-12T11:00:00.000000Z"})"_ba;
    QTest::newRow("offset: normalized to UTC") << R"({"expiresAt": "2026-06-12T13:00:00.5+02:00"})"_ba
        << R"({"expiresAt":"2026-06-12T11:00:00.500000Z"})"_ba;
    QTest::newRow("a second ahead: shortening is fine") << R"({"expiresAt": "2026-06-12T10:00:01Z"})"_ba
        << R"({"expiresAt":"2026-06-12T10:00:01.000000Z"})"_ba;
    QTest::newRow("unknown members ignored") << R"({"expiresAt": "2026-06-12T11:00:00Z", "reason": "more time"})"_ba
        << R"({"expiresAt":"2026-06-12T11:00:00.000000Z"})"_ba;
    QTest::newRow("now") << R"({"expiresAt": "2026-06-12T10:00:00Z"})"_ba << "400 DOCKER::INVALID_EXPIRATION"_ba;
    QTest::newRow("past") << R"({"expiresAt": "2026-06-12T09:00:00Z"})"_ba << "400 DOCKER::INVALID_EXPIRATION"_ba;
    QTest::newRow("past once its offset is applied") << R"({"expiresAt": "2026-06-12T11:00:00+02:00"})"_ba
        << "400 DOCKER::INVALID_EXPIRATION"_ba;
    QTest::newRow("missing") << "{}"_ba
        << invalid(R"([{"type": "missing", "loc": ["body", "expiresAt"], "msg": "Field required"}])");
    QTest::newRow("null") << R"({"expiresAt": null})"_ba
        << invalid(R"([{"type": "datetime_type", "loc": ["body", "expiresAt"],
                        "msg": "Input should be a valid datetime"}])");
    QTest::newRow("a number") << R"({"expiresAt": 1781262000})"_ba
        << invalid(R"([{"type": "datetime_type", "loc": ["body", "expiresAt"],
                        "msg": "Input should be a valid datetime"}])");
    QTest::newRow("words") << R"({"expiresAt": "in an hour"})"_ba
        << invalid(R"([{"type": "datetime_parsing", "loc": ["body", "expiresAt"],
                        "msg": "Input should be a valid datetime, such as 2026-06-12T10:00:00Z"}])");
    QTest::newRow("a day that does not exist")
        << R"({"expiresAt": "2026-06-31T10:00:00Z"})"_ba
        << invalid(R"([{"type": "datetime_parsing", "loc": ["body", "expiresAt"],
                        "msg": "Input should be a valid datetime, such as 2026-06-12T10:00:00Z"}])");
    QTest::newRow("not an object")
        << R"(["2026-06-12T11:00:00Z"])"_ba
        << invalid(R"([{"type": "model_attributes_type", "loc": ["body"],
                        "msg": "Input should be a valid dictionary or object to extract fields from"}])");
    QTest::newRow("no body") << QByteArray()
        << invalid(R"([{"type": "missing", "loc": ["body"], "msg": "Field required"}])");
}

void TestLifecycleWire::renew()
{
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, expected);

    const QDateTime now = utc(u"2026-06-12T10:00:00Z"_s);
    const Parsed<QDateTime> parsed = parseRenewRequest(body, now);
    if (!parsed.ok()) {
        QCOMPARE(describe(parsed.error()), expected);
        return;
    }
    QCOMPARE(parsed->timeSpec(), Qt::UTC);
    QCOMPARE(compact(renewResponseJson(parsed.value())), expected);
}

void TestLifecycleWire::endpoint()
{
    const QString id = u"3f2c1a9e-6b7d-4c8e-9f10-1a2b3c4d5e6f"_s;
    QCOMPARE(compact(endpointJson(u"127.0.0.1"_s, 8080, id, 44772)),
             R"({"endpoint":"127.0.0.1:8080/sandboxes/3f2c1a9e-6b7d-4c8e-9f10-1a2b3c4d5e6f/proxy/44772"})"_ba);
    // The SDK asks for the egress port on every create, whether anything listens there or not.
    QCOMPARE(compact(endpointJson(u"sandbox-host.example.com"_s, 80, id, 18080)),
             R"({"endpoint":"sandbox-host.example.com:80/sandboxes/3f2c1a9e-6b7d-4c8e-9f10-1a2b3c4d5e6f/proxy/18080"})"_ba);
    QCOMPARE(compact(endpointJson(u"::1"_s, 8080, id, 8000)),
             R"({"endpoint":"[::1]:8080/sandboxes/3f2c1a9e-6b7d-4c8e-9f10-1a2b3c4d5e6f/proxy/8000"})"_ba);
    QCOMPARE(compact(endpointJson(u"[fd00::1]"_s, 8080, id, 8000)),
             R"({"endpoint":"[fd00::1]:8080/sandboxes/3f2c1a9e-6b7d-4c8e-9f10-1a2b3c4d5e6f/proxy/8000"})"_ba);
}

void TestLifecycleWire::endpointPort_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("port");
    QTest::addColumn<QByteArray>("error");

    const QByteArray notInteger = invalid(R"([{"type": "int_parsing", "loc": ["path", "port"],
                        "msg": "Input should be a valid integer, unable to parse string as an integer"}])");
    QTest::newRow("execd") << u"44772"_s << 44772 << QByteArray();
    QTest::newRow("lowest") << u"1"_s << 1 << QByteArray();
    QTest::newRow("highest") << u"65535"_s << 65535 << QByteArray();
    QTest::newRow("0") << u"0"_s << 0 << "400 DOCKER::INVALID_PORT"_ba;
    QTest::newRow("65536") << u"65536"_s << 0 << "400 DOCKER::INVALID_PORT"_ba;
    QTest::newRow("negative") << u"-80"_s << 0 << "400 DOCKER::INVALID_PORT"_ba;
    QTest::newRow("beyond 64 bits") << u"99999999999999999999"_s << 0 << "400 DOCKER::INVALID_PORT"_ba;
    QTest::newRow("a name") << u"http"_s << 0 << notInteger;
    QTest::newRow("a fraction") << u"80.0"_s << 0 << notInteger;
    QTest::newRow("empty") << QString() << 0 << notInteger;
}

void TestLifecycleWire::endpointPort()
{
    QFETCH(QString, text);
    QFETCH(int, port);
    QFETCH(QByteArray, error);

    const Parsed<quint16> parsed = parseEndpointPort(text);
    if (!error.isEmpty()) {
        QVERIFY(!parsed.ok());
        QCOMPARE(describe(parsed.error()), error);
        return;
    }
    QVERIFY2(parsed.ok(), qPrintable(parsed.error().message()));
    QCOMPARE(int(parsed.value()), port);
}

void TestLifecycleWire::errors()
{
    const QString id = u"3f2c1a9e"_s;
    const auto check = [](const ApiError &error, int status, const QString &code) {
        QCOMPARE(error.status, status);
        QCOMPARE(error.body.keys(), (QStringList{u"code"_s, u"message"_s}));
        QCOMPARE(error.body.value(u"code"_s).toString(), code);
        QVERIFY(!error.body.value(u"message"_s).toString().isEmpty());
    };
    check(notFoundError(id), 404, u"DOCKER::SANDBOX_NOT_FOUND"_s);
    QVERIFY(notFoundError(id).body.value(u"message"_s).toString().contains(id));
    check(notRunningError(id), 409, u"DOCKER::SANDBOX_NOT_RUNNING"_s);
    check(notPausedError(id), 409, u"DOCKER::SANDBOX_NOT_PAUSED"_s);
    check(noExpiryError(id), 409, u"DOCKER::INVALID_EXPIRATION"_s);
    check(missingApiKeyError(), 401, u"MISSING_API_KEY"_s);
    check(invalidApiKeyError(), 401, u"INVALID_API_KEY"_s);

    QCOMPARE(json(ApiError::coded(400, u"X::Y"_s, u"why"_s).body), normalized(R"({"code": "X::Y", "message": "why"})"));
}

void TestLifecycleWire::errorMessageForLogs()
{
    QCOMPARE(notPausedError(u"s1"_s).message(),
             u"DOCKER::SANDBOX_NOT_PAUSED: Sandbox s1 is not paused; only a paused sandbox can be resumed."_s);
    const Parsed<CreateRequest> parsed =
        parseCreateRequest(create(R"("timeout": 1, "volumes": [{"name": "x", "mountPath": "/x"}, {"name": "y"}])"),
                           testPolicy());
    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().message(),
             u"body.timeout: Input should be greater than or equal to 60; "
             u"body.volumes.0: Value error, Exactly one backend (host, pvc or ossfs) must be specified; "
             u"body.volumes.1.mountPath: Field required"_s);
}

QTEST_GUILESS_MAIN(TestLifecycleWire)
#include "tst_lifecyclewire.moc"
