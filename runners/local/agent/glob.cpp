#include "glob.h"

#include <string>
#include <vector>

namespace Sandflow::Agent::Fs {

namespace {

constexpr auto None = std::string_view::npos;

/// Just past the `]` closing the bracket expression that opens at `open`, or None when it is
/// not closed. A `]` right after the opening (or after its negation) is a member, as in POSIX.
std::size_t bracketEnd(std::string_view pattern, std::size_t open)
{
    std::size_t i = open + 1;
    if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^'))
        ++i;
    if (i < pattern.size() && pattern[i] == ']')
        ++i;
    for (; i < pattern.size(); ++i) {
        if (pattern[i] == '\\')
            ++i;
        else if (pattern[i] == ']')
            return i + 1;
    }
    return None;
}

/// Whether `c` is in the bracket expression whose members (between the brackets) are `set`.
bool inBracket(std::string_view set, char c)
{
    const bool negated = !set.empty() && (set[0] == '!' || set[0] == '^');
    const auto next = [&](std::size_t &i) {
        if (set[i] == '\\' && i + 1 < set.size())
            ++i;
        return static_cast<unsigned char>(set[i++]);
    };
    const auto byte = static_cast<unsigned char>(c);
    bool found = false;
    for (std::size_t i = negated ? 1 : 0; i < set.size();) {
        const unsigned char low = next(i);
        unsigned char high = low;
        if (i + 1 < set.size() && set[i] == '-') {
            ++i;
            high = next(i);
        }
        found = found || (low <= byte && byte <= high);
    }
    return found != negated;
}

/// The `}` matching the `{` at `open`, or None; the positions of the commas that separate
/// its alternatives go to `commas`. Brackets and escaped characters are skipped over.
std::size_t braceEnd(std::string_view pattern, std::size_t open, std::vector<std::size_t> &commas)
{
    int depth = 0;
    for (std::size_t i = open + 1; i < pattern.size(); ++i) {
        switch (pattern[i]) {
        case '\\':
            ++i;
            break;
        case '[':
            if (const auto end = bracketEnd(pattern, i); end != None)
                i = end - 1;
            break;
        case '{':
            ++depth;
            break;
        case '}':
            if (depth-- == 0)
                return i;
            break;
        case ',':
            if (depth == 0)
                commas.push_back(i);
            break;
        default:
            break;
        }
    }
    return None;
}

/// How many pattern characters the element at `at` spans when it matches `c`; 0 when it
/// does not match.
std::size_t elementMatches(std::string_view pattern, std::size_t at, char c)
{
    switch (pattern[at]) {
    case '?':
        return 1;
    case '[':
        if (const auto end = bracketEnd(pattern, at); end != None)
            return inBracket(pattern.substr(at + 1, end - at - 2), c) ? end - at : 0;
        break;
    case '\\':
        if (at + 1 < pattern.size())
            return pattern[at + 1] == c ? 2 : 0;
        break;
    default:
        break;
    }
    return pattern[at] == c ? 1 : 0;
}

bool matches(std::string_view pattern, std::string_view name)
{
    std::size_t p = 0, n = 0;
    // Where to resume when the rest fails to match: the pattern just after the last `*`,
    // and the name one character further than that star swallowed so far.
    std::size_t starP = None, starN = 0;
    for (;;) {
        std::vector<std::size_t> commas;
        if (p == pattern.size()) {
            if (n == name.size())
                return true;
        } else if (pattern[p] == '*') {
            starP = ++p;
            starN = n;
            continue;
        } else if (const auto close = pattern[p] == '{' ? braceEnd(pattern, p, commas) : None; close != None) {
            // One alternative followed by the rest of the pattern must match the rest of the
            // name. Trying them one at a time, instead of expanding every brace of the pattern
            // up front, keeps nested alternatives from multiplying into a huge list.
            commas.push_back(close);
            const std::string_view rest = pattern.substr(close + 1);
            std::size_t start = p + 1;
            for (const std::size_t end : commas) {
                const std::string alternative = std::string(pattern.substr(start, end - start)) + std::string(rest);
                if (matches(alternative, name.substr(n)))
                    return true;
                start = end + 1;
            }
        } else if (n < name.size()) {
            if (const std::size_t width = elementMatches(pattern, p, name[n])) {
                p += width;
                ++n;
                continue;
            }
        }
        if (starP == None || starN == name.size())
            return false;
        p = starP;
        n = ++starN;
    }
}

} // namespace

bool globMatches(std::string_view pattern, std::string_view name)
{
    return pattern.find('/') == None && matches(pattern, name);
}

} // namespace Sandflow::Agent::Fs
