// The token flow's parsing: WWW-Authenticate challenges as registries send them (Docker Hub,
// the CNCF distribution server, GitHub's), the token service's URL and answer, and Docker's
// config.json credentials.
#include "registryauth_p.h"
#include "registrysession_p.h"

#include <QTest>
#include <QUrlQuery>

using namespace Sandflow::Internal;
using namespace Qt::StringLiterals;

class TestRegistryAuth : public QObject
{
    Q_OBJECT

private slots:
    void parsesChallenges();
    void stopsAtMalformedChallenges();
    void buildsTheTokenUrl();
    void readsTokens();
    void readsDockerConfig();
    void choosesTheScheme();
};

void TestRegistryAuth::parsesChallenges()
{
    const QList<AuthChallenge> hub = parseChallenges(
        "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
        "scope=\"repository:library/debian:pull\"");
    QCOMPARE(hub.size(), 1);
    QCOMPARE(hub.at(0).scheme, u"bearer"_s);
    QCOMPARE(hub.at(0).params.value(u"realm"_s), u"https://auth.docker.io/token"_s);
    QCOMPARE(hub.at(0).params.value(u"service"_s), u"registry.docker.io"_s);
    QCOMPARE(hub.at(0).params.value(u"scope"_s), u"repository:library/debian:pull"_s);

    // Several challenges, spaces, a token value, an escaped quote, names in any case.
    const QList<AuthChallenge> many
        = parseChallenges("Basic realm=\"Registry \\\"realm\\\"\" , Bearer Realm=\"https://a.example/t\", error=insufficient_scope");
    QCOMPARE(many.size(), 2);
    QCOMPARE(many.at(0).scheme, u"basic"_s);
    QCOMPARE(many.at(0).params.value(u"realm"_s), u"Registry \"realm\""_s);
    QCOMPARE(many.at(1).scheme, u"bearer"_s);
    QCOMPARE(many.at(1).params.value(u"realm"_s), u"https://a.example/t"_s);
    QCOMPARE(many.at(1).params.value(u"error"_s), u"insufficient_scope"_s);

    QVERIFY(parseChallenges("").isEmpty());
}

void TestRegistryAuth::stopsAtMalformedChallenges()
{
    // An unterminated quote ends the list at the challenge it spoils.
    const QList<AuthChallenge> cut = parseChallenges("Basic realm=\"a\", Bearer realm=\"https://x");
    QCOMPARE(cut.size(), 1);
    QCOMPARE(cut.at(0).scheme, u"basic"_s);
    QVERIFY(parseChallenges("=\"x\"").isEmpty());
}

void TestRegistryAuth::buildsTheTokenUrl()
{
    QString error;
    AuthChallenge challenge{u"bearer"_s, {{u"realm"_s, u"https://auth.example/token?client=x"_s},
                                          {u"service"_s, u"registry.example"_s}}};
    const QUrl url = tokenUrl(challenge, u"team/tool"_s, &error);
    QVERIFY2(url.isValid(), qPrintable(error));
    QCOMPARE(url.host(), u"auth.example"_s);
    const QUrlQuery query(url);
    QCOMPARE(query.queryItemValue(u"client"_s), u"x"_s);
    QCOMPARE(query.queryItemValue(u"service"_s), u"registry.example"_s);
    QCOMPARE(query.queryItemValue(u"scope"_s), u"repository:team/tool:pull"_s);

    challenge.params.insert(u"scope"_s, u"repository:team/tool:pull,push"_s);
    QCOMPARE(QUrlQuery(tokenUrl(challenge, u"team/tool"_s, &error)).queryItemValue(u"scope"_s),
             u"repository:team/tool:pull,push"_s);

    for (const QString &realm : {u"file:///etc/passwd"_s, u"ftp://a/b"_s, u"not a url"_s, QString()}) {
        error.clear();
        challenge.params.insert(u"realm"_s, realm);
        QVERIFY2(!tokenUrl(challenge, u"team/tool"_s, &error).isValid(), qPrintable(realm));
        QVERIFY2(error.contains(u"is not an http(s) URL"_s), qPrintable(error));
    }
}

