// Lexer and recursive-descent parser of expressions, and the static views of a parsed
// expression (references, calls).
#include "expression_p.h"
#include "expression.h"

#include <QLocale>

#include <algorithm>
#include <utility>

namespace Sandflow {

using namespace Qt::StringLiterals;
using Internal::Node;

namespace {

/// Deeper nesting is refused: it is no real expression, and parsing and evaluation recurse
/// per level, so a hostile one could exhaust the stack.
constexpr int MaxDepth = 100;
constexpr QStringView TooDeep = u"expression is nested too deeply";

bool isDecimalDigit(QChar c)
{
    return c >= u'0' && c <= u'9';
}

/// The value of a hexadecimal digit, -1 for any other character.
int hexDigitValue(QChar c)
{
    if (isDecimalDigit(c))
        return c.unicode() - u'0';
    const char16_t lower = c.toLower().unicode();
    return lower >= u'a' && lower <= u'f' ? lower - u'a' + 10 : -1;
}

bool isHexDigit(QChar c)
{
    return hexDigitValue(c) >= 0;
}

bool isIdentifierStart(QChar c)
{
    return c.isLetter() || c == u'_';
}

/// GitHub allows `-` inside names (`steps.my-step`), so `a-1` is one name, not a subtraction.
bool isIdentifierPart(QChar c)
{
    return isIdentifierStart(c) || c.isDigit() || c == u'-';
}

qsizetype countWhile(QStringView text, qsizetype from, bool (*predicate)(QChar))
{
    qsizetype end = from;
    while (end < text.size() && predicate(text[end]))
        ++end;
    return end - from;
}

/// Length of the number literal at the start of `text`, 0 if there is none:
/// -?(0[xX]hex+ | digit+(.digit+)?([eE][+-]?digit+)?)
qsizetype numberLength(QStringView text)
{
    qsizetype i = text.startsWith(u'-') ? 1 : 0;
    if (text.sliced(i).startsWith(u"0x", Qt::CaseInsensitive)) {
        // `0x` without digits is just the `0`: the lexer then reports `0x` as a bad number.
        const qsizetype hexDigits = countWhile(text, i + 2, isHexDigit);
        return hexDigits > 0 ? i + 2 + hexDigits : i + 1;
    }
    const qsizetype integerDigits = countWhile(text, i, isDecimalDigit);
    if (integerDigits == 0)
        return 0;
    i += integerDigits;
    if (i < text.size() && text[i] == u'.') {
        if (const qsizetype fraction = countWhile(text, i + 1, isDecimalDigit))
            i += 1 + fraction;
    }
    if (i < text.size() && (text[i] == u'e' || text[i] == u'E')) {
        const qsizetype sign = i + 1 < text.size() && (text[i + 1] == u'+' || text[i + 1] == u'-') ? 1 : 0;
        if (const qsizetype exponent = countWhile(text, i + 1 + sign, isDecimalDigit))
            i += 1 + sign + exponent;
    }
    return i;
}

struct Token
{
    enum class Kind {
        End, Number, String, Identifier,
        Dot, Star, OpenBracket, CloseBracket, OpenParen, CloseParen, Comma,
        Not, And, Or, Equal, NotEqual, Less, LessOrEqual, Greater, GreaterOrEqual,
    };

