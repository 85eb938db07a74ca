// `${{ }}` expressions: parsing, static views and evaluation, checked against GitHub Actions'
// documented semantics.
#include "expression.h"
#include "jsoncompare.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <cmath>
#include <limits>

using namespace Sandflow;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(Sandflow::ExecutionStatus)
Q_DECLARE_METATYPE(Sandflow::EvaluationResult::State)

namespace {

using SandflowTest::json;
using SandflowTest::normalized;

const QByteArray contextsJson = R"({
    "vars": {
        "greeting": "hello", "Mixed": "exact", "mixed": "lower", "one": 1, "key": "b",
        "flag": true, "nothing": null, "list": [1, 2, "three"], "obj": {"a": 1, "b": 2},
        "numbered": {"1": "one"}, "json": "[true, 2]"
    },
    "steps": {
        "build": {"outputs": {"version": "1.2"}, "outcome": "success"},
        "my-step": {"outputs": {"x": "y"}}
    },
    "items": [{"name": "a", "tags": ["x", "y"]}, {"name": "b", "tags": ["z"]}, {"other": 1}]
})"_ba;

/// Knows the contexts of contextsJson; every other name (`needs` in these tests) is not known
/// yet. Records the names it is asked for.
class TestScope : public ExpressionScope
{
public:
    explicit TestScope(ExecutionStatus status = ExecutionStatus::Success)
        : m_contexts(QJsonDocument::fromJson(contextsJson).object()), m_status(status)
    {
    }

    std::optional<QJsonValue> context(const QString &name) const override
    {
        asked.append(name);
        if (!m_contexts.contains(name))
            return std::nullopt;
        return m_contexts.value(name);
    }

    ExecutionStatus status() const override { return m_status; }

    mutable QStringList asked;

private:
    QJsonObject m_contexts;
    ExecutionStatus m_status;
};


Expression parsed(const QString &source)
{
    Expression::ParseError error;
    const Expression expression = Expression::parse(source, &error);
    if (!expression.isValid())
        qWarning().noquote() << "parse error at" << error.offset << error.message;
    return expression;
}

QString repeated(const QString &text, int count)
{
    QString result;
    for (int i = 0; i < count; ++i)
        result += text;
    return result;
}

} // namespace

class TestExpression : public QObject
{
    Q_OBJECT

private slots:
    void parseErrors_data();
    void parseErrors();
    void nestingLimit_data();
    void nestingLimit();
    void evaluate_data();
    void evaluate();
    void evaluateNotValue_data();
    void evaluateNotValue();
    void statusFunctions_data();
    void statusFunctions();
    void scopeIsAskedByName();
    void references_data();
    void references();
    void calls_data();
    void calls();
    void functionTable_data();
    void functionTable();
    void isTruthy_data();
    void isTruthy();
    void toText_data();
    void toText();
    void invalidAndCopied();
};

void TestExpression::parseErrors_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<int>("offset");
    QTest::addColumn<QString>("message");

    QTest::newRow("empty") << u""_s << 0 << u"empty expression"_s;
    QTest::newRow("blank") << u"   "_s << 3 << u"empty expression"_s;
    QTest::newRow("blank before bad character") << u"  #"_s << 2 << u"unknown character `#`"_s;
    QTest::newRow("missing right operand") << u"a =="_s << 4 << u"unexpected end of expression"_s;
    QTest::newRow("missing operand of !") << u"!"_s << 1 << u"unexpected end of expression"_s;
    QTest::newRow("unclosed group") << u"(a"_s << 2 << u"expected `)`"_s;
    QTest::newRow("empty group") << u"()"_s << 1 << u"unexpected `)`"_s;
    QTest::newRow("stray )") << u"a)"_s << 1 << u"unexpected `)`"_s;
    QTest::newRow("two operands") << u"a b"_s << 2 << u"unexpected `b`"_s;
    QTest::newRow("two strings") << u"a == 'x' 'y'"_s << 9 << u"unexpected `'y'`"_s;
    QTest::newRow("operator after operator") << u"a && || b"_s << 5 << u"unexpected `||`"_s;
    QTest::newRow("unclosed index") << u"a[0"_s << 3 << u"expected `]` after index"_s;
    QTest::newRow("index with two values") << u"a[0 1]"_s << 4 << u"expected `]` after index"_s;
    QTest::newRow("empty index") << u"a[]"_s << 2 << u"unexpected `]`"_s;
    QTest::newRow("unclosed [*") << u"a[*"_s << 3 << u"expected `]` after `*`"_s;
    QTest::newRow("dot at end") << u"a."_s << 2 << u"expected property name after `.`"_s;
    QTest::newRow("dot and number") << u"a.1"_s << 2 << u"expected property name after `.`"_s;
    QTest::newRow("dot and string") << u"a.'b'"_s << 2 << u"expected property name after `.`"_s;
    QTest::newRow("name after .*") << u"a.*b"_s << 3 << u"unexpected `b`"_s;
    QTest::newRow("unterminated string") << u"'abc"_s << 0 << u"unterminated string"_s;
    QTest::newRow("unterminated after escape") << u"a == 'it''s"_s << 5 << u"unterminated string"_s;
    QTest::newRow("double quotes") << u"\"abc\""_s << 0 << u"use single quotes for strings"_s;
    QTest::newRow("double quotes later") << u"a == \"x\""_s << 5 << u"use single quotes for strings"_s;
    QTest::newRow("unknown character") << u"a # b"_s << 2 << u"unknown character `#`"_s;
    QTest::newRow("unknown non-ASCII character") << u"a == \u20ac"_s << 5 << u"unknown character `\u20ac`"_s;
    QTest::newRow("unknown astral character") << u"\U0001F600"_s << 0 << u"unknown character `\U0001F600`"_s;
    QTest::newRow("dollar") << u"$a"_s << 0 << u"unknown character `$`"_s;
    QTest::newRow("nested ${{") << u"a == ${{ b }}"_s << 5 << u"unexpected `${{` inside an expression"_s;
    QTest::newRow("single =") << u"a = b"_s << 2 << u"unexpected `=` (use `==` to compare)"_s;
    QTest::newRow("single &") << u"a & b"_s << 2 << u"unexpected `&` (use `&&`)"_s;
    QTest::newRow("single |") << u"a | b"_s << 2 << u"unexpected `|` (use `||`)"_s;
    QTest::newRow("unary minus of a name") << u"-a"_s << 0 << u"unexpected `-`"_s;
    QTest::newRow("subtraction") << u"1 - 2"_s << 2 << u"unexpected `-`"_s;
    QTest::newRow("letters after digits") << u"12abc"_s << 0 << u"invalid number `12abc`"_s;
    QTest::newRow("two decimal points") << u"x == 1.2.3"_s << 5 << u"invalid number `1.2.3`"_s;
    QTest::newRow("trailing decimal point") << u"1."_s << 0 << u"invalid number `1.`"_s;
    QTest::newRow("hex without digits") << u"0x"_s << 0 << u"invalid number `0x`"_s;
    QTest::newRow("hex with bad digit") << u"0xg1"_s << 0 << u"invalid number `0xg1`"_s;
    QTest::newRow("exponent without digits") << u"1e"_s << 0 << u"invalid number `1e`"_s;
    QTest::newRow("number glued to minus") << u"1-2"_s << 0 << u"invalid number `1-2`"_s;
    QTest::newRow("call with trailing comma") << u"f(a,)"_s << 4 << u"unexpected `)`"_s;
    QTest::newRow("call without comma") << u"f(a b)"_s << 4 << u"expected `,` or `)` after argument"_s;
    QTest::newRow("unclosed call") << u"f("_s << 2 << u"unexpected end of expression"_s;
    QTest::newRow("unclosed call with argument") << u"f(1"_s << 3 << u"expected `,` or `)` after argument"_s;
    QTest::newRow("keyword is not a function") << u"true()"_s << 4 << u"unexpected `(`"_s;
    QTest::newRow("member is not a function") << u"a.b()"_s << 3 << u"unexpected `(`"_s;
    QTest::newRow("parse error before bad character") << u"a ) #"_s << 2 << u"unexpected `)`"_s;
    QTest::newRow("bad character before parse error") << u"(a #"_s << 3 << u"unknown character `#`"_s;
}

