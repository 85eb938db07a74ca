// Strings with `${{ }}` parts: splitting, error reporting with template offsets, evaluation.
#include "expression.h"
#include "jsoncompare.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Sandflow;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(Sandflow::EvaluationResult::State)

namespace {

using SandflowTest::json;
using SandflowTest::normalized;

/// Knows `vars` and `matrix`; every other context is not known yet.
class TestScope : public ExpressionScope
{
public:
    std::optional<QJsonValue> context(const QString &name) const override
    {
        const QJsonObject contexts = QJsonDocument::fromJson(R"({
            "vars": {"count": 3, "flag": true, "obj": {"a": 1}, "nothing": null, "text": "a b"},
            "matrix": {"py": "3.11"}
        })"_ba).object();
        if (!contexts.contains(name))
            return std::nullopt;
        return contexts.value(name);
    }
};


/// "L:text@offset" for a literal, "E:expression source@offset" for an expression part
/// ("E!" when the part is invalid).
QStringList describe(const Template &t)
{
    QStringList result;
    for (const Template::Segment &segment : t.segments()) {
        const QString offset = u"@"_s + QString::number(segment.offset);
        if (!segment.literal.isEmpty())
            result.append(u"L:"_s + segment.literal + offset);
        else if (segment.expression.isValid())
            result.append(u"E:"_s + segment.expression.source() + offset);
        else
            result.append(u"E!"_s + offset);
    }
    return result;
}

QStringList describe(const QList<Template::ParseError> &errors)
{
    QStringList result;
    for (const Template::ParseError &error : errors)
        result.append(QString::number(error.offset) + u':' + error.message);
    return result;
}

} // namespace

class TestTemplate : public QObject
{
    Q_OBJECT

private slots:
    void parse_data();
    void parse();
    void parseErrors_data();
    void parseErrors();
    void evaluate_data();
    void evaluate();
    void evaluateNotValue_data();
    void evaluateNotValue();
    void fromExpression_data();
    void fromExpression();
    void fromExpressionErrors_data();
    void fromExpressionErrors();
    void isLiteral_data();
    void isLiteral();
    void defaultTemplate();
};

void TestTemplate::parse_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QStringList>("segments");

    QTest::newRow("empty") << u""_s << QStringList();
    QTest::newRow("plain text") << u"plain text"_s << QStringList{u"L:plain text@0"_s};
    QTest::newRow("only an expression") << u"${{ a }}"_s << QStringList{u"E: a @0"_s};
    QTest::newRow("no blanks") << u"${{a}}"_s << QStringList{u"E:a@0"_s};
    QTest::newRow("text around") << u"x-${{ a }}-y"_s << QStringList{u"L:x-@0"_s, u"E: a @2"_s, u"L:-y@10"_s};
    QTest::newRow("blanks around") << u" ${{ a }} "_s << QStringList{u"L: @0"_s, u"E: a @1"_s, u"L: @9"_s};
    QTest::newRow("adjacent expressions") << u"${{a}}${{b}}"_s << QStringList{u"E:a@0"_s, u"E:b@6"_s};
    QTest::newRow("several parts") << u"a ${{ b }} c ${{ d }} e"_s
                                   << QStringList{u"L:a @0"_s, u"E: b @2"_s, u"L: c @10"_s, u"E: d @13"_s,
                                                  u"L: e@21"_s};
    QTest::newRow("}} in a string") << u"${{ '}}' }}"_s << QStringList{u"E: '}}' @0"_s};
    QTest::newRow("}} after escaped quote") << u"${{ 'it''s }}' }} tail"_s
                                            << QStringList{u"E: 'it''s }}' @0"_s, u"L: tail@17"_s};
    QTest::newRow("format braces in a string") << u"${{ format('{{{0}}}', a) }}"_s
                                               << QStringList{u"E: format('{{{0}}}', a) @0"_s};
    QTest::newRow("third brace is text") << u"${{ a }}}"_s << QStringList{u"E: a @0"_s, u"L:}@8"_s};
    QTest::newRow("dollar before") << u"$${{ a }}"_s << QStringList{u"L:$@0"_s, u"E: a @1"_s};
    QTest::newRow("not an opening") << u"$ {{ a }} }}"_s << QStringList{u"L:$ {{ a }} }}@0"_s};
    QTest::newRow("multi-line") << u"echo ${{ a }}\necho ${{ b }}\n"_s
                                << QStringList{u"L:echo @0"_s, u"E: a @5"_s, u"L:\necho @13"_s, u"E: b @19"_s,
                                               u"L:\n@27"_s};
}