    Kind kind = Kind::End;
    qsizetype offset = 0;
    QStringView text;
};

struct Punctuator
{
    QStringView text;
    Token::Kind kind;
};

// Two-character operators come before their one-character prefixes.
constexpr Punctuator punctuators[] = {
    {u"&&", Token::Kind::And},         {u"||", Token::Kind::Or},
    {u"==", Token::Kind::Equal},       {u"!=", Token::Kind::NotEqual},
    {u"<=", Token::Kind::LessOrEqual}, {u">=", Token::Kind::GreaterOrEqual},
    {u"<", Token::Kind::Less},         {u">", Token::Kind::Greater},
    {u"!", Token::Kind::Not},          {u".", Token::Kind::Dot},
    {u"*", Token::Kind::Star},         {u",", Token::Kind::Comma},
    {u"[", Token::Kind::OpenBracket},  {u"]", Token::Kind::CloseBracket},
    {u"(", Token::Kind::OpenParen},    {u")", Token::Kind::CloseParen},
};

/// Characters that start no token but have a likely intent worth naming.
struct Misstep
{
    QStringView text;
    QStringView message;
};

constexpr Misstep missteps[] = {
    {u"\"", u"use single quotes for strings"},
    {u"${{", u"unexpected `${{` inside an expression"},
    {u"=", u"unexpected `=` (use `==` to compare)"},
    {u"&", u"unexpected `&` (use `&&`)"},
    {u"|", u"unexpected `|` (use `||`)"},
    {u"-", u"unexpected `-`"},
};

/// Splits an expression into tokens, always ending with an End token. The first character
/// that starts no token ends the list there and is reported in `error`.
class Lexer
{
public:
    explicit Lexer(QStringView source) : m_source(source) {}

    QList<Token> tokenize(std::optional<Expression::ParseError> *error)
    {
        QList<Token> tokens;
        for (;;) {
            m_position += countWhile(m_source, m_position, [](QChar c) { return c.isSpace(); });
            if (m_position == m_source.size() || !readToken(&tokens, error))
                break;
        }
        tokens.append({Token::Kind::End, m_position, {}});
        return tokens;
    }

private:
    bool readToken(QList<Token> *tokens, std::optional<Expression::ParseError> *error)
    {
        const QStringView rest = m_source.sliced(m_position);
        if (const qsizetype length = numberLength(rest))
            return readNumber(length, tokens, error);
        if (rest.front() == u'\'')
            return readString(tokens, error);
        if (isIdentifierStart(rest.front())) {
            const qsizetype length = countWhile(rest, 0, isIdentifierPart);
            return append(Token::Kind::Identifier, length, tokens);
        }
        for (const Punctuator &punctuator : punctuators) {
            if (rest.startsWith(punctuator.text))
                return append(punctuator.kind, punctuator.text.size(), tokens);
        }
        for (const Misstep &misstep : missteps) {
            if (rest.startsWith(misstep.text))
                return fail(misstep.message.toString(), error);
        }
        const qsizetype width = rest.front().isHighSurrogate() && rest.size() > 1 ? 2 : 1;
        return fail(u"unknown character `%1`"_s.arg(rest.first(width)), error);
    }

    bool readNumber(qsizetype length, QList<Token> *tokens, std::optional<Expression::ParseError> *error)
    {
        // `12abc` or `1.5.2` is one bad word, not a number followed by something else.
        const qsizetype tail = countWhile(m_source, m_position + length,
                                          [](QChar c) { return isIdentifierPart(c) || c == u'.'; });
        if (tail > 0)
            return fail(u"invalid number `%1`"_s.arg(m_source.sliced(m_position, length + tail)), error);
        return append(Token::Kind::Number, length, tokens);
    }

    bool readString(QList<Token> *tokens, std::optional<Expression::ParseError> *error)
    {
        for (qsizetype i = m_position + 1; i < m_source.size(); ++i) {
            if (m_source[i] != u'\'')
                continue;
            if (i + 1 < m_source.size() && m_source[i + 1] == u'\'') {
                ++i;   // '' is an escaped quote
                continue;
            }
            return append(Token::Kind::String, i + 1 - m_position, tokens);
        }
        return fail(u"unterminated string"_s, error);
    }

    bool append(Token::Kind kind, qsizetype length, QList<Token> *tokens)
    {
        tokens->append({kind, m_position, m_source.sliced(m_position, length)});
        m_position += length;
        return true;
    }

    bool fail(const QString &message, std::optional<Expression::ParseError> *error) const
    {
        *error = Expression::ParseError{int(m_position), message};
        return false;
    }

    QStringView m_source;
    qsizetype m_position = 0;
};

/// Recursive descent over the tokens, one function per precedence level, lowest first:
/// `||`, `&&`, `== !=`, `< <= > >=`, `!`, member access, primary. Stops at the first error.
class Parser
{
public:
    explicit Parser(QList<Token> tokens) : m_tokens(std::move(tokens)) {}