void TestExpression::parseErrors()
{
    QFETCH(QString, source);
    QFETCH(int, offset);
    QFETCH(QString, message);

    Expression::ParseError error;
    const Expression expression = Expression::parse(source, &error);
    QVERIFY(!expression.isValid());
    QCOMPARE(error.message, message);
    QCOMPARE(error.offset, offset);
}

void TestExpression::nestingLimit_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<bool>("valid");

    QTest::newRow("100 groups") << repeated(u"("_s, 100) + u"1"_s + repeated(u")"_s, 100) << true;
    QTest::newRow("101 groups") << repeated(u"("_s, 101) + u"1"_s + repeated(u")"_s, 101) << false;
    QTest::newRow("huge unclosed groups") << repeated(u"("_s, 100000) << false;
    QTest::newRow("50 negations") << repeated(u"!"_s, 50) + u"true"_s << true;
    QTest::newRow("huge negations") << repeated(u"!"_s, 100000) + u"true"_s << false;
    QTest::newRow("50 comparisons") << u"1"_s + repeated(u" == 1"_s, 50) << true;
    QTest::newRow("huge comparison chain") << u"1"_s + repeated(u" == 1"_s, 100000) << false;
    QTest::newRow("huge member chain") << u"a"_s + repeated(u".b"_s, 100000) << false;
    QTest::newRow("huge index nesting") << repeated(u"a["_s, 100000) << false;
    QTest::newRow("long || is flat") << u"0"_s + repeated(u" || 0"_s, 10000) << true;
}

void TestExpression::nestingLimit()
{
    QFETCH(QString, source);
    QFETCH(bool, valid);

    Expression::ParseError error;
    const Expression expression = Expression::parse(source, &error);
    QCOMPARE(expression.isValid(), valid);
    if (!valid)
        QCOMPARE(error.message, u"expression is nested too deeply"_s);
    else
        QCOMPARE(expression.evaluate(TestScope()).state, EvaluationResult::State::Value);
}