void TestTemplate::parse()
{
    QFETCH(QString, source);
    QFETCH(QStringList, segments);

    QList<Template::ParseError> errors;
    const Template parsed = Template::parse(source, &errors);
    QCOMPARE(describe(errors), QStringList());
    QCOMPARE(parsed.source(), source);
    QCOMPARE(describe(parsed), segments);
}

void TestTemplate::parseErrors_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QStringList>("errors");
    QTest::addColumn<QStringList>("segments");

    QTest::newRow("unterminated") << u"${{ a"_s << QStringList{u"0:unterminated `${{`"_s}
                                  << QStringList{u"E!@0"_s};
    QTest::newRow("unterminated after a good part") << u"x ${{ a }} ${{ b"_s
                                                    << QStringList{u"11:unterminated `${{`"_s}
                                                    << QStringList{u"L:x @0"_s, u"E: a @2"_s, u"L: @10"_s, u"E!@11"_s};
    QTest::newRow("}} inside an unterminated string") << u"${{ 'a }}"_s << QStringList{u"0:unterminated `${{`"_s}
                                                      << QStringList{u"E!@0"_s};
    QTest::newRow("empty") << u"${{}}"_s << QStringList{u"3:empty expression"_s} << QStringList{u"E!@0"_s};
    QTest::newRow("blank") << u"a${{   }}"_s << QStringList{u"7:empty expression"_s}
                           << QStringList{u"L:a@0"_s, u"E!@1"_s};
    QTest::newRow("parse error") << u"${{ a b }}"_s << QStringList{u"6:unexpected `b`"_s} << QStringList{u"E!@0"_s};
    QTest::newRow("lexer error after text") << u"id: ${{ a == \"x\" }}"_s
                                            << QStringList{u"13:use single quotes for strings"_s}
                                            << QStringList{u"L:id: @0"_s, u"E!@4"_s};
    QTest::newRow("nested ${{") << u"${{ a ${{ b }} }}"_s << QStringList{u"6:unexpected `${{` inside an expression"_s}
                                << QStringList{u"E!@0"_s, u"L: }}@14"_s};
    QTest::newRow("every problem") << u"x${{ a = }} y ${{ ( }} z ${{ 'q"_s
                                   << QStringList{u"7:unexpected `=` (use `==` to compare)"_s,
                                                  u"20:unexpected end of expression"_s,
                                                  u"25:unterminated `${{`"_s}
                                   << QStringList{u"L:x@0"_s, u"E!@1"_s, u"L: y @11"_s, u"E!@14"_s, u"L: z @22"_s,
                                                  u"E!@25"_s};
}

void TestTemplate::parseErrors()
{
    QFETCH(QString, source);
    QFETCH(QStringList, errors);
    QFETCH(QStringList, segments);

    QList<Template::ParseError> actual;
    const Template parsed = Template::parse(source, &actual);
    QCOMPARE(describe(actual), errors);
    QCOMPARE(describe(parsed), segments);
    QVERIFY(!parsed.isLiteral());
    const EvaluationResult result = parsed.evaluate(TestScope());
    QCOMPARE(result.state, EvaluationResult::State::Error);
    QCOMPARE(result.error, u"invalid expression"_s);

    QCOMPARE(describe(Template::parse(source, nullptr)), segments);   // errors not wanted: no crash
}