    std::optional<Node> parse()
    {
        if (current().kind == Token::Kind::End)
            return fail(current(), u"empty expression"_s);
        std::optional<Node> root = parseOr();
        if (root && current().kind != Token::Kind::End)
            return fail(current(), unexpected(current()));
        return root;
    }

    const std::optional<Expression::ParseError> &error() const { return m_error; }

private:
    using Operand = std::optional<Node> (Parser::*)();

    struct BinaryOperator
    {
        Token::Kind token;
        Node::Comparison comparison;
    };

    const Token &current() const { return m_tokens[m_index]; }

    Token take()
    {
        const Token token = current();
        if (token.kind != Token::Kind::End)
            ++m_index;
        return token;
    }

    bool accept(Token::Kind kind)
    {
        if (current().kind != kind)
            return false;
        take();
        return true;
    }

    std::nullopt_t fail(const Token &at, const QString &message)
    {
        m_error = Expression::ParseError{int(at.offset), message};
        return std::nullopt;
    }

    static QString unexpected(const Token &token)
    {
        if (token.kind == Token::Kind::End)
            return u"unexpected end of expression"_s;
        return u"unexpected `%1`"_s.arg(token.text);
    }

    /// A node over `children`, which are moved in (an initializer list would copy subtrees).
    template <typename... Children>
    std::optional<Node> branch(Node::Kind kind, const Token &at, Children &&...children)
    {
        Node node{.kind = kind, .offset = int(at.offset)};
        node.children.reserve(sizeof...(children));
        (node.children.push_back(std::forward<Children>(children)), ...);
        return adopt(std::move(node), at);
    }

    std::optional<Node> adopt(Node node, const Token &at)
    {
        for (const Node &child : node.children)
            node.height = std::max(node.height, child.height + 1);
        if (node.height > MaxDepth)
            return fail(at, TooDeep.toString());
        return node;
    }

    /// Parses `operand` one recursion level deeper. Loops build the nodes of `a.b.c` and
    /// `a == b == c`, so only nesting recurses; adopt() bounds the height of what loops build.
    std::optional<Node> nested(Operand operand, const Token &at)
    {
        if (m_depth == MaxDepth)
            return fail(at, TooDeep.toString());
        ++m_depth;
        std::optional<Node> node = (this->*operand)();
        --m_depth;
        return node;
    }

    /// A sub-expression inside parentheses, brackets or an argument list.
    std::optional<Node> parseNested()
    {
        return nested(&Parser::parseOr, current());
    }

    std::optional<Node> parseOr()
    {
        return parseLogical(Token::Kind::Or, Node::Kind::Or, &Parser::parseAnd);
    }

    std::optional<Node> parseAnd()
    {
        return parseLogical(Token::Kind::And, Node::Kind::And, &Parser::parseEquality);
    }

    /// `a && b && c` is one node with three operands: evaluation walks them left to right.
    std::optional<Node> parseLogical(Token::Kind token, Node::Kind kind, Operand operand)
    {
        std::optional<Node> first = (this->*operand)();
        if (!first || current().kind != token)
            return first;
        Node node{.kind = kind, .offset = first->offset};
        node.children.push_back(std::move(*first));
        while (accept(token)) {
            std::optional<Node> next = (this->*operand)();
            if (!next)
                return std::nullopt;
            node.children.push_back(std::move(*next));
        }
        return adopt(std::move(node), current());
    }

    std::optional<Node> parseEquality()
    {
        static constexpr BinaryOperator operators[] = {
            {Token::Kind::Equal, Node::Comparison::Equal},
            {Token::Kind::NotEqual, Node::Comparison::NotEqual},
        };
        return parseComparisons(operators, &Parser::parseRelational);
    }

    std::optional<Node> parseRelational()
    {
        static constexpr BinaryOperator operators[] = {
            {Token::Kind::Less, Node::Comparison::Less},
            {Token::Kind::LessOrEqual, Node::Comparison::LessOrEqual},
            {Token::Kind::Greater, Node::Comparison::Greater},
            {Token::Kind::GreaterOrEqual, Node::Comparison::GreaterOrEqual},
        };
        return parseComparisons(operators, &Parser::parseUnary);
    }