void TestExpression::evaluate_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QByteArray>("expected");

    // Literals
    QTest::newRow("null") << u"null"_s << "null"_ba;
    QTest::newRow("true") << u"true"_s << "true"_ba;
    QTest::newRow("false") << u"false"_s << "false"_ba;
    QTest::newRow("integer") << u"42"_s << "42"_ba;
    QTest::newRow("negative") << u"-7"_s << "-7"_ba;
    QTest::newRow("decimal") << u"3.25"_s << "3.25"_ba;
    QTest::newRow("exponent") << u"1e3"_s << "1000"_ba;
    QTest::newRow("negative exponent") << u"15E-1"_s << "1.5"_ba;
    QTest::newRow("signed exponent") << u"2e+2"_s << "200"_ba;
    QTest::newRow("hex") << u"0x1F"_s << "31"_ba;
    QTest::newRow("hex upper prefix") << u"0XfF"_s << "255"_ba;
    QTest::newRow("negative hex") << u"-0x10"_s << "-16"_ba;
    QTest::newRow("string") << u"'hello'"_s << R"("hello")"_ba;
    QTest::newRow("escaped quote") << u"'it''s'"_s << R"("it's")"_ba;
    QTest::newRow("empty string") << u"''"_s << R"("")"_ba;
    QTest::newRow("double quote inside string") << u"'say \"hi\"'"_s << R"("say \"hi\"")"_ba;
    QTest::newRow("group") << u"(1)"_s << "1"_ba;
    QTest::newRow("whitespace everywhere") << u"\t( vars . greeting )\n"_s << R"("hello")"_ba;

    // Property access
    QTest::newRow("dot") << u"vars.greeting"_s << R"("hello")"_ba;
    QTest::newRow("bracket") << u"vars['greeting']"_s << R"("hello")"_ba;
    QTest::newRow("case-insensitive name") << u"vars.GREETING"_s << R"("hello")"_ba;
    QTest::newRow("exact match first") << u"vars.Mixed"_s << R"("exact")"_ba;
    QTest::newRow("exact match first, lower") << u"vars['mixed']"_s << R"("lower")"_ba;
    QTest::newRow("dash in names") << u"steps.my-step.outputs.x"_s << R"("y")"_ba;
    QTest::newRow("dash in bracket") << u"steps['my-step']['outputs'].X"_s << R"("y")"_ba;
    QTest::newRow("nested") << u"steps.build.outputs.version"_s << R"("1.2")"_ba;
    QTest::newRow("whole context") << u"vars.obj"_s << R"({"a": 1, "b": 2})"_ba;
    QTest::newRow("missing property") << u"vars.missing"_s << "null"_ba;
    QTest::newRow("member of missing") << u"vars.missing.deeper.still"_s << "null"_ba;
    QTest::newRow("member of string") << u"vars.greeting.length"_s << "null"_ba;
    QTest::newRow("member of literal") << u"'abc'[0]"_s << "null"_ba;
    QTest::newRow("array index") << u"vars.list[0]"_s << "1"_ba;
    QTest::newRow("last index") << u"vars.list[2]"_s << R"("three")"_ba;
    QTest::newRow("index past the end") << u"vars.list[3]"_s << "null"_ba;
    QTest::newRow("negative index") << u"vars.list[-1]"_s << "null"_ba;
    QTest::newRow("fractional index rounds down") << u"vars.list[1.7]"_s << "2"_ba;
    QTest::newRow("string index on array") << u"vars.list['1']"_s << "2"_ba;
    QTest::newRow("name on array") << u"vars.list.foo"_s << "null"_ba;
    QTest::newRow("boolean index") << u"vars.list[true]"_s << "null"_ba;
    QTest::newRow("computed index") << u"vars.list[vars.one]"_s << "2"_ba;
    QTest::newRow("computed key") << u"vars.obj[vars.key]"_s << "2"_ba;
    QTest::newRow("number key on object") << u"vars.numbered[1]"_s << R"("one")"_ba;
    QTest::newRow("member of group") << u"(vars.obj).a"_s << "1"_ba;
    QTest::newRow("member of call") << u"fromJSON('[1, 2]')[1]"_s << "2"_ba;

    // The object filter
    QTest::newRow("object values") << u"vars.obj.*"_s << "[1, 2]"_ba;
    QTest::newRow("array elements") << u"vars.list.*"_s << R"([1, 2, "three"])"_ba;
    QTest::newRow("map over array") << u"items.*.name"_s << R"(["a", "b"])"_ba;
    QTest::newRow("bracket star") << u"items[*].name"_s << R"(["a", "b"])"_ba;
    QTest::newRow("map keeps arrays") << u"items.*.tags"_s << R"([["x", "y"], ["z"]])"_ba;
    QTest::newRow("second star flattens") << u"items.*.tags.*"_s << R"(["x", "y", "z"])"_ba;
    QTest::newRow("index maps too") << u"items.*.tags[0]"_s << R"(["x", "z"])"_ba;
    QTest::newRow("filter of scalar") << u"vars.greeting.*"_s << "[]"_ba;
    QTest::newRow("filter of missing") << u"vars.missing.*"_s << "[]"_ba;
    QTest::newRow("filter in function") << u"contains(items.*.name, 'B')"_s << "true"_ba;

    // !
    QTest::newRow("not true") << u"!true"_s << "false"_ba;
    QTest::newRow("not zero") << u"!0"_s << "true"_ba;
    QTest::newRow("not empty string") << u"!''"_s << "true"_ba;
    QTest::newRow("not string") << u"!'a'"_s << "false"_ba;
    QTest::newRow("not null") << u"!null"_s << "true"_ba;
    QTest::newRow("not not object") << u"!!vars.obj"_s << "true"_ba;
    QTest::newRow("not empty array") << u"!fromJSON('[]')"_s << "false"_ba;

    // == and != with coercion
    QTest::newRow("numbers equal") << u"1 == 1"_s << "true"_ba;
    QTest::newRow("numbers differ") << u"1 == 2"_s << "false"_ba;
    QTest::newRow("not equal") << u"1 != 2"_s << "true"_ba;
    QTest::newRow("hex equals decimal") << u"0x10 == 16"_s << "true"_ba;
    QTest::newRow("strings ignore case") << u"'abc' == 'ABC'"_s << "true"_ba;
    QTest::newRow("strings ignore case, !=") << u"'abc' != 'ABC'"_s << "false"_ba;
    QTest::newRow("strings differ") << u"'abc' == 'abd'"_s << "false"_ba;
    QTest::newRow("string to number") << u"'1' == 1"_s << "true"_ba;
    QTest::newRow("string trimmed") << u"' 1 ' == 1"_s << "true"_ba;
    QTest::newRow("string hex") << u"'0x10' == 16"_s << "true"_ba;
    QTest::newRow("string exponent") << u"'1e2' == 100"_s << "true"_ba;
    QTest::newRow("string decimal vs string") << u"'1.0' == '1'"_s << "false"_ba;
    QTest::newRow("unparsable is NaN") << u"'abc' == 0"_s << "false"_ba;
    QTest::newRow("NaN !=") << u"'abc' != 1"_s << "true"_ba;
    QTest::newRow("empty string is 0") << u"'' == 0"_s << "true"_ba;
    QTest::newRow("empty string and null") << u"'' == null"_s << "true"_ba;
    QTest::newRow("null is 0") << u"null == 0"_s << "true"_ba;
    QTest::newRow("null and false") << u"null == false"_s << "true"_ba;
    QTest::newRow("null and null") << u"null == null"_s << "true"_ba;
    QTest::newRow("true is 1") << u"true == 1"_s << "true"_ba;
    QTest::newRow("true is not 2") << u"true == 2"_s << "false"_ba;
    QTest::newRow("false is 0") << u"false == 0"_s << "true"_ba;
    QTest::newRow("'true' is NaN") << u"true == 'true'"_s << "false"_ba;
    QTest::newRow("'1' and true") << u"'1' == true"_s << "true"_ba;
    QTest::newRow("missing is null") << u"vars.missing == null"_s << "true"_ba;
    QTest::newRow("same object") << u"vars.obj == vars.obj"_s << "true"_ba;
    QTest::newRow("same object, other spelling") << u"vars.obj == vars['OBJ']"_s << "true"_ba;
    QTest::newRow("same object, !=") << u"vars.obj != vars.obj"_s << "false"_ba;
    QTest::newRow("same array element") << u"items[0] == items[0.5]"_s << "true"_ba;
    QTest::newRow("different objects") << u"items[0] == items[1]"_s << "false"_ba;
    QTest::newRow("equal content, not the same object")
        << u"vars.obj == fromJSON('{\"a\": 1, \"b\": 2}')"_s << "false"_ba;
    QTest::newRow("built arrays are never equal") << u"fromJSON('[]') == fromJSON('[]')"_s << "false"_ba;
    QTest::newRow("filter result is new") << u"vars.list.* == vars.list"_s << "false"_ba;
    QTest::newRow("array and object") << u"vars.list == vars.obj"_s << "false"_ba;
    QTest::newRow("object and number") << u"vars.obj == 0"_s << "false"_ba;

    // < <= > >=
    QTest::newRow("less") << u"1 < 2"_s << "true"_ba;
    QTest::newRow("less, equal") << u"2 < 2"_s << "false"_ba;
    QTest::newRow("less or equal") << u"2 <= 2"_s << "true"_ba;
    QTest::newRow("greater") << u"3 > 2"_s << "true"_ba;
    QTest::newRow("greater or equal") << u"2 >= 3"_s << "false"_ba;
    QTest::newRow("decimals") << u"1.5 > 1.25"_s << "true"_ba;
    QTest::newRow("strings ignore case, <") << u"'a' < 'B'"_s << "true"_ba;
    QTest::newRow("strings ignore case, >") << u"'B' > 'a'"_s << "true"_ba;
    QTest::newRow("strings compare as text") << u"'10' < '9'"_s << "true"_ba;
    QTest::newRow("string and number compare as numbers") << u"'10' < 9"_s << "false"_ba;
    QTest::newRow("strings equal, <=") << u"'abc' <= 'ABC'"_s << "true"_ba;
    QTest::newRow("booleans") << u"true > false"_s << "true"_ba;
    QTest::newRow("null below one") << u"null < 1"_s << "true"_ba;
    QTest::newRow("NaN <") << u"'abc' < 1"_s << "false"_ba;
    QTest::newRow("NaN >=") << u"'abc' >= 1"_s << "false"_ba;
    QTest::newRow("object <=") << u"vars.obj <= vars.obj"_s << "false"_ba;
    QTest::newRow("version strings") << u"steps.build.outputs.version >= 1.1"_s << "true"_ba;

    // && and || yield an operand
    QTest::newRow("&& yields last") << u"1 && 'x'"_s << R"("x")"_ba;
    QTest::newRow("&& yields falsy") << u"0 && 'x'"_s << "0"_ba;
    QTest::newRow("&& chain") << u"1 && 2 && 3"_s << "3"_ba;
    QTest::newRow("&& chain stops") << u"1 && '' && 3"_s << R"("")"_ba;
    QTest::newRow("|| yields truthy") << u"'a' || 'b'"_s << R"("a")"_ba;
    QTest::newRow("|| fallback") << u"'' || 'fallback'"_s << R"("fallback")"_ba;
    QTest::newRow("|| yields last") << u"false || 0"_s << "0"_ba;
    QTest::newRow("|| of nulls") << u"null || null"_s << "null"_ba;
    QTest::newRow("|| yields object") << u"vars.missing || vars.obj"_s << R"({"a": 1, "b": 2})"_ba;
    QTest::newRow("ternary idiom") << u"vars.flag && 'yes' || 'no'"_s << R"("yes")"_ba;
    QTest::newRow("ternary idiom, false") << u"vars.nothing && 'yes' || 'no'"_s << R"("no")"_ba;
    QTest::newRow("&& skips unresolved") << u"false && needs.build.result"_s << "false"_ba;
    QTest::newRow("|| skips unresolved") << u"true || needs.build.result"_s << "true"_ba;
    QTest::newRow("|| skips unknown function") << u"true || nosuch()"_s << "true"_ba;

    // Precedence
    QTest::newRow("&& before ||") << u"true || false && false"_s << "true"_ba;
    QTest::newRow("&& before ||, left") << u"false && true || true"_s << "true"_ba;
    QTest::newRow("group before &&") << u"(true || false) && false"_s << "false"_ba;
    QTest::newRow("! before &&") << u"!false && false"_s << "false"_ba;
    QTest::newRow("! of group") << u"!(false && false)"_s << "true"_ba;
    QTest::newRow("! before ==") << u"!1 == false"_s << "true"_ba;
    QTest::newRow("member before !") << u"!vars.obj.a"_s << "false"_ba;
    QTest::newRow("< before ==") << u"1 == 1 < 2"_s << "true"_ba;
    QTest::newRow("< before ==, left") << u"1 < 2 == true"_s << "true"_ba;
    QTest::newRow("== before &&") << u"1 == 1 && 2 == 3"_s << "false"_ba;
    QTest::newRow("== is left-associative") << u"2 == 2 == 2"_s << "false"_ba;
    QTest::newRow("== is left-associative, true") << u"1 == 1 == 1"_s << "true"_ba;
    QTest::newRow("< is left-associative") << u"3 > 2 > 1"_s << "false"_ba;

    // Functions
    QTest::newRow("contains substring") << u"contains('Hello world', 'WORLD')"_s << "true"_ba;
    QTest::newRow("contains no substring") << u"contains('abc', 'd')"_s << "false"_ba;
    QTest::newRow("contains empty") << u"contains('abc', '')"_s << "true"_ba;
    QTest::newRow("contains number text") << u"contains(123, 2)"_s << "true"_ba;
    QTest::newRow("contains element") << u"contains(vars.list, 1)"_s << "true"_ba;
    QTest::newRow("contains loose element") << u"contains(vars.list, '2')"_s << "true"_ba;
    QTest::newRow("contains element ignoring case") << u"contains(vars.list, 'THREE')"_s << "true"_ba;
    QTest::newRow("contains no element") << u"contains(vars.list, 4)"_s << "false"_ba;
    QTest::newRow("contains no partial element") << u"contains(vars.list, 'thr')"_s << "false"_ba;
    QTest::newRow("contains in object") << u"contains(vars.obj, 'a')"_s << "false"_ba;
    QTest::newRow("contains array in string") << u"contains('[1]', fromJSON('[1]'))"_s << "false"_ba;
    QTest::newRow("contains array element") << u"contains(fromJSON('[[1]]'), fromJSON('[1]'))"_s << "false"_ba;
    QTest::newRow("function name ignores case") << u"CONTAINS('abc', 'B')"_s << "true"_ba;
    QTest::newRow("startsWith") << u"startsWith('Hello', 'he')"_s << "true"_ba;
    QTest::newRow("startsWith, no") << u"startsWith('Hello', 'lo')"_s << "false"_ba;
    QTest::newRow("startsWith number") << u"startsWith(123, 1)"_s << "true"_ba;
    QTest::newRow("startsWith array") << u"startsWith(vars.list, '[')"_s << "false"_ba;
    QTest::newRow("startswith lower-case") << u"startswith('abc', 'A')"_s << "true"_ba;
    QTest::newRow("endsWith") << u"endsWith('Hello', 'LO')"_s << "true"_ba;
    QTest::newRow("endsWith, no") << u"endsWith('Hello', 'he')"_s << "false"_ba;
    QTest::newRow("endsWith boolean") << u"endsWith(true, 'UE')"_s << "true"_ba;
    QTest::newRow("endsWith object") << u"endsWith('x}', vars.obj)"_s << "false"_ba;
    QTest::newRow("format") << u"format('{0} {1}', 'a', 'b')"_s << R"("a b")"_ba;
    QTest::newRow("format reorders and repeats") << u"format('{1}{0}{1}', 'a', 'b')"_s << R"("bab")"_ba;
    QTest::newRow("format escapes") << u"format('{{0}}', 'x')"_s << R"("{0}")"_ba;
    QTest::newRow("format escapes around") << u"format('{{{0}}}', 'x')"_s << R"("{x}")"_ba;
    QTest::newRow("format reversed escapes") << u"format('}}{{')"_s << R"("}{")"_ba;
    QTest::newRow("format without placeholders") << u"format('plain')"_s << R"("plain")"_ba;
    QTest::newRow("format leading zero") << u"format('{00}', 'x')"_s << R"("x")"_ba;
    QTest::newRow("format unused argument") << u"format('{1}', 'a', 'b')"_s << R"("b")"_ba;
    QTest::newRow("format texts") << u"format('{0}|{1}|{2}|{3}|{4}', null, 3, 3.5, true, vars.obj)"_s
                                  << R"("|3|3.5|true|{\"a\":1,\"b\":2}")"_ba;
    QTest::newRow("format number pattern") << u"format(12)"_s << R"("12")"_ba;
    QTest::newRow("join") << u"join(vars.list)"_s << R"("1,2,three")"_ba;
    QTest::newRow("join with separator") << u"join(vars.list, ' | ')"_s << R"("1 | 2 | three")"_ba;
    QTest::newRow("join with number separator") << u"join(vars.list, 0)"_s << R"("1020three")"_ba;
    QTest::newRow("join texts") << u"join(fromJSON('[null, true, 1.5, [1]]'), '')"_s << R"("true1.5[1]")"_ba;
    QTest::newRow("join empty") << u"join(fromJSON('[]'))"_s << R"("")"_ba;
    QTest::newRow("join string") << u"join('abc', '-')"_s << R"("abc")"_ba;
    QTest::newRow("join number") << u"join(1.5)"_s << R"("1.5")"_ba;
    QTest::newRow("join object") << u"join(vars.obj)"_s << R"("")"_ba;
    QTest::newRow("join filter") << u"join(items.*.name, '+')"_s << R"("a+b")"_ba;
    QTest::newRow("toJSON string") << u"toJSON('a\"b')"_s << R"("\"a\\\"b\"")"_ba;
    QTest::newRow("toJSON number") << u"toJSON(1.5)"_s << R"("1.5")"_ba;
    QTest::newRow("toJSON null") << u"toJSON(null)"_s << R"("null")"_ba;
    QTest::newRow("toJSON boolean") << u"toJSON(false)"_s << R"("false")"_ba;
    QTest::newRow("toJSON object") << u"toJSON(vars.obj)"_s << R"("{\n  \"a\": 1,\n  \"b\": 2\n}")"_ba;
    QTest::newRow("toJSON empty array") << u"toJSON(fromJSON('[]'))"_s << R"("[]")"_ba;
    QTest::newRow("toJSON empty object") << u"toJSON(fromJSON('{}'))"_s << R"("{}")"_ba;
    QTest::newRow("toJSON nested") << u"toJSON(fromJSON('{\"a\": [1, {\"b\": null}], \"c\": {}}'))"_s
                                   << R"("{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ],\n  \"c\": {}\n}")"_ba;
    QTest::newRow("fromJSON number") << u"fromJSON('1')"_s << "1"_ba;
    QTest::newRow("fromJSON padded") << u"fromJSON(' 2 ')"_s << "2"_ba;
    QTest::newRow("fromJSON string") << u"fromJSON('\"x\"')"_s << R"("x")"_ba;
    QTest::newRow("fromJSON boolean") << u"fromJSON('true')"_s << "true"_ba;
    QTest::newRow("fromJSON null") << u"fromJSON('null')"_s << "null"_ba;
    QTest::newRow("fromJSON array") << u"fromJSON('[1, \"a\"]')"_s << R"([1, "a"])"_ba;
    QTest::newRow("fromJSON member") << u"fromJSON('{\"a\": {\"b\": 1}}').a.b"_s << "1"_ba;
    QTest::newRow("fromJSON of context") << u"fromJSON(vars.json)[1]"_s << "2"_ba;
    QTest::newRow("fromJSON of number") << u"fromJSON(12)"_s << "12"_ba;
    QTest::newRow("toJSON round trip") << u"fromJSON(toJSON(vars.obj)) == vars.obj"_s << "false"_ba;
    QTest::newRow("toJSON round trip, members") << u"fromJSON(toJSON(vars.obj)).b"_s << "2"_ba;
}

