#include "json.h"

#include <limits>

namespace Sandflow::Agent::Json {

namespace {

/// The length of the UTF-8 sequence at `pos`, or 0 unless it is the shortest form of a
/// scalar value (no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8SequenceLength(std::string_view text, std::size_t pos)
{
    const auto lead = static_cast<unsigned char>(text[pos]);
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF; // allowed range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0)
            low = 0xA0;
        else if (lead == 0xED)
            high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0)
            low = 0x90;
        else if (lead == 0xF4)
            high = 0x8F;
    } else {
        return 0;
    }
    if (text.size() - pos < length)
        return 0;
    for (std::size_t i = 1; i < length; ++i) {
        const auto byte = static_cast<unsigned char>(text[pos + i]);
        if (byte < (i == 1 ? low : 0x80) || byte > (i == 1 ? high : 0xBF))
            return 0;
    }
    return length;
}

class Parser {
public:
    explicit Parser(std::string_view text) : text_(text) {}

    bool document(Object &object)
    {
        skipSpace();
        if (!consume('{'))
            return fail("expected an object");
        const bool parsed = sequence('}', [&] {
            std::string key;
            if (!string(key))
                return false;
            for (const auto &member : object) {
                if (member.first == key)
                    return fail("duplicate key \"" + key + '"');
            }
            skipSpace();
            if (!consume(':'))
                return fail("expected ':'");
            Value value;
            if (!member(value))
                return false;
            object.emplace_back(std::move(key), std::move(value));
            return true;
        });
        if (!parsed)
            return false;
        skipSpace();
        return pos_ == text_.size() || fail("unexpected text after the object");
    }

    std::string error;

private:
    bool fail(const std::string &message)
    {
        error = message + " at offset " + std::to_string(pos_);
        return false;
    }