void TestTemplate::evaluate_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("empty") << u""_s << R"("")"_ba;
    QTest::newRow("plain") << u"plain"_s << R"("plain")"_ba;
    QTest::newRow("number keeps its type") << u"${{ vars.count }}"_s << "3"_ba;
    QTest::newRow("boolean keeps its type") << u"${{ vars.flag }}"_s << "true"_ba;
    QTest::newRow("object keeps its type") << u"${{ vars.obj }}"_s << R"({"a": 1})"_ba;
    QTest::newRow("null keeps its type") << u"${{ vars.nothing }}"_s << "null"_ba;
    QTest::newRow("blank before makes text") << u" ${{ vars.count }}"_s << R"(" 3")"_ba;
    QTest::newRow("blank after makes text") << u"${{ vars.count }}\n"_s << R"("3\n")"_ba;
    QTest::newRow("text before") << u"n=${{ vars.count }}"_s << R"("n=3")"_ba;
    QTest::newRow("two expressions make text") << u"${{ vars.count }}${{ vars.count }}"_s << R"("33")"_ba;
    QTest::newRow("object as JSON") << u"${{ vars.obj }}!"_s << R"("{\"a\":1}!")"_ba;
    QTest::newRow("null as nothing") << u"[${{ vars.nothing }}]"_s << R"("[]")"_ba;
    QTest::newRow("number and boolean texts") << u"${{ 3.5 }} ${{ false }}"_s << R"("3.5 false")"_ba;
    QTest::newRow("string with }}") << u"${{ '}}' }}"_s << R"("}}")"_ba;
    QTest::newRow("format braces") << u"<${{ format('{{{0}}}', vars.text) }}>"_s << R"("<{a b}>")"_ba;
    QTest::newRow("design example") << u"python:${{ matrix.py }}"_s << R"("python:3.11")"_ba;
    QTest::newRow("escaped quote") << u"${{ 'it''s' }}"_s << R"("it's")"_ba;
}

void TestTemplate::evaluate()
{
    QFETCH(QString, source);
    QFETCH(QByteArray, expected);

    QList<Template::ParseError> errors;
    const Template parsed = Template::parse(source, &errors);
    QCOMPARE(describe(errors), QStringList());
    const EvaluationResult result = parsed.evaluate(TestScope());
    QCOMPARE(result.error, QString());
    QCOMPARE(result.state, EvaluationResult::State::Value);
    QCOMPARE(json(result.value), normalized(expected));
}

void TestTemplate::evaluateNotValue_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<EvaluationResult::State>("state");
    QTest::addColumn<QString>("error");

    const auto unresolved = EvaluationResult::State::Unresolved;
    const auto error = EvaluationResult::State::Error;
    QTest::newRow("only expression") << u"${{ needs.x }}"_s << unresolved << QString();
    QTest::newRow("in text") << u"a ${{ needs.x }} b"_s << unresolved << QString();
    QTest::newRow("one of several") << u"${{ vars.count }} ${{ needs.x }}"_s << unresolved << QString();
    QTest::newRow("error") << u"${{ nosuch() }}"_s << error << u"unknown function `nosuch`"_s;
    QTest::newRow("error after unresolved") << u"${{ needs.x }} ${{ nosuch() }}"_s << error
                                            << u"unknown function `nosuch`"_s;
    QTest::newRow("error before unresolved") << u"${{ nosuch() }} ${{ needs.x }}"_s << error
                                             << u"unknown function `nosuch`"_s;
}

void TestTemplate::evaluateNotValue()
{
    QFETCH(QString, source);
    QFETCH(EvaluationResult::State, state);
    QFETCH(QString, error);

    QList<Template::ParseError> errors;
    const EvaluationResult result = Template::parse(source, &errors).evaluate(TestScope());
    QCOMPARE(describe(errors), QStringList());
    QCOMPARE(result.error, error);
    QCOMPARE(result.state, state);
}