void TestExpression::evaluate()
{
    QFETCH(QString, source);
    QFETCH(QByteArray, expected);

    const Expression expression = parsed(source);
    QVERIFY(expression.isValid());
    const EvaluationResult result = expression.evaluate(TestScope());
    QCOMPARE(result.error, QString());
    QCOMPARE(result.state, EvaluationResult::State::Value);
    QCOMPARE(json(result.value), normalized(expected));
}

void TestExpression::evaluateNotValue_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<EvaluationResult::State>("state");
    QTest::addColumn<QString>("error");

    const auto unresolved = EvaluationResult::State::Unresolved;
    QTest::newRow("unknown context") << u"needs.build.result"_s << unresolved << QString();
    QTest::newRow("bare unknown context") << u"needs"_s << unresolved << QString();
    QTest::newRow("comparison") << u"needs.build.result == 'success'"_s << unresolved << QString();
    QTest::newRow("not") << u"!needs.x"_s << unresolved << QString();
    QTest::newRow("filter") << u"needs.*.result"_s << unresolved << QString();
    QTest::newRow("index") << u"vars[needs.key]"_s << unresolved << QString();
    QTest::newRow("argument") << u"format('{0}', needs.x)"_s << unresolved << QString();
    QTest::newRow("|| needs the left side") << u"needs.x || true"_s << unresolved << QString();
    QTest::newRow("|| after falsy") << u"0 || needs.x"_s << unresolved << QString();
    QTest::newRow("&& after truthy") << u"true && needs.x"_s << unresolved << QString();

    const auto error = EvaluationResult::State::Error;
    QTest::newRow("unknown function") << u"nosuch()"_s << error << u"unknown function `nosuch`"_s;
    QTest::newRow("unknown function with hint") << u"contain('a', 'b')"_s << error
                                                << u"unknown function `contain` (did you mean `contains`?)"_s;
    QTest::newRow("too few arguments") << u"contains('a')"_s << error << u"contains() takes 2 arguments, got 1"_s;
    QTest::newRow("arguments to status function") << u"success(1)"_s << error
                                                  << u"success() takes 0 arguments, got 1"_s;
    QTest::newRow("range, too few") << u"join()"_s << error << u"join() takes 1 to 2 arguments, got 0"_s;
    QTest::newRow("range, too many") << u"join(1, 2, 3)"_s << error << u"join() takes 1 to 2 arguments, got 3"_s;
    QTest::newRow("unbounded") << u"format()"_s << error << u"format() takes at least 1 argument, got 0"_s;
    QTest::newRow("canonical name in message") << u"TOjson()"_s << error << u"toJSON() takes 1 argument, got 0"_s;
    QTest::newRow("error outranks unresolved argument") << u"nosuch(needs.x)"_s << error
                                                        << u"unknown function `nosuch`"_s;
    QTest::newRow("error outranks unresolved operand") << u"needs.x == fromJSON('[')"_s << error
                                                       << u"fromJSON: invalid JSON at offset 1: unterminated array"_s;
    QTest::newRow("|| evaluates the right side") << u"false || nosuch()"_s << error << u"unknown function `nosuch`"_s;
    QTest::newRow("error inside a group") << u"!(1 == fromJSON('x'))"_s << error
                                          << u"fromJSON: invalid JSON at offset 0: illegal number"_s;
    QTest::newRow("fromJSON empty") << u"fromJSON('')"_s << error << u"fromJSON: invalid JSON: expected exactly one value"_s;
    QTest::newRow("fromJSON two values") << u"fromJSON('1, 2')"_s << error
                                         << u"fromJSON: invalid JSON: expected exactly one value"_s;
    QTest::newRow("fromJSON unterminated") << u"fromJSON('[1, 2')"_s << error
                                           << u"fromJSON: invalid JSON at offset 5: unterminated array"_s;
    QTest::newRow("fromJSON garbage") << u"fromJSON('{} x')"_s << error
                                      << u"fromJSON: invalid JSON at offset 4: missing value separator"_s;
    QTest::newRow("format missing argument") << u"format('{0}')"_s << error << u"format: no argument for `{0}`"_s;
    QTest::newRow("format index past arguments") << u"format('{2}', 'a', 'b')"_s << error
                                                 << u"format: no argument for `{2}`"_s;
    QTest::newRow("format unclosed {") << u"format('a{0', 'a')"_s << error
                                       << u"format: malformed placeholder at offset 1"_s;
    QTest::newRow("format lone {") << u"format('{', 'a')"_s << error << u"format: malformed placeholder at offset 0"_s;
    QTest::newRow("format empty placeholder") << u"format('{}', 'a')"_s << error
                                              << u"format: malformed placeholder at offset 0"_s;
    QTest::newRow("format name placeholder") << u"format('{x}', 'a')"_s << error
                                             << u"format: malformed placeholder at offset 0"_s;
    QTest::newRow("format negative placeholder") << u"format('{-1}', 'a')"_s << error
                                                 << u"format: malformed placeholder at offset 0"_s;
    QTest::newRow("format spaced placeholder") << u"format('{ 0}', 'a')"_s << error
                                               << u"format: malformed placeholder at offset 0"_s;
    QTest::newRow("format format spec") << u"format('{0:x}', 'a')"_s << error
                                        << u"format: malformed placeholder at offset 0"_s;
    QTest::newRow("format lone }") << u"format('a}b')"_s << error << u"format: unmatched `}` at offset 1"_s;
}

