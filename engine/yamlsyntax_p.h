// A second reading of a workflow's YAML by libyaml, the reference C parser. yaml-cpp 0.7 builds
// the nodes, but it accepts input that YAML forbids and every other parser rejects: a quoted
// scalar still open at the end of the file, invalid UTF-8 and control characters, content
// after a directive or `...` without `---`, `[a,,b]`, undefined tag handles, lines indented
// less than their block. Such a file must not run with a value its author did not write.
#pragma once

#include "diagnostics.h"

#include <QByteArray>
#include <QString>

#include <optional>
#include <utility>

namespace Sandflow::Internal {

/// What libyaml makes of a whole stream: its first syntax error (where and what, without
/// an "invalid YAML" prefix), and the documents it holds up to that error.
struct YamlStreamCheck
{
    std::optional<std::pair<SourcePos, QString>> error;
    int documentCount = 0;
    SourcePos secondDocument;
};

YamlStreamCheck checkYamlStream(const QByteArray &text);

} // namespace Sandflow::Internal