void TestTemplate::fromExpression_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QStringList>("segments");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("bare") << u"vars.flag"_s << QStringList{u"E:vars.flag@0"_s} << "true"_ba;
    QTest::newRow("bare comparison") << u"vars.count == 3"_s << QStringList{u"E:vars.count == 3@0"_s} << "true"_ba;
    QTest::newRow("bare with blanks") << u"  vars.count  "_s << QStringList{u"E:  vars.count  @0"_s} << "3"_ba;
    QTest::newRow("status function") << u"success()"_s << QStringList{u"E:success()@0"_s} << "true"_ba;
    QTest::newRow("wrapped") << u"${{ vars.count }}"_s << QStringList{u"E: vars.count @0"_s} << "3"_ba;
    QTest::newRow("wrapped with blanks") << u" ${{ vars.count }}\n"_s << QStringList{u"E: vars.count @1"_s}
                                         << "3"_ba;
    QTest::newRow("wrapped with text inside is a string, as in GitHub")
        << u"${{ vars.count }} == ${{ vars.count }}"_s
        << QStringList{u"E: vars.count @0"_s, u"L: == @17"_s, u"E: vars.count @21"_s} << R"("3 == 3")"_ba;
}

void TestTemplate::fromExpression()
{
    QFETCH(QString, source);
    QFETCH(QStringList, segments);
    QFETCH(QByteArray, expected);

    QList<Template::ParseError> errors;
    const Template condition = Template::fromExpression(source, &errors);
    QCOMPARE(describe(errors), QStringList());
    QCOMPARE(condition.source(), source);
    QCOMPARE(describe(condition), segments);
    const EvaluationResult result = condition.evaluate(TestScope());
    QCOMPARE(result.state, EvaluationResult::State::Value);
    QCOMPARE(json(result.value), normalized(expected));
}

void TestTemplate::fromExpressionErrors_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QStringList>("errors");

    QTest::newRow("empty") << u""_s << QStringList{u"0:empty expression"_s};
    QTest::newRow("bare parse error") << u"vars.count =="_s << QStringList{u"13:unexpected end of expression"_s};
    QTest::newRow("bare lexer error") << u"a == \"b\""_s << QStringList{u"5:use single quotes for strings"_s};
    QTest::newRow("wrapped parse error") << u"${{ a b }}"_s << QStringList{u"6:unexpected `b`"_s};
    QTest::newRow("not ending in }} is bare") << u"${{ a }}${{ b"_s << QStringList{u"0:unexpected `${{` inside an expression"_s};
    QTest::newRow("${{ inside a bare condition") << u"a == ${{ b }}"_s
                                                 << QStringList{u"5:unexpected `${{` inside an expression"_s};
    QTest::newRow("text after a wrapped part") << u"${{ a }} == 'x'"_s
                                               << QStringList{u"0:unexpected `${{` inside an expression"_s};
}

void TestTemplate::fromExpressionErrors()
{
    QFETCH(QString, source);
    QFETCH(QStringList, errors);

    QList<Template::ParseError> actual;
    const Template condition = Template::fromExpression(source, &actual);
    QCOMPARE(describe(actual), errors);
    QCOMPARE(condition.evaluate(TestScope()).state, EvaluationResult::State::Error);
}

void TestTemplate::isLiteral_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<bool>("literal");

    QTest::newRow("empty") << u""_s << true;
    QTest::newRow("text") << u"abc"_s << true;
    QTest::newRow("lookalike") << u"$ {{ a }}"_s << true;
    QTest::newRow("expression") << u"${{ a }}"_s << false;
    QTest::newRow("text and expression") << u"a${{ b }}"_s << false;
    QTest::newRow("invalid expression") << u"a ${{ b"_s << false;
}

void TestTemplate::isLiteral()
{
    QFETCH(QString, source);
    QFETCH(bool, literal);

    QCOMPARE(Template::parse(source, nullptr).isLiteral(), literal);
}

void TestTemplate::defaultTemplate()
{
    const Template empty;
    QCOMPARE(empty.source(), QString());
    QVERIFY(empty.segments().isEmpty());
    QVERIFY(empty.isLiteral());
    const EvaluationResult result = empty.evaluate(TestScope());
    QCOMPARE(result.state, EvaluationResult::State::Value);
    QCOMPARE(result.value, QJsonValue(u""_s));
}

QTEST_APPLESS_MAIN(TestTemplate)

#include "tst_template.moc"