void TestExpression::evaluateNotValue()
{
    QFETCH(QString, source);
    QFETCH(EvaluationResult::State, state);
    QFETCH(QString, error);

    const Expression expression = parsed(source);
    QVERIFY(expression.isValid());
    const EvaluationResult result = expression.evaluate(TestScope());
    QCOMPARE(result.error, error);
    QCOMPARE(result.state, state);
    QVERIFY(result.value.isNull());
}

void TestExpression::statusFunctions_data()
{
    QTest::addColumn<ExecutionStatus>("status");
    QTest::addColumn<QString>("source");
    QTest::addColumn<bool>("expected");

    const struct
    {
        const char *name;
        ExecutionStatus status;
    } statuses[] = {
        {"success", ExecutionStatus::Success},
        {"failure", ExecutionStatus::Failure},
        {"cancelled", ExecutionStatus::Cancelled},
    };
    for (const auto &status : statuses) {
        for (const QString &function : {u"success"_s, u"failure"_s, u"cancelled"_s, u"always"_s}) {
            const bool expected = function == u"always"_s || function == QLatin1StringView(status.name);
            QTest::addRow("%s: %s()", status.name, qPrintable(function))
                << status.status << function + u"()"_s << expected;
        }
    }
    QTest::newRow("failure() || always()") << ExecutionStatus::Success << u"failure() || always()"_s << true;
    QTest::newRow("SUCCESS()") << ExecutionStatus::Success << u"SUCCESS()"_s << true;
    QTest::newRow("!cancelled()") << ExecutionStatus::Failure << u"!cancelled()"_s << true;
}

