// Numbers in command-line arguments and database files, which must be nothing but digits.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>

namespace Sandflow::Agent {

/// The whole of `text` as an integer in `base`; nullopt for empty text, any character that is
/// not a digit (a leading '-' aside, for signed types) or a value out of range.
template<typename Integer>
std::optional<Integer> parseNumber(std::string_view text, int base = 10)
{
    Integer value{};
    const char *const end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value, base);
    if (text.empty() || error != std::errc() || stop != end)
        return std::nullopt;
    return value;
}

} // namespace Sandflow::Agent
