// The JSON the protocol needs and nothing more: requests are flat objects whose members are
// null, booleans, integers, strings, arrays of strings, objects of strings or objects of
// integers; replies are flat objects of strings, integers and booleans. Anything else is rejected with a message, never
// guessed at, so a runner bug surfaces as an error Reply instead of a half-understood request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace Sandflow::Agent::Json {

struct Value {
    enum class Kind { Null, Bool, Integer, String, StringArray, StringObject, IntegerObject };
    Kind kind = Kind::Null;
    bool boolean = false;
    std::int64_t integer = 0;
    std::string string;
    std::vector<std::string> strings;                          ///< Kind::StringArray
    std::vector<std::pair<std::string, std::string>> members;  ///< Kind::StringObject, in document order
    std::vector<std::pair<std::string, std::int64_t>> numbers; ///< Kind::IntegerObject, in document order
};

/// A request's members in document order; keys are unique.
using Object = std::vector<std::pair<std::string, Value>>;

/// Parses `text` as one object. Strings must be valid UTF-8 and may use every escape,
/// including \uXXXX surrogate pairs. On failure returns false and describes why in `error`.
bool parseObject(std::string_view text, Object &object, std::string &error);

/// Writes one flat object. Strings are copied as they are apart from the escapes JSON
/// requires; bytes that are not UTF-8 (possible in file names) become U+FFFD, so the
/// output always parses.
class Writer {
public:
    Writer &addString(std::string_view key, std::string_view value);
    Writer &addInteger(std::string_view key, std::int64_t value);
    Writer &addBool(std::string_view key, bool value);
    std::string finish();

private:
    void appendKey(std::string_view key);
    void appendString(std::string_view value);

    std::string text_ = "{";
};

} // namespace Sandflow::Agent::Json