void TestExpression::statusFunctions()
{
    QFETCH(ExecutionStatus, status);
    QFETCH(QString, source);
    QFETCH(bool, expected);

    const EvaluationResult result = parsed(source).evaluate(TestScope(status));
    QCOMPARE(result.state, EvaluationResult::State::Value);
    QCOMPARE(result.value, QJsonValue(expected));
}

void TestExpression::scopeIsAskedByName()
{
    // The name is passed as written: whether `Vars` means `vars` is the scope's decision.
    TestScope scope;
    const EvaluationResult result = parsed(u"Vars.greeting || custom-context || false && never"_s).evaluate(scope);
    QCOMPARE(scope.asked, (QStringList{u"Vars"_s}));
    QCOMPARE(result.state, EvaluationResult::State::Unresolved);

    scope.asked.clear();
    parsed(u"vars.missing || steps.x || items.*.name"_s).evaluate(scope);
    QCOMPARE(scope.asked, (QStringList{u"vars"_s, u"steps"_s, u"items"_s}));
}

void TestExpression::references_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QStringList>("expected");   // "context/path/...@offset"

    QTest::newRow("literal") << u"'steps.x' == 1"_s << QStringList();
    QTest::newRow("bare context") << u"vars"_s << QStringList{u"vars@0"_s};
    QTest::newRow("dotted path") << u"steps.build.outputs.version"_s
                                 << QStringList{u"steps/build/outputs/version@0"_s};
    QTest::newRow("bracket names") << u"steps['my-step'].outcome"_s << QStringList{u"steps/my-step/outcome@0"_s};
    QTest::newRow("offset after blanks") << u"  env.CI"_s << QStringList{u"env/CI@2"_s};
    QTest::newRow("numeric index stops the path") << u"items[0].name"_s << QStringList{u"items@0"_s};
    QTest::newRow("filter stops the path") << u"needs.*.result"_s << QStringList{u"needs@0"_s};
    QTest::newRow("computed key") << u"matrix[vars.key].x"_s << QStringList{u"matrix@0"_s, u"vars/key@7"_s};
    QTest::newRow("nested keys") << u"vars[vars[vars.a]]"_s
                                 << QStringList{u"vars@0"_s, u"vars@5"_s, u"vars/a@10"_s};
    QTest::newRow("group") << u"(steps).x"_s << QStringList{u"steps/x@1"_s};
    QTest::newRow("member of a call") << u"fromJSON(vars.j).a"_s << QStringList{u"vars/j@9"_s};
    QTest::newRow("operators") << u"!steps.a.b == x && y || z.w"_s
                               << QStringList{u"steps/a/b@1"_s, u"x@14"_s, u"y@19"_s, u"z/w@24"_s};
    QTest::newRow("arguments") << u"contains(needs.*.result, 'failure') && env.CI"_s
                               << QStringList{u"needs@9"_s, u"env/CI@39"_s};
    QTest::newRow("keywords are not contexts") << u"true && null || false"_s << QStringList();
}