void TestRegistryAuth::readsTokens()
{
    QString error;
    std::optional<RegistryToken> token = parseTokenResponse("{\"token\":\"abc\",\"expires_in\":300}", &error);
    QVERIFY2(token, qPrintable(error));
    QCOMPARE(token->token, u"abc"_s);
    QCOMPARE(token->expiresInSeconds, 300);
    token = parseTokenResponse("{\"access_token\":\"def\",\"expires_in\":5}", &error);
    QVERIFY2(token, qPrintable(error));
    QCOMPARE(token->token, u"def"_s);
    QCOMPARE(token->expiresInSeconds, 60);
    QVERIFY(!parseTokenResponse("{\"details\":\"denied\"}", &error));
    QCOMPARE(error, u"the registry's token service answered without a token"_s);
    QVERIFY(!parseTokenResponse("<html>", &error));
}

void TestRegistryAuth::readsDockerConfig()
{
    const QByteArray config = "{\"auths\":{"
                              "\"https://index.docker.io/v1/\":{\"auth\":\"aHViLXVzZXI6aHViOnBhc3M=\"},"
                              "\"127.0.0.1:5000\":{\"auth\":\"bG9jYWw6c2VjcmV0\"},"
                              "\"https://reg.example\":{\"username\":\"u\",\"password\":\"p\"},"
                              "\"broken.example\":{\"auth\":\"bm9jb2xvbg==\"}}}";
    const std::optional<RegistryCredentials> hub = dockerConfigCredentials(config, u"docker.io"_s);
    QVERIFY(hub);
    QCOMPARE(hub->username, u"hub-user"_s);
    QCOMPARE(hub->password, u"hub:pass"_s);   // only the first colon separates
    const std::optional<RegistryCredentials> local = dockerConfigCredentials(config, u"127.0.0.1:5000"_s);
    QVERIFY(local);
    QCOMPARE(local->username, u"local"_s);
    QCOMPARE(local->password, u"secret"_s);
    const std::optional<RegistryCredentials> plain = dockerConfigCredentials(config, u"reg.example"_s);
    QVERIFY(plain);
    QCOMPARE(plain->username, u"u"_s);
    QCOMPARE(plain->password, u"p"_s);
    QVERIFY(!dockerConfigCredentials(config, u"broken.example"_s));   // "nocolon"
    QVERIFY(!dockerConfigCredentials(config, u"other.example"_s));
    QVERIFY(!dockerConfigCredentials("not json", u"docker.io"_s));
}

void TestRegistryAuth::choosesTheScheme()
{
    const auto base = [](const QString &text, const QStringList &insecure = {}) {
        QString error;
        const std::optional<Sandflow::ImageReference> reference = Sandflow::ImageReference::parse(text, &error);
        return reference ? registryApiBase(*reference, insecure).toString() : error;
    };
    // Docker Hub's API is on its own host.
    QCOMPARE(base(u"debian:12"_s), u"https://registry-1.docker.io"_s);
    // Plain HTTP for loopback, as Docker allows it.
    QCOMPARE(base(u"127.0.0.1:5000/team/tool:v1"_s), u"http://127.0.0.1:5000"_s);
    QCOMPARE(base(u"localhost:5000/tool"_s), u"http://localhost:5000"_s);
    // Every other registry over HTTPS, unless listed insecure as the reference names it.
    QCOMPARE(base(u"registry.example:5000/tool"_s), u"https://registry.example:5000"_s);
    QCOMPARE(base(u"registry.example:5000/tool"_s, {u"registry.example:5000"_s}), u"http://registry.example:5000"_s);
    QCOMPARE(base(u"registry.example:5000/tool"_s, {u"registry.example"_s}), u"https://registry.example:5000"_s);
    QCOMPARE(base(u"10.0.0.1/tool"_s, {u"10.0.0.1"_s}), u"http://10.0.0.1"_s);
}

QTEST_GUILESS_MAIN(TestRegistryAuth)
#include "tst_registryauth.moc"