    void skipSpace()
    {
        while (pos_ < text_.size()
               && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
            ++pos_;
    }

    bool consume(char c)
    {
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    /// The elements of an array or object after its opening bracket, up to `close`.
    template<typename Element>
    bool sequence(char close, Element element)
    {
        skipSpace();
        if (consume(close))
            return true;
        for (;;) {
            skipSpace();
            if (!element())
                return false;
            skipSpace();
            if (consume(close))
                return true;
            if (!consume(','))
                return fail(std::string("expected ',' or '") + close + '\'');
        }
    }

    bool member(Value &value)
    {
        skipSpace();
        if (pos_ == text_.size())
            return fail("unexpected end");
        switch (text_[pos_]) {
        case '"':
            value.kind = Value::Kind::String;
            return string(value.string);
        case '[':
            ++pos_;
            value.kind = Value::Kind::StringArray;
            return sequence(']', [&] {
                if (!startsString())
                    return fail("arrays may only hold strings");
                value.strings.emplace_back();
                return string(value.strings.back());
            });
        case '{':
            ++pos_;
            return nestedObject(value);
        case 't':
            value.kind = Value::Kind::Bool;
            value.boolean = true;
            return literal("true");
        case 'f':
            value.kind = Value::Kind::Bool;
            return literal("false");
        case 'n':
            return literal("null");
        default:
            value.kind = Value::Kind::Integer;
            return integer(value.integer);
        }
    }

    bool startsString() const { return pos_ < text_.size() && text_[pos_] == '"'; }

    /// An object inside the request, after its '{': all strings or all integers, as its first
    /// member says (an empty one counts as strings).
    bool nestedObject(Value &value)
    {
        value.kind = Value::Kind::StringObject;
        return sequence('}', [&] {
            std::string key;
            if (!string(key))
                return false;
            const auto taken = [&key](const auto &members) {
                for (const auto &existing : members) {
                    if (existing.first == key)
                        return true;
                }
                return false;
            };
            if (taken(value.members) || taken(value.numbers))
                return fail("duplicate key \"" + key + '"');
            skipSpace();
            if (!consume(':'))
                return fail("expected ':'");
            skipSpace();
            if (value.members.empty() && value.numbers.empty())
                value.kind = startsString() ? Value::Kind::StringObject : Value::Kind::IntegerObject;
            if (startsString() != (value.kind == Value::Kind::StringObject))
                return fail("nested objects hold strings or integers, not both");
            if (value.kind == Value::Kind::IntegerObject) {
                std::int64_t number = 0;
                if (!integer(number))
                    return false;
                value.numbers.emplace_back(std::move(key), number);
                return true;
            }
            std::string text;
            if (!string(text))
                return false;
            value.members.emplace_back(std::move(key), std::move(text));
            return true;
        });
    }

    bool literal(std::string_view word)
    {
        if (text_.substr(pos_, word.size()) != word)
            return fail("invalid literal");
        pos_ += word.size();
        return true;
    }

    bool integer(std::int64_t &out)
    {
        const bool negative = consume('-');
        if (pos_ == text_.size() || text_[pos_] < '0' || text_[pos_] > '9')
            return fail("expected a value");
        // Accumulate the magnitude unsigned so that the most negative int64 fits too.
        const std::uint64_t limit = std::uint64_t(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
        std::uint64_t magnitude = 0;
        if (text_[pos_] == '0') {
            ++pos_;
        } else {
            while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
                const unsigned digit = unsigned(text_[pos_] - '0');
                if (magnitude > (limit - digit) / 10)
                    return fail("integer out of range");
                magnitude = magnitude * 10 + digit;
                ++pos_;
            }
        }
        if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E'))
            return fail("only integers are supported");
        out = negative ? std::int64_t(0 - magnitude) : std::int64_t(magnitude);
        return true;
    }

    bool hex4(unsigned &out)
    {
        if (text_.size() - pos_ < 4)
            return fail("truncated \\u escape");
        out = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = text_[pos_++];
            out <<= 4;
            if (c >= '0' && c <= '9')
                out |= unsigned(c - '0');
            else if (c >= 'a' && c <= 'f')
                out |= unsigned(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                out |= unsigned(c - 'A' + 10);
            else
                return fail("invalid \\u escape");
        }
        return true;
    }

    bool escape(std::string &out)
    {
        if (pos_ == text_.size())
            return fail("unterminated string");
        const char c = text_[pos_++];
        switch (c) {
        case '"': case '\\': case '/': out += c; return true;
        case 'b': out += '\b'; return true;
        case 'f': out += '\f'; return true;
        case 'n': out += '\n'; return true;
        case 'r': out += '\r'; return true;
        case 't': out += '\t'; return true;
        case 'u': break;
        default: return fail("invalid escape");
        }
        unsigned code = 0;
        if (!hex4(code))
            return false;
        if (code >= 0xDC00 && code <= 0xDFFF)
            return fail("unpaired low surrogate");
        if (code >= 0xD800 && code <= 0xDBFF) {
            unsigned low = 0;
            if (!consume('\\') || !consume('u'))
                return fail("unpaired high surrogate");
            if (!hex4(low))
                return false;
            if (low < 0xDC00 || low > 0xDFFF)
                return fail("unpaired high surrogate");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        }
        appendUtf8(out, code);
        return true;
    }

    static void appendUtf8(std::string &out, unsigned code)
    {
        if (code < 0x80) {
            out += char(code);
        } else if (code < 0x800) {
            out += char(0xC0 | (code >> 6));
            out += char(0x80 | (code & 0x3F));
        } else if (code < 0x10000) {
            out += char(0xE0 | (code >> 12));
            out += char(0x80 | ((code >> 6) & 0x3F));
            out += char(0x80 | (code & 0x3F));
        } else {
            out += char(0xF0 | (code >> 18));
            out += char(0x80 | ((code >> 12) & 0x3F));
            out += char(0x80 | ((code >> 6) & 0x3F));
            out += char(0x80 | (code & 0x3F));
        }
    }

    bool utf8Sequence(std::string &out)
    {
        const std::size_t length = utf8SequenceLength(text_, pos_);
        if (length == 0)
            return fail("invalid UTF-8");
        out.append(text_.substr(pos_, length));
        pos_ += length;
        return true;
    }

    bool string(std::string &out)
    {
        if (!consume('"'))
            return fail("expected a string");
        for (;;) {
            if (pos_ == text_.size())
                return fail("unterminated string");
            const auto c = static_cast<unsigned char>(text_[pos_]);
            if (c == '"') {
                ++pos_;
                return true;
            }
            if (c == '\\') {
                ++pos_;
                if (!escape(out))
                    return false;
            } else if (c < 0x20) {
                return fail("control character in string");
            } else if (c < 0x80) {
                out += char(c);
                ++pos_;
            } else if (!utf8Sequence(out)) {
                return false;
            }
        }
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

} // namespace

bool parseObject(std::string_view text, Object &object, std::string &error)
{
    Parser parser(text);
    object.clear();
    if (parser.document(object))
        return true;
    error = std::move(parser.error);
    return false;
}

Writer &Writer::addString(std::string_view key, std::string_view value)
{
    appendKey(key);
    appendString(value);
    return *this;
}

Writer &Writer::addInteger(std::string_view key, std::int64_t value)
{
    appendKey(key);
    text_ += std::to_string(value);
    return *this;
}

Writer &Writer::addBool(std::string_view key, bool value)
{
    appendKey(key);
    text_ += value ? "true" : "false";
    return *this;
}

std::string Writer::finish()
{
    text_ += '}';
    return std::move(text_);
}

void Writer::appendKey(std::string_view key)
{
    if (text_.size() > 1)
        text_ += ", ";
    appendString(key);
    text_ += ": ";
}

void Writer::appendString(std::string_view value)
{
    static constexpr char Hex[] = "0123456789abcdef";
    text_ += '"';
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        switch (c) {
        case '"': text_ += "\\\""; break;
        case '\\': text_ += "\\\\"; break;
        case '\n': text_ += "\\n"; break;
        case '\r': text_ += "\\r"; break;
        case '\t': text_ += "\\t"; break;
        case '\b': text_ += "\\b"; break;
        case '\f': text_ += "\\f"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                text_ += "\\u00";
                text_ += Hex[(c >> 4) & 0xF];
                text_ += Hex[c & 0xF];
            } else if (static_cast<unsigned char>(c) < 0x80) {
                text_ += c;
            } else if (const std::size_t length = utf8SequenceLength(value, i)) {
                text_.append(value.substr(i, length));
                i += length - 1;
            } else {
                text_ += "\\ufffd";
            }
        }
    }
    text_ += '"';
}

} // namespace Sandflow::Agent::Json