void TestExpression::references()
{
    QFETCH(QString, source);
    QFETCH(QStringList, expected);

    QStringList actual;
    for (const ExpressionReference &reference : parsed(source).references())
        actual.append((QStringList{reference.context} + reference.path).join(u'/') + u'@' + QString::number(reference.offset));
    QCOMPARE(actual, expected);
}

void TestExpression::calls_data()
{
    QTest::addColumn<QString>("source");
    QTest::addColumn<QStringList>("expected");   // "function/argumentCount@offset"

    QTest::newRow("none") << u"a.b"_s << QStringList();
    QTest::newRow("no arguments") << u"success()"_s << QStringList{u"success/0@0"_s};
    QTest::newRow("as written") << u"FOO(1, 2, 3)"_s << QStringList{u"FOO/3@0"_s};
    QTest::newRow("after operator") << u"a || always()"_s << QStringList{u"always/0@5"_s};
    QTest::newRow("nested, outer first") << u"contains(a, format('{0}', b))"_s
                                         << QStringList{u"contains/2@0"_s, u"format/2@12"_s};
    QTest::newRow("deeply nested") << u"f(g(h()))"_s << QStringList{u"f/1@0"_s, u"g/1@2"_s, u"h/0@4"_s};
    QTest::newRow("in index") << u"a[f()].b"_s << QStringList{u"f/0@2"_s};
}

void TestExpression::calls()
{
    QFETCH(QString, source);
    QFETCH(QStringList, expected);

    QStringList actual;
    for (const ExpressionCall &call : parsed(source).calls())
        actual.append(u"%1/%2@%3"_s.arg(call.function).arg(call.argumentCount).arg(call.offset));
    QCOMPARE(actual, expected);
}

void TestExpression::functionTable_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("minArguments");
    QTest::addColumn<int>("maxArguments");
    QTest::addColumn<bool>("isStatusFunction");

    QTest::newRow("contains") << u"contains"_s << 2 << 2 << false;
    QTest::newRow("startsWith") << u"startsWith"_s << 2 << 2 << false;
    QTest::newRow("endsWith") << u"endsWith"_s << 2 << 2 << false;
    QTest::newRow("format") << u"format"_s << 1 << -1 << false;
    QTest::newRow("join") << u"join"_s << 1 << 2 << false;
    QTest::newRow("toJSON") << u"toJSON"_s << 1 << 1 << false;
    QTest::newRow("fromJSON") << u"fromJSON"_s << 1 << 1 << false;
    QTest::newRow("success") << u"success"_s << 0 << 0 << true;
    QTest::newRow("failure") << u"failure"_s << 0 << 0 << true;
    QTest::newRow("cancelled") << u"cancelled"_s << 0 << 0 << true;
    QTest::newRow("always") << u"always"_s << 0 << 0 << true;
}