    /// Left-associative: `a == b == c` is `(a == b) == c`.
    template <std::size_t N>
    std::optional<Node> parseComparisons(const BinaryOperator (&operators)[N], Operand operand)
    {
        std::optional<Node> left = (this->*operand)();
        while (left) {
            const auto match = std::find_if(std::begin(operators), std::end(operators),
                                            [this](const BinaryOperator &o) { return o.token == current().kind; });
            if (match == std::end(operators))
                break;
            const Token token = take();
            std::optional<Node> right = (this->*operand)();
            if (!right)
                return std::nullopt;
            left = branch(Node::Kind::Compare, token, std::move(*left), std::move(*right));
            if (left)
                left->comparison = match->comparison;
        }
        return left;
    }

    std::optional<Node> parseUnary()
    {
        if (current().kind != Token::Kind::Not)
            return parsePostfix();
        const Token token = take();
        std::optional<Node> operand = nested(&Parser::parseUnary, token);
        if (!operand)
            return std::nullopt;
        return branch(Node::Kind::Not, token, std::move(*operand));
    }

    std::optional<Node> parsePostfix()
    {
        std::optional<Node> object = parsePrimary();
        while (object) {
            const Token token = current();
            if (accept(Token::Kind::Dot))
                object = parseMember(std::move(*object), token);
            else if (accept(Token::Kind::OpenBracket))
                object = parseIndex(std::move(*object), token);
            else
                break;
        }
        return object;
    }

    /// After `object.`: a name or `*`.
    std::optional<Node> parseMember(Node object, const Token &dot)
    {
        if (accept(Token::Kind::Star))
            return branch(Node::Kind::Filter, dot, std::move(object));
        if (current().kind != Token::Kind::Identifier)
            return fail(current(), u"expected property name after `.`"_s);
        const Token name = take();
        return branch(Node::Kind::Index, dot, std::move(object), literal(name.text.toString(), name));
    }

    /// After `object[`: `*]` or an expression and `]`.
    std::optional<Node> parseIndex(Node object, const Token &bracket)
    {
        if (accept(Token::Kind::Star)) {
            if (!accept(Token::Kind::CloseBracket))
                return fail(current(), u"expected `]` after `*`"_s);
            return branch(Node::Kind::Filter, bracket, std::move(object));
        }
        std::optional<Node> key = parseNested();
        if (!key)
            return std::nullopt;
        if (!accept(Token::Kind::CloseBracket))
            return fail(current(), u"expected `]` after index"_s);
        return branch(Node::Kind::Index, bracket, std::move(object), std::move(*key));
    }

    std::optional<Node> parsePrimary()
    {
        const Token token = take();
        switch (token.kind) {
        case Token::Kind::Number:
            return literal(*Internal::parseNumber(token.text), token);
        case Token::Kind::String:
            return literal(unquote(token.text), token);
        case Token::Kind::Identifier:
            return parseName(token);
        case Token::Kind::OpenParen:
            return parseGroup();
        default:
            return fail(token, unexpected(token));
        }
    }

    std::optional<Node> parseGroup()
    {
        std::optional<Node> inner = parseNested();
        if (inner && !accept(Token::Kind::CloseParen))
            return fail(current(), u"expected `)`"_s);
        return inner;
    }

    /// A keyword literal, a function call or a context.
    std::optional<Node> parseName(const Token &name)
    {
        if (name.text == u"true" || name.text == u"false")
            return literal(name.text == u"true", name);
        if (name.text == u"null")
            return literal(QJsonValue::Null, name);
        if (accept(Token::Kind::OpenParen))
            return parseCall(name);
        return Node{.kind = Node::Kind::Context, .name = name.text.toString(), .offset = int(name.offset)};
    }

