// Text made safe for a POSIX shell command line, for everything that builds one (run
// steps, bash sessions, plugins running commands in a sandbox).
#pragma once

#include <QString>

namespace Sandflow {

/// `text` as one single-quoted shell word: `it's` becomes `'it'\''s'`.
QString shellQuoted(const QString &text);

} // namespace Sandflow