void TestExpression::functionTable()
{
    QFETCH(QString, name);
    QFETCH(int, minArguments);
    QFETCH(int, maxArguments);
    QFETCH(bool, isStatusFunction);

    const QList<ExpressionFunction> &functions = expressionFunctions();
    QCOMPARE(functions.size(), 11);
    const auto found = std::find_if(functions.cbegin(), functions.cend(),
                                    [&](const ExpressionFunction &f) { return f.name == name; });
    QVERIFY(found != functions.cend());
    QCOMPARE(found->minArguments, minArguments);
    QCOMPARE(found->maxArguments, maxArguments);
    QCOMPARE(found->isStatusFunction, isStatusFunction);
}

void TestExpression::isTruthy_data()
{
    QTest::addColumn<QJsonValue>("value");
    QTest::addColumn<bool>("expected");

    QTest::newRow("null") << QJsonValue() << false;
    QTest::newRow("undefined") << QJsonValue(QJsonValue::Undefined) << false;
    QTest::newRow("false") << QJsonValue(false) << false;
    QTest::newRow("true") << QJsonValue(true) << true;
    QTest::newRow("0") << QJsonValue(0) << false;
    QTest::newRow("-0") << QJsonValue(-0.0) << false;
    QTest::newRow("NaN") << QJsonValue(std::numeric_limits<double>::quiet_NaN()) << false;
    QTest::newRow("1") << QJsonValue(1) << true;
    QTest::newRow("-1") << QJsonValue(-1) << true;
    QTest::newRow("0.5") << QJsonValue(0.5) << true;
    QTest::newRow("infinity") << QJsonValue(std::numeric_limits<double>::infinity()) << true;
    QTest::newRow("empty string") << QJsonValue(u""_s) << false;
    QTest::newRow("'0'") << QJsonValue(u"0"_s) << true;
    QTest::newRow("'false'") << QJsonValue(u"false"_s) << true;
    QTest::newRow("blank string") << QJsonValue(u" "_s) << true;
    QTest::newRow("empty array") << QJsonValue(QJsonArray()) << true;
    QTest::newRow("empty object") << QJsonValue(QJsonObject()) << true;
}

void TestExpression::isTruthy()
{
    QFETCH(QJsonValue, value);
    QFETCH(bool, expected);

    QCOMPARE(Expression::isTruthy(value), expected);
}

void TestExpression::toText_data()
{
    QTest::addColumn<QJsonValue>("value");
    QTest::addColumn<QString>("expected");

    QTest::newRow("null") << QJsonValue() << QString();
    QTest::newRow("true") << QJsonValue(true) << u"true"_s;
    QTest::newRow("false") << QJsonValue(false) << u"false"_s;
    QTest::newRow("integer") << QJsonValue(3) << u"3"_s;
    QTest::newRow("integral double") << QJsonValue(3.0) << u"3"_s;
    QTest::newRow("negative") << QJsonValue(-12) << u"-12"_s;
    QTest::newRow("negative zero") << QJsonValue(-0.0) << u"0"_s;
    QTest::newRow("fraction") << QJsonValue(3.5) << u"3.5"_s;
    QTest::newRow("shortest round trip") << QJsonValue(0.1 + 0.2) << u"0.30000000000000004"_s;
    QTest::newRow("2^53") << QJsonValue(9007199254740992.0) << u"9007199254740992"_s;
    QTest::newRow("1e20") << QJsonValue(1e20) << u"100000000000000000000"_s;
    QTest::newRow("1e21") << QJsonValue(1e21) << u"1e+21"_s;
    QTest::newRow("small") << QJsonValue(0.000001) << u"0.000001"_s;
    QTest::newRow("tiny") << QJsonValue(1e-7) << u"1e-07"_s;
    QTest::newRow("NaN") << QJsonValue(std::numeric_limits<double>::quiet_NaN()) << u"NaN"_s;
    QTest::newRow("infinity") << QJsonValue(std::numeric_limits<double>::infinity()) << u"Infinity"_s;
    QTest::newRow("-infinity") << QJsonValue(-std::numeric_limits<double>::infinity()) << u"-Infinity"_s;
    QTest::newRow("string") << QJsonValue(u" as is "_s) << u" as is "_s;
    QTest::newRow("array") << QJsonValue(QJsonArray{1, u"a"_s, QJsonValue()}) << u"[1,\"a\",null]"_s;
    QTest::newRow("object") << QJsonValue(QJsonObject{{u"a"_s, 1}, {u"b"_s, QJsonArray{true}}})
                            << u"{\"a\":1,\"b\":[true]}"_s;
}

void TestExpression::toText()
{
    QFETCH(QJsonValue, value);
    QFETCH(QString, expected);

    QCOMPARE(Expression::toText(value), expected);
}

void TestExpression::invalidAndCopied()
{
    const Expression empty;
    QVERIFY(!empty.isValid());
    QCOMPARE(empty.source(), QString());
    QVERIFY(empty.references().isEmpty());
    QVERIFY(empty.calls().isEmpty());
    const EvaluationResult result = empty.evaluate(TestScope());
    QCOMPARE(result.state, EvaluationResult::State::Error);
    QCOMPARE(result.error, u"invalid expression"_s);

    QVERIFY(!Expression::parse(u"a ="_s, nullptr).isValid());   // no error wanted: no crash

    Expression copy;
    {
        const Expression original = parsed(u" vars.greeting "_s);
        copy = original;
        QCOMPARE(Expression(original).source(), u" vars.greeting "_s);
    }
    QVERIFY(copy.isValid());
    QCOMPARE(copy.source(), u" vars.greeting "_s);
    QCOMPARE(copy.evaluate(TestScope()).value, QJsonValue(u"hello"_s));
}

QTEST_APPLESS_MAIN(TestExpression)

#include "tst_expression.moc"
