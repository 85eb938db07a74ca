// Text for the rows of a terminal. A view that redraws in place must know how many rows
// what it printed takes; it counts columns as terminals do (a CJK character or an emoji
// takes two, a combining accent none), and prints only what every terminal counts alike.
#pragma once

#include <QString>

namespace Sandflow::Cli::Internal {

/// `text` made safe to print as it is: escape sequences (colours, cursor moves, titles,
/// links) removed, other control characters shown as spaces, characters that take no
/// column of their own removed unless they mark the character before them, and
/// characters whose width terminals disagree on (unassigned ones, flags) shown as `�`.
/// Line breaks are kept.
QString terminalText(const QString &text);
/// terminalText() of one line (a line break counts as a control character), cut to at
/// most `width` columns; a wide character that would cross the edge is left out.
QString terminalLine(const QString &text, int width);
/// The rows `line`, a terminalText() without line breaks, takes once a terminal `width`
/// columns wide has wrapped it: 1 for a line that fits.
qsizetype terminalRows(const QString &line, int width);

} // namespace Sandflow::Cli::Internal