    /// After `name(`: the arguments and `)`.
    std::optional<Node> parseCall(const Token &name)
    {
        Node call{.kind = Node::Kind::Call, .name = name.text.toString(), .offset = int(name.offset)};
        if (accept(Token::Kind::CloseParen))
            return call;
        do {
            std::optional<Node> argument = parseNested();
            if (!argument)
                return std::nullopt;
            call.children.push_back(std::move(*argument));
        } while (accept(Token::Kind::Comma));
        if (!accept(Token::Kind::CloseParen))
            return fail(current(), u"expected `,` or `)` after argument"_s);
        return adopt(std::move(call), name);
    }

    static Node literal(const QJsonValue &value, const Token &token)
    {
        return Node{.kind = Node::Kind::Literal, .value = value, .offset = int(token.offset)};
    }

    static QString unquote(QStringView quoted)
    {
        return quoted.sliced(1, quoted.size() - 2).toString().replace(u"''"_s, u"'"_s);
    }

    QList<Token> m_tokens;
    qsizetype m_index = 0;
    int m_depth = 0;
    std::optional<Expression::ParseError> m_error;
};

/// Appends the references in `node`, in source order. Returns the index in `references` of the
/// reference that `node` extends while it is still a chain of literal names, else -1.
qsizetype collectReferences(const Node &node, QList<ExpressionReference> *references)
{
    switch (node.kind) {
    case Node::Kind::Context:
        references->append({node.name, {}, node.offset});
        return references->size() - 1;
    case Node::Kind::Index: {
        const qsizetype chain = collectReferences(node.children[0], references);
        const Node &key = node.children[1];
        if (key.kind != Node::Kind::Literal || !key.value.isString()) {
            collectReferences(key, references);
            return -1;
        }
        if (chain >= 0)
            (*references)[chain].path.append(key.value.toString());
        return chain;
    }
    default:
        for (const Node &child : node.children)
            collectReferences(child, references);
        return -1;
    }
}

void collectCalls(const Node &node, QList<ExpressionCall> *calls)
{
    if (node.kind == Node::Kind::Call)
        calls->append({node.name, int(node.children.size()), node.offset});
    for (const Node &child : node.children)
        collectCalls(child, calls);
}

} // namespace

std::optional<double> Internal::parseNumber(QStringView text)
{
    if (text.isEmpty() || numberLength(text) != text.size())
        return std::nullopt;
    const bool negative = text.startsWith(u'-');
    const QStringView magnitude = text.sliced(negative ? 1 : 0);
    if (!magnitude.startsWith(u"0x", Qt::CaseInsensitive))
        return QLocale::c().toDouble(text);   // out of range gives ±inf or 0, as in JavaScript
    double value = 0;
    for (QChar digit : magnitude.sliced(2))
        value = value * 16 + hexDigitValue(digit);
    return negative ? -value : value;
}

Expression::Expression() = default;
Expression::~Expression() = default;
Expression::Expression(const Expression &) = default;
Expression &Expression::operator=(const Expression &) = default;

Expression Expression::parse(const QString &source, ParseError *error)
{
    std::optional<ParseError> lexError;
    Parser parser(Lexer(source).tokenize(&lexError));
    std::optional<Node> root = parser.parse();

    // The lexer stopped at a bad character; a parse error before it is the first problem.
    std::optional<ParseError> problem = parser.error();
    if (lexError && (!problem || lexError->offset <= problem->offset))
        problem = lexError;
    if (problem) {
        if (error)
            *error = *problem;
        return {};
    }

    auto *node = new Internal::ExpressionNode;
    node->source = source;
    node->root = std::move(*root);
    Expression expression;
    expression.d = node;
    return expression;
}

bool Expression::isValid() const
{
    return d.constData() != nullptr;
}

QString Expression::source() const
{
    return isValid() ? d->source : QString();
}

QList<ExpressionReference> Expression::references() const
{
    QList<ExpressionReference> references;
    if (isValid())
        collectReferences(d->root, &references);
    return references;
}

QList<ExpressionCall> Expression::calls() const
{
    QList<ExpressionCall> calls;
    if (isValid())
        collectCalls(d->root, &calls);
    return calls;
}

} // namespace Sandflow
