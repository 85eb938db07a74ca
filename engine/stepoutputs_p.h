// The lines a `run` step appends to $SANDFLOW_OUTPUT, as GitHub Actions reads
// $GITHUB_OUTPUT: `name=value`, or `name<<DELIMITER`, lines, then the delimiter alone.
#pragma once

#include <QByteArray>
#include <QJsonObject>

namespace Sandflow::Internal {

/// The outputs in `file`; a name written twice keeps its last value. A heredoc without its
/// closing delimiter takes the rest of the file.
QJsonObject parseStepOutputs(const QByteArray &file);

} // namespace Sandflow::Internal
