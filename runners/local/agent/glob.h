// The glob patterns `search` matches base names with: `*`, `?`, `[...]` (with `!` or `^` to
// negate, and ranges), `{a,b}` alternatives that may nest, and `\` to take the next character
// literally. A `[` or `{` without its closing bracket is an ordinary character.
#pragma once

#include <string_view>

namespace Sandflow::Agent::Fs {

/// Whether `name`, a base name, matches `pattern`. Only base names are matched, so `**` is the
/// same as `*` and a pattern containing `/` matches nothing.
bool globMatches(std::string_view pattern, std::string_view name);

} // namespace Sandflow::Agent::Fs
